// The reader of HCL native syntax (the `.tf` language): bodies, blocks, every expression form,
// templates and heredocs. It records what template parsing needs (block structure with lines,
// each attribute's exact source text and syntax tree) and evaluates expressions as Terraform
// evaluates a variable's default (hcl-eval.ts). It alone decides what a file means.
//
// Why HashiCorp's parser (WebAssembly, hcl-parser.ts) is still here, and only for the words of
// errors: it cannot read the variables fast enough, and its first call is slow. Measured on
// this repository's 2-core machine with bench/parameters.ts's 500-variable template, medians of
// 15 runs, both in one process, alternating: on a quiet machine it takes 71-76 ms per parse
// (target for the whole parse: 50 ms) where this reader takes 9-28 ms with the variables
// read; under load (load average 17) 340-390 ms against 43-66 ms. Its first call costs
// 550-760 ms quiet (2.1-3.1 s loaded) to load the module. It does not evaluate defaults either
// (`["x","y"][1]` comes back as source text, `"%{ if true }yes%{ endif }"` loses its spaces).
// What it does better is the diagnostics of a broken file, in HCL's own words, one per problem;
// so a file this reader rejects is handed to it for those words, and a broken file pays the
// start-up, a valid one never does.
import {
  bool,
  type ConstantValue,
  evaluate,
  HclEvalError,
  type HclNode,
  HclNotConstantError,
  NULL,
  normalized,
  type ObjectItemSource,
  str,
  type TemplatePart,
  toConstant,
} from "./hcl-eval.js";
import { commentEnd, LineIndex } from "./hcl-source.js";

export type { ConstantValue } from "./hcl-eval.js";

export class HclNativeSyntaxError extends Error {
  override readonly name = "HclNativeSyntaxError";
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

export type Evaluation =
  | { ok: true; value: ConstantValue }
  /** `notConstant`: it refers to a variable or calls a function, which a default may not. */
  | { ok: false; notConstant: boolean; message: string };

export interface HclExpression {
  /** Exact source text. */
  readonly source: string;
  readonly node: HclNode;
  /** The value with no variables or functions in scope, as Terraform evaluates a default. */
  evaluate(): Evaluation;
}

function expressionOf(source: string, node: HclNode): HclExpression {
  let result: Evaluation | undefined;
  return {
    source,
    node,
    evaluate() {
      result ??= evaluateNode(node);
      return result;
    },
  };
}

/** A node's value as a default's: no variables or functions in scope. */
export function evaluateNode(node: HclNode): Evaluation {
  try {
    return { ok: true, value: toConstant(evaluate(node)) };
  } catch (error) {
    if (error instanceof RangeError) {
      // Evaluation recurses along the syntax tree, which a long operator chain makes deep.
      return {
        ok: false,
        notConstant: false,
        message: "the expression is nested too deeply to evaluate",
      };
    }
    if (!(error instanceof HclEvalError)) throw error;
    return { ok: false, notConstant: error instanceof HclNotConstantError, message: error.message };
  }
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

/** One expression on its own, as an attribute's value is written (e.g. a validation condition). */
export function parseHclExpression(source: string): HclExpression {
  return new Parser(source).wholeExpression();
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

  wholeExpression(): HclExpression {
    const expr = this.expression();
    this.withNewlines(false, () => this.space());
    if (this.i < this.s.length) this.fail(`unexpected "${this.s[this.i]}" after the expression`);
    return expr;
  }

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
        labels.push(this.label());
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
    const node = this.conditional();
    return expressionOf(this.s.slice(start, this.i), node);
  }

  private conditional(): HclNode {
    const cond = this.binary(0);
    const save = this.i;
    this.space();
    if (!this.peek("?")) {
      this.i = save;
      return cond;
    }
    this.i++;
    const yes = this.conditional();
    this.expect(":");
    const no = this.conditional();
    return { t: "cond", cond, yes, no };
  }

  private static readonly LEVELS: string[][] = [
    ["||"],
    ["&&"],
    ["==", "!="],
    ["<=", ">=", "<", ">"],
    ["+", "-"],
    ["*", "/", "%"],
  ];

  private binary(level: number): HclNode {
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
      left = { t: "binary", op, left, right };
    }
  }

