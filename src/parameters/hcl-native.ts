// A parser for HCL native syntax (the `.tf` language), written for speed: HashiCorp's own
// parser compiled to WebAssembly (hcl-parser.ts) needs ~100 ms for a 500-variable template,
// this needs a few. It accepts the whole grammar (bodies, blocks, every expression form,
// templates, heredocs) and records what template parsing needs: block structure with lines,
// each attribute's exact source text, and the value of expressions that are constant.
//
// It is the fast path only. On anything it rejects, the caller asks the WebAssembly parser,
// whose diagnostics are the authoritative ones (HCL's own wording), so a gap here can cost
// time but never turns a valid file into an error.
import { commentEnd, LineIndex } from "./hcl-source.js";

export class HclNativeSyntaxError extends Error {
  override readonly name = "HclNativeSyntaxError";
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Marks an expression whose value needs evaluation context (variables, functions, ...). */
export const NOT_CONSTANT: unique symbol = Symbol("not constant");
export type ConstantValue =
  | string
  | number
  | boolean
  | null
  | ConstantValue[]
  | { [key: string]: ConstantValue };

export interface HclExpression {
  /** Exact source text. */
  source: string;
  /** The value when the expression is constant, else NOT_CONSTANT. */
  value: ConstantValue | typeof NOT_CONSTANT;
}

export interface HclAttribute {
  name: string;
  line: number;
  expr: HclExpression;
}

export interface HclBody {
  attributes: HclAttribute[];
  blocks: HclBlock[];
}

export interface HclBlock {
  type: string;
  labels: string[];
  line: number;
  body: HclBody;
}

export function parseHclNative(source: string): HclBody {
  return new Parser(source).file();
}

// ASCII first: the Unicode-property regexes are comparatively slow and names are mostly ASCII.
function isIdentStart(c: string | undefined): boolean {
  if (c === undefined) return false;
  const code = c.charCodeAt(0);
  if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95) return true;
  return code > 127 && /[\p{ID_Start}]/u.test(c);
}
function isIdentPart(c: string | undefined): boolean {
  if (c === undefined) return false;
  const code = c.charCodeAt(0);
  if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95) return true;
  if ((code >= 48 && code <= 57) || code === 45) return true;
  return code > 127 && /[\p{ID_Continue}\u200C\u200D]/u.test(c);
}

type Value = ConstantValue | typeof NOT_CONSTANT;

/** Escapes of a quoted string that stand for one character (`\uNNNN` / `\UNNNNNNNN` aside). */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  r: "\r",
  t: "\t",
  '"': '"',
  "\\": "\\",
};
const HEX_DIGITS = /^[0-9a-fA-F]*$/;

class Parser {
  private i = 0;
  /** Whether a newline ends the current construct (body level) or is just space (brackets). */
  private newlineStack: boolean[] = [true];
  private readonly lines: LineIndex;

  constructor(private readonly s: string) {
    this.lines = new LineIndex(s);
    if (s.charCodeAt(0) === 0xfeff) this.i = 1;
  }

  // ---- positions and errors ----

  private fail(message: string, offset = this.i): never {
    throw new HclNativeSyntaxError(this.lines.lineAt(offset), message);
  }

  private get newlinesMatter(): boolean {
    return this.newlineStack[this.newlineStack.length - 1] as boolean;
  }

  private withNewlines<T>(matter: boolean, f: () => T): T {
    this.newlineStack.push(matter);
    try {
      return f();
    } finally {
      this.newlineStack.pop();
    }
  }

  // ---- whitespace ----

