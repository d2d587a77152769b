// HCL native syntax → plain JSON-like values, through HashiCorp's own HCL parser compiled to
// WebAssembly (@cdktf/hcl2json). Loading the WASM module costs ~150 ms, so it happens on the
// first parse, not when this module is imported (the CLI imports it for much more than parsing).
//
// hcl2json's conventions, which the callers rely on:
// - blocks become `{ <type>: { <label>: [body, ...] } }`, attributes plain JSON values;
// - constant expressions are evaluated (`"a${1}"` → "a1"); any other expression becomes the
//   string "${<exact source text>}" (that is how type expressions and validation conditions
//   keep their source text).

export interface HclDiagnostic {
  /** 1-based line, 0 when the parser gave none. */
  line: number;
  message: string;
}

export type HclParseResult =
  | { ok: true; body: Record<string, unknown> }
  | { ok: false; diagnostics: HclDiagnostic[] };

type ParseFn = (filename: string, contents: string) => Promise<Record<string, unknown>>;

let parserPromise: Promise<ParseFn> | undefined;

function loadParser(): Promise<ParseFn> {
  parserPromise ??= import("@cdktf/hcl2json").then((m) => m.parse as ParseFn);
  return parserPromise;
}

// A name that cannot occur in diagnostics text by accident, so that the error string (all
// diagnostics of a file concatenated) can be split back into diagnostics reliably.
const SENTINEL = "@@provisionerd-hcl-input@@";
const DIAGNOSTIC_START = /@@provisionerd-hcl-input@@:(\d+),\d+-(?:\d+,)?\d+: /g;

export async function parseHcl(source: string): Promise<HclParseResult> {
  const parse = await loadParser();
  try {
    return { ok: true, body: await parse(SENTINEL, source) };
  } catch (error) {
    if (error instanceof RangeError) {
      // The JavaScript side of the bridge overflows its stack on absurdly deep nesting.
      return {
        ok: false,
        diagnostics: [{ line: 0, message: "the file is nested too deeply to parse" }],
      };
    }
    return { ok: false, diagnostics: splitDiagnostics(String((error as Error)?.message ?? error)) };
  }
}

/** Turns `parse config: [<f>:L,C-C: summary; detail <f>:L,...]` into separate diagnostics. */
export function splitDiagnostics(text: string): HclDiagnostic[] {
  const starts = [...text.matchAll(DIAGNOSTIC_START)];
  if (starts.length === 0) {
    return [{ line: 0, message: text.replace(/^parse config: /, "").replaceAll(SENTINEL, "") }];
  }
  return starts.map((match, k) => {
    const begin = (match.index ?? 0) + match[0].length;
    const end = k + 1 < starts.length ? (starts[k + 1]?.index ?? text.length) : text.length;
    let message = text.slice(begin, end).trimEnd();
    if (k + 1 === starts.length && message.endsWith("]")) message = message.slice(0, -1);
    return { line: Number(match[1]), message: message.replaceAll(SENTINEL, "") };
  });
}
