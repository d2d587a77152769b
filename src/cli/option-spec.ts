// One table per command declares each setting once: its flag, its environment variable, its
// default and its help text. Commander collects the raw strings from it; zod (in the command's
// config module) turns them into a typed config; errors are mapped back to the flag by the table.
import { type Command, Option } from "commander";
import type { z } from "zod";
import { describeIssue } from "../daemon/index.js";
import { splitList } from "./key-values.js";
import { UsageError } from "./usage-error.js";

export interface OptionSpec {
  /** Commander attribute name, also the key of the raw object the zod schema reads. */
  key: string;
  /** Commander flags, e.g. "--poll-interval <duration>". */
  flags: string;
  /** Environment variable read when the flag is not given. */
  env?: string;
  description: string;
  /** Value used when neither flag nor env is set; shown in --help. */
  default?: string;
  /** Help text for a default that is computed at run time (e.g. "json, pretty on a terminal"). */
  defaultDescription?: string;
  /** May be given several times; the environment form is a comma-separated list. */
  repeatable?: boolean;
  /** Never echo the value in an error. */
  secret?: boolean;
  /** Allowed values, listed in --help. */
  choices?: readonly string[];
  /** Must be given (the schema enforces it; --help says so). */
  required?: boolean;
}

/**
 * The environment variable an option reads: `name`, or an older name it keeps accepting when
 * only that one is set (commander reads one variable per option, and errors then name the one
 * the value came from).
 */
export function envName(env: NodeJS.ProcessEnv, name: string, ...older: string[]): string {
  if (env[name] !== undefined) return name;
  return older.find((alias) => env[alias] !== undefined) ?? name;
}

export type ValueSource = "cli" | "env" | "default" | "unset";

export interface RawOptions {
  values: Record<string, string | string[] | boolean | undefined>;
  sources: Record<string, ValueSource>;
}

function appendValue(value: string, previous: unknown): string[] {
  return [...(Array.isArray(previous) ? previous : []), value];
}

export function addOptions(command: Command, specs: readonly OptionSpec[]): void {
  for (const spec of specs) {
    let description = spec.description;
    if (spec.choices) description += ` (one of: ${spec.choices.join(", ")})`;
    if (spec.required) description += " (required)";
    // Commander shows only defined defaults, so a computed one is written into the text.
    if (spec.default === undefined && spec.defaultDescription !== undefined) {
      description += ` (default: ${spec.defaultDescription})`;
    }
    const option = new Option(spec.flags, description);
    if (spec.env) option.env(spec.env);
    if (spec.repeatable) option.argParser(appendValue);
    if (spec.default !== undefined) option.default(spec.default);
    command.addOption(option);
  }
}

function sourceOf(command: Command, key: string): ValueSource {
  const source: string | undefined = command.getOptionValueSource(key);
  if (source === "cli" || source === "env" || source === "default") return source;
  return "unset";
}

/** The raw strings commander collected, with where each came from. */
export function collectRawOptions(command: Command, specs: readonly OptionSpec[]): RawOptions {
  const options = command.opts<Record<string, unknown>>();
  const values: RawOptions["values"] = {};
  const sources: RawOptions["sources"] = {};
  for (const spec of specs) {
    const source = sourceOf(command, spec.key);
    sources[spec.key] = source;
    let value = options[spec.key];
    if (spec.repeatable && source === "env" && Array.isArray(value)) {
      value = value.flatMap((item) => splitList(String(item)));
    }
    values[spec.key] = value as string | string[] | boolean | undefined;
  }
  return { values, sources };
}

/** "--poll-interval" for a spec, taken from its flags. */
export function flagName(spec: OptionSpec): string {
  const long = spec.flags.split(/[ ,|]+/).find((part) => part.startsWith("--"));
  return long ?? spec.flags;
}

/** How an error names a setting: by flag, or by env var when that is where the value came from. */
export function settingName(spec: OptionSpec, source: ValueSource): string {
  if (source === "env" && spec.env) return `${spec.env} (${flagName(spec)})`;
  return flagName(spec);
}

/**
 * Parses the raw options with the command's schema. Every problem becomes one line naming the
 * flag (or env var) at fault; all of them are reported together.
 */
export function parseOptions<Schema extends z.ZodType>(
  schema: Schema,
  raw: RawOptions,
  specs: readonly OptionSpec[],
): z.output<Schema> {
  const result = schema.safeParse(raw.values);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? "");
    const spec = specs.find((candidate) => candidate.key === key);
    if (!spec) return describeIssue(issue);
    const value = raw.values[key];
    const shown = typeof value === "string" && !spec.secret ? JSON.stringify(value) : undefined;
    return `${settingName(spec, raw.sources[key] ?? "unset")}: ${describeIssue(issue, shown)}`;
  });
  throw new UsageError(lines);
}
