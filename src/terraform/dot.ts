// A small parser for the Graphviz DOT language, enough for `terraform graph` output and any
// valid DOT: graph/node/edge statements, attribute lists, subgraphs (also as edge operands),
// quoted/HTML/numeral ids, `+` string concatenation and comments.
//
// Why not a package: @ts-graphviz/ast (maintained, peggy-based) and dotparser both need 0.6–1.1 s
// for a 20,000-statement graph on this machine, and it refuses graphs over 100,000 AST nodes by
// default; the graph of a 10,000-resource template must parse in a few tens of milliseconds.

export class DotSyntaxError extends Error {
  override readonly name = "DotSyntaxError";
}

export interface DotNode {
  id: string;
  attributes: Map<string, string>;
}

/** A parsed graph. Edges are directed as written (`A -> B`); for `graph`, `--` is kept as A->B. */
export class DotGraph {
  readonly nodes = new Map<string, DotNode>();
  /** from -> [to], in statement order. */
  readonly outgoing = new Map<string, string[]>();
  /** to -> [from], in statement order. */
  readonly incoming = new Map<string, string[]>();

  node(id: string): DotNode {
    let node = this.nodes.get(id);
    if (node === undefined) {
      node = { id, attributes: new Map() };
      this.nodes.set(id, node);
    }
    return node;
  }

  addEdge(from: string, to: string): void {
    this.node(from);
    this.node(to);
    push(this.outgoing, from, to);
    push(this.incoming, to, from);
  }

  /** Nodes `id` has an edge to. */
  successors(id: string): readonly string[] {
    return this.outgoing.get(id) ?? noNodes;
  }

  /** Nodes that have an edge to `id`. */
  predecessors(id: string): readonly string[] {
    return this.incoming.get(id) ?? noNodes;
  }
}

const noNodes: readonly string[] = [];

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

type TokenKind = "id" | "punct" | "edgeop" | "eof";
interface Token {
  kind: TokenKind;
  value: string;
  /** Keywords only match unquoted ids. */
  quoted: boolean;
  line: number;
}

