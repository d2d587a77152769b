import { describe, expect, it } from "vitest";
import {
  isMaskable,
  minimumMaskedLength,
  REDACTED,
  type Redactor,
  SecretMasker,
  unmaskedSecretNotice,
} from "../../src/terraform/redact.js";

function createRedactor(secrets: string[]): Redactor {
  const masker = new SecretMasker();
  for (const secret of secrets) masker.add(secret);
  return masker.redact;
}

// Lines terraform prints on every run.
const terraformLines = [
  "Terraform 1.11.4",
  "Plan: 2 to add, 0 to change, 0 to destroy.",
  "- Installing coder/coder v0.6.14...",
  'Error: provider coder/coder: "registry.terraform.io/coder/coder" not found',
  "Apply complete! Resources: 2 added, 0 changed, 0 destroyed.",
];

describe("SecretMasker.redact", () => {
  it("replaces every occurrence, longest secret first", () => {
    const redact = createRedactor(["hunter2-pw", "hunter2-pw-long", ""]);
    expect(redact("a hunter2-pw b hunter2-pw-long c hunter2-pw")).toBe(
      `a ${REDACTED} b ${REDACTED} c ${REDACTED}`,
    );
  });

  it("covers the JSON-escaped form and the lines of a multi-line secret", () => {
    const redact = createRedactor([
      'pa"ss\\word',
      "-----BEGIN KEY-----\nMIIEabcdefgh\n-----END KEY-----",
    ]);
    expect(redact('value "pa\\"ss\\\\word" rejected')).toBe(`value "${REDACTED}" rejected`);
    expect(redact("key line MIIEabcdefgh here")).toBe(`key line ${REDACTED} here`);
  });

  it("treats regular expression characters literally", () => {
    const redact = createRedactor(["a.b*c+d?e"]);
    expect(redact("aXbbc+dde a.b*c+d?e")).toBe(`aXbbc+dde ${REDACTED}`);
  });

  it("is the identity without secrets", () => {
    expect(createRedactor([])("nothing to hide")).toBe("nothing to hide");
  });

  it("leaves 1-, 2- and 3-character values alone, so terraform's lines stay readable", () => {
    for (const value of ["0", "e", "2", "o", "to", "er", "Ter", "add", "v0."]) {
      const redact = createRedactor([value]);
      for (const line of terraformLines) expect(redact(line), value).toBe(line);
    }
  });

  it(`masks from ${minimumMaskedLength} characters: shorter values are too common to hide`, () => {
    expect(minimumMaskedLength).toBe(8);
    // "coder" is a sensitive value in the example; it is also the provider's name.
    expect(createRedactor(["coder"])(terraformLines[3] as string)).toBe(terraformLines[3]);
    expect(createRedactor(["hunter2"])("secret is hunter2")).toBe("secret is hunter2");
    expect(createRedactor(["hunter22"])("secret is hunter22")).toBe(`secret is ${REDACTED}`);
    // Blanks around a value do not count: eight spaces would mask every indentation.
    expect(isMaskable("        ")).toBe(false);
    expect(isMaskable("  abc   ")).toBe(false);
    expect(createRedactor(["        "])("a        b")).toBe("a        b");
  });

  it("masks a long value wherever it occurs, also glued to other text", () => {
    const token = "tok-5f0c2a9e";
    const redact = createRedactor([token]);
    expect(redact(`https://user:${token}@git.example.com/x`)).toBe(
      `https://user:${REDACTED}@git.example.com/x`,
    );
    expect(redact(`TOKEN=${token}; echo ${token}${token}`)).toBe(
      `TOKEN=${REDACTED}; echo ${REDACTED}${REDACTED}`,
    );
    // A padded value is also found without its padding.
    expect(createRedactor([`  ${token}\n`])(`got ${token}.`)).toBe(`got ${REDACTED}.`);
  });

  it("masks a long value even inside terraform's own words: the value is what it is", () => {
    expect(createRedactor(["Terraform"])("Terraform 1.11.4")).toBe(`${REDACTED} 1.11.4`);
    // Shorter substrings of the same words are not.
    for (const value of ["Terra", "form", "erraf", "Terrafo"]) {
      expect(createRedactor([value])("Terraform 1.11.4")).toBe("Terraform 1.11.4");
    }
  });

  it("masks each long line of a multi-line value on its own; short lines stay", () => {
    const pem = [
      "-----BEGIN PRIVATE KEY-----",
      "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
      "bKz9=",
      "-----END PRIVATE KEY-----",
    ].join("\n");
    const redact = createRedactor([pem, "ab\r\ncd\r\nlong-enough-line"]);
    expect(redact("  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")).toBe(`  ${REDACTED}`);
    expect(redact("-----END PRIVATE KEY-----")).toBe(REDACTED);
    // The whole value, as terraform's -json output quotes it on one line.
    expect(redact(`{"value":${JSON.stringify(pem)}}`)).toBe(`{"value":"${REDACTED}"}`);
    expect(redact("bKz9= ab cd")).toBe("bKz9= ab cd");
    expect(redact("x long-enough-line")).toBe(`x ${REDACTED}`);
  });
});

describe("SecretMasker", () => {
  it("says whether a value is masked, and takes values added later", () => {
    const masker = new SecretMasker();
    expect(masker.redact("nothing yet")).toBe("nothing yet");
    expect(masker.add("0")).toBe(false);
    expect(masker.add("first-secret")).toBe(true);
    expect(masker.redact("first-secret second-secret 0")).toBe(`${REDACTED} second-secret 0`);
    expect(masker.add("second-secret")).toBe(true);
    expect(masker.redact("first-secret second-secret 0")).toBe(`${REDACTED} ${REDACTED} 0`);
  });

  it("the notice names the value, never shows it", () => {
    expect(unmaskedSecretNotice('parameter "api_token"')).toBe(
      'The value of sensitive parameter "api_token" is shorter than 8 characters: too short to mask, it is not hidden in logs.',
    );
  });
});
