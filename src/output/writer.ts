// Buffered writing to stdout. A closed pipe (`| head`) ends the program quietly, as in tshark.

export class Output {
  private parts: string[] = [];
  private size = 0;

  constructor(private readonly stream: NodeJS.WritableStream = process.stdout, private readonly threshold = 1 << 16) {
    if (stream === process.stdout) {
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
    }
  }

  line(text: string): void {
    this.parts.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= this.threshold) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    this.stream.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
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
