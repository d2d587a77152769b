// The Terraform provisioner: template archive -> work dir, terraform runs with a
// controlled environment, -json output -> log lines, plan/state/graph -> resources.
export {
  ArchiveError,
  type ArchiveLimits,
  defaultArchiveLimits,
  type UnpackResult,
  unpackArchive,
} from "./archive.js";
export {
  checkTerraform,
  findTerraform,
  graphArgs,
  minimumTerraformVersion,
  type TerraformBinary,
  TerraformBinaryError,
} from "./binary.js";
export { agentBootstrapScript, agentScriptEnvironment } from "./bootstrap-scripts.js";
export { cliConfigText, type ProviderMirror, parseProviderMirror } from "./cli-config.js";
export { ConversionError } from "./convert/attributes.js";
export { type ConvertResult, convertResources } from "./convert/resources.js";
export { DotGraph, DotSyntaxError, parseDot } from "./dot.js";
export { convertJsonLogLine, convertLogLevel } from "./log-lines.js";
export {
  parseTerraformProvisionerOptions,
  TerraformOptionsError,
  type TerraformProvisionerOptions,
  terraformProvisionerOptionsSchema,
} from "./options.js";
export { createTerraformProvisioner, TerraformProvisioner } from "./provisioner.js";
export {
  parsePlanJson,
  parseStateJson,
  planModules,
  type StateModule,
  stateModules,
  TerraformJsonError,
} from "./terraform-json.js";
