// A progress bar on stderr for captures that take more than about a second to read. It draws
// only on a terminal, redraws at most ten times a second, and erases itself when done so
// it never mixes with what the command prints.

const DELAY_MS = 1000;
const REDRAW_MS = 100;

function megabytes(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

export class Progress {
  private readonly start = Date.now();
  private lastDraw = 0;
  private drawn = false;

  /**
   * @param label what is being read (a file name)
   * @param total its size in bytes, when known (not for stdin or a pipe)
   */
  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(bytes: number): void {
    const now = Date.now();
    if (now - this.start < DELAY_MS || now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const columns = Math.max(40, this.stream.columns ?? 80);
    const name = this.label.length > 30 ? `…${this.label.slice(-29)}` : this.label;
    let text: string;
    if (this.total !== undefined && this.total > 0) {
      const fraction = Math.min(1, bytes / this.total);
      const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}% ${megabytes(bytes)}/${megabytes(this.total)}`;
      const barWidth = Math.max(10, columns - name.length - tail.length - 4);
      const filled = Math.round(fraction * barWidth);
      text = `${name} [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]${tail}`;
    } else {
      text = `${name}: ${megabytes(bytes)} read`;
    }
    this.stream.write(`\r${text.slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Erases the bar (if it was ever drawn). */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

/** Whether to show progress: stderr is a terminal and the user did not ask for quiet. */
export function wantProgress(quiet: boolean): boolean {
  return !quiet && process.stderr.isTTY === true;
}
