// Asking for missing values on a terminal. Off a terminal nothing is asked: the caller lists
// everything missing in one error instead.
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";

export interface PromptIo {
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

export interface Question {
  /** e.g. "--var region". */
  label: string;
  description: string;
  /** Allowed values, if the template restricts them. */
  options?: readonly string[];
  defaultValue?: string;
  /** Do not echo the answer (sensitive variables). */
  sensitive?: boolean;
}

export function canPrompt(io: PromptIo): boolean {
  return Boolean(io.stdin.isTTY && io.stderr.isTTY);
}

/** Asks each question in turn (on stderr, so stdout stays the build's output). */
export async function ask(
  io: PromptIo,
  questions: readonly Question[],
  signal?: AbortSignal,
): Promise<string[]> {
  // Echo goes through this gate, closed while a sensitive answer is typed.
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) io.stderr.write(chunk);
      done();
    },
  });
  const readline = createInterface({ input: io.stdin, output, terminal: true });
  try {
    const answers: string[] = [];
    for (const question of questions) {
      const hints = [
        question.description,
        question.options?.length ? `one of: ${question.options.join(", ")}` : "",
      ].filter((hint) => hint !== "");
      const suffix = question.defaultValue !== undefined ? ` [${question.defaultValue}]` : "";
      if (hints.length > 0) io.stderr.write(`${hints.join(" — ")}\n`);
      let answer = "";
      for (;;) {
        const pending = readline.question(`${question.label}${suffix}: `, signal ? { signal } : {});
        muted = question.sensitive === true;
        try {
          answer = (await pending).trim();
        } finally {
          if (muted) io.stderr.write("\n");
          muted = false;
        }
        if (answer === "" && question.defaultValue !== undefined) answer = question.defaultValue;
        if (question.options?.length && !question.options.includes(answer)) {
          io.stderr.write(`expected one of: ${question.options.join(", ")}\n`);
          continue;
        }
        if (answer !== "") break;
      }
      answers.push(answer);
    }
    return answers;
  } finally {
    readline.close();
  }
}
