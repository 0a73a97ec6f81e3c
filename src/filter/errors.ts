// The one error a display filter raises: what is wrong, and the column where it is.

/** A filter that cannot be compiled; `column` is 1-based. The message fits on one line. */
export class FilterError extends Error {
  constructor(readonly column: number, readonly detail: string) {
    super(`column ${column}: ${detail}`);
  }
}

/**
 * Filter text quoted in a message: control characters escaped (so the message stays on one
 * line and cannot drive a terminal), and at most 40 characters of it.
 */
export function printable(text: string): string {
  const escaped = text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > 40 ? `${escaped.slice(0, 40)}…` : escaped;
}

/** A field name (`-e`) that no protocol or event declares; the message fits on one line. */
export class UnknownFieldError extends Error {
  constructor(readonly field: string, readonly hint: string | undefined, noun: string, catalogue: string) {
    super(`-e ${printable(field)}: unknown ${noun}${hint !== undefined ? ` (did you mean ${hint}?)` : ''}; the names: ${catalogue}`);
  }
}
