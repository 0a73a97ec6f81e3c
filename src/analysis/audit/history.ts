// The audit's history in a DuckDB file (--db): schema and migrations, one transaction per run,
// captures recognised by their SHA-256 (a capture audited before adds no messages again), campaigns
// matched to earlier runs' by their MinHash signature, and what a run brought that was new.
// Tables are documented in docs/schema.md.
import { blobValue, type DuckDBAppender } from '@duckdb/node-api';
import { appendRow, Database, DatabaseError, timestamp, type Row } from '../../output/duckdb.js';
import type { AuditOutput, AuditPlan } from './audit.js';
import { micros } from './campaigns.js';
import { DEFAULT_SIMILARITY, similarity, SIGNATURE_SIZE, type Signature } from './minhash.js';
import type { AuditResult, HistoryJson } from './result.js';
import type { MessageRecord } from './spill.js';
import { hostOf } from './tally.js';

interface Migration {
  readonly version: number;
  readonly description: string;
  readonly statements: readonly string[];
}

/** Every schema version, in order: a new database gets all of them, an older one the rest. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, captures, messages, campaigns, senders',
    statements: [
      'CREATE TABLE msgscope_schema (version INTEGER PRIMARY KEY, applied TIMESTAMP NOT NULL, description VARCHAR NOT NULL)',
      'CREATE TABLE runs (run_id INTEGER PRIMARY KEY, started TIMESTAMP NOT NULL, finished TIMESTAMP NOT NULL, msgscope_version VARCHAR NOT NULL, messages BIGINT NOT NULL, new_messages BIGINT NOT NULL, campaigns INTEGER NOT NULL, senders INTEGER NOT NULL)',
      'CREATE TABLE captures (sha256 VARCHAR PRIMARY KEY, first_run INTEGER NOT NULL, path VARCHAR NOT NULL, messages BIGINT NOT NULL, first_time TIMESTAMP, last_time TIMESTAMP)',
      'CREATE TABLE run_captures (run_id INTEGER NOT NULL, sha256 VARCHAR NOT NULL, path VARCHAR NOT NULL, seen_before BOOLEAN NOT NULL, PRIMARY KEY (run_id, sha256))',
      'CREATE TABLE messages (capture_sha256 VARCHAR NOT NULL, seq INTEGER NOT NULL, frame INTEGER NOT NULL, time TIMESTAMP NOT NULL, protocol VARCHAR NOT NULL, transport VARCHAR NOT NULL, src VARCHAR NOT NULL, dst VARCHAR NOT NULL, src_ip VARCHAR NOT NULL, dst_ip VARCHAR NOT NULL, from_name VARCHAR NOT NULL, to_names VARCHAR[] NOT NULL, text VARCHAR NOT NULL, status VARCHAR NOT NULL, error VARCHAR, campaign_key VARCHAR, run_id INTEGER NOT NULL)',
      'CREATE TABLE campaigns (campaign_key VARCHAR PRIMARY KEY, first_run INTEGER NOT NULL, last_run INTEGER NOT NULL, template VARCHAR NOT NULL, representative VARCHAR NOT NULL, signature BLOB NOT NULL, messages BIGINT NOT NULL, first_time TIMESTAMP, last_time TIMESTAMP)',
      'CREATE TABLE run_campaigns (run_id INTEGER NOT NULL, campaign_key VARCHAR NOT NULL, label VARCHAR NOT NULL, size BIGINT NOT NULL, new_messages BIGINT NOT NULL, senders INTEGER NOT NULL, recipients INTEGER NOT NULL, hosts INTEGER NOT NULL, ok BIGINT NOT NULL, error BIGINT NOT NULL, no_response BIGINT NOT NULL, unknown BIGINT NOT NULL, PRIMARY KEY (run_id, campaign_key))',
      'CREATE TABLE senders (src_ip VARCHAR PRIMARY KEY, first_run INTEGER NOT NULL, last_run INTEGER NOT NULL, messages BIGINT NOT NULL, first_time TIMESTAMP, last_time TIMESTAMP)',
      'CREATE TABLE run_senders (run_id INTEGER NOT NULL, src_ip VARCHAR NOT NULL, messages BIGINT NOT NULL, new_messages BIGINT NOT NULL, recipients INTEGER NOT NULL, hosts INTEGER NOT NULL, names VARCHAR[] NOT NULL, campaigns VARCHAR[] NOT NULL, sweeps INTEGER NOT NULL, PRIMARY KEY (run_id, src_ip))',
    ],
  },
  {
    version: 2,
    description: 'indicators; the options of each run',
    statements: [
      'CREATE TABLE indicators (kind VARCHAR NOT NULL, value VARCHAR NOT NULL, first_run INTEGER NOT NULL, last_run INTEGER NOT NULL, messages BIGINT NOT NULL, first_time TIMESTAMP, last_time TIMESTAMP, PRIMARY KEY (kind, value))',
      'CREATE TABLE run_indicators (run_id INTEGER NOT NULL, kind VARCHAR NOT NULL, value VARCHAR NOT NULL, messages BIGINT NOT NULL, campaigns VARCHAR[] NOT NULL, PRIMARY KEY (run_id, kind, value))',
      'ALTER TABLE runs ADD COLUMN options VARCHAR',
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
const TOOL_VERSION = '0.1.0';

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0;
}

const ts = timestamp;

function isoOf(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

/** Applies migrations above `from` up to `to`, each recorded in msgscope_schema, all in one transaction. */
export async function migrate(db: Database, from: number, to = SCHEMA_VERSION): Promise<void> {
  await db.transaction(async () => {
    for (const m of MIGRATIONS) {
      if (m.version <= from || m.version > to) continue;
      for (const sql of m.statements) await db.run(sql);
      await db.run('INSERT INTO msgscope_schema VALUES ($1, $2, $3)', [m.version, ts(Date.now() * 1000), m.description]);
    }
  });
}

