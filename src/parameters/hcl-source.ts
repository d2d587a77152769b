// Source text helpers of the HCL reader (hcl-native.ts): line numbers and where comments end.

/** 1-based line numbers of offsets in a text. */
export class LineIndex {
  private readonly lineStarts: number[] = [0];

  constructor(text: string) {
    for (let k = 0; k < text.length; k++) {
      if (text.charCodeAt(k) === 10) this.lineStarts.push(k + 1);
    }
  }

  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }
}

/**
 * Where the comment that starts at `offset` ends; undefined when none starts there. A line
 * comment (`#`, `//`) ends before its newline, which the caller may need as a terminator; a
 * block comment ends after its closing star-slash, or at -1 when it is never closed.
 */
export function commentEnd(text: string, offset: number): number | undefined {
  const c = text[offset];
  if (c === "#" || (c === "/" && text[offset + 1] === "/")) {
    const end = text.indexOf("\n", offset);
    return end < 0 ? text.length : end;
  }
  if (c === "/" && text[offset + 1] === "*") {
    const end = text.indexOf("*/", offset + 2);
    return end < 0 ? -1 : end + 2;
  }
  return undefined;
}
