// `--sink clickhouse://host:8123/db` and `--spool DIR` for `timeline` and `audit`: the run id,
// the capture hashes that key the rows, and the ClickHouse sink (loaded only when asked for).
import { randomUUID } from 'node:crypto';
import type { Argv } from 'yargs';
import { isStdin } from '../capture/open.js';
import type { ClickHouseSink, ClickHouseTable } from '../output/clickhouse.js';
import { fileSha256, liveCaptureHash } from './capture-hash.js';

export interface ClickHouseArgs {
  sink?: string;
  spool?: string;
}

export function withClickHouseOptions<T>(y: Argv<T>) {
  return y
    .option('sink', { type: 'string', requiresArg: true, describe: 'Insert the events (timeline: instead of standard output) or the messages (audit) into ClickHouse: clickhouse://host:8123/database; tables made if absent (docs/schema.md)' })
    .option('spool', { type: 'string', requiresArg: true, describe: 'Where --sink keeps batches until the server has them (default ~/.cache/msgscope/clickhouse)' });
}

export interface OpenedClickHouse {
  readonly sink: ClickHouseSink;
  /** Names this run's rows: with capture hash, frame and sequence number, the deduplication key. */
  readonly runId: string;
  /** SHA-256 of each capture by index (standard input and live capture get a one-off name). */
  readonly hashes: string[];
}

/**
 * The sink of --sink, or undefined without it; a bad URL or spool path is the user's to fix.
 * `captures` undefined: a live capture.
 */
export async function openClickHouse(args: ClickHouseArgs, table: ClickHouseTable, captures: readonly string[] | undefined, warn: (message: string) => void): Promise<OpenedClickHouse | undefined> {
  if (args.sink === undefined) {
    if (args.spool !== undefined) warn('--spool is used with --sink only');
    return undefined;
  }
  const { ClickHouseSink: Sink, defaultSpoolDir } = await import('../output/clickhouse.js');
  const sink = Sink.open(args.sink, table, args.spool ?? defaultSpoolDir(), warn);
  const hashes: string[] = [];
  if (captures === undefined) hashes.push(liveCaptureHash('live'));
  else for (const path of captures) hashes.push(isStdin(path) ? liveCaptureHash('stdin') : await fileSha256(path));
  return { sink, runId: randomUUID(), hashes };
}
