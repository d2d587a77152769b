// What a benchmark group hands the runner: its figures (null when not measurable) and, for
// every null or caveat, a note saying why.

export type Figure = number | null;

export interface GroupResult {
  figures: Record<string, Figure>;
  /** Reasons for nulls, and what bounded a figure, by figure name. */
  notes: Record<string, string>;
}

export class FigureUnavailableError extends Error {
  override readonly name = "FigureUnavailableError";
}

export function result(
  figures: Record<string, Figure>,
  notes: Record<string, string> = {},
): GroupResult {
  return { figures, notes };
}

/** Every figure of a group null, with the same reason (the group could not run). */
export function unavailable(names: readonly string[], reason: string): GroupResult {
  const figures: Record<string, Figure> = {};
  const notes: Record<string, string> = {};
  for (const name of names) {
    figures[name] = null;
    notes[name] = reason;
  }
  return { figures, notes };
}
