// The one error a display filter raises: what is wrong, and the column where it is.

/** A filter that cannot be compiled; `column` is 1-based. The message fits on one line. */
export class FilterError extends Error {
  constructor(readonly column: number, readonly detail: string) {
    super(`column ${column}: ${detail}`);
  }
}
