import { describe, expect, it } from "vitest";
import {
  type Diagnostic,
  errorReason,
  moduleSourceHint,
  parsePlainDiagnostics,
} from "../../src/terraform/diagnostics.js";

// stderr of `terraform init -no-color` (terraform 1.11.4), as printed on an offline host.
const providerMissing = `
Error: Failed to query available provider packages

Could not retrieve the list of available versions for provider
kreuzwerker/docker: provider registry.terraform.io/kreuzwerker/docker was not
found in any of the search locations

  - /opt/terraform-mirror
`;

const gitModule = `
Error: Failed to download module

  on main.tf line 1:
   1: module "code_server" {

Could not download module "code_server" (main.tf:1) source code from
"git::https://github.com/coder/modules.git?ref=v1.0.0": error downloading
'https://github.com/coder/modules.git?ref=v1.0.0': /usr/bin/git exited with
128: Cloning into '.terraform/modules/code_server'...
fatal: unable to access 'https://github.com/coder/modules.git/': Could not
resolve host: github.com

`;

const registryModule = `
Error: Error accessing remote module registry

  on main.tf line 4:
   4: module "vpc" {

Failed to retrieve available versions for module "vpc" (main.tf:4) from
registry.terraform.io: failed to request discovery document: Get
"https://registry.terraform.io/.well-known/terraform.json": dial tcp: lookup
registry.terraform.io on 10.255.255.53:53: no such host.
`;

const validation = `
Error: Invalid value for variable

  on main.tf line 13:
  13: variable "region" {
    ├────────────────
    │ var.region is "mars"

Unsupported region.

This was checked by the validation rule at main.tf:15,3-13.

Warning: Deprecated attribute

Use something else.
`;

describe("parsePlainDiagnostics", () => {
  it("reads summary, location and the detail unwrapped, paragraph by paragraph", () => {
    expect(parsePlainDiagnostics(providerMissing)).toEqual([
      {
        severity: "error",
        summary: "Failed to query available provider packages",
        detail:
          "Could not retrieve the list of available versions for provider kreuzwerker/docker: provider registry.terraform.io/kreuzwerker/docker was not found in any of the search locations\n\n- /opt/terraform-mirror",
      },
    ]);
    const [error, warning] = parsePlainDiagnostics(validation);
    expect(error).toEqual({
      severity: "error",
      summary: "Invalid value for variable",
      range: { filename: "main.tf", start: { line: 13 } },
      detail: "Unsupported region.\n\nThis was checked by the validation rule at main.tf:15,3-13.",
    });
    expect(warning).toEqual({
      severity: "warning",
      summary: "Deprecated attribute",
      detail: "Use something else.",
    });
  });

  it("finds nothing in output without diagnostics", () => {
    expect(parsePlainDiagnostics("Initializing the backend...\n\n")).toEqual([]);
    expect(parsePlainDiagnostics("")).toEqual([]);
  });
});

describe("errorReason", () => {
  it("is the first error's location, summary and first paragraph", () => {
    expect(errorReason(parsePlainDiagnostics(validation))).toBe(
      "main.tf:13: Invalid value for variable: Unsupported region.",
    );
    expect(errorReason(parsePlainDiagnostics(providerMissing))).toBe(
      "Failed to query available provider packages: Could not retrieve the list of available versions for provider kreuzwerker/docker: provider registry.terraform.io/kreuzwerker/docker was not found in any of the search locations",
    );
  });

  it("counts the other errors, ignores warnings, and cuts a long detail", () => {
    const errors: Diagnostic[] = [
      { severity: "warning", summary: "Not this one" },
      { severity: "error", summary: "First", detail: "x".repeat(1000) },
      { severity: "error", summary: "Second" },
      { severity: "error", summary: "Third" },
    ];
    expect(errorReason(errors)).toBe(`First: ${"x".repeat(300)}… (and 2 more errors in the log)`);
    expect(errorReason([{ severity: "warning", summary: "only a warning" }])).toBeUndefined();
  });
});

describe("moduleSourceHint", () => {
  it("names a git or https module source that needs the network", () => {
    const [diagnostic] = parsePlainDiagnostics(gitModule);
    expect(moduleSourceHint(diagnostic as Diagnostic)).toBe(
      'Module "code_server" (main.tf:1) is downloaded from "git::https://github.com/coder/modules.git?ref=v1.0.0" by terraform init, and a provider mirror holds providers only, never modules: on a host without network access, put the module\'s files into the template and use a local path (source = "./modules/code_server").',
    );
  });

  it("names the registry of a registry module", () => {
    const [diagnostic] = parsePlainDiagnostics(registryModule);
    expect(moduleSourceHint(diagnostic as Diagnostic)).toMatch(
      /^Module "vpc" \(main\.tf:4\) is downloaded from the module registry registry\.terraform\.io by terraform init/,
    );
  });

  it("says nothing about other diagnostics", () => {
    for (const text of [providerMissing, validation]) {
      for (const diagnostic of parsePlainDiagnostics(text)) {
        expect(moduleSourceHint(diagnostic)).toBeUndefined();
      }
    }
  });
});
