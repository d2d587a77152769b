// Agent bootstrap scripts, handed to terraform as CODER_AGENT_SCRIPT_<os>_<arch>. The coder
// provider builds `coder_agent.init_script` from them, substituting ${ACCESS_URL} and
// ${AUTH_TYPE}; ${ARCH} is substituted here. Written for this project to behave like the
// reference's scripts (download the agent binary with whatever tool exists, retry,
// exec `coder agent`; on failure keep the machine up for a while so it can be inspected).

const unixScript = `#!/usr/bin/env sh
# Downloads the Coder agent from the Coder deployment and starts it.
set -eux
# On failure keep the workspace up for a day so someone can look at what went wrong.
waitonexit() {
	echo "=== Agent script exited with non-zero code. Sleeping 24h to preserve logs..."
	sleep 86400
}
trap waitonexit EXIT

BINARY_DIR=$(mktemp -d -t coder.XXXXXX)
BINARY_NAME=coder
BINARY_URL=\${ACCESS_URL}bin/coder-@@OS@@-\${ARCH}
cd "$BINARY_DIR"

# Retry until the download works: the deployment may still be starting.
while :; do
	status=""
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --compressed "\${BINARY_URL}" -o "\${BINARY_NAME}" && break
		status=$?
	elif command -v wget >/dev/null 2>&1; then
		wget -q "\${BINARY_URL}" -O "\${BINARY_NAME}" && break
		status=$?
	elif command -v busybox >/dev/null 2>&1; then
		busybox wget -q "\${BINARY_URL}" -O "\${BINARY_NAME}" && break
		status=$?
	else
		echo "error: no download tool found, please install curl, wget or busybox wget"
		exit 127
	fi
	echo "error: failed to download coder agent"
	echo "       command returned: \${status}"
	echo "Trying again in 30 seconds..."
	sleep 30
done

if ! chmod +x "$BINARY_NAME"; then
	echo "Failed to make $BINARY_NAME executable"
	exit 1
fi

export CODER_AGENT_AUTH="\${AUTH_TYPE}"
export CODER_AGENT_URL="\${ACCESS_URL}"
trap - EXIT
exec ./"$BINARY_NAME" agent
`;

const windowsScript = `# Downloads the Coder agent from the Coder deployment and starts it.
$ProgressPreference = "SilentlyContinue"
$ErrorActionPreference = "Stop"
$BinaryDir = Join-Path ([System.IO.Path]::GetTempPath()) ("coder-" + [System.Guid]::NewGuid())
New-Item -ItemType Directory -Force -Path $BinaryDir | Out-Null
$BinaryPath = Join-Path $BinaryDir "coder.exe"
$BinaryUrl = "\${ACCESS_URL}bin/coder-windows-\${ARCH}.exe"
# Retry until the download works: the deployment may still be starting.
while ($true) {
	try {
		Invoke-WebRequest -Uri $BinaryUrl -OutFile $BinaryPath -UseBasicParsing
		break
	} catch {
		Write-Output "error: failed to download coder agent: $_"
		Write-Output "Trying again in 30 seconds..."
		Start-Sleep -Seconds 30
	}
}
$env:CODER_AGENT_AUTH = "\${AUTH_TYPE}"
$env:CODER_AGENT_URL = "\${ACCESS_URL}"
# Run the agent in the background so the script (often a startup hook) can return.
Start-Process -FilePath $BinaryPath -ArgumentList "agent" -PassThru
`;

/** The os/arch pairs the reference exports, in its order. */
export const agentPlatforms: ReadonlyArray<readonly [os: string, arch: string]> = [
  ["windows", "amd64"],
  ["windows", "arm64"],
  ["linux", "amd64"],
  ["linux", "arm64"],
  ["linux", "armv7"],
  ["darwin", "amd64"],
  ["darwin", "arm64"],
];

/** The bootstrap script for one platform, with ${ARCH} filled in. */
export function agentBootstrapScript(os: string, arch: string): string {
  const template = os === "windows" ? windowsScript : unixScript.replaceAll("@@OS@@", os);
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal placeholder in the script
  return template.replaceAll("${ARCH}", arch);
}

/** `CODER_AGENT_SCRIPT_<os>_<arch>` for every supported platform. */
export function agentScriptEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [os, arch] of agentPlatforms) {
    env[`CODER_AGENT_SCRIPT_${os}_${arch}`] = agentBootstrapScript(os, arch);
  }
  return env;
}
