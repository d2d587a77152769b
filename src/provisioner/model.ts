// The daemon's domain model: the jobs, logs, parameters and resources the core works on. Each
// wire protocol is an adapter (src/coderd/adapters) that maps its messages to and from these
// types; nothing outside the adapters imports a protocol's generated module.
export * from "./model/construct.js";
export * from "./model/job.js";
export * from "./model/parameters.js";
export * from "./model/resources.js";
export * from "./model/template.js";
