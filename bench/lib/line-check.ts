// Exact accounting of a numbered line sequence ("chatty line <i> of <n>"): which lines never
// arrived, which arrived more than once, and which arrived after a later one.

export interface LineCheck {
  /** Numbered lines seen, duplicates included. */
  received: number;
  /** Numbers in 1..expected never seen. */
  lost: number;
  /** Sightings beyond the first of a number. */
  duplicated: number;
  /** First sightings of a number smaller than one seen before it. */
  reordered: number;
  /** Numbers outside 1..expected (a different job's lines, or garbage). */
  unexpected: number;
}

/** `number(output)` extracts the line number, or undefined for lines that are not numbered. */
export function checkLines(
  outputs: Iterable<string>,
  expected: number,
  number: (output: string) => number | undefined,
): LineCheck {
  const seen = new Uint8Array(expected + 1);
  const check: LineCheck = { received: 0, lost: 0, duplicated: 0, reordered: 0, unexpected: 0 };
  let highest = 0;
  for (const output of outputs) {
    const n = number(output);
    if (n === undefined) continue;
    check.received++;
    if (!Number.isInteger(n) || n < 1 || n > expected) {
      check.unexpected++;
      continue;
    }
    if (seen[n]) {
      check.duplicated++;
      continue;
    }
    seen[n] = 1;
    if (n < highest) check.reordered++;
    highest = Math.max(highest, n);
  }
  for (let n = 1; n <= expected; n++) if (!seen[n]) check.lost++;
  return check;
}

/** The number of a line printed by the slow-and-chatty template, as terraform reports it. */
export function chattyLineNumber(total: number): (output: string) => number | undefined {
  const pattern = new RegExp(`chatty line (\\d+) of ${total}$`);
  return (output) => {
    const match = pattern.exec(output);
    return match === null ? undefined : Number(match[1]);
  };
}
