// Evaluation of HCL expressions the way Terraform evaluates a variable's `default`: with no
// variables and no functions in scope, so only constant expressions have a value, but every
// constant form does: operators, conditionals, indexes, attribute access, splats, `for`
// expressions, and templates with interpolations, directives and strip markers. The rules
// (conversions between strings, numbers and bools, unification of conditional results,
// iteration order, which branch's errors count) are HCL's and its type system's, checked
// against Terraform 1.11 by test/parameters/constant-defaults.test.ts.
//
// Deliberate limits: the value model has tuples and objects but no separate list and map
// types (a default is stored as JSON, where they look alike; only `==` between a converted
// conditional result and a literal could tell them apart), and numbers are exact (see
// hcl-number.ts).
import { compareUtf8 as compareCodePoints } from "./go-json.js";
import { HclEvalError, HclNumber } from "./hcl-number.js";

export { HclEvalError } from "./hcl-number.js";

/** A reference to a variable or a function call: the expression is not a constant. */
export class HclNotConstantError extends HclEvalError {
  override readonly name = "HclNotConstantError";
}

export type HclValue =
  | { kind: "string"; value: string }
  | { kind: "number"; value: HclNumber }
  | { kind: "bool"; value: boolean }
  | { kind: "null" }
  | { kind: "tuple"; items: HclValue[] }
  | { kind: "object"; attrs: Map<string, HclValue> };

export type HclNode =
  | { t: "literal"; value: HclValue }
  /** A number literal, read when evaluated (an out-of-range one fails only the default). */
  | { t: "number"; text: string; value?: HclValue }
  | { t: "template"; parts: TemplatePart[] }
  /** A template that is a single interpolation gives that value unconverted. */
  | { t: "wrap"; expr: HclNode }
  | { t: "ref"; name: string }
  | { t: "call"; name: string; args: HclNode[] }
  /** An expression HCL parses but refuses to evaluate, with its reason. */
  | { t: "invalid"; message: string }
  | { t: "tuple"; items: HclNode[] }
  /** An object constructor; the native reader keeps each item's source text too. */
  | { t: "object"; items: { key: HclNode; value: HclNode; source?: ObjectItemSource }[] }
  | { t: "index"; coll: HclNode; key: HclNode }
  | { t: "attr"; coll: HclNode; name: string }
  /** `source[*]...` / `source.*...`: `each` is applied to every element, bound as the item. */
  | { t: "splat"; source: HclNode; each: HclNode }
  | { t: "item" }
  | {
      t: "for";
      keyVar: string | undefined;
      valueVar: string;
      coll: HclNode;
      key: HclNode | undefined;
      value: HclNode;
      cond: HclNode | undefined;
      group: boolean;
    }
  | { t: "cond"; cond: HclNode; yes: HclNode; no: HclNode }
  | { t: "binary"; op: string; left: HclNode; right: HclNode }
  | { t: "unary"; op: "!" | "-"; operand: HclNode };

/** The exact source text of an object item's key and value. */
export interface ObjectItemSource {
  key: string;
  value: string;
  /** 1-based line of the key. */
  line: number;
}

export type TemplatePart =
  | { t: "text"; text: string }
  | { t: "interp"; expr: HclNode }
  | { t: "if"; cond: HclNode; yes: TemplatePart[]; no: TemplatePart[] }
  | {
      t: "for";
      keyVar: string | undefined;
      valueVar: string;
      coll: HclNode;
      body: TemplatePart[];
    };

/** Plain JSON-like data, as a default is stored. */
export type ConstantValue =
  | string
  | number
  | boolean
  | null
  | ConstantValue[]
  | { [key: string]: ConstantValue };

interface Scope {
  vars: ReadonlyMap<string, HclValue>;
  item?: HclValue;
  /** Steps left: nested `for` expressions can ask for more work than any default needs. */
  budget: { steps: number };
}

/** Evaluation steps one expression may take; a real default takes a few hundred. */
export const MAX_EVALUATION_STEPS = 100_000;

/** HCL keeps strings in Unicode normal form C; ASCII already is, and is most text. */
export const normalized = (text: string): string =>
  /[\u0080-\uffff]/.test(text) ? text.normalize("NFC") : text;
export const str = (value: string): HclValue => ({ kind: "string", value: normalized(value) });
export const num = (value: HclNumber): HclValue => ({ kind: "number", value });
export const bool = (value: boolean): HclValue => ({ kind: "bool", value });
export const NULL: HclValue = { kind: "null" };

