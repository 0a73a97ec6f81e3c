// The ClickHouse sink (`--sink clickhouse://host:8123/db`): rows go over HTTP with the official
// @clickhouse/client as JSONEachRow, in batches, the data only in request bodies (the SQL is fixed
// text; the database name is checked as an identifier, the table names are ours). Every batch is
// first written to a spool directory and removed once the server has taken it: a server that
// stays down leaves the batches on disk, and the next run sends them first. Tables are
// ReplacingMergeTree keyed by time, run id, capture hash, frame and sequence number, so a batch
// sent twice (a timeout after the server took it, a spool file sent again) counts once when read
// with FINAL. Works with ClickHouse 18.16 (Debian's): no query parameters, no DateTime64 — times
// are DateTime plus a microseconds column. Tables and queries: docs/schema.md.
import { ClickHouseError, createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { OutputPathError } from './output-errors.js';

/** Rows per batch (one HTTP request, one spool file). */
export const BATCH_ROWS = 5000;
/** Bytes the spool of one server and database may hold; batches past it are dropped, with a warning. */
export const SPOOL_LIMIT = 512 * 1024 * 1024;
/** Attempts per batch, waiting RETRY_BASE_MS, twice that, … between them. */
const ATTEMPTS = 4;
const RETRY_BASE_MS = 250;

export type ClickHouseTable = 'events' | 'audit_messages';

/** Sorting key (ORDER BY) = the deduplication key of ReplacingMergeTree. */
const KEY = 'ORDER BY (time, run_id, capture_sha256, frame, seq)';

/** The tables' DDL in database `db` (an identifier checked by parseClickHouseUrl). */
const ddl = (db: string): Readonly<Record<ClickHouseTable, string>> => ({
  events: `CREATE TABLE IF NOT EXISTS ${db}.events (
    run_id String, capture String, capture_sha256 String, seq UInt64, frame UInt32, frames Array(UInt32),
    time DateTime, time_us UInt32, kind String, protocol String, transport String, src String, dst String,
    uid String, community_id String, from_name String, to_names Array(String), text String, status String, error String,
    findings Array(String), event String
  ) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(time) ${KEY}`,
  audit_messages: `CREATE TABLE IF NOT EXISTS ${db}.audit_messages (
    run_id String, capture String, capture_sha256 String, seq UInt64, frame UInt32, frames Array(UInt32),
    time DateTime, time_us UInt32, protocol String, transport String, src String, dst String, src_ip String, dst_ip String, dst_port UInt16,
    from_name String, to_names Array(String), text String, status String, error String, campaign String, campaign_key String
  ) ENGINE = ReplacingMergeTree PARTITION BY toYYYYMM(time) ${KEY}`,
});

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface ClickHouseTarget {
  /** http://host:port for the client. */
  readonly url: string;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
  /** How to name it to a person (no password). */
  readonly label: string;
}

/** `clickhouse://[user[:password]@]host[:8123][/db]` (database `default` when absent). */
export function parseClickHouseUrl(text: string): ClickHouseTarget {
  const bad = (why: string): never => {
    throw new OutputPathError(`--sink ${JSON.stringify(text)}: ${why} (expected clickhouse://host:8123/database)`);
  };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return bad('not a URL');
  }
  if (url.protocol !== 'clickhouse:') bad(`unknown sink scheme ${url.protocol.replace(/:$/, '')}`);
  if (url.hostname === '') bad('no host');
  if (url.search !== '' || url.hash !== '') bad('no query or fragment is taken');
  const path = decodeURIComponent(url.pathname.replace(/^\/+|\/+$/g, ''));
  const database = path === '' ? 'default' : path;
  if (!IDENTIFIER.test(database)) bad(`database name ${JSON.stringify(database)} is not an identifier (letters, digits, _)`);
  const port = url.port === '' ? '8123' : url.port;
  const host = url.hostname.includes(':') && !url.hostname.startsWith('[') ? `[${url.hostname}]` : url.hostname;
  return {
    url: `http://${host}:${port}`,
    database,
    ...(url.username !== '' ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password !== '' ? { password: decodeURIComponent(url.password) } : {}),
    label: `clickhouse://${host}:${port}/${database}`,
  };
}

/** The default spool: ~/.cache/msgscope/clickhouse (XDG_CACHE_HOME when set). */
export function defaultSpoolDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'msgscope', 'clickhouse');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Whether the server answered with an error (it refuses these rows) rather than not answering.
 * ClickHouse 18.16's error text (`Code: 27, e.displayText() = …`) is not parsed into a
 * ClickHouseError by the client, so its form is recognised too.
 */
function answeredByServer(err: unknown): boolean {
  return err instanceof ClickHouseError || (err instanceof Error && /^Code: \d+/.test(err.message));
}

function reason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

/** A row: JSON values; undefined keys are left out (the column's default). */
export type ClickHouseRow = Record<string, unknown>;

export class ClickHouseSink {
  private rows: string[] = [];
  private batchNo = 0;
  private draining: Promise<void> | undefined;
  private down: string | undefined;
  private sent = 0;
  private dropped = 0;
  private readonly spool: string;
  private tablesReady = false;

