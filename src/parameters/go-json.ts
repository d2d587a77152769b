// Default values reach coderd as text, encoded the way the reference encodes them with Go's
// encoding/json: object keys sorted, and `<`, `>`, `&`, U+2028, U+2029 escaped. Matching it
// byte for byte keeps stored defaults identical to what the reference would have stored.

export function goJsonStringify(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return escapeLikeGo(JSON.stringify(value));
  if (typeof value === "number") return Number.isFinite(value) ? JSON.stringify(value) : "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (Array.isArray(value)) return `[${value.map(goJsonStringify).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.keys(value)
      .sort(compareUtf8)
      .map(
        (key) =>
          `${goJsonStringify(key)}:${goJsonStringify((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(",")}}`;
  }
  return "null";
}

/** Renders a variable default as the reference does: strings verbatim, anything else JSON. */
export function defaultAsText(value: unknown): string {
  return typeof value === "string" ? value : goJsonStringify(value);
}

function escapeLikeGo(json: string): string {
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// Go sorts map keys (and cty object attributes) by bytes; for UTF-16 strings that is code point
// order, not code unit order.
export function compareUtf8(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  for (let k = 0; k < Math.min(ca.length, cb.length); k++) {
    const d = (ca[k]?.codePointAt(0) ?? 0) - (cb[k]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}
