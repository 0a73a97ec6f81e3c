// Bytes kept past the frame that carried them.

/**
 * A copy of `bytes` in memory of its own. Not `bytes.slice()`: on a Node Buffer (what the
 * capture readers hand out, as views into their chunks) `slice` makes a view, which keeps the
 * reader's whole chunk alive as long as it is held, and in a live capture, whose buffer is
 * reused for the next packet, changes under whoever holds it.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}