/** Turns DOT text into tokens. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  const fail = (message: string): never => {
    throw new DotSyntaxError(`line ${line}: ${message}`);
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      line++;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    const ch = text[i] as string;
    // `#` at the start of a line is a C preprocessor output line: ignored.
    if (ch === "#" && (i === 0 || text[i - 1] === "\n")) {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && text[i + 1] === "/") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) fail("unterminated comment");
      for (let k = i; k < end; k++) if (text.charCodeAt(k) === 10) line++;
      i = end + 2;
      continue;
    }
    if (c === 34) {
      // Quoted string: only \" is an escape (and backslash-newline a continuation); other
      // backslashes stay, as in Graphviz.
      const start = line;
      let value = "";
      let j = i + 1;
      let chunkStart = j;
      for (;;) {
        if (j >= n) {
          line = start;
          fail("unterminated string");
        }
        const d = text.charCodeAt(j);
        if (d === 34) break;
        if (d === 92) {
          const next = text.charCodeAt(j + 1);
          if (next === 34) {
            value += `${text.slice(chunkStart, j)}"`;
            j += 2;
            chunkStart = j;
            continue;
          }
          if (next === 10 || (next === 13 && text.charCodeAt(j + 2) === 10)) {
            value += text.slice(chunkStart, j);
            j += next === 10 ? 2 : 3;
            line++;
            chunkStart = j;
            continue;
          }
          j += 2;
          continue;
        }
        if (d === 10) line++;
        j++;
      }
      value += text.slice(chunkStart, j);
      tokens.push({ kind: "id", value, quoted: true, line: start });
      i = j + 1;
      continue;
    }
    if (ch === "<") {
      // HTML string: balanced angle brackets; kept verbatim without the outer pair.
      let depth = 1;
      let j = i + 1;
      while (j < n && depth > 0) {
        if (text[j] === "<") depth++;
        else if (text[j] === ">") depth--;
        else if (text[j] === "\n") line++;
        j++;
      }
      if (depth > 0) fail("unterminated HTML string");
      tokens.push({ kind: "id", value: text.slice(i + 1, j - 1), quoted: true, line });
      i = j;
      continue;
    }
    if (ch === "-" && (text[i + 1] === ">" || text[i + 1] === "-")) {
      tokens.push({ kind: "edgeop", value: text.slice(i, i + 2), quoted: false, line });
      i += 2;
      continue;
    }
    if ("{}[];,=:+".includes(ch)) {
      tokens.push({ kind: "punct", value: ch, quoted: false, line });
      i++;
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdPart(text.charCodeAt(j))) j++;
      tokens.push({ kind: "id", value: text.slice(i, j), quoted: false, line });
      i = j;
      continue;
    }
    if (ch === "-" || ch === "." || (c >= 48 && c <= 57)) {
      const match = /^-?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)/.exec(text.slice(i, i + 64));
      if (match === null) fail(`unexpected character ${JSON.stringify(ch)}`);
      const value = (match as RegExpExecArray)[0];
      tokens.push({ kind: "id", value, quoted: false, line });
      i += value.length;
      continue;
    }
    fail(`unexpected character ${JSON.stringify(ch)}`);
  }
  tokens.push({ kind: "eof", value: "", quoted: false, line });
  return tokens;
}

function isIdStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

function isIdPart(c: number): boolean {
  return isIdStart(c) || (c >= 48 && c <= 57);
}

/** Parses one DOT graph. Throws DotSyntaxError with a line number on bad input. */
export function parseDot(text: string): DotGraph {
  const tokens = tokenize(text);
  const graph = new DotGraph();
  let pos = 0;

  const peek = (offset = 0): Token => tokens[Math.min(pos + offset, tokens.length - 1)] as Token;
  const next = (): Token => {
    const token = peek();
    if (pos < tokens.length - 1) pos++;
    return token;
  };
  const fail = (message: string, token = peek()): never => {
    throw new DotSyntaxError(`line ${token.line}: ${message}`);
  };
  const isKeyword = (token: Token, word: string) =>
    token.kind === "id" && !token.quoted && token.value.toLowerCase() === word;
  const isPunct = (token: Token, p: string) => token.kind === "punct" && token.value === p;
  const expectPunct = (p: string) => {
    const token = next();
    if (!isPunct(token, p)) fail(`expected "${p}", found ${describe(token)}`, token);
  };

  /** An id, with `"a" + "b"` concatenation of quoted strings. */
  const readId = (): string => {
    const token = next();
    if (token.kind !== "id") fail(`expected an identifier, found ${describe(token)}`, token);
    let value = token.value;
    while (token.quoted && isPunct(peek(), "+") && peek(1).kind === "id" && peek(1).quoted) {
      next();
      value += next().value;
    }
    return value;
  };

  const readAttributes = (into?: Map<string, string>) => {
    while (isPunct(peek(), "[")) {
      next();
      while (!isPunct(peek(), "]")) {
        const key = readId();
        let value = "true";
        if (isPunct(peek(), "=")) {
          next();
          value = readId();
        }
        into?.set(key, value);
        if (isPunct(peek(), ";") || isPunct(peek(), ",")) next();
      }
      next();
    }
  };

  /** node_id: ID [':' ID [':' ID]] — ports are read and dropped. */
  const readNodeId = (): string => {
    const id = readId();
    if (isPunct(peek(), ":")) {
      next();
      readId();
      if (isPunct(peek(), ":")) {
        next();
        readId();
      }
    }
    return id;
  };

  /** Parses `{ stmt_list }`; returns the node ids declared or used inside (for edge operands). */
  const readBlock = (): string[] => {
    expectPunct("{");
    const members: string[] = [];
    while (!isPunct(peek(), "}")) {
      if (peek().kind === "eof") fail('expected "}" before the end of the input');
      readStatement(members);
      if (isPunct(peek(), ";")) next();
    }
    next();
    return members;
  };

  /** subgraph: [subgraph [ID]] '{' stmt_list '}' */
  const readSubgraph = (): string[] => {
    if (isKeyword(peek(), "subgraph")) {
      next();
      if (peek().kind === "id") readId();
    }
    return readBlock();
  };

  const startsSubgraph = (token: Token) => isKeyword(token, "subgraph") || isPunct(token, "{");

  const readOperand = (): string[] => (startsSubgraph(peek()) ? readSubgraph() : [readNodeId()]);

  const readStatement = (members: string[]) => {
    const token = peek();
    if (isKeyword(token, "graph") || isKeyword(token, "node") || isKeyword(token, "edge")) {
      next();
      readAttributes();
      return;
    }
    if (token.kind === "id" && isPunct(peek(1), "=")) {
      readId();
      next();
      readId();
      return;
    }
    if (token.kind !== "id" && !startsSubgraph(token)) {
      fail(`expected a statement, found ${describe(token)}`);
    }
    let left = readOperand();
    if (peek().kind !== "edgeop") {
      if (!startsSubgraph(token)) {
        const id = left[0] as string;
        readAttributes(graph.node(id).attributes);
      }
      members.push(...left);
      return;
    }
    members.push(...left);
    while (peek().kind === "edgeop") {
      next();
      const right = readOperand();
      members.push(...right);
      for (const from of left) for (const to of right) graph.addEdge(from, to);
      left = right;
    }
    // Edge attributes are not needed by any consumer; read and drop them.
    readAttributes();
  };

  // graph: [strict] (graph | digraph) [ID] '{' stmt_list '}'
  if (isKeyword(peek(), "strict")) next();
  if (!isKeyword(peek(), "digraph") && !isKeyword(peek(), "graph")) {
    fail(`expected "digraph" or "graph", found ${describe(peek())}`);
  }
  next();
  if (peek().kind === "id") readId();
  readBlock();
  if (peek().kind !== "eof") fail(`unexpected ${describe(peek())} after the graph`);
  return graph;
}

function describe(token: Token): string {
  if (token.kind === "eof") return "the end of the input";
  return JSON.stringify(token.value);
}
