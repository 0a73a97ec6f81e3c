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
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; a line that may not fit goes out alone.
    const worst = text.length * 3 + 1;
    if (this.pos + worst > this.buf.length) {
      this.flush();
      if (worst > this.buf.length) {
        this.stream.write(`${text}\n`);
        return;
      }
    }
    const now = Date.now();
    const first = this.since < 0;
    if (this.pos === 0) {
      this.since = now;
      if (this.timer === undefined) {
        this.timer = setTimeout(this.linger, LINGER_MS);
        this.timer.unref();
      }
    }
    this.pos += this.buf.write(text, this.pos, 'utf8');
    this.buf[this.pos++] = 0x0a;
    // The first line goes out at once (a long run shows it has started); later ones in chunks,
    // or after LINGER_MS when lines come slowly (the timer needs the event loop, which a
    // capture reader only yields between its chunks; the clock check here does not).
    if (first || this.pos >= this.threshold || now - this.since >= LINGER_MS) this.flush();
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
