// Terraform's JSON configuration syntax (`*.tf.json`): a JSON parser that also remembers the
// line of every object key, so variables can be ordered by line and errors can name one.

export class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Line (1-based) of each key of each parsed object. */
export type KeyLines = WeakMap<object, Map<string, number>>;

export interface ParsedJson {
  value: unknown;
  keyLines: KeyLines;
}

export function parseJsonWithLines(source: string): ParsedJson {
  const parser = new JsonParser(source);
  const value = parser.document();
  return { value, keyLines: parser.keyLines };
}

class JsonParser {
  private i = 0;
  private line = 1;
  readonly keyLines: KeyLines = new WeakMap();

  constructor(private readonly s: string) {
    if (s.charCodeAt(0) === 0xfeff) this.i = 1;
  }

  document(): unknown {
    const value = this.value();
    this.space();
    if (this.i < this.s.length) this.fail("unexpected content after the JSON value");
    return value;
  }

  private fail(message: string, line = this.line): never {
    throw new JsonSyntaxError(line, message);
  }

  private space(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === "\n") this.line++;
      else if (c !== " " && c !== "\t" && c !== "\r") return;
      this.i++;
    }
  }

  private value(): unknown {
    this.space();
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
      this.s.slice(this.i, this.i + 400),
    );
    if (!literal) {
      this.fail(
        c === undefined ? "unexpected end of file" : `unexpected character ${JSON.stringify(c)}`,
      );
    }
    this.i += literal[0].length;
    return JSON.parse(literal[0]);
  }

  private object(): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const lines = new Map<string, number>();
    this.keyLines.set(result, lines);
    this.i++;
    this.space();
    if (this.s[this.i] === "}") {
      this.i++;
      return result;
    }
    for (;;) {
      this.space();
      if (this.s[this.i] !== '"') this.fail("expected a quoted object key");
      const keyLine = this.line;
      const key = this.string();
      this.space();
      if (this.s[this.i] !== ":") this.fail(`expected ":" after key ${JSON.stringify(key)}`);
      this.i++;
      const item = this.value();
      if (Object.hasOwn(result, key))
        this.fail(`duplicate object key ${JSON.stringify(key)}`, keyLine);
      // defineProperty: a key named "__proto__" must stay a plain key.
      Object.defineProperty(result, key, {
        value: item,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      lines.set(key, keyLine);
      this.space();
      const next = this.s[this.i];
      this.i++;
      if (next === "}") return result;
      if (next !== ",") this.fail('expected "," or "}" in object');
    }
  }

  private array(): unknown[] {
    const result: unknown[] = [];
    this.i++;
    this.space();
    if (this.s[this.i] === "]") {
      this.i++;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.space();
      const next = this.s[this.i];
      this.i++;
      if (next === "]") return result;
      if (next !== ",") this.fail('expected "," or "]" in array');
    }
  }

  private string(): string {
    const start = this.i;
    this.i++;
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === "\\") this.i += 2;
      else if (c === '"') break;
      else if (c === "\n") this.fail("unterminated string");
      else this.i++;
    }
    if (this.i >= s.length) this.fail("unterminated string");
    this.i++;
    try {
      return JSON.parse(s.slice(start, this.i)) as string;
    } catch {
      this.fail("invalid escape sequence in string");
    }
  }
}
