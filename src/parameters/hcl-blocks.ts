// Finds the top-level blocks of an HCL native-syntax file with their line numbers.
// The HCL parser we use (hcl2json) returns block bodies keyed by label, which loses both the
// order of blocks and where they are; the reference sorts variables by (file, line) and we want
// every error to name a line, so this small scanner recovers block headers. It runs only on
// files the real parser has accepted, so it may assume balanced brackets and closed strings.

import { commentEnd, LineIndex } from "./hcl-source.js";

export interface BlockHeader {
  /** Block type, e.g. `variable`. */
  type: string;
  /** Labels in order (quoted labels decoded, bare identifiers as written). */
  labels: string[];
  /** 1-based line of the block type keyword. */
  line: number;
}

const isIdentStart = (c: string) => /[\p{L}_]/u.test(c);
const isIdentPart = (c: string) => /[\p{L}\p{N}_-]/u.test(c);

interface Token {
  kind: "ident" | "string" | "other";
  text: string;
  offset: number;
}

export function scanTopLevelBlocks(source: string): BlockHeader[] {
  const scanner = new Scanner(source);
  return scanner.topLevel();
}

class Scanner {
  private i = 0;
  private readonly lines: LineIndex;

  constructor(private readonly s: string) {
    this.lines = new LineIndex(s);
  }

  topLevel(): BlockHeader[] {
    const blocks: BlockHeader[] = [];
    const s = this.s;
    // Tokens of the current top-level item (since the last newline at depth 0).
    let item: Token[] = [];
    if (s.charCodeAt(0) === 0xfeff) this.i = 1;
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (c === "\n") {
        item = [];
        this.i++;
      } else if (c === " " || c === "\t" || c === "\r") {
        this.i++;
      } else if (this.skipComment()) {
        // comment consumed (a line comment leaves its newline for the branch above)
      } else if (c === '"') {
        const start = this.i;
        this.skipQuoted();
        item.push({ kind: "string", text: s.slice(start, this.i), offset: start });
      } else if (isIdentStart(c)) {
        const start = this.i;
        while (this.i < s.length && isIdentPart(s[this.i] as string)) this.i++;
        item.push({ kind: "ident", text: s.slice(start, this.i), offset: start });
      } else if (c === "{") {
        const header = this.blockHeader(item);
        if (header) blocks.push(header);
        this.i++;
        this.skipUntilClose();
        item = [];
      } else if (c === "[" || c === "(") {
        this.i++;
        this.skipUntilClose();
        item.push({ kind: "other", text: c, offset: this.i });
      } else if (c === "<" && s[this.i + 1] === "<") {
        this.skipHeredoc();
      } else {
        item.push({ kind: "other", text: c, offset: this.i });
        this.i++;
      }
    }
    return blocks;
  }

  private blockHeader(item: Token[]): BlockHeader | undefined {
    const [first, ...rest] = item;
    if (first?.kind !== "ident") return undefined;
    if (!rest.every((t) => t.kind === "ident" || t.kind === "string")) return undefined;
    return {
      type: first.text,
      labels: rest.map((t) => (t.kind === "string" ? decodeQuoted(t.text) : t.text)),
      line: this.lines.lineAt(first.offset),
    };
  }

  /** Consumes a comment at the cursor, if there is one. */
  private skipComment(): boolean {
    const end = commentEnd(this.s, this.i);
    if (end === undefined) return false;
    this.i = end < 0 ? this.s.length : end;
    return true;
  }

  /** Cursor on the opening quote; leaves it after the closing one. */
  private skipQuoted(): void {
    const s = this.s;
    this.i++;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === "\\") {
        this.i += 2;
      } else if (c === '"') {
        this.i++;
        return;
      } else if ((c === "$" || c === "%") && s[this.i + 1] === c && s[this.i + 2] === "{") {
        this.i += 3; // `$${` and `%%{` are escapes for a literal `${` / `%{`
      } else if ((c === "$" || c === "%") && s[this.i + 1] === "{") {
        this.i += 2;
        this.skipUntilClose();
      } else if (c === "\n") {
        return; // cannot happen in accepted input; stop rather than swallow the file
      } else {
        this.i++;
      }
    }
  }

  /** Cursor just after an opening bracket; leaves it after the matching closing one. */
  private skipUntilClose(): void {
    const s = this.s;
    let depth = 0;
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (this.skipComment()) continue;
      if (c === '"') {
        this.skipQuoted();
      } else if (c === "<" && s[this.i + 1] === "<") {
        this.skipHeredoc();
      } else if (c === "{" || c === "[" || c === "(") {
        depth++;
        this.i++;
      } else if (c === "}" || c === "]" || c === ")") {
        this.i++;
        if (depth === 0) return;
        depth--;
      } else {
        this.i++;
      }
    }
  }

  /** Cursor on `<<`; skips a heredoc (`<<EOT` / `<<-EOT`) or just the operator. */
  private skipHeredoc(): void {
    const s = this.s;
    const match = /^<<-?([\p{L}_][\p{L}\p{N}_-]*)\r?\n/u.exec(s.slice(this.i, this.i + 256));
    if (!match) {
      this.i += 2;
      return;
    }
    const marker = match[1] as string;
    let lineStart = this.i + match[0].length;
    while (lineStart < s.length) {
      const nl = s.indexOf("\n", lineStart);
      const lineEnd = nl < 0 ? s.length : nl;
      if (s.slice(lineStart, lineEnd).trim() === marker) {
        this.i = lineEnd;
        return;
      }
      lineStart = lineEnd + 1;
    }
    this.i = s.length;
  }
}

/** Decodes a quoted HCL label (labels are literal strings: no template sequences). */
export function decodeQuoted(text: string): string {
  const body = text.slice(1, -1);
  return body.replace(/\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|.)/g, (_, esc: string): string => {
    switch (esc[0]) {
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "u":
      case "U":
        return String.fromCodePoint(Number.parseInt(esc.slice(1), 16));
      default:
        return esc;
    }
  });
}
