// Secrets (sensitive variable values, git auth tokens, the daemon's PSK) must never reach a log
// line or an error. This is the one redactor: job logs, errors, the process log and `--json`
// output all mask with the same text and by the same rule.

/** What a secret is replaced with, everywhere. */
export const REDACTED = "[REDACTED]";

/**
 * Values (and lines of multi-line values) shorter than this many characters, not counting
 * surrounding blanks, are not masked. Masking is textual, and a short value occurs by chance in
 * ordinary output: "0" in "0 to change", "e" in "Terraform", "coder" in "provider coder/coder".
 * Masking it wrecks every line, and the pattern of masks spells the value out anyway, so it
 * would not even stay hidden. Eight is the shortest password most systems accept; a credential
 * shorter than that is guessable whatever the logs do. Whoever gives such a value is told, by
 * its name and never its value (see `unmaskedSecretNotice`).
 */
export const minimumMaskedLength = 8;

export type Redactor = (text: string) => string;

/** A secret and what to call it when telling the operator about it (never the value). */
export interface SensitiveValue {
  /** e.g. `variable "api_token"`. */
  label: string;
  value: string;
}

/** Whether a value is long enough to be masked (see minimumMaskedLength). */
export function isMaskable(value: string): boolean {
  return value.trim().length >= minimumMaskedLength;
}

/** The one-line warning for a sensitive value too short to mask. */
export function unmaskedSecretNotice(label: string): string {
  return `The value of sensitive ${label} is shorter than ${minimumMaskedLength} characters: too short to mask, it is not hidden in logs.`;
}

/**
 * The secrets of one job or process, masked wherever they occur (also inside longer words:
 * a secret glued to other text, as in a URL's `user:token@host`, must still be hidden). Besides
 * each value it covers its JSON-escaped form (terraform's `-json` output and JSON log lines
 * quote values) and, for a multi-line value, each of its lines on its own, since output is split
 * into lines before it is redacted.
 */
export class SecretMasker {
  readonly #needles = new Set<string>();
  #pattern: RegExp | undefined;

  /** Adds a secret; false (and nothing added) when it is too short to mask. */
  add(value: string): boolean {
    if (!isMaskable(value)) return false;
    const before = this.#needles.size;
    this.#needles.add(value);
    const trimmed = value.trim();
    this.#needles.add(trimmed);
    const escaped = JSON.stringify(value).slice(1, -1);
    this.#needles.add(escaped);
    if (/[\r\n]/.test(trimmed)) {
      for (const line of trimmed.split(/\r?\n|\r/)) {
        if (isMaskable(line)) this.#needles.add(line.trim());
      }
    }
    if (this.#needles.size !== before) this.#pattern = undefined;
    return true;
  }

  /** Masks every registered secret in `text`. */
  readonly redact: Redactor = (text) => {
    if (this.#needles.size === 0) return text;
    // Longest first, so that a secret containing another is replaced whole.
    this.#pattern ??= new RegExp(
      [...this.#needles]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join("|"),
      "g",
    );
    return text.replace(this.#pattern, REDACTED);
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
