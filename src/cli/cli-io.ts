// The process streams and environment a command works with (the real ones, or a test's), in a
// module of its own so that the commands and the program that dispatches to them do not import
// each other.
export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}