export function evaluate(node: HclNode, vars: ReadonlyMap<string, HclValue> = new Map()): HclValue {
  return evalNode(node, { vars, budget: { steps: MAX_EVALUATION_STEPS } });
}

const fail = (summary: string, detail: string): never => {
  throw new HclEvalError(`${summary}: ${detail}`);
};

function describe(v: HclValue): string {
  switch (v.kind) {
    case "tuple":
      return "a tuple";
    case "object":
      return "an object";
    case "null":
      return "null";
    default:
      return `a ${v.kind}`;
  }
}

// ---- conversions between primitive types, as HCL applies them implicitly ----

function toText(v: HclValue): string | undefined {
  if (v.kind === "string") return v.value;
  if (v.kind === "number") return v.value.toText();
  if (v.kind === "bool") return v.value ? "true" : "false";
  return undefined;
}

function toNumber(v: HclValue): HclNumber | undefined {
  if (v.kind === "number") return v.value;
  if (v.kind === "string") return HclNumber.parse(v.value);
  return undefined;
}

function toBool(v: HclValue): boolean | undefined {
  if (v.kind === "bool") return v.value;
  if (v.kind === "string" && (v.value === "true" || v.value === "false")) return v.value === "true";
  return undefined;
}

// ---- evaluation ----

function step(scope: Scope): void {
  if (--scope.budget.steps < 0) {
    fail("Expression too large", `evaluating it takes more than ${MAX_EVALUATION_STEPS} steps`);
  }
}

function evalNode(node: HclNode, scope: Scope): HclValue {
  step(scope);
  switch (node.t) {
    case "literal":
      return node.value;
    case "number":
      // Read once: a literal inside a `for` body is evaluated for every element.
      node.value ??= num(HclNumber.parse(node.text) as HclNumber);
      return node.value;
    case "wrap":
      return evalNode(node.expr, scope);
    case "template":
      return str(evalTemplate(node.parts, scope));
    case "ref": {
      const bound = scope.vars.get(node.name);
      if (bound) return bound;
      throw new HclNotConstantError(`Variables not allowed: "${node.name}" is a reference`);
    }
    case "call":
      throw new HclNotConstantError(`Function calls not allowed: "${node.name}" is called`);
    case "item":
      return scope.item ?? NULL;
    case "invalid":
      throw new HclEvalError(node.message);
    case "tuple":
      return { kind: "tuple", items: node.items.map((item) => evalNode(item, scope)) };
    case "object": {
      const attrs = new Map<string, HclValue>();
      for (const { key, value } of node.items) {
        const k = evalNode(key, scope);
        if (k.kind === "null") fail("Null value as key", "an object key must not be null");
        const text = toText(k);
        if (text === undefined)
          fail("Incorrect key type", `an object key must be a string, not ${describe(k)}`);
        attrs.set(text as string, evalNode(value, scope));
      }
      return { kind: "object", attrs };
    }
    case "index":
      return index(evalNode(node.coll, scope), evalNode(node.key, scope));
    case "attr":
      return getAttr(evalNode(node.coll, scope), node.name);
    case "splat": {
      const source = evalNode(node.source, scope);
      const items = source.kind === "tuple" ? source.items : source.kind === "null" ? [] : [source];
      return {
        kind: "tuple",
        items: items.map((item) =>
          evalNode(node.each, { vars: scope.vars, item, budget: scope.budget }),
        ),
      };
    }
    case "for":
      return evalFor(node, scope);
    case "cond":
      return evalConditional(node, scope);
    case "binary":
      return binary(node.op, evalNode(node.left, scope), evalNode(node.right, scope));
    case "unary": {
      const v = evalNode(node.operand, scope);
      if (v.kind === "null") fail("Operation failed", "the operand is null");
      if (node.op === "!") {
        const b = toBool(v);
        if (b === undefined) fail("Invalid operand", `a bool is required, not ${describe(v)}`);
        return bool(!b);
      }
      const n = toNumber(v);
      if (n === undefined) fail("Invalid operand", `a number is required, not ${describe(v)}`);
      return num((n as HclNumber).neg());
    }
  }
}

/** Elements of a collection in HCL's iteration order: tuples by index, objects by sorted key. */
function iterate(coll: HclValue): [HclValue, HclValue][] {
  if (coll.kind === "null")
    fail("Iteration over null value", "a for expression needs a collection");
  if (coll.kind === "tuple") return coll.items.map((v, k) => [num(HclNumber.fromInt(k)), v]);
  if (coll.kind === "object") {
    return [...coll.attrs.keys()]
      .sort(compareCodePoints)
      .map((k) => [str(k), coll.attrs.get(k) as HclValue]);
  }
  return fail("Iteration over non-iterable value", `${describe(coll)} cannot be iterated`);
}

