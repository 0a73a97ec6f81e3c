// Buffered writing to stdout. A closed pipe (`| head`) ends the program quietly, as in tshark.

/** Bytes gathered before a write (fewer, larger writes). */
const CHUNK = 1 << 18;
/** Milliseconds a line waits in the buffer at most: a slow stream (the timeline's first events, live capture) is not held back. */
const LINGER_MS = 100;

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
    if (this.pos === 0) {
      this.since = this.now;
      if (this.timer === undefined) {
        this.timer = setTimeout(this.linger, LINGER_MS);
        this.timer.unref();
      }
    }
    return true;
  }

  /** A piece of the line begun: ASCII copied byte by byte, the rest from the first other character encoded as UTF-8. */
  piece(text: string): void {
    const buf = this.buf;
    let pos = this.pos;
    const n = text.length;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        pos += buf.write(i === 0 ? text : text.slice(i), pos, 'utf8');
        break;
      }
      buf[pos++] = c;
    }
    this.pos = pos;
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
