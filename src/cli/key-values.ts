// `key=value` pairs from repeatable flags and comma-separated environment variables.

export interface KeyValue {
  key: string;
  value: string;
}

/** Splits at the first "=" so values may contain "="; undefined when there is no key. */
export function parseKeyValue(text: string): KeyValue | undefined {
  const at = text.indexOf("=");
  if (at <= 0) return undefined;
  const key = text.slice(0, at).trim();
  if (key === "") return undefined;
  return { key, value: text.slice(at + 1) };
}

/**
 * The environment form of a repeatable flag: `a=1,b=2` (the reference's CODER_PROVISIONERD_TAGS
 * format). Empty items are skipped so a trailing comma is harmless.
 */
export function splitList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}
