// Shared machinery for push parsers: joins the tail of the previous chunk to the next one so
// record parsers always see whole records, copying only the few bytes that straddle a chunk
// boundary.
import { copyBytes } from '../util/bytes.js';

export class ChunkJoiner {
  private tail: Uint8Array = new Uint8Array(0);
  /** Absolute file offset of `buffer[0]`. */
  private base = 0;

  /** Returns the bytes to parse: the kept tail followed by `chunk`. */
  join(chunk: Uint8Array): { buffer: Uint8Array; base: number } {
    if (this.tail.length === 0) return { buffer: chunk, base: this.base };
    const joined = new Uint8Array(this.tail.length + chunk.length);
    joined.set(this.tail, 0);
    joined.set(chunk, this.tail.length);
    return { buffer: joined, base: this.base };
  }

  /** Keeps `buffer[consumed..]` for the next chunk. */
  keep(buffer: Uint8Array, base: number, consumed: number): void {
    this.tail = consumed >= buffer.length ? new Uint8Array(0) : copyBytes(buffer.subarray(consumed));
    this.base = base + consumed;
  }

  get pendingBytes(): number {
    return this.tail.length;
  }

  get offset(): number {
    return this.base;
  }
}
