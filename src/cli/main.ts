#!/usr/bin/env node
// Entry point of the `provisionerd` binary.
import { runCli } from "./program.js";

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
});
