// `provisionerd build`: a template import and a workspace build on this machine, no coderd.

import { statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { LOG_FORMATS, LOG_LEVELS, logOptionSpecs, terraformOptionSpecs } from "./common-options.js";
import type { OptionSpec, RawOptions } from "./option-spec.js";
import { parseOptions } from "./option-spec.js";
import { defaultStateFile } from "./state-file.js";
import {
  directoryPath,
  executable,
  filePath,
  httpUrl,
  keyValues,
  oneOf,
  providerMirror,
  requiredString,
} from "./value-schemas.js";

export const TRANSITIONS = ["start", "stop", "delete"] as const;
export type TransitionName = (typeof TRANSITIONS)[number];

function defaultOwner(): string {
  try {
    return os.userInfo().username || "local";
  } catch {
    return "local";
  }
}

/** What the template argument may be, in --help and in its errors. */
const TEMPLATE_KINDS = "a template directory or a .tar/.tar.gz file";

export function buildOptionSpecs(env: NodeJS.ProcessEnv): OptionSpec[] {
  const logSpecs = logOptionSpecs().map((spec) =>
    // The build's own output is the progress on stdout; the process log only needs problems.
    spec.key === "logLevel" ? { ...spec, default: "warn" } : spec,
  );
  const terraformSpecs = terraformOptionSpecs(env).map((spec) =>
    // A build runs one job at a time: it has no slots, and no daemon id to keep.
    spec.key === "cacheDir"
      ? { ...spec, description: "Terraform provider plugin cache, kept between builds" }
      : spec,
  );
  return [
    {
      key: "transition",
      flags: "--transition <transition>",
      description: "workspace transition to build",
      choices: TRANSITIONS,
      default: "start",
    },
    {
      key: "param",
      flags: "--param <name=value>",
      description: "legacy parameter value, repeatable",
      repeatable: true,
    },
    {
      key: "var",
      flags: "--var <name=value>",
      description: "managed template variable value, repeatable",
      repeatable: true,
    },
    {
      key: "richParam",
      flags: "--rich-param <name=value>",
      description: "rich parameter (coder_parameter) value, repeatable",
      repeatable: true,
    },
    {
      key: "stateFile",
      flags: "--state-file <file>",
      description:
        "Terraform state: read before the build when it exists, written after it, also after a failed build (stop and delete need the state of an earlier start)",
      defaultDescription: "provisionerd-<workspace name>.tfstate beside the template",
    },
    {
      key: "workspaceName",
      flags: "--workspace-name <name>",
      description: "workspace name given to the template (CODER_WORKSPACE_NAME)",
      default: "local",
    },
    {
      key: "owner",
      flags: "--owner <name>",
      description: "workspace owner given to the template (CODER_WORKSPACE_OWNER)",
      default: defaultOwner(),
    },
    {
      key: "coderUrl",
      flags: "--coder-url <url>",
      description: "URL agents are told to reach coderd at (CODER_AGENT_URL)",
      default: "http://localhost:3000",
    },
    {
      key: "planOnly",
      flags: "--plan-only",
      description:
        "preview a start: import and plan, show each resource's planned action and the outputs; nothing is applied and the state file is not written",
    },
    {
      key: "json",
      flags: "--json",
      description: "print the full result as JSON instead of the table",
    },
    ...terraformSpecs,
    ...logSpecs,
  ];
}

function templateSource(value: string, ctx: z.RefinementCtx): TemplateSource {
  const absolute = path.resolve(value);
  let isDirectory = false;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    ctx.addIssue({
      code: "custom",
      message: `expected ${TEMPLATE_KINDS}, but ${JSON.stringify(value)} does not exist`,
    });
    return { kind: "directory", path: absolute };
  }
  if (isDirectory) return { kind: "directory", path: absolute };
  if (!/\.(tar|tar\.gz|tgz)$/i.test(absolute)) {
    ctx.addIssue({
      code: "custom",
      message: `expected ${TEMPLATE_KINDS}, got ${JSON.stringify(value)}`,
    });
  }
  return { kind: "archive", path: absolute };
}

export type TemplateSource = { kind: "directory" | "archive"; path: string };

export function buildConfigSchema(env: NodeJS.ProcessEnv) {
  return z
    .object({
      template: z.string().transform(templateSource),
      transition: oneOf(TRANSITIONS),
      param: keyValues("a parameter"),
      var: keyValues("a variable"),
      richParam: keyValues("a rich parameter"),
      stateFile: filePath.optional(),
      workspaceName: requiredString("expected a non-empty workspace name"),
      owner: requiredString("expected a non-empty owner name"),
      coderUrl: httpUrl("http://localhost:3000"),
      json: z.boolean().default(false),
      planOnly: z.boolean().default(false),
      terraformPath: executable(env.PATH),
      providerMirror: providerMirror.optional(),
      cacheDir: directoryPath,
      workDir: directoryPath,
      logLevel: oneOf(LOG_LEVELS),
      logFormat: oneOf(LOG_FORMATS).optional(),
    })
    .transform(({ stateFile, ...config }) => ({
      ...config,
      stateFile: stateFile ?? defaultStateFile(config.template, config.workspaceName),
      stateFileIsDefault: stateFile === undefined,
    }))
    .superRefine((config, ctx) => {
      if (config.planOnly && config.transition !== "start") {
        ctx.addIssue({
          code: "custom",
          path: ["planOnly"],
          message: `previews a start (a template dry run), not --transition ${config.transition}`,
        });
      }
      if (config.transition === "start" || isFile(config.stateFile)) return;
      const which = config.stateFileIsDefault ? " (the default)" : "";
      ctx.addIssue({
        code: "custom",
        path: ["stateFile"],
        message: `--transition ${config.transition} needs the state of an earlier start, but ${JSON.stringify(config.stateFile)}${which} does not exist`,
      });
    });
}

export type BuildConfig = z.output<ReturnType<typeof buildConfigSchema>>;

/** The positional argument gets a pseudo spec so its errors read like a flag's. */
export const TEMPLATE_ARGUMENT_SPEC: OptionSpec = {
  key: "template",
  flags: "<template>",
  description: TEMPLATE_KINDS,
};

export function parseBuildConfig(
  raw: RawOptions,
  specs: readonly OptionSpec[],
  env: NodeJS.ProcessEnv,
): BuildConfig {
  return parseOptions(buildConfigSchema(env), raw, [...specs, TEMPLATE_ARGUMENT_SPEC]);
}

function isFile(target: string): boolean {
  try {
    return statSync(target).isFile();
  } catch {
    return false;
  }
}
