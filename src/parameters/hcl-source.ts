// What the hand-written HCL readers (hcl-native.ts, hcl-blocks.ts, contains.ts) need to know
// about source text alike, so that they agree on it.

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
