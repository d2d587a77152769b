// `contains([...], var.x)` validation conditions name the allowed values of a legacy parameter;
// the UI and CLI offer them as choices. This reads the list out of such a condition without
// evaluating anything: only a condition that is exactly one `contains(<literal list>, ...)`
// call yields values (sorted, strings only, as the reference does); any other condition yields
// none. Synchronous on purpose: callers use it while rendering schemas.
import { commentEnd } from "./hcl-source.js";

/** The condition looked like `contains(...)` but could not be read. Never carries a value. */
export class ContainsConditionError extends Error {
  override readonly name = "ContainsConditionError";
}

class NotLiteral extends Error {}

/** Allowed values of a `contains([...], var.x)` condition, sorted; [] for any other condition. */
export function containsValues(condition: string): string[] {
  const reader = new ConditionReader(condition);
  reader.skipSpace();
  if (!reader.consumeWord("contains")) return [];
  reader.skipSpace();
  if (!reader.consume("(")) return [];
  let list: unknown;
  try {
    list = reader.literal();
  } catch (error) {
    if (error instanceof NotLiteral) {
      throw new ContainsConditionError(
        "parse value: the first argument of contains() must be a list of literal values",
      );
    }
    throw error;
  }
  reader.skipSpace();
  if (!reader.consume(",")) return []; // fewer than two arguments: not a membership test
  reader.skipBalanced(")");
  reader.skipSpace();
  if (!reader.atEnd()) return []; // `contains(...) && ...` is another kind of expression
  if (!Array.isArray(list)) return [];
  return list
    .filter((v): v is string => typeof v === "string")
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

class ConditionReader {
  private i = 0;

  constructor(private readonly s: string) {}

  atEnd(): boolean {
    return this.i >= this.s.length;
  }

  private fail(message: string): never {
    throw new ContainsConditionError(`parse condition: ${message} at offset ${this.i}`);
  }

  skipSpace(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === " " || c === "\t" || c === "\r" || c === "\n") {
        this.i++;
        continue;
      }
      const end = commentEnd(s, this.i);
      if (end === undefined) return;
      if (end < 0) this.fail("unterminated comment");
      this.i = end;
    }
  }

  consume(token: string): boolean {
    if (!this.s.startsWith(token, this.i)) return false;
    this.i += token.length;
    return true;
  }

  consumeWord(word: string): boolean {
    if (!this.s.startsWith(word, this.i)) return false;
    const next = this.s[this.i + word.length];
    if (next !== undefined && /[\p{L}\p{N}_-]/u.test(next)) return false;
    this.i += word.length;
    return true;
  }

  /** A literal value: string, number, bool, null, or a tuple/object of literals. */
  literal(): unknown {
    this.skipSpace();
    const c = this.s[this.i];
    if (c === undefined) this.fail("unexpected end of condition");
    if (c === "[") return this.tuple();
    if (c === "{") {
      this.i++;
      this.skipBalanced("}");
      return {}; // objects are never allowed values; their content does not matter
    }
    if (c === '"') return this.quoted();
    const number = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(this.s.slice(this.i));
    if (number) {
      this.i += number[0].length;
      return Number(number[0]);
    }
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (this.consumeWord(word)) return value;
    }
    throw new NotLiteral();
  }

  private tuple(): unknown[] {
    this.i++;
    const items: unknown[] = [];
    for (;;) {
      this.skipSpace();
      if (this.consume("]")) return items;
      items.push(this.literal());
      this.skipSpace();
      if (this.consume("]")) return items;
      if (!this.consume(",")) {
        if (this.atEnd()) this.fail("unterminated list");
        throw new NotLiteral();
      }
    }
  }

  private quoted(): string {
    const s = this.s;
    this.i++;
    let out = "";
    while (this.i < s.length) {
      const c = s[this.i] as string;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === "\n") this.fail("unterminated string");
      if (c === "\\") {
        const esc = /^\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([nrt"\\]))/.exec(
          s.slice(this.i, this.i + 10),
        );
        if (!esc) this.fail("invalid escape sequence");
        const hex = esc[1] ?? esc[2];
        if (hex) out += String.fromCodePoint(Number.parseInt(hex, 16));
        else out += { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" }[esc[3] as string];
        this.i += esc[0].length;
      } else if ((c === "$" || c === "%") && s[this.i + 1] === c && s[this.i + 2] === "{") {
        out += `${c}{`;
        this.i += 3;
      } else if ((c === "$" || c === "%") && s[this.i + 1] === "{") {
        throw new NotLiteral(); // a template: its value is not known without evaluating it
      } else {
        out += c;
        this.i++;
      }
    }
    this.fail("unterminated string");
  }

  /** Skips to just after the `close` that ends the current bracket level. */
  skipBalanced(close: string): void {
    const s = this.s;
    const stack = [close];
    const pairs: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
    while (this.i < s.length) {
      this.skipSpace();
      const c = s[this.i];
      if (c === undefined) break;
      if (c === '"') {
        this.skipQuotedRaw();
        continue;
      }
      this.i++;
      const opened = pairs[c];
      if (opened) stack.push(opened);
      else if (c === stack[stack.length - 1]) {
        stack.pop();
        if (stack.length === 0) return;
      } else if (c === ")" || c === "]" || c === "}") this.fail(`unexpected "${c}"`);
    }
    this.fail(`missing "${stack[stack.length - 1]}"`);
  }

  private skipQuotedRaw(): void {
    const s = this.s;
    this.i++;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === "\\") this.i += 2;
      else if (c === '"') {
        this.i++;
        return;
      } else if ((c === "$" || c === "%") && s[this.i + 1] === c && s[this.i + 2] === "{") {
        this.i += 3;
      } else if ((c === "$" || c === "%") && s[this.i + 1] === "{") {
        this.i += 2;
        this.skipBalanced("}");
      } else this.i++;
    }
    this.fail("unterminated string");
  }
}