/**
 * Opens a history database: a new or empty file gets the schema; an older schema is migrated; a
 * database of another program, of a newer schema, corrupt or locked is a DatabaseError (nothing
 * is written to it).
 */
export async function openHistory(path: string, warn: (message: string) => void): Promise<Database> {
  const db = await Database.open(path);
  try {
    const tables = (await db.all("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog = current_database()")).map((r) => String(r.table_name));
    if (tables.length === 0) {
      await migrate(db, 0);
      return db;
    }
    if (!tables.includes('msgscope_schema')) throw new DatabaseError(`${path}: a DuckDB database of another program (it has tables, none of them msgscope's); give a new file to --db`);
    const version = num((await db.all('SELECT max(version) AS v FROM msgscope_schema'))[0]?.v);
    if (version > SCHEMA_VERSION) throw new DatabaseError(`${path}: written by a newer msgscope (schema version ${version}; this one knows up to ${SCHEMA_VERSION}); upgrade msgscope`);
    if (version < SCHEMA_VERSION) {
      await migrate(db, version);
      warn(`${path}: history schema migrated from version ${version} to ${SCHEMA_VERSION}`);
    }
    // Reading every table once finds a corrupt block now rather than halfway through storing a run.
    for (const table of ['runs', 'captures', 'campaigns', 'senders']) await db.all(`SELECT count(*) AS n FROM ${table}`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The signature stored as 256 little-endian bytes. */
function signatureBlob(sig: Signature): Uint8Array {
  const bytes = new Uint8Array(SIGNATURE_SIZE * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < SIGNATURE_SIZE; i++) view.setUint32(i * 4, sig[i]!, true);
  return bytes;
}

function blobSignature(bytes: Uint8Array): Signature | undefined {
  if (bytes.length !== SIGNATURE_SIZE * 4) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length: SIGNATURE_SIZE }, (_, i) => view.getUint32(i * 4, true));
}

/**
 * The history as an audit output: begin() matches this run's campaigns and senders to the stored
 * ones and opens the run's transaction; message() stores the messages of captures not audited
 * before; end() stores the run's campaigns, senders and indicators, commits, and puts what is new
 * into the result.
 */
export class HistoryOutput implements AuditOutput {
  private runId = 0;
  private started = Date.now() * 1000;
  private captureSeen: boolean[] = [];
  private sha: string[] = [];
  private appender: DuckDBAppender | undefined;
  private keyOf = new Map<string, string>();
  /** New messages (from captures not audited before) per campaign id. */
  private readonly campaignNew = new Map<string, number>();
  private readonly senderNew = new Map<string, number>();
  private newMessages = 0;
  private closed = false;

  constructor(private readonly db: Database) {}

  async begin(plan: AuditPlan): Promise<void> {
    const db = this.db;
    this.sha = plan.captures.map((c) => c.sha256 ?? '');
    await db.begin();
    this.runId = num((await db.all('SELECT coalesce(max(run_id), 0) + 1 AS id FROM runs'))[0]?.id);
    // Campaigns: the same key, or a stored signature similar enough, is the same campaign.
    const stored = (await db.all('SELECT campaign_key, signature FROM campaigns')).map((r) => ({ key: String(r.campaign_key), sig: blobSignature(r.signature as Uint8Array) }));
    const keys = new Set(stored.map((s) => s.key));
    for (const p of plan.campaigns) {
      if (!keys.has(p.key)) {
        let best: { key: string; sim: number } | undefined;
        for (const s of stored) {
          if (s.sig === undefined) continue;
          const sim = similarity(p.cluster.signature, s.sig);
          if (sim >= DEFAULT_SIMILARITY && (best === undefined || sim > best.sim)) best = { key: s.key, sim };
        }
        if (best !== undefined) p.key = best.key;
      }
      p.isNew = !keys.has(p.key);
      this.keyOf.set(p.id, p.key);
      this.campaignNew.set(p.id, 0);
    }
    // Senders known before: looked up through a staging table (the history may hold many).
    await db.run('CREATE TEMP TABLE run_src (src_ip VARCHAR)');
    const stage = await db.appender('run_src');
    for (const src of plan.senders) appendRow(stage, [src]);
    stage.closeSync();
    const known = new Set((await db.all('SELECT r.src_ip FROM run_src r JOIN senders s USING (src_ip)')).map((r) => String(r.src_ip)));
    plan.newSenders = new Set(plan.senders.filter((s) => !known.has(s)));
    plan.keepsHistory = true;
    // Captures: one audited before (same SHA-256) adds nothing again.
    for (const c of plan.captures) {
      const rows = c.sha256 !== undefined ? await db.all('SELECT first_run FROM captures WHERE sha256 = $1', [c.sha256]) : [];
      this.captureSeen[c.index] = rows.length > 0;
    }
    this.appender = await db.appender('messages');
  }

  message(r: MessageRecord, campaign: string | undefined): void {
    if (this.captureSeen[r.capture] !== false) return;
    this.newMessages++;
    const src = hostOf(r.src);
    this.senderNew.set(src, (this.senderNew.get(src) ?? 0) + 1);
    if (campaign !== undefined) this.campaignNew.set(campaign, (this.campaignNew.get(campaign) ?? 0) + 1);
    appendRow(this.appender!, [
      this.sha[r.capture]!, r.seq, r.frames[0] ?? 0, timestamp(micros(r.tsSec, r.tsNsec)), r.protocol, r.transport, r.src, r.dst, src, hostOf(r.dst),
      r.from, r.to, r.text, r.status, r.error, campaign !== undefined ? this.keyOf.get(campaign) : undefined, this.runId,
    ]);
  }

  async end(result: AuditResult, plan: AuditPlan): Promise<void> {
    const db = this.db;
    this.appender?.closeSync();
    this.appender = undefined;
    const run = this.runId;
    const previous = (await db.all('SELECT run_id, started FROM runs ORDER BY run_id DESC LIMIT 1'))[0];
    const growth: HistoryJson['growth'] = [];
    const before = new Map((await db.all('SELECT campaign_key, messages FROM campaigns')).map((r) => [String(r.campaign_key), num(r.messages)]));
    await db.run('INSERT INTO runs VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      run, ts(this.started), ts(Date.now() * 1000), TOOL_VERSION, result.summary.messages, this.newMessages, result.campaigns.length, result.senders.length,
      JSON.stringify({ bucket_seconds: result.summary.bucket_seconds, members_per_campaign: result.limits.members_per_campaign, max_templates: result.limits.max_templates }),
    ]);
    for (const c of plan.captures) {
      const seen = this.captureSeen[c.index] === true;
      await db.run('INSERT INTO run_captures VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [run, c.sha256 ?? '', c.path, seen]);
      if (!seen) {
        const times = await db.all('SELECT min(time) AS f, max(time) AS l FROM messages WHERE capture_sha256 = $1 AND run_id = $2', [c.sha256 ?? '', run]);
        await db.run('INSERT INTO captures VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [c.sha256 ?? '', run, c.path, c.messages, ...(times[0]?.f instanceof Date ? [ts((times[0].f as Date).getTime() * 1000), ts((times[0].l as Date).getTime() * 1000)] : [null, null])]);
      }
    }
    for (const c of result.campaigns) {
      const key = this.keyOf.get(c.id) ?? c.key;
      const added = this.campaignNew.get(c.id) ?? 0;
      const was = before.get(key);
      if (was !== undefined && added > 0) growth.push({ campaign: c.id, key, before: was, now: was + added });
      const planned = plan.campaigns.find((p) => p.id === c.id)!;
      await db.run(
        `INSERT INTO campaigns VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (campaign_key) DO UPDATE SET last_run = excluded.last_run, messages = campaigns.messages + excluded.messages,
           first_time = least(campaigns.first_time, excluded.first_time), last_time = greatest(campaigns.last_time, excluded.last_time)`,
        [key, run, c.template, c.representative, blobValue(signatureBlob(planned.cluster.signature)), added, ts(Date.parse(c.first_time) * 1000), ts(Date.parse(c.last_time) * 1000)],
      );
      await db.run('INSERT INTO run_campaigns VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)', [
        run, key, c.id, c.size, added, c.sender_count, c.recipients, c.hosts, c.outcomes.ok ?? 0, c.outcomes.error ?? 0, c.outcomes['no-response'] ?? 0, c.outcomes.unknown ?? 0,
      ]);
    }
    const senders = await db.appender('run_senders');
    for (const s of result.senders) {
      appendRow(senders, [run, s.src, s.messages, this.senderNew.get(s.src) ?? 0, s.recipients, s.hosts, s.names, s.campaigns.map((id) => this.keyOf.get(id) ?? id), s.sweeps.length]);
    }
    senders.closeSync();
    await db.run(
      `INSERT INTO senders
       SELECT rs.src_ip, $1, $1, rs.new_messages, m.f, m.l FROM run_senders rs
       LEFT JOIN (SELECT src_ip, min(time) AS f, max(time) AS l FROM messages WHERE run_id = $1 GROUP BY src_ip) m USING (src_ip)
       WHERE rs.run_id = $1
       ON CONFLICT (src_ip) DO UPDATE SET last_run = excluded.last_run, messages = senders.messages + excluded.messages,
         first_time = least(coalesce(senders.first_time, excluded.first_time), coalesce(excluded.first_time, senders.first_time)),
         last_time = greatest(coalesce(senders.last_time, excluded.last_time), coalesce(excluded.last_time, senders.last_time))`,
      [run],
    );
    const indicators = await db.appender('run_indicators');
    for (const i of result.indicators) appendRow(indicators, [run, i.kind, i.value, i.messages, i.campaigns.map((id) => this.keyOf.get(id) ?? id)]);
    indicators.closeSync();
    await db.run(
      `INSERT INTO indicators SELECT kind, value, $1, $1, messages, NULL, NULL FROM run_indicators WHERE run_id = $1
       ON CONFLICT (kind, value) DO UPDATE SET last_run = excluded.last_run, messages = indicators.messages + excluded.messages`,
      [run],
    );
    await db.commit();
    result.history = {
      database: db.path,
      run,
      ...(previous !== undefined ? { previous: { run: num(previous.run_id), started: isoOf(previous.started) } } : {}),
      captures_seen_before: plan.captures.filter((c) => this.captureSeen[c.index] === true).map((c) => c.path),
      new_messages: this.newMessages,
      new_campaigns: plan.campaigns.filter((p) => p.isNew === true).map((p) => p.id),
      new_senders: [...(plan.newSenders ?? [])].sort(),
      growth,
    };
    this.close();
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    try {
      this.appender?.closeSync();
    } catch {
      // The transaction is rolled back below whatever the appender's state.
    }
    await this.db.rollback();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/** What one stored run brought, from the tables alone (the `history` command). */
export async function describeRun(db: Database, run: number): Promise<HistoryJson | undefined> {
  const row = (await db.all('SELECT run_id FROM runs WHERE run_id = $1', [run]))[0];
  if (row === undefined) return undefined;
  const previous = (await db.all('SELECT run_id, started FROM runs WHERE run_id < $1 ORDER BY run_id DESC LIMIT 1', [run]))[0];
  const seen = await db.all('SELECT path FROM run_captures WHERE run_id = $1 AND seen_before ORDER BY path', [run]);
  const newMessages = num((await db.all('SELECT new_messages FROM runs WHERE run_id = $1', [run]))[0]?.new_messages);
  const campaigns = await db.all(
    `SELECT rc.label, rc.campaign_key, rc.new_messages, c.first_run,
       (SELECT coalesce(sum(p.new_messages), 0) FROM run_campaigns p WHERE p.campaign_key = rc.campaign_key AND p.run_id < rc.run_id) AS before
     FROM run_campaigns rc JOIN campaigns c USING (campaign_key) WHERE rc.run_id = $1 ORDER BY rc.label`,
    [run],
  );
  const senders = await db.all('SELECT src_ip FROM senders WHERE first_run = $1 ORDER BY src_ip', [run]);
  return {
    database: db.path,
    run,
    ...(previous !== undefined ? { previous: { run: num(previous.run_id), started: isoOf(previous.started) } } : {}),
    captures_seen_before: seen.map((r) => String(r.path)),
    new_messages: newMessages,
    new_campaigns: campaigns.filter((r) => num(r.first_run) === run).map((r) => String(r.label)).sort(byLabel),
    new_senders: senders.map((r) => String(r.src_ip)),
    growth: campaigns
      .filter((r) => num(r.first_run) < run && num(r.new_messages) > 0)
      .map((r) => ({ campaign: String(r.label), key: String(r.campaign_key), before: num(r.before), now: num(r.before) + num(r.new_messages) })),
  };
}

function byLabel(a: string, b: string): number {
  return Number(a.slice(1)) - Number(b.slice(1));
}

export interface RunRow {
  run: number;
  started: string;
  captures: string[];
  messages: number;
  new_messages: number;
  campaigns: number;
  senders: number;
}

/** Every stored run, oldest first. */
export async function listRuns(db: Database): Promise<RunRow[]> {
  const rows: Row[] = await db.all(
    `SELECT r.run_id, r.started, r.messages, r.new_messages, r.campaigns, r.senders, list(rc.path ORDER BY rc.path) AS captures
     FROM runs r LEFT JOIN run_captures rc USING (run_id) GROUP BY ALL ORDER BY r.run_id`,
  );
  return rows.map((r) => ({
    run: num(r.run_id), started: isoOf(r.started), captures: (r.captures as unknown[] | null ?? []).filter((p) => p !== null).map(String),
    messages: num(r.messages), new_messages: num(r.new_messages), campaigns: num(r.campaigns), senders: num(r.senders),
  }));
}