  private constructor(
    private readonly target: ClickHouseTarget,
    private readonly table: ClickHouseTable,
    spoolRoot: string,
    private readonly client: ClickHouseClient,
    private readonly warn: (message: string) => void,
  ) {
    // One spool per server and database; file names say which table a batch is for.
    this.spool = join(spoolRoot, target.label.replace(/^clickhouse:\/\//, '').replace(/[^A-Za-z0-9_.-]/g, '_'));
  }

  /** Checks the spool directory now; the server is reached in the background (and batches wait on disk meanwhile). */
  static open(text: string, table: ClickHouseTable, spoolRoot: string, warn: (message: string) => void): ClickHouseSink {
    const target = parseClickHouseUrl(text);
    const client = createClient({
      url: target.url,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      request_timeout: 30_000,
      log: { level: ClickHouseLogLevel.OFF },
    });
    const sink = new ClickHouseSink(target, table, spoolRoot, client, warn);
    try {
      mkdirSync(sink.spool, { recursive: true });
    } catch (err) {
      throw new OutputPathError(`${sink.spool}: cannot keep the ClickHouse spool there (${(err as NodeJS.ErrnoException).code ?? reason(err)})`);
    }
    // Batches an earlier run could not send go first.
    sink.kick();
    return sink;
  }

  add(row: ClickHouseRow): void {
    this.rows.push(JSON.stringify(row));
    if (this.rows.length >= BATCH_ROWS) {
      this.spoolBatch();
      this.kick();
    }
  }

  /** Sends what is left; batches the server did not take stay in the spool for the next run. */
  async close(): Promise<void> {
    this.spoolBatch();
    if (this.down === undefined) this.kick();
    await this.draining;
    const waiting = this.spooled();
    if (this.down !== undefined && waiting.length > 0) {
      this.warn(`${this.target.label}: ${this.down}; ${waiting.length} batch(es) kept in ${this.spool}, sent by the next run`);
    }
    if (this.dropped > 0) this.warn(`${this.target.label}: the spool is full (${SPOOL_LIMIT} bytes): ${this.dropped} row(s) were not kept`);
    await this.client.close();
  }

  /** Rows the server took in this run. */
  get rowsSent(): number {
    return this.sent;
  }

  private spoolBatch(): void {
    if (this.rows.length === 0) return;
    const text = `${this.rows.join('\n')}\n`;
    const count = this.rows.length;
    this.rows = [];
    if (this.spoolBytes() + text.length > SPOOL_LIMIT) {
      this.dropped += count;
      return;
    }
    // Written beside its name, then renamed: a sender never sees half a batch.
    const name = `${Date.now().toString().padStart(15, '0')}-${process.pid}-${String(this.batchNo++).padStart(8, '0')}.${this.table}.jsonl`;
    const temp = join(this.spool, `.${name}.tmp`);
    writeFileSync(temp, text, { mode: 0o600 });
    renameSync(temp, join(this.spool, name));
  }

  private spooled(): string[] {
    try {
      return readdirSync(this.spool).filter((n) => !n.startsWith('.') && /\.(events|audit_messages)\.jsonl$/.test(n)).sort();
    } catch {
      return [];
    }
  }

  private spoolBytes(): number {
    let total = 0;
    for (const name of this.spooled()) {
      try {
        total += statSync(join(this.spool, name)).size;
      } catch {
        // Sent and removed meanwhile.
      }
    }
    return total;
  }

  private kick(): void {
    if (this.draining !== undefined || this.down !== undefined) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** Sends the spooled batches in order, each with retries; stops when the server stays down. */
  private async drain(): Promise<void> {
    for (;;) {
      const next = this.spooled()[0];
      if (next === undefined) return;
      const path = join(this.spool, next);
      const table = next.endsWith('.audit_messages.jsonl') ? 'audit_messages' : 'events';
      let body: string;
      try {
        body = readFileSync(path, 'utf8');
      } catch {
        continue; // Another run sent it meanwhile.
      }
      const outcome = await this.send(table, body);
      if (outcome === 'rejected') {
        // The server answered and refused these rows: set them aside, or they would block every later batch.
        const aside = join(this.spool, 'rejected');
        mkdirSync(aside, { recursive: true });
        renameSync(path, join(aside, next));
        this.warn(`${this.target.label}: a batch was refused by the server and set aside in ${aside}`);
        continue;
      }
      if (outcome !== undefined) {
        this.down = outcome;
        return;
      }
      rmSync(path, { force: true });
      if (table === this.table) this.sent += body.split('\n').length - 1;
    }
  }

  /**
   * One batch with retries and backoff: undefined when the server took it, `rejected` when it
   * answered with an error about the rows themselves, else why it could not be reached.
   */
  private async send(table: ClickHouseTable, body: string): Promise<string | undefined> {
    const db = this.target.database;
    let last = '';
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
      try {
        if (!this.tablesReady) {
          await this.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
          for (const sql of Object.values(ddl(db))) await this.client.command({ query: sql });
          this.tablesReady = true;
        }
      } catch (err) {
        last = reason(err);
        continue;
      }
      try {
        // exec sends the spooled JSONEachRow bytes as they are (insert() would re-encode them);
        // the statement is fixed text naming our own table.
        const result = await this.client.exec({ query: `INSERT INTO ${db}.${table} FORMAT JSONEachRow`, values: Readable.from([Buffer.from(body)]) });
        for await (const chunk of result.stream) void chunk;
        return undefined;
      } catch (err) {
        if (answeredByServer(err)) return 'rejected';
        last = reason(err);
      }
    }
    return `not reachable (${last})`;
  }
}
