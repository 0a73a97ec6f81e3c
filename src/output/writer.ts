// Buffered writing to stdout. A closed pipe (`| head`) ends the program quietly, as in tshark.

import { needsEscapeFrom } from './escape.js';

/** Bytes gathered before a write (fewer, larger writes). */
const CHUNK = 1 << 18;
/** Milliseconds a line waits in the buffer at most: a slow stream (the timeline's first events, live capture) is not held back. */
const LINGER_MS = 100;

/** Digits of a non-negative safe integer in decimal (`String(n).length`). */
export function decimalDigits(n: number): number {
  let digits = 1;
  for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  return digits;
}

export class Output {
  // Lines are encoded straight into a byte buffer: no array of parts to join and no
  // second copy from a joined string into bytes at every flush.
  private buf: Buffer;
  private pos = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Wall time (ms) of the oldest line in the buffer; nothing has been written yet while -1. */
  private since = -1;
  /** Of the line being written: the wall time at its start, and whether it is the first line. */
  private now = 0;
  private first = false;
  /** Where the line begun starts in the buffer (`abandonLine` goes back to it). */
  private lineStart = 0;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout, private readonly threshold = CHUNK) {
    this.buf = Buffer.allocUnsafe(Math.max(threshold, 1024) + 1024);
    if (stream === process.stdout) {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
    }
  }

  line(text: string): void {
    if (!this.beginLine(text.length)) {
      this.stream.write(`${text}\n`);
      return;
    }
    this.pos += this.buf.write(text, this.pos, 'utf8');
    this.endLine();
  }

  /** A line already encoded as UTF-8 (by a --jobs lane), after `lead` (ASCII). */
  lineBytes(bytes: Uint8Array, lead = ''): void {
    // beginLine counts UTF-16 code units, at most 3 bytes each: a third of the bytes, rounded up, is room enough.
    if (!this.beginLine(Math.ceil((lead.length + bytes.length) / 3))) {
      this.stream.write(lead);
      this.stream.write(Buffer.from(bytes));
      this.stream.write('\n');
      return;
    }
    this.piece(lead);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    this.endLine();
  }

  /**
   * Starts a line to be written in pieces (`piece`, `spaces`) and ended with `endLine`, of at
   * most `chars` UTF-16 code units in all: no string of the whole line is made. False when such
   * a line cannot fit the buffer (write it with `line`).
   */
  beginLine(chars: number): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; a line that may not fit goes out alone.
    const worst = chars * 3 + 1;
    if (this.pos + worst > this.buf.length) {
      this.flush();
      if (worst > this.buf.length) return false;
    }
    this.now = Date.now();
    this.first = this.since < 0;
    this.lineStart = this.pos;
    if (this.pos === 0) {
      this.since = this.now;
      if (this.timer === undefined) {
        this.timer = setTimeout(this.linger, LINGER_MS);
        this.timer.unref();
      }
    }
    return true;
  }

  /** A piece of the line begun: ASCII copied byte by byte; text with any other character encoded as UTF-8 from its start (no copy of its rest). */
  piece(text: string): void {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        pos = start + buf.write(text, start, 'utf8');
        break;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
  }

  /**
   * A piece of the line begun if it is printable ASCII (U+0020–U+007E: nothing to escape, one
   * byte a character), copied as it is checked; false when it is not, the line then being unusable
   * (`abandonLine`).
   */
  plainPiece(text: string): boolean {
    const buf = this.buf;
    let pos = this.pos;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) return false;
      buf[pos++] = c;
    }
    this.pos = pos;
    return true;
  }

  /**
   * A piece of the line begun if `escapeText` leaves it as it is: printable ASCII copied as it
   * is checked, any other text checked and then encoded as UTF-8 from its start. False, with
   * nothing written, when it holds a character to escape.
   */
  unescapedPiece(text: string): boolean {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x20 && c <= 0x7e) {
        buf[pos++] = c;
        continue;
      }
      if (needsEscapeFrom(text, i)) return false;
      this.pos = start + buf.write(text, start, 'utf8');
      return true;
    }
    this.pos = pos;
    return true;
  }

  /** A non-negative safe integer in decimal, zero-padded to `digits` (its `decimalDigits` or more), in the line begun. */
  decimal(value: number, digits: number): void {
    const buf = this.buf;
    let pos = this.pos + digits;
    this.pos = pos;
    let n = value;
    for (let i = 0; i < digits; i++) {
      const q = Math.floor(n / 10);
      buf[--pos] = 0x30 + (n - q * 10);
      n = q;
    }
  }

  /** Bytes (a few: a piece's UTF-8 made once) in the line begun; `beginLine` counts them as their characters. */
  encoded(bytes: Uint8Array): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < bytes.length; i++) buf[pos++] = bytes[i]!;
    this.pos = pos;
  }

  /** Forgets what was written of the line begun (it is then written otherwise). */
  abandonLine(): void {
    this.pos = this.lineStart;
  }

  /** `n` spaces in the line begun. */
  spaces(n: number): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < n; i++) buf[pos++] = 0x20;
    this.pos = pos;
  }

  /** Ends the line begun. */
  endLine(): void {
    this.buf[this.pos++] = 0x0a;
    // The first line goes out at once (a long run shows it has started); later ones in chunks,
    // or after LINGER_MS when lines come slowly (the timer needs the event loop, which a
    // capture reader only yields between its chunks; the clock check here does not).
    if (this.first || this.pos >= this.threshold || this.now - this.since >= LINGER_MS) this.flush();
  }

  private readonly linger = (): void => {
    this.timer = undefined;
    this.flush();
  };

  flush(): void {
    if (this.pos === 0) return;
    // The stream may keep the bytes until written: hand it this buffer and start a fresh one.
    const full = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.pos = 0;
    this.stream.write(full);
  }

  /**
   * Bytes formatted elsewhere (by a --jobs worker), after the lines buffered so far; `written`
   * is called once the stream has taken them (the worker's backpressure).
   */
  bytes(data: Uint8Array, written: () => void): void {
    this.flush();
    this.stream.write(data, () => written());
  }

  /** Flushes and waits until the stream has taken everything (before the process exits). */
  async close(): Promise<void> {
    this.flush();
    await new Promise<void>((resolve) => {
      if (this.stream.write('')) resolve();
      else this.stream.once('drain', () => resolve());
    });
  }
}