  /** Skips spaces and comments; newlines too unless they matter here. */
  private space(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.i];
      if (c === " " || c === "\t" || c === "\r" || (c === "\n" && !this.newlinesMatter)) {
        this.i++;
        continue;
      }
      const end = commentEnd(s, this.i);
      if (end === undefined) return;
      if (end < 0) this.fail("unterminated comment");
      this.i = end;
    }
  }

  /** At a newline or end of file (after spaces/comments): consumes one newline if present. */
  private endOfLine(what: string): void {
    this.space();
    if (this.i >= this.s.length) return;
    if (this.s[this.i] !== "\n") this.fail(`missing newline after ${what}`);
    this.i++;
  }

  private peek(token: string): boolean {
    return this.s.startsWith(token, this.i);
  }

  private expect(token: string, what = `"${token}"`): void {
    this.space();
    if (!this.peek(token)) this.fail(`expected ${what}`);
    this.i += token.length;
  }

  private ident(): string {
    const start = this.i;
    if (!isIdentStart(this.s[this.i])) this.fail("expected a name");
    this.i++;
    while (isIdentPart(this.s[this.i])) this.i++;
    return this.s.slice(start, this.i);
  }

  // ---- structure ----

  file(): HclBody {
    const body = this.body(false);
    if (this.i < this.s.length) this.fail(`unexpected "${this.s[this.i]}"`);
    return body;
  }

  /** Items until `}` (nested) or end of file (top level). */
  private body(nested: boolean): HclBody {
    const body: HclBody = { attributes: [], blocks: [] };
    const names = new Set<string>();
    for (;;) {
      this.space();
      const c = this.s[this.i];
      if (c === undefined) {
        if (nested) this.fail('missing "}" to close a block');
        return body;
      }
      if (c === "\n") {
        this.i++;
        continue;
      }
      if (c === "}") {
        if (!nested) this.fail('unexpected "}"');
        return body;
      }
      const start = this.i;
      const name = this.ident();
      this.space();
      if (this.peek("=") && !this.peek("==")) {
        this.i++;
        if (names.has(name)) this.fail(`attribute "${name}" is defined more than once`, start);
        names.add(name);
        body.attributes.push({ name, line: this.lines.lineAt(start), expr: this.expression() });
        // Even the last argument of a multi-line block needs its own line before the "}".
        this.endOfLine("an argument");
      } else {
        body.blocks.push(this.block(name, start));
      }
    }
  }

  private block(type: string, start: number): HclBlock {
    const labels: string[] = [];
    for (;;) {
      this.space();
      const c = this.s[this.i];
      if (c === "{") break;
      if (c === '"') {
        const label = this.quotedTemplate();
        if (typeof label.value !== "string") this.fail("a block label must be a literal string");
        labels.push(label.value);
      } else if (isIdentStart(c)) {
        labels.push(this.ident());
      } else {
        this.fail('expected a block label or "{"');
      }
    }
    this.i++; // {
    this.space();
    let body: HclBody;
    if (this.s[this.i] === "\n" || this.s[this.i] === "}") {
      body = this.body(true);
    } else {
      // Single-line block: at most one attribute, closed on the same line.
      const attrStart = this.i;
      const name = this.ident();
      this.expect("=");
      const expr = this.expression();
      this.space();
      if (this.s[this.i] !== "}") this.fail("a single-line block must be closed on the same line");
      body = { attributes: [{ name, line: this.lines.lineAt(attrStart), expr }], blocks: [] };
    }
    this.i++; // }
    this.endOfLine("a block definition");
    return { type, labels, line: this.lines.lineAt(start), body };
  }

  // ---- expressions ----

  private expression(): HclExpression {
    this.space();
    const start = this.i;
    const value = this.conditional();
    return { source: this.s.slice(start, this.i), value };
  }

  private conditional(): Value {
    const condition = this.binary(0);
    const save = this.i;
    this.space();
    if (!this.peek("?")) {
      this.i = save;
      return condition;
    }
    this.i++;
    const yes = this.conditional();
    this.expect(":");
    const no = this.conditional();
    if (condition === NOT_CONSTANT || typeof condition !== "boolean") return NOT_CONSTANT;
    return condition ? yes : no;
  }

  private static readonly LEVELS: string[][] = [
    ["||"],
    ["&&"],
    ["==", "!="],
    ["<=", ">=", "<", ">"],
    ["+", "-"],
    ["*", "/", "%"],
  ];

  private binary(level: number): Value {
    if (level >= Parser.LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const save = this.i;
      this.space();
      const op = (Parser.LEVELS[level] as string[]).find(
        (o) => this.peek(o) && !(o === "<" && this.peek("<<")),
      );
      if (!op) {
        this.i = save;
        return left;
      }
      this.i += op.length;
      const right = this.binary(level + 1);
      left = applyBinary(op, left, right);
    }
  }

  private unary(): Value {
    this.space();
    const c = this.s[this.i];
    if (c === "!" || c === "-") {
      this.i++;
      const operand = this.unary();
      if (operand === NOT_CONSTANT) return NOT_CONSTANT;
      if (c === "!") return typeof operand === "boolean" ? !operand : NOT_CONSTANT;
      return typeof operand === "number" ? -operand : NOT_CONSTANT;
    }
    return this.term();
  }

  private term(): Value {
    let value = this.primary();
    // Postfix: index, attribute access, splats. Their results need evaluation context we do
    // not model, so any of them makes the expression non-constant.
    for (;;) {
      const save = this.i;
      this.space();
      if (this.peek("[")) {
        this.i++;
        this.withNewlines(false, () => {
          this.space();
          if (this.peek("*")) this.i++;
          else this.conditional();
          this.expect("]");
        });
        value = NOT_CONSTANT;
      } else if (this.peek(".") && !this.peek("...")) {
        this.i++;
        if (this.peek("*")) this.i++;
        else if (/[0-9]/.test(this.s[this.i] ?? "")) this.number();
        else if (isIdentStart(this.s[this.i])) this.ident();
        else this.fail("an attribute name is required after a dot");
        value = NOT_CONSTANT;
      } else {
        this.i = save;
        return value;
      }
    }
  }

  private primary(): Value {
    this.space();
    const c = this.s[this.i];
    if (c === undefined) this.fail("expected an expression");
    if (c === '"') return this.quotedTemplate().value;
    if (c === "<" && this.peek("<<")) return this.heredoc();
    if (c === "[") return this.tuple();
    if (c === "{") return this.object();
    if (c === "(") {
      this.i++;
      const inner = this.withNewlines(false, () => this.conditional());
      this.expect(")");
      return inner;
    }
    if (/[0-9]/.test(c)) return this.number();
    if (isIdentStart(c)) {
      let name = this.ident();
      while (this.peek("::")) {
        this.i += 2;
        name += `::${this.ident()}`;
      }
      const save = this.i;
      this.space();
      if (this.peek("(")) {
        this.call();
        return NOT_CONSTANT;
      }
      this.i = save;
      if (name === "true") return true;
      if (name === "false") return false;
      if (name === "null") return null;
      if (name.includes("::")) this.fail("expected a function call");
      return NOT_CONSTANT; // a variable reference
    }
    this.fail(`expected an expression, found "${c}"`);
  }

  private number(): number {
    const match = /^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(
      this.s.slice(this.i, this.i + 400),
    );
    if (!match) this.fail("expected a number");
    this.i += match[0].length;
    return Number(match[0]);
  }

  private call(): void {
    this.i++; // (
    this.withNewlines(false, () => {
      this.space();
      if (this.peek(")")) {
        this.i++;
        return;
      }
      for (;;) {
        this.conditional();
        this.space();
        if (this.peek("...")) {
          this.i += 3;
          this.expect(")");
          return;
        }
        if (this.peek(")")) {
          this.i++;
          return;
        }
        this.expect(",", '"," or ")"');
        this.space();
        if (this.peek(")")) {
          this.i++;
          return;
        }
      }
    });
  }

  private forIntro(): void {
    this.forHeader("a for expression");
    this.expect(":");
  }

  /** After `for`, in an expression or a template directive: `k[, v] in <expr>`. */
  private forHeader(where: string): void {
    this.space();
    this.ident();
    this.space();
    if (this.peek(",")) {
      this.i++;
      this.space();
      this.ident();
    }
    this.space();
    if (!this.keyword("in")) this.fail(`expected "in" in ${where}`);
    this.conditional();
  }

  private keyword(word: string): boolean {
    if (this.s.startsWith(word, this.i) && !isIdentPart(this.s[this.i + word.length])) {
      this.i += word.length;
      return true;
    }
    return false;
  }

  private forCondition(): void {
    this.space();
    if (this.keyword("if")) this.conditional();
  }

  private tuple(): Value {
    this.i++; // [
    return this.withNewlines(false, () => {
      this.space();
      if (this.keyword("for")) {
        this.forIntro();
        this.conditional();
        this.forCondition();
        this.expect("]");
        return NOT_CONSTANT;
      }
      const items: Value[] = [];
      for (;;) {
        this.space();
        if (this.peek("]")) {
          this.i++;
          break;
        }
        items.push(this.conditional());
        this.space();
        if (this.peek(",")) {
          this.i++;
          continue;
        }
        this.expect("]", '"," or "]"');
        break;
      }
      return items.includes(NOT_CONSTANT) ? NOT_CONSTANT : (items as ConstantValue[]);
    });
  }

  private object(): Value {
    this.i++; // {
    const save = this.i;
    const isFor = this.withNewlines(false, () => {
      this.space();
      return this.keyword("for");
    });
    if (isFor) {
      return this.withNewlines(false, () => {
        this.forIntro();
        this.conditional();
        this.expect("=>");
        this.conditional();
        this.space();
        if (this.peek("...")) this.i += 3;
        this.forCondition();
        this.expect("}");
        return NOT_CONSTANT;
      });
    }
    this.i = save;
    return this.withNewlines(true, () => {
      const result: { [key: string]: ConstantValue } = {};
      let constant = true;
      for (;;) {
        this.withNewlines(false, () => this.space());
        if (this.peek("}")) {
          this.i++;
          break;
        }
        const key = this.objectKey();
        this.space();
        if (this.peek("=") && !this.peek("==")) this.i++;
        else if (this.peek(":")) this.i++;
        else this.fail('expected "=" or ":" after an object key');
        const value = this.conditional();
        if (key === NOT_CONSTANT || value === NOT_CONSTANT) constant = false;
        else {
          Object.defineProperty(result, key, {
            value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        this.space();
        if (this.peek(",") || this.peek("\n")) {
          this.i++;
          continue;
        }
        if (!this.peek("}")) this.fail('expected "," or a newline or "}" in an object');
      }
      return constant ? result : NOT_CONSTANT;
    });
  }

  /** A bare name is a literal key; anything else is an expression that must give a string. */
  private objectKey(): string | typeof NOT_CONSTANT {
    return this.withNewlines(false, () => {
      this.space();
      const start = this.i;
      if (isIdentStart(this.s[this.i])) {
        const name = this.ident();
        const save = this.i;
        this.space();
        if (this.peek("=") || this.peek(":")) {
          if (!this.peek("==")) return name;
        }
        this.i = save;
        this.i = start;
      }
      const value = this.term();
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      return NOT_CONSTANT;
    });
  }

  // ---- templates ----

  /** A quoted string; `value` is its string when it has no (non-constant) interpolation. */
  private quotedTemplate(): HclExpression {
    const start = this.i;
    this.i++; // "
    const value = this.templateContent({ quoted: true });
    return { source: this.s.slice(start, this.i), value };
  }

  /**
   * Template text up to the closing quote (quoted) or `end` (heredoc). Escapes apply only in
   * quoted strings; `$${` and `%%{` are literal in both.
   */
  private templateContent(mode: { quoted: true } | { quoted: false; end: number }): Value {
    const s = this.s;
    const end = mode.quoted ? s.length : mode.end;
    let text = "";
    let constant = true;
    let depth = 0; // open %{if}/%{for} directives
    while (this.i < end) {
      const c = s[this.i] as string;
      if (mode.quoted && c === '"') {
        this.i++;
        if (depth > 0) this.fail("unclosed template directive");
        return constant ? text : NOT_CONSTANT;
      }
      if (mode.quoted && c === "\n")
        this.fail("quoted strings may not be split over multiple lines");
      if (mode.quoted && c === "\\") {
        text += this.escape();
        continue;
      }
      if ((c === "$" || c === "%") && s[this.i + 1] === c && s[this.i + 2] === "{") {
        text += `${c}{`;
        this.i += 3;
        continue;
      }
      if (c === "$" && s[this.i + 1] === "{") {
        this.i += 2;
        let strips = false;
        const value = this.withNewlines(false, () => {
          this.space();
          if (this.peek("~")) {
            this.i++;
            strips = true;
          }
          const v = this.conditional();
          this.space();
          if (this.peek("~")) {
            this.i++;
            strips = true;
          }
          this.expect("}");
          return v;
        });
        // Strip markers (`${~ x ~}`) trim neighbouring text; leave such templates to Terraform.
        if (strips || value === NOT_CONSTANT || value === null || typeof value === "object") {
          constant = false;
        } else text += String(value);
        continue;
      }
      if (c === "%" && s[this.i + 1] === "{") {
        this.i += 2;
        depth += this.directive();
        if (depth < 0) this.fail("template directive closed without being opened");
        constant = false; // directives are evaluated by Terraform, not here
        continue;
      }
      text += c;
      this.i++;
    }
    if (mode.quoted) this.fail("unterminated string");
    if (depth > 0) this.fail("unclosed template directive");
    return constant ? text : NOT_CONSTANT;
  }

  /** After `%{`: returns +1 for if/for, -1 for endif/endfor, 0 for else. */
  private directive(): number {
    return this.withNewlines(false, () => {
      this.space();
      if (this.peek("~")) this.i++;
      this.space();
      let delta = 0;
      if (this.keyword("if")) {
        this.conditional();
        delta = 1;
      } else if (this.keyword("for")) {
        this.forHeader("a template for directive");
        delta = 1;
      } else if (this.keyword("else")) {
        delta = 0;
      } else if (this.keyword("endif") || this.keyword("endfor")) {
        delta = -1;
      } else {
        this.fail("invalid template directive");
      }
      this.space();
      if (this.peek("~")) this.i++;
      this.expect("}");
      return delta;
    });
  }

  private escape(): string {
    const s = this.s;
    const next = s[this.i + 1];
    const simple = next === undefined ? undefined : SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      this.i += 2;
      return simple;
    }
    const hex = next === "u" ? 4 : next === "U" ? 8 : 0;
    const digits = s.slice(this.i + 2, this.i + 2 + hex);
    if (hex === 0 || digits.length !== hex || !HEX_DIGITS.test(digits)) {
      this.fail(`invalid escape sequence "\\${next ?? ""}"`);
    }
    const code = Number.parseInt(digits, 16);
    if (code > 0x10ffff) this.fail("invalid unicode escape");
    this.i += 2 + hex;
    return String.fromCodePoint(code);
  }

  private heredoc(): Value {
    const s = this.s;
    const intro = /^<<(-?)([\p{ID_Start}_][\p{ID_Continue}-]*)\r?\n/u.exec(
      s.slice(this.i, this.i + 300),
    );
    if (!intro) this.fail("invalid heredoc introduction");
    const indented = intro[1] === "-";
    const marker = intro[2] as string;
    const contentStart = this.i + intro[0].length;
    // Find the closing marker: a line holding only the marker (leading spaces allowed).
    let lineStart = contentStart;
    let closeLine = -1;
    let afterClose = -1;
    while (lineStart <= s.length) {
      const nl = s.indexOf("\n", lineStart);
      const lineEnd = nl < 0 ? s.length : nl;
      if (s.slice(lineStart, lineEnd).replace(/\r$/, "").trim() === marker) {
        if (nl < 0) this.fail("unterminated heredoc: the closing marker must end with a newline");
        closeLine = lineStart;
        afterClose = lineEnd;
        break;
      }
      if (nl < 0) break;
      lineStart = nl + 1;
    }
    if (closeLine < 0) this.fail(`unterminated heredoc: no closing "${marker}" found`);
    this.i = contentStart;
    const value = this.templateContent({ quoted: false, end: closeLine });
    this.i = afterClose;
    if (value === NOT_CONSTANT || typeof value !== "string" || !indented) return value;
    return dedent(value);
  }
}

// `<<-` removes the smallest indentation shared by all non-empty lines.
function dedent(text: string): string {
  const lines = text.split("\n");
  const indents = lines
    .slice(0, -1)
    .filter((l) => l.trim() !== "")
    .map((l) => (/^[ \t]*/.exec(l) as RegExpExecArray)[0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines
    .map((l) => l.slice(Math.min(cut, (/^[ \t]*/.exec(l) as RegExpExecArray)[0].length)))
    .join("\n");
}

function applyBinary(op: string, left: Value, right: Value): Value {
  if (left === NOT_CONSTANT || right === NOT_CONSTANT) return NOT_CONSTANT;
  if (op === "==" || op === "!=") {
    const equal = JSON.stringify(left) === JSON.stringify(right);
    return op === "==" ? equal : !equal;
  }
  if (op === "&&" || op === "||") {
    if (typeof left !== "boolean" || typeof right !== "boolean") return NOT_CONSTANT;
    return op === "&&" ? left && right : left || right;
  }
  if (typeof left !== "number" || typeof right !== "number") return NOT_CONSTANT;
  switch (op) {
    case "<":
      return left < right;
    case ">":
      return left > right;
    case "<=":
      return left <= right;
    case ">=":
      return left >= right;
    case "+":
      return left + right;
    case "-":
      return left - right;
    case "*":
      return left * right;
    case "/":
      return right === 0 ? NOT_CONSTANT : left / right;
    case "%":
      return right === 0 ? NOT_CONSTANT : left % right;
    default:
      return NOT_CONSTANT;
  }
}