  private unary(): HclNode {
    this.space();
    const c = this.s[this.i];
    if (c === "!" || c === "-") {
      this.i++;
      return { t: "unary", op: c, operand: this.unary() };
    }
    return this.term();
  }

  private term(): HclNode {
    return this.traversals(this.primary(), true);
  }

  /**
   * Postfix steps after `from`: indexes, attributes (`.name`, legacy `.0`) and splats. A full
   * splat (`[*]`) takes every later step into its per-element expression; an attribute-only
   * splat (`.*`) only the attribute steps right after it.
   */
  private traversals(from: HclNode, all: boolean): HclNode {
    let node = from;
    for (;;) {
      const save = this.i;
      this.space();
      if (all && this.peek("[")) {
        this.i++;
        const splat = this.withNewlines(false, () => {
          this.space();
          if (this.peek("*")) {
            this.i++;
            this.expect("]");
            return true;
          }
          const key = this.conditional();
          this.expect("]");
          node = { t: "index", coll: node, key };
          return false;
        });
        if (splat) return { t: "splat", source: node, each: this.traversals({ t: "item" }, true) };
      } else if (this.peek(".") && !this.peek("...")) {
        this.i++;
        if (this.peek("*")) {
          if (!all) this.fail("nested splat expressions are not allowed");
          this.i++;
          node = { t: "splat", source: node, each: this.traversals({ t: "item" }, false) };
        } else if (/[0-9]/.test(this.s[this.i] ?? "")) {
          node = { t: "index", coll: node, key: this.number() };
        } else if (isIdentStart(this.s[this.i])) {
          node = { t: "attr", coll: node, name: this.ident() };
        } else this.fail("an attribute name is required after a dot");
      } else {
        this.i = save;
        return node;
      }
    }
  }

  private primary(): HclNode {
    this.space();
    const c = this.s[this.i];
    if (c === undefined) this.fail("expected an expression");
    if (c === '"') return this.quotedTemplate();
    if (c === "<" && this.peek("<<")) return this.heredoc();
    if (c === "[") return this.tuple();
    if (c === "{") return this.object();
    if (c === "(") {
      this.i++;
      const inner = this.withNewlines(false, () => this.conditional());
      this.expect(")");
      return { t: "wrap", expr: inner };
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
      if (this.peek("(")) return { t: "call", name, args: this.call() };
      this.i = save;
      if (name === "true" || name === "false")
        return { t: "literal", value: bool(name === "true") };
      if (name === "null") return { t: "literal", value: NULL };
      if (name.includes("::")) this.fail("expected a function call");
      return { t: "ref", name };
    }
    this.fail(`expected an expression, found "${c}"`);
  }

  private number(): HclNode {
    const match = /^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(
      this.s.slice(this.i, this.i + 400),
    );
    if (!match) this.fail("expected a number");
    this.i += match[0].length;
    // A literal is parsed when evaluated: an out-of-range one is an error of the default only.
    return { t: "number", text: match[0] };
  }

  /** After a function name: the arguments; `...` after the last one expands it. */
  private call(): HclNode[] {
    this.i++; // (
    return this.withNewlines(false, () => {
      const args: HclNode[] = [];
      this.space();
      if (this.peek(")")) {
        this.i++;
        return args;
      }
      for (;;) {
        args.push(this.conditional());
        this.space();
        if (this.peek("...")) {
          this.i += 3;
          this.expect(")");
          return args;
        }
        if (this.peek(")")) {
          this.i++;
          return args;
        }
        if (this.i >= this.s.length) this.fail('missing ")" to close the function call');
        this.expect(",", '"," or ")"');
        this.space();
        if (this.peek(")")) {
          this.i++;
          return args;
        }
      }
    });
  }