function bindings(
  keyVar: string | undefined,
  valueVar: string,
  key: HclValue,
  value: HclValue,
  scope: Scope,
): Scope {
  const vars = new Map(scope.vars);
  if (keyVar !== undefined) vars.set(keyVar, key);
  vars.set(valueVar, value);
  return { vars, budget: scope.budget };
}

function evalFor(node: Extract<HclNode, { t: "for" }>, scope: Scope): HclValue {
  const items: HclValue[] = [];
  const attrs = new Map<string, HclValue>();
  const groups = new Map<string, HclValue[]>();
  for (const [k, v] of iterate(evalNode(node.coll, scope))) {
    const inner = bindings(node.keyVar, node.valueVar, k, v, scope);
    if (node.cond) {
      const c = evalNode(node.cond, inner);
      if (c.kind === "null") fail("Condition is null", "the for expression's condition is null");
      const b = toBool(c);
      if (b === undefined)
        fail("Invalid 'for' condition", `a bool is required, not ${describe(c)}`);
      if (!b) continue;
    }
    if (!node.key) {
      items.push(evalNode(node.value, inner));
      continue;
    }
    const key = evalNode(node.key, inner);
    if (key.kind === "null") fail("Invalid object key", "the key expression produced null");
    const text = toText(key);
    if (text === undefined)
      fail("Invalid object key", `a string is required, not ${describe(key)}`);
    const value = evalNode(node.value, inner);
    if (node.group) {
      const group = groups.get(text as string) ?? [];
      group.push(value);
      groups.set(text as string, group);
    } else {
      if (attrs.has(text as string))
        fail("Duplicate object key", `two elements produce the key "${text}"`);
      attrs.set(text as string, value);
    }
  }
  if (!node.key) return { kind: "tuple", items };
  if (node.group) {
    for (const [k, group] of groups) attrs.set(k, { kind: "tuple", items: group });
  }
  return { kind: "object", attrs };
}

function condition(v: HclValue): boolean {
  if (v.kind === "null") fail("Null condition", "the condition value is null");
  const b = toBool(v);
  if (b === undefined) fail("Incorrect condition type", `a bool is required, not ${describe(v)}`);
  return b as boolean;
}

function evalConditional(node: Extract<HclNode, { t: "cond" }>, scope: Scope): HclValue {
  const chosen = condition(evalNode(node.cond, scope));
  // Both results are computed, for their types; only the chosen one's errors count.
  const attempt = (n: HclNode): HclValue | HclEvalError => {
    try {
      return evalNode(n, scope);
    } catch (error) {
      if (error instanceof HclEvalError) return error;
      throw error;
    }
  };
  const yes = attempt(node.yes);
  const no = attempt(node.no);
  const result = chosen ? yes : no;
  if (result instanceof HclEvalError) throw result;
  const other = chosen ? no : yes;
  // A literal null, or a failed branch, converts to anything: no unification.
  if (other instanceof HclEvalError || other.kind === "null" || result.kind === "null")
    return result;
  const type = unify([typeOf(yes as HclValue), typeOf(no as HclValue)]);
  if (type === undefined) {
    fail(
      "Inconsistent conditional result types",
      `the true and false results (${describe(yes as HclValue)} and ${describe(no as HclValue)}) have no common type`,
    );
  }
  return convert(result, type as HclType);
}

function evalTemplate(parts: TemplatePart[], scope: Scope): string {
  let out = "";
  for (const part of parts) {
    step(scope);
    switch (part.t) {
      case "text":
        out += part.text;
        break;
      case "interp": {
        const v = evalNode(part.expr, scope);
        if (v.kind === "null") {
          fail("Invalid template interpolation value", "the expression result is null");
        }
        const text = toText(v);
        if (text === undefined) {
          fail("Invalid template interpolation value", `a string is required, not ${describe(v)}`);
        }
        out += text;
        break;
      }
      case "if":
        // Only the chosen branch is rendered: as for a conditional, errors elsewhere do not count.
        out += evalTemplate(condition(evalNode(part.cond, scope)) ? part.yes : part.no, scope);
        break;
      case "for":
        for (const [k, v] of iterate(evalNode(part.coll, scope))) {
          out += evalTemplate(part.body, bindings(part.keyVar, part.valueVar, k, v, scope));
        }
        break;
    }
  }
  return out;
}

