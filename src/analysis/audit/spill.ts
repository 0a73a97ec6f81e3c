// The audit's per-message log: every message (addresses, names, text, outcome, template) goes to
// a temporary file as it arrives, and is read back once at the end, when campaigns are known, for
// the member lists, rates, the CSV, the database and Parquet. Memory stays flat whatever the
// number of messages; the file is removed when the audit ends (or the process exits).
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { MessageStatus } from '../../model/events.js';

export interface MessageRecord {
  /** Arrival number over the whole run (0-based). */
  readonly seq: number;
  /** Index of the capture among the run's captures. */
  readonly capture: number;
  readonly frames: readonly number[];
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly protocol: string;
  readonly transport: string;
  readonly src: string;
  readonly dst: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly text: string;
  readonly status: MessageStatus;
  readonly error?: string;
  /** Template id (grouping.ts), -1 for none. */
  readonly template: number;
}

const FLUSH_AT = 1 << 20;

export class MessageLog {
  private readonly dir: string;
  private readonly path: string;
  private fd: number | undefined;
  private buffer: string[] = [];
  private buffered = 0;
  count = 0;
  private readonly cleanup = (): void => this.remove();

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'msgscope-audit-'));
    this.path = join(this.dir, 'messages.ndjson');
    this.fd = openSync(this.path, 'w', 0o600);
    process.once('exit', this.cleanup);
  }

  /** A scratch path beside the log (removed with it), e.g. for a temporary database. */
  scratch(name: string): string {
    return join(this.dir, name);
  }

  append(record: MessageRecord): void {
    const line = JSON.stringify(record);
    this.buffer.push(line);
    this.buffered += line.length;
    this.count++;
    if (this.buffered >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.fd === undefined || this.buffer.length === 0) return;
    writeSync(this.fd, `${this.buffer.join('\n')}\n`);
    this.buffer = [];
    this.buffered = 0;
  }

  /** Every record, in arrival order. */
  async *replay(): AsyncGenerator<MessageRecord> {
    this.flush();
    if (this.count === 0) return;
    const lines = createInterface({ input: createReadStream(this.path, { highWaterMark: 1 << 20 }), crlfDelay: Infinity });
    for await (const line of lines) if (line !== '') yield JSON.parse(line) as MessageRecord;
  }

  remove(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    rmSync(this.dir, { recursive: true, force: true });
    process.off('exit', this.cleanup);
  }
}