  /** After `for`, in an expression or a template directive: `k[, v] in <expr>`. */
  private forHeader(where: string): {
    keyVar: string | undefined;
    valueVar: string;
    coll: HclNode;
  } {
    this.space();
    const first = this.ident();
    let second: string | undefined;
    this.space();
    if (this.peek(",")) {
      this.i++;
      this.space();
      second = this.ident();
    }
    this.space();
    if (!this.keyword("in")) this.fail(`expected "in" in ${where}`);
    const coll = this.conditional();
    return second === undefined
      ? { keyVar: undefined, valueVar: first, coll }
      : { keyVar: first, valueVar: second, coll };
  }

  private keyword(word: string): boolean {
    if (this.s.startsWith(word, this.i) && !isIdentPart(this.s[this.i + word.length])) {
      this.i += word.length;
      return true;
    }
    return false;
  }

  private forCondition(): HclNode | undefined {
    this.space();
    return this.keyword("if") ? this.conditional() : undefined;
  }

  private tuple(): HclNode {
    this.i++; // [
    return this.withNewlines(false, () => {
      this.space();
      if (this.keyword("for")) {
        const header = this.forHeader("a for expression");
        this.expect(":");
        const value = this.conditional();
        const cond = this.forCondition();
        this.expect("]");
        return { t: "for", ...header, key: undefined, value, cond, group: false };
      }
      const items: HclNode[] = [];
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
      return { t: "tuple", items };
    });
  }

  private object(): HclNode {
    this.i++; // {
    const save = this.i;
    const isFor = this.withNewlines(false, () => {
      this.space();
      return this.keyword("for");
    });
    if (isFor) {
      return this.withNewlines(false, () => {
        const header = this.forHeader("a for expression");
        this.expect(":");
        const key = this.conditional();
        this.expect("=>");
        const value = this.conditional();
        this.space();
        let group = false;
        if (this.peek("...")) {
          this.i += 3;
          group = true;
        }
        const cond = this.forCondition();
        this.expect("}");
        return { t: "for", ...header, key, value, cond, group };
      });
    }
    this.i = save;
    return this.withNewlines(true, () => {
      const items: { key: HclNode; value: HclNode; source: ObjectItemSource }[] = [];
      for (;;) {
        this.withNewlines(false, () => this.space());
        if (this.peek("}")) {
          this.i++;
          break;
        }
        const keyStart = this.i;
        const key = this.objectKey();
        const keySource = this.s.slice(keyStart, this.i).trim();
        this.space();
        if (this.peek("=") && !this.peek("==")) this.i++;
        else if (this.peek(":")) this.i++;
        else this.fail('expected "=" or ":" after an object key');
        this.space();
        const valueStart = this.i;
        const value = this.conditional();
        const source = {
          key: keySource,
          value: this.s.slice(valueStart, this.i).trim(),
          line: this.lines.lineAt(keyStart),
        };
        items.push({ key, value, source });
        this.space();
        if (this.peek(",") || this.peek("\n")) {
          this.i++;
          continue;
        }
        if (!this.peek("}")) this.fail('expected "," or a newline or "}" in an object');
      }
      return { t: "object", items };
    });
  }

  /** A bare name is a literal key; anything else is an expression that must give a string. */
  private objectKey(): HclNode {
    return this.withNewlines(false, () => {
      this.space();
      const key = this.term();
      if (key.t === "ref") return { t: "literal", value: str(key.name) };
      // `a.b = 1` could mean the reference or the name "a.b"; HCL asks for parentheses or quotes.
      let root: HclNode = key;
      while (root.t === "attr" || root.t === "index") root = root.coll;
      if (root.t !== "ref") return key;
      return {
        t: "invalid",
        message:
          "Ambiguous attribute key: wrap a reference in parentheses, or a name containing periods in quotes",
      };
    });
  }