function index(coll: HclValue, key: HclValue): HclValue {
  if (coll.kind === "null") fail("Attempt to index null value", "this value is null");
  if (key.kind === "null") fail("Invalid index", "a null value cannot be an index");
  if (coll.kind === "tuple") {
    const n = toNumber(key);
    if (n === undefined)
      fail("Invalid index", `a tuple is indexed by a number, not ${describe(key)}`);
    const k = n as HclNumber;
    const item = k.isInteger() && k.num >= 0n ? coll.items[Number(k.num)] : undefined;
    if (item === undefined) {
      fail(
        "Invalid index",
        `the tuple has ${coll.items.length} element(s); there is no index ${toText(key)}`,
      );
    }
    return item as HclValue;
  }
  if (coll.kind === "object") {
    const name = toText(key);
    if (name === undefined)
      fail("Invalid index", `an object is indexed by a string, not ${describe(key)}`);
    const item = coll.attrs.get(name as string);
    if (item === undefined) fail("Invalid index", `the object has no element "${name}"`);
    return item as HclValue;
  }
  return fail("Invalid index", `${describe(coll)} does not have any indices`);
}

function getAttr(coll: HclValue, name: string): HclValue {
  if (coll.kind === "null") fail("Attempt to get attribute from null value", "this value is null");
  if (coll.kind !== "object") fail("Unsupported attribute", `${describe(coll)} has no attributes`);
  const item = (coll as Extract<HclValue, { kind: "object" }>).attrs.get(name);
  if (item === undefined)
    fail("Unsupported attribute", `the object has no attribute named "${name}"`);
  return item as HclValue;
}

function binary(op: string, left: HclValue, right: HclValue): HclValue {
  if (op === "==" || op === "!=") {
    const equal =
      left.kind === "null" || right.kind === "null"
        ? left.kind === right.kind
        : equals(left, right);
    return bool(op === "==" ? equal : !equal);
  }
  if (left.kind === "null" || right.kind === "null") fail("Operation failed", "an operand is null");
  if (op === "&&" || op === "||") {
    const [a, b] = [toBool(left), toBool(right)];
    if (a === undefined || b === undefined) {
      fail(
        "Invalid operand",
        `a bool is required, not ${describe(a === undefined ? left : right)}`,
      );
    }
    return bool(op === "&&" ? (a as boolean) && (b as boolean) : (a as boolean) || (b as boolean));
  }
  const [a, b] = [toNumber(left), toNumber(right)];
  if (a === undefined || b === undefined) {
    fail(
      "Invalid operand",
      `a number is required, not ${describe(a === undefined ? left : right)}`,
    );
  }
  const x = a as HclNumber;
  const y = b as HclNumber;
  switch (op) {
    case "<":
      return bool(x.compare(y) < 0);
    case ">":
      return bool(x.compare(y) > 0);
    case "<=":
      return bool(x.compare(y) <= 0);
    case ">=":
      return bool(x.compare(y) >= 0);
    case "+":
      return num(x.add(y));
    case "-":
      return num(x.sub(y));
    case "*":
      return num(x.mul(y));
    case "/":
      return num(x.div(y));
    default:
      return num(x.mod(y));
  }
}

/** Equality without conversion: values of different types are unequal. */
function equals(a: HclValue, b: HclValue): boolean {
  if (typeKey(typeOf(a)) !== typeKey(typeOf(b))) return false;
  switch (a.kind) {
    case "null":
      return true;
    case "number":
      return a.value.equals((b as typeof a).value);
    case "string":
    case "bool":
      return a.value === (b as typeof a).value;
    case "tuple":
      return a.items.every((item, k) => equals(item, (b as typeof a).items[k] as HclValue));
    case "object":
      return [...a.attrs].every(([k, v]) => equals(v, (b as typeof a).attrs.get(k) as HclValue));
  }
}

// ---- types, for equality and for unifying conditional results ----

type HclType =
  | { k: "any" | "string" | "number" | "bool" }
  | { k: "tuple"; items: HclType[] }
  | { k: "list"; item: HclType }
  | { k: "object"; attrs: Map<string, HclType> }
  | { k: "map"; item: HclType };

function typeOf(v: HclValue): HclType {
  switch (v.kind) {
    case "null":
      return { k: "any" };
    case "tuple":
      return { k: "tuple", items: v.items.map(typeOf) };
    case "object":
      return { k: "object", attrs: new Map([...v.attrs].map(([k, x]) => [k, typeOf(x)])) };
    default:
      return { k: v.kind };
  }
}

