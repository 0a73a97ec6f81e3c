// Bytes as a string of code points 0–255 (ISO 8859-1; for bytes below 0x80, ASCII): shared by
// the OEM decoder's ASCII fast path, SMB's name lists and the filter's regular expressions
// over binary data.

/** Code units per String.fromCharCode call (far below any engine's argument limit). */
const CHARS_PER_CALL = 4096;

/**
 * Made in one piece: a string grown a character at a time is a chain of concatenations (one
 * heap object per character) until something flattens it, and a Buffer's decoder costs a call
 * into the runtime that outweighs the short texts (names, messages) most calls are for.
 */
export function latin1(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= CHARS_PER_CALL) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let s = '';
  for (let i = 0; i < n; i += CHARS_PER_CALL) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(n, i + CHARS_PER_CALL)) as unknown as number[]);
  return s;
}
