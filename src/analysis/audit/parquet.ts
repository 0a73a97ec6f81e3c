// The audit as Parquet (--parquet DIR): the run's messages, campaigns, senders and indicators
// through the shared Parquet export (src/output/parquet-export.ts), for Spark, Trino, ClickHouse
// or DuckDB elsewhere. Campaign and sender rows are per day and protocol, so every table
// partitions alike. Layout: docs/schema.md.
import type { DuckDBAppender } from '@duckdb/node-api';
import { appendRow, timestamp } from '../../output/duckdb.js';
import { ParquetScratch, type ParquetExportSpec } from '../../output/parquet-export.js';
import type { AuditOutput, AuditPlan } from './audit.js';
import { micros } from './campaigns.js';
import type { AuditResult } from './result.js';
import type { MessageRecord } from './spill.js';
import { hostOf, portOf } from './tally.js';

const TABLES = [
  `CREATE TABLE messages (capture VARCHAR, capture_sha256 VARCHAR, frame INTEGER, frames INTEGER[], time TIMESTAMP, protocol VARCHAR, transport VARCHAR,
     src VARCHAR, dst VARCHAR, src_ip VARCHAR, dst_ip VARCHAR, dst_port INTEGER, from_name VARCHAR, to_names VARCHAR[], text VARCHAR, status VARCHAR, error VARCHAR,
     campaign VARCHAR, campaign_key VARCHAR)`,
  `CREATE TABLE campaigns (campaign VARCHAR, campaign_key VARCHAR, kind VARCHAR, size BIGINT, template VARCHAR, representative VARCHAR, slots VARCHAR[],
     sender_count INTEGER, recipients INTEGER, hosts INTEGER, first_time TIMESTAMP, last_time TIMESTAMP, per_minute DOUBLE, peak_per_second INTEGER,
     ok BIGINT, error BIGINT, no_response BIGINT, unknown BIGINT, bounced BIGINT)`,
  `CREATE TABLE senders (src_ip VARCHAR, messages BIGINT, recipients INTEGER, hosts INTEGER, names VARCHAR[], dst_ports INTEGER[], campaigns VARCHAR[],
     sweeps INTEGER, first_time TIMESTAMP, last_time TIMESTAMP, ok BIGINT, error BIGINT, no_response BIGINT, unknown BIGINT, bounced BIGINT)`,
  `CREATE TABLE indicators (kind VARCHAR, value VARCHAR, messages BIGINT, campaigns VARCHAR[], first_time TIMESTAMP, last_time TIMESTAMP)`,
];

/** What goes to each Parquet directory: rows per day and protocol, partitioned by both. */
const EXPORTS: readonly ParquetExportSpec[] = [
  { name: 'messages', query: 'SELECT *, CAST(time AS DATE) AS date FROM messages', partitioned: true },
  {
    name: 'campaigns',
    query: `SELECT c.*, d.date, d.protocol, d.messages AS day_messages FROM campaigns c
            JOIN (SELECT campaign, CAST(time AS DATE) AS date, protocol, count(*) AS messages FROM messages WHERE campaign IS NOT NULL GROUP BY ALL) d USING (campaign)`,
    partitioned: true,
  },
  {
    name: 'senders',
    query: `SELECT s.*, d.date, d.protocol, d.messages AS day_messages FROM senders s
            JOIN (SELECT src_ip, CAST(time AS DATE) AS date, protocol, count(*) AS messages FROM messages GROUP BY ALL) d USING (src_ip)`,
    partitioned: true,
  },
  { name: 'indicators', query: 'SELECT * FROM indicators', partitioned: false },
];

function isoMicros(iso: string): number {
  return Date.parse(iso) * 1000 + Number(/\.\d{3}(\d{3})/.exec(iso)?.[1] ?? 0);
}

export class ParquetOutput implements AuditOutput {
  private scratch: ParquetScratch | undefined;
  private messages: DuckDBAppender | undefined;
  private plan: AuditPlan | undefined;
  private keys = new Map<string, string>();

  constructor(private readonly dir: string) {}

  async begin(plan: AuditPlan): Promise<void> {
    this.plan = plan;
    // The history output (first in line) has settled the campaign keys by now.
    this.keys = new Map(plan.campaigns.map((p) => [p.id, p.key]));
    this.scratch = await ParquetScratch.open(TABLES);
    this.messages = await this.scratch.appender('messages');
  }

  message(r: MessageRecord, campaign: string | undefined): void {
    const capture = this.plan!.captures[r.capture];
    appendRow(this.messages!, [
      capture?.path ?? '', capture?.sha256, r.frames[0] ?? 0, r.frames, timestamp(micros(r.tsSec, r.tsNsec)), r.protocol, r.transport, r.src, r.dst,
      hostOf(r.src), hostOf(r.dst), portOf(r.dst), r.from, r.to, r.text, r.status, r.error, campaign, campaign !== undefined ? this.keys.get(campaign) ?? '' : undefined,
    ]);
  }

  async end(result: AuditResult): Promise<void> {
    const db = this.scratch!;
    this.messages!.closeSync();
    this.messages = undefined;
    const campaigns = await db.appender('campaigns');
    for (const c of result.campaigns) {
      appendRow(campaigns, [
        c.id, c.key, c.kind, c.size, c.template, c.representative, c.slots, c.sender_count, c.recipients, c.hosts,
        timestamp(isoMicros(c.first_time)), timestamp(isoMicros(c.last_time)), c.rate.per_minute, c.rate.peak_per_second, ...outcomeCells(c.outcomes, c.bounced),
      ]);
    }
    campaigns.closeSync();
    const senders = await db.appender('senders');
    for (const s of result.senders) {
      appendRow(senders, [
        s.src, s.messages, s.recipients, s.hosts, s.names, s.dst_ports, s.campaigns, s.sweeps.length,
        timestamp(isoMicros(s.first_time)), timestamp(isoMicros(s.last_time)), ...outcomeCells(s.outcomes, s.bounced),
      ]);
    }
    senders.closeSync();
    const indicators = await db.appender('indicators');
    for (const i of result.indicators) appendRow(indicators, [i.kind, i.value, i.messages, i.campaigns, timestamp(isoMicros(i.first_time)), timestamp(isoMicros(i.last_time))]);
    indicators.closeSync();
    await db.export(this.dir, EXPORTS);
    this.close();
  }

  abort(): void {
    this.close();
  }

  private close(): void {
    try {
      this.messages?.closeSync();
    } catch {
      // Closing the database below discards it all anyway.
    }
    this.messages = undefined;
    this.scratch?.close();
    this.scratch = undefined;
  }
}

function outcomeCells(outcomes: Record<string, number>, bounced: number): number[] {
  return [...['ok', 'error', 'no-response', 'unknown'].map((k) => outcomes[k] ?? 0), bounced];
}
