// Bytes as a string of code points 0–255 (ISO 8859-1; for bytes below 0x80, ASCII): shared by
// the OEM decoder's ASCII fast path, SMB's name lists and the filter's regular expressions
// over binary data.

/**
 * Bytes up to which String.fromCharCode over them beats a Buffer's decoder: the decoder's call
 * into the runtime costs about 120 ns whatever the length, fromCharCode about 120 ns at 12
 * bytes, 190 at 40 and 415 at 150 (it lists every byte as an argument first).
 */
const SHORT = 24;

/**
 * Made in one piece: a string grown a character at a time is a chain of concatenations (one
 * heap object per character) until something flattens it. Short texts (names) from
 * String.fromCharCode, longer ones (messages) from a Buffer's latin1 decoder.
 */
export function latin1(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= SHORT) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('latin1');
}
