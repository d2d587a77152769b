// Secrets (sensitive variable values, git auth tokens) must never reach a log line or an error.

const replacement = "<redacted>";

/** Shortest line of a multi-line secret that is redacted on its own (shorter ones are too common). */
const minimumLinePart = 6;

export type Redactor = (text: string) => string;

/**
 * Builds a function that replaces every occurrence of a secret. Besides the value itself it
 * covers its JSON-escaped form (terraform's -json output and diagnostics quote values) and, for
 * multi-line secrets, each longer line, since output is split into lines before it is redacted.
 */
export function createRedactor(secrets: Iterable<string>): Redactor {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret === "") continue;
    needles.add(secret);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) needles.add(escaped);
    if (secret.includes("\n")) {
      for (const line of secret.split(/\r?\n/)) {
        if (line.trim().length >= minimumLinePart) needles.add(line);
      }
    }
  }
  if (needles.size === 0) return (text) => text;
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(ordered.map(escapeRegExp).join("|"), "g");
  return (text) => text.replace(pattern, replacement);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
