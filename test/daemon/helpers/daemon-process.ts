// A daemon in its own process, wired like the CLI wires it (real terraform provisioner, shutdown
// signal handling, exit code from `done`), for the signal and exit-code tests. Configuration
// comes as JSON in DAEMON_PROCESS_CONFIG.
import { pino } from "pino";
import { createDaemon, handleShutdownSignals } from "../../../src/daemon/index.js";
import { createTerraformProvisioner } from "../../../src/terraform/index.js";

interface ProcessConfig {
  coderUrl: string;
  psk: string;
  daemonId: string;
  workDirRoot: string;
  cacheDir: string;
  mirrorDir: string;
  tags?: Record<string, string>;
}

const config = JSON.parse(process.env.DAEMON_PROCESS_CONFIG ?? "{}") as ProcessConfig;
const logger = pino({ level: "info" }, pino.destination(2));
const daemon = createDaemon({
  coderUrl: config.coderUrl,
  psk: config.psk,
  daemonId: config.daemonId,
  cacheDir: config.cacheDir,
  tags: config.tags ?? {},
  heartbeatIntervalMs: 250,
  logger,
  provisioners: [
    createTerraformProvisioner({
      workDirRoot: config.workDirRoot,
      cacheDir: config.cacheDir,
      providerMirror: config.mirrorDir,
      cancelGracePeriodMs: 10_000,
      logger,
    }),
  ],
});
handleShutdownSignals(daemon, { logger });
try {
  await daemon.start();
  await daemon.done;
  process.stdout.write("daemon stopped\n");
  process.exit(0);
} catch (error) {
  process.stderr.write(`provisionerd: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
