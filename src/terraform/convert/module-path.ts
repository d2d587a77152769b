// A resource address -> the path of the module that holds it (`module.a[0].module.b`), as
// coderd records it per resource. Instance keys of modules stay; the resource's own key goes.

/** Given when an address does not parse, so the resource still converts and the value says why. */
export const INVALID_ADDRESS_MODULE_PATH = "invalid terraform address";

const name = /^[A-Za-z_][A-Za-z0-9_-]*/;

/** "" for the root module; INVALID_ADDRESS_MODULE_PATH when `address` is not a resource address. */
export function modulePath(address: string): string {
  const steps: string[] = [];
  let rest = address;
  while (rest.startsWith("module.")) {
    const found = name.exec(rest.slice("module.".length));
    if (found === null) return INVALID_ADDRESS_MODULE_PATH;
    rest = rest.slice("module.".length + found[0].length);
    const key = readKey(rest);
    if (key === undefined) return INVALID_ADDRESS_MODULE_PATH;
    steps.push(`module.${found[0]}${key}`);
    rest = rest.slice(key.length);
    if (!rest.startsWith(".")) return INVALID_ADDRESS_MODULE_PATH;
    rest = rest.slice(1);
  }
  if (rest.startsWith("data.")) rest = rest.slice("data.".length);
  const type = name.exec(rest);
  if (type === null || rest[type[0].length] !== ".") return INVALID_ADDRESS_MODULE_PATH;
  rest = rest.slice(type[0].length + 1);
  const resourceName = name.exec(rest);
  if (resourceName === null) return INVALID_ADDRESS_MODULE_PATH;
  const key = readKey(rest.slice(resourceName[0].length));
  if (key === undefined || rest.length !== resourceName[0].length + key.length) {
    return INVALID_ADDRESS_MODULE_PATH;
  }
  return steps.join(".");
}

/** The `[0]` or `["k"]` at the start of `text` ("" when there is none), undefined when malformed. */
function readKey(text: string): string | undefined {
  if (!text.startsWith("[")) return "";
  const number = /^\[\d+\]/.exec(text);
  if (number !== null) return number[0];
  if (text[1] !== '"') return undefined;
  let i = 2;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\") i += 2;
    else if (ch === '"') return text[i + 1] === "]" ? text.slice(0, i + 2) : undefined;
    else i++;
  }
  return undefined;
}