  // ---- templates ----

  private quotedTemplate(): HclNode {
    const plain = this.plainString();
    if (plain !== undefined) return { t: "literal", value: str(plain) };
    this.i++; // "
    return this.template(this.templateTokens({ quoted: true }), false);
  }

  /**
   * Most strings are plain text: read them without the template machinery. Undefined (and
   * nothing consumed) when the string has an escape, an interpolation or a directive.
   */
  private plainString(): string | undefined {
    const end = this.s.indexOf('"', this.i + 1);
    if (end < 0) return undefined;
    const text = this.s.slice(this.i + 1, end);
    if (/[\\\n]|[$%]\{/.test(text)) return undefined;
    this.i = end + 1;
    return text;
  }

  /** A block label: a quoted string without interpolations or directives. */
  private label(): string {
    const plain = this.plainString();
    if (plain !== undefined) return normalized(plain);
    this.i++; // "
    const tokens = this.templateTokens({ quoted: true });
    let text = "";
    for (const token of tokens) {
      if (token.t !== "text") this.fail("a block label must be a literal string");
      else text += token.text;
    }
    return normalized(text);
  }

  /**
   * The tokens of template text up to the closing quote (quoted) or `end` (heredoc), with strip
   * markers applied to the neighbouring text. Escapes apply only in quoted strings; `$${` and
   * `%%{` are literal in both. A heredoc's text is split after each newline, as HCL's scanner
   * splits it, because `<<-` trims the lines' indentation token by token.
   */
  private templateTokens(mode: { quoted: true } | { quoted: false; end: number }): Token[] {
    const s = this.s;
    const end = mode.quoted ? s.length : mode.end;
    const tokens: Token[] = [];
    let text: string | undefined;
    let trimNext = false;
    const flush = () => {
      if (text === undefined) return;
      tokens.push({ t: "text", text: trimNext ? text.replace(/^\s+/u, "") : text });
      trimNext = false;
      text = undefined;
    };
    const add = (chunk: string) => {
      text = (text ?? "") + chunk;
    };
    const open = (): boolean => {
      // `${~` / `%{~` trims the whitespace at the end of the text before it.
      flush();
      trimNext = false;
      const strips = this.peek("~");
      this.space();
      if (!strips) return false;
      this.i++;
      const last = tokens[tokens.length - 1];
      if (last?.t === "text") last.text = last.text.replace(/\s+$/u, "");
      return true;
    };
    const close = () => {
      this.space();
      trimNext = this.peek("~}");
      if (trimNext) this.i++;
      this.expect("}");
    };
    while (this.i < end) {
      const c = s[this.i] as string;
      if (mode.quoted && c === '"') {
        this.i++;
        flush();
        return tokens;
      }
      if (mode.quoted && c === "\n")
        this.fail("quoted strings may not be split over multiple lines");
      if (mode.quoted && c === "\\") {
        add(this.escape());
        continue;
      }
      if ((c === "$" || c === "%") && s[this.i + 1] === c && s[this.i + 2] === "{") {
        add(`${c}{`);
        this.i += 3;
        continue;
      }
      if (c === "$" && s[this.i + 1] === "{") {
        this.i += 2;
        const expr = this.withNewlines(false, () => {
          open();
          const e = this.conditional();
          close();
          return e;
        });
        tokens.push({ t: "interp", expr });
        continue;
      }
      if (c === "%" && s[this.i + 1] === "{") {
        this.i += 2;
        tokens.push(this.withNewlines(false, () => this.directive(open, close)));
        continue;
      }
      add(c);
      this.i++;
      if (!mode.quoted && c === "\n") flush();
    }
    if (mode.quoted) this.fail("unterminated string");
    flush();
    return tokens;
  }

  /** After `%{`: one directive token. */
  private directive(open: () => boolean, close: () => void): Token {
    open();
    let token: Token;
    if (this.keyword("if")) token = { t: "if", cond: this.conditional() };
    else if (this.keyword("for"))
      token = { t: "for", ...this.forHeader("a template for directive") };
    else if (this.keyword("else")) token = { t: "else" };
    else if (this.keyword("endif")) token = { t: "endif" };
    else if (this.keyword("endfor")) token = { t: "endfor" };
    else this.fail("invalid template directive");
    close();
    return token;
  }

  /** Nests directive tokens into template parts; a lone interpolation keeps its own value. */
  private template(tokens: Token[], heredocFlush: boolean): HclNode {
    if (tokens.length === 1 && tokens[0]?.t === "interp")
      return { t: "wrap", expr: tokens[0].expr };
    if (heredocFlush) flushIndentation(tokens);
    let k = 0;
    const parts = (
      until: readonly string[],
    ): { parts: TemplatePart[]; end: string | undefined } => {
      const out: TemplatePart[] = [];
      while (k < tokens.length) {
        const token = tokens[k++] as Token;
        switch (token.t) {
          case "text": {
            const last = out[out.length - 1];
            if (last?.t === "text") last.text += token.text;
            else out.push({ t: "text", text: token.text });
            break;
          }
          case "interp":
            out.push({ t: "interp", expr: token.expr });
            break;
          case "if": {
            const then = parts(["else", "endif"]);
            const other = then.end === "else" ? parts(["endif"]) : { parts: [], end: then.end };
            if (other.end !== "endif") this.fail("an if directive is missing its endif");
            out.push({ t: "if", cond: token.cond, yes: then.parts, no: other.parts });
            break;
          }
          case "for": {
            const body = parts(["endfor"]);
            if (body.end !== "endfor") this.fail("a for directive is missing its endfor");
            const { keyVar, valueVar, coll } = token;
            out.push({ t: "for", keyVar, valueVar, coll, body: body.parts });
            break;
          }
          default:
            if (!until.includes(token.t)) this.fail(`unexpected ${token.t} directive`);
            return { parts: out, end: token.t };
        }
      }
      return { parts: out, end: undefined };
    };
    const root = parts([]);
    return { t: "template", parts: root.parts };
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

  private heredoc(): HclNode {
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
    const node = this.template(this.templateTokens({ quoted: false, end: closeLine }), indented);
    this.i = afterClose;
    return node;
  }
}

type Token =
  | { t: "text"; text: string }
  | { t: "interp"; expr: HclNode }
  | { t: "if"; cond: HclNode }
  | { t: "for"; keyVar: string | undefined; valueVar: string; coll: HclNode }
  | { t: "else" | "endif" | "endfor" };

/**
 * `<<-`: removes from the text that starts each line the smallest indentation shared by those
 * lines. A line that starts with an interpolation or directive has none; a line of nothing but
 * whitespace does not count (and keeps its whitespace). This is HCL's rule, applied after strip
 * markers, so text a marker emptied no longer starts a line.
 */
function flushIndentation(tokens: Token[]): void {
  let min = Number.POSITIVE_INFINITY;
  let lineStart = true;
  const adjust: Extract<Token, { t: "text" }>[] = [];
  for (const token of tokens) {
    if (lineStart) {
      lineStart = false;
      if (token.t !== "text") min = 0;
      else {
        const spaces = [...(/^\s*/u.exec(token.text) as RegExpExecArray)[0]].length;
        const blank = spaces === [...token.text].length && token.text.endsWith("\n");
        if (!blank) {
          min = Math.min(min, spaces);
          adjust.push(token);
        }
      }
    }
    if (token.t === "text" && token.text.endsWith("\n")) lineStart = true;
  }
  if (!Number.isFinite(min)) return;
  for (const token of adjust) token.text = [...token.text].slice(min).join("");
}