function typeKey(t: HclType): string {
  switch (t.k) {
    case "tuple":
      return `tuple[${t.items.map(typeKey).join(",")}]`;
    case "list":
      return `list(${typeKey(t.item)})`;
    case "map":
      return `map(${typeKey(t.item)})`;
    case "object":
      return `object{${[...t.attrs.keys()]
        .sort(compareCodePoints)
        .map((k) => `${JSON.stringify(k)}:${typeKey(t.attrs.get(k) as HclType)}`)
        .join(",")}}`;
    default:
      return t.k;
  }
}

/** The type all of `types` convert to, as HCL picks it for a conditional; undefined if none. */
function unify(types: HclType[]): HclType | undefined {
  if (types.some((t) => t.k === "any")) return { k: "any" };
  const keys = new Set(types.map(typeKey));
  if (keys.size === 1) return types[0];
  const kinds = new Set(types.map((t) => t.k));
  if ([...kinds].every((k) => k === "string" || k === "number" || k === "bool")) {
    return kinds.has("string") ? { k: "string" } : undefined;
  }
  if ([...kinds].every((k) => k === "tuple" || k === "list")) {
    const tuples = types.filter((t): t is Extract<HclType, { k: "tuple" }> => t.k === "tuple");
    const length = tuples[0]?.items.length;
    if (kinds.size === 1 && tuples.every((t) => t.items.length === length)) {
      const items = (tuples[0] as (typeof tuples)[number]).items.map((_, k) =>
        unify(tuples.map((t) => t.items[k] as HclType)),
      );
      return items.includes(undefined) ? undefined : { k: "tuple", items: items as HclType[] };
    }
    const item = unify(
      types.flatMap((t) => (t.k === "tuple" ? t.items : t.k === "list" ? [t.item] : [])),
    );
    return item && { k: "list", item };
  }
  if ([...kinds].every((k) => k === "object" || k === "map")) {
    const objects = types.filter((t): t is Extract<HclType, { k: "object" }> => t.k === "object");
    const names = objects[0] && [...objects[0].attrs.keys()].sort(compareCodePoints).join("\0");
    if (
      kinds.size === 1 &&
      objects.every((o) => [...o.attrs.keys()].sort(compareCodePoints).join("\0") === names)
    ) {
      const attrs = new Map<string, HclType>();
      for (const name of (objects[0] as (typeof objects)[number]).attrs.keys()) {
        const t = unify(objects.map((o) => o.attrs.get(name) as HclType));
        if (!t) return undefined;
        attrs.set(name, t);
      }
      return { k: "object", attrs };
    }
    const item = unify(
      types.flatMap((t) =>
        t.k === "object" ? [...t.attrs.values()] : t.k === "map" ? [t.item] : [],
      ),
    );
    return item && { k: "map", item };
  }
  return undefined;
}

function convert(v: HclValue, t: HclType): HclValue {
  if (v.kind === "null" || t.k === "any") return v;
  switch (t.k) {
    case "string": {
      const text = toText(v);
      return text === undefined ? v : str(text);
    }
    case "number": {
      const n = toNumber(v);
      return n === undefined ? v : num(n);
    }
    case "bool": {
      const b = toBool(v);
      return b === undefined ? v : bool(b);
    }
    case "tuple":
    case "list":
      if (v.kind !== "tuple") return v;
      return {
        kind: "tuple",
        items: v.items.map((item, k) =>
          convert(item, t.k === "list" ? t.item : (t.items[k] as HclType)),
        ),
      };
    case "object":
    case "map":
      if (v.kind !== "object") return v;
      return {
        kind: "object",
        attrs: new Map(
          [...v.attrs].map(([k, x]) => [
            k,
            convert(x, t.k === "map" ? t.item : (t.attrs.get(k) ?? { k: "any" })),
          ]),
        ),
      };
  }
}

// ---- results ----

/** The value as stored JSON holds it; refuses numbers a double cannot hold. */
export function toConstant(v: HclValue): ConstantValue {
  switch (v.kind) {
    case "null":
      return null;
    case "string":
    case "bool":
      return v.value;
    case "number": {
      const d = v.value.toDouble();
      if (!Number.isFinite(d)) {
        throw new HclEvalError(`the number ${v.value.toText()} is too large for a default to hold`);
      }
      return d;
    }
    case "tuple":
      return v.items.map(toConstant);
    case "object": {
      const out: { [key: string]: ConstantValue } = {};
      for (const [k, x] of v.attrs) {
        // defineProperty: a key named "__proto__" is data, not the prototype.
        Object.defineProperty(out, k, {
          value: toConstant(x),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return out;
    }
  }
}
