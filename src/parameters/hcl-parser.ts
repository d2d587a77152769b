// HashiCorp's own HCL parser compiled to WebAssembly (@cdktf/hcl2json). Template parsing uses it
// only for the wording of the errors of a file the native parser (hcl-native.ts) rejected; why
// it does not read variables is said there. Loading the WASM module costs over half a second,
// so it happens on the first parse, not when this module is imported.
//
// On success the body follows hcl2json's conventions: blocks become
// `{ <type>: { <label>: [body, ...] } }`, attributes plain JSON values; expressions it does
// not evaluate become the string "${<exact source text>}".

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

export const TOO_DEEP = "the file is nested too deeply to parse";

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
        diagnostics: [{ line: 0, message: TOO_DEEP }],
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
