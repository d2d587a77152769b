// Templates write `validation { regex = ... }` for Go's RE2. JavaScript's syntax is close; this
// translates the RE2 forms people actually use that JavaScript spells differently, and refuses
// the JavaScript-only constructs RE2 would reject (backreferences, lookaround), so a pattern
// accepted here behaves as it would in the reference.

export class RegexSyntaxError extends Error {
  override readonly name = "RegexSyntaxError";
}

export function compileGoRegexp(pattern: string): RegExp {
  let source = pattern;
  let flags = "";
  // A leading flag group `(?ims)` applies to the whole pattern; JavaScript wants flags.
  const leading = /^\(\?([imsU]+)\)/.exec(source);
  if (leading) {
    const goFlags = leading[1] as string;
    if (goFlags.includes("U")) throw new RegexSyntaxError("the U (ungreedy) flag is not supported");
    flags = [...new Set(goFlags)].join("");
    source = source.slice(leading[0].length);
  }
  if (/\(\?[<]?[=!]/.test(source)) {
    throw new RegexSyntaxError("lookahead and lookbehind are not supported by RE2");
  }
  if (/(^|[^\\])(\\\\)*\\[1-9]/.test(source)) {
    throw new RegexSyntaxError("backreferences are not supported by RE2");
  }
  source = source
    .replace(/\(\?P</g, "(?<") // named groups
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, "$1$2^") // start of text
    .replace(/(^|[^\\])((?:\\\\)*)\\z/g, "$1$2(?![\\s\\S])"); // end of text
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new RegexSyntaxError((error as Error).message);
  }
}
