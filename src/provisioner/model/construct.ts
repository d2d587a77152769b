// The two helpers every part of the domain model shares: constructors that fill in the
// defaults of unset fields, and value <-> name tables for the model's enums.

/**
 * `defaults` with every field of `fields` that is set (not undefined) laid over it, so a caller
 * can pass an optional value straight through and still get a complete object.
 */
export function withDefaults<T extends object>(defaults: T, fields: Partial<T>): T {
  const result = { ...defaults };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (result as Record<string, unknown>)[key] = value;
  }
  return result;
}

/** The member name of `value` in `table`, or the number itself when no member has it. */
export function nameOf(table: Readonly<Record<string, number>>, value: number): string {
  for (const [name, member] of Object.entries(table)) if (member === value) return name;
  return String(value);
}

/** A protocol message carried a value this daemon's model has no member for. */
export class UnrecognizedValueError extends Error {
  override readonly name = "UnrecognizedValueError";
  constructor(
    readonly field: string,
    readonly value: unknown,
  ) {
    super(`${field}: unrecognized value ${JSON.stringify(value)}`);
  }
}

/** `value` as a member of `table`; a value that is not one rejects, naming `field`. */
export function memberOf<T extends Readonly<Record<string, number>>>(
  table: T,
  value: number,
  field: string,
): T[keyof T] {
  for (const member of Object.values(table)) if (member === value) return member as T[keyof T];
  throw new UnrecognizedValueError(field, value);
}
