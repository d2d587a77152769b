// Resource addresses -> graph labels. The graph has one node per resource *block*, labelled with
// its address without instance keys, so state addresses must drop every `[key]` to match it.

/**
 * `module.a["x"].aws_instance.dev[0]` -> `module.a.aws_instance.dev`.
 *
 * Reference quirk fixed: v0.17 cut the address at the first `[`, so resources inside a counted or
 * for_each module (`module.m[0].x.y` -> `module.m`) could never be matched to their graph node.
 * Keys may be quoted strings containing `]`, `[` or `"` (escaped), so brackets are skipped with a
 * small scanner rather than a regular expression.
 */
export function addressLabel(address: string): string {
  const open = address.indexOf("[");
  if (open < 0) return address;
  let out = address.slice(0, open);
  let i = open;
  while (i < address.length) {
    const ch = address[i];
    if (ch !== "[") {
      out += ch;
      i++;
      continue;
    }
    i++;
    let inString = false;
    while (i < address.length) {
      const c = address[i];
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "]") break;
      i++;
    }
    i++;
  }
  return out;
}
