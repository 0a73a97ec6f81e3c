// `msgscope audit`: messenger spam audit — campaigns, senders, sweeps, outcomes, indicators — as a
// terminal summary, JSON or per-message CSV, with an HTML report (--report), a history database
// (--db, --compare) and a Parquet export (--parquet). Everything that will be written is checked
// before the first capture is read.
import type { Argv } from 'yargs';
import { AuditAnalysis, DEFAULT_AUDIT, type AuditOptions, type AuditOutput } from '../analysis/audit/audit.js';
import { DEFAULT_THRESHOLDS } from '../analysis/audit/alerts.js';
import { DEFAULT_CAMPAIGN_LIMITS } from '../analysis/audit/campaigns.js';
import { DEFAULT_MAX_TEMPLATES } from '../analysis/audit/grouping.js';
import { DEFAULT_SIMILARITY } from '../analysis/audit/minhash.js';
import { auditReport } from '../analysis/audit/report.js';
import { DEFAULT_MIN_SWEEP } from '../analysis/audit/senders.js';
import { isStdin } from '../capture/open.js';
import { DatabaseError, OutputPathError } from '../output/output-errors.js';
import { AuditCsvSink } from '../output/sinks/audit-csv.js';
import { prepareDirectory } from '../output/files.js';
import { REPORT_SINKS } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { fileSha256, liveCaptureHash } from './capture-hash.js';
import { openClickHouse, withClickHouseOptions, type ClickHouseArgs } from './clickhouse.js';
import { AuditClickHouseOutput } from '../analysis/audit/clickhouse.js';
import { runEventReport } from './jobs.js';
import { captureList, eventFilter, withCaptureOptions, type CaptureArgs, makeRunner, protocolsOff, type ProtocolSwitchArgs, sinkSettings, UsageError, warn, withCommonOptions, withFilterOptions, type CommonArgs } from './common.js';

export const AUDIT_FORMATS = ['text', 'json', 'csv'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];

/** Options `audit` and `live --audit` share. */
export { liveCaptureHash };

/** Options `audit` and `live --audit` share. */
export interface AuditArgs extends ClickHouseArgs, ProtocolSwitchArgs {
  report?: string;
  db?: string;
  compare: boolean;
  parquet?: string;
  'min-size': number;
  similarity: number;
  'max-templates': number;
  members: number;
  'min-sweep': number;
  'alert-hosts': number;
  'alert-recipients': number;
  'alert-text': number;
  'alert-interval': number;
}

export interface AuditCommandArgs extends CommonArgs, AuditArgs, CaptureArgs {
  format: AuditFormat;
}

export function withAuditOptions<T>(y: Argv<T>) {
  return withClickHouseOptions(y)
    .option('report', { type: 'string', describe: 'Write a self-contained HTML report (charts as inline SVG, no network) to this file' })
    .option('db', { type: 'string', describe: 'Keep history in this DuckDB database: each run with its captures (SHA-256), messages, campaigns, senders' })
    .option('compare', { type: 'boolean', default: false, describe: 'With --db: say what is new since the previous run (campaigns, senders, growth)' })
    .option('parquet', { type: 'string', describe: 'Export messages, campaigns, senders and indicators as Parquet under this directory (hive partitions date=/protocol=)' })
    .option('min-size', { type: 'number', default: DEFAULT_AUDIT.minSize, describe: 'Messages a group of similar texts needs to be a campaign' })
    .option('similarity', { type: 'number', default: DEFAULT_SIMILARITY, describe: 'Estimated Jaccard similarity (0-1) of word bigrams at which two masked texts are one template' })
    .option('max-templates', { type: 'number', default: DEFAULT_MAX_TEMPLATES, describe: 'Distinct masked texts kept (the memory bound; oldest one-offs are forgotten first)' })
    .option('members', { type: 'number', default: DEFAULT_CAMPAIGN_LIMITS.members, describe: 'Member messages listed per campaign in JSON and HTML (CSV, --db and --parquet have all)' })
    .option('min-sweep', { type: 'number', default: DEFAULT_MIN_SWEEP, describe: 'Consecutive destination addresses that make a sweep' })
    .option('alert-hosts', { type: 'number', default: DEFAULT_THRESHOLDS.hosts, describe: 'Alert when one source reaches this many distinct destination hosts within the interval' })
    .option('alert-recipients', { type: 'number', default: DEFAULT_THRESHOLDS.recipients, describe: 'Alert when one source reaches this many distinct recipients within the interval' })
    .option('alert-text', { type: 'number', default: DEFAULT_THRESHOLDS.text, describe: 'Alert when one text (campaign) reaches this many distinct recipients within the interval' })
    .option('alert-interval', { type: 'number', default: DEFAULT_THRESHOLDS.interval, describe: 'Alert interval in seconds' });
}

export function auditBuilder(y: Argv) {
  return withAuditOptions(withFilterOptions(withCommonOptions(withCaptureOptions(y), [...AUDIT_FORMATS]), 'events'))
    .example('$0 audit samples/messenger-mix.pcapng', 'campaigns, senders, sweeps, outcomes, indicators')
    .example('$0 audit --report audit.html samples/messenger-mix.pcapng', 'an HTML report to hand on (opens offline)')
    .example('$0 audit --db audit.duckdb --compare samples/messenger-mix.pcapng', 'keep history; say what is new since the last run')
    .example('$0 audit --format csv samples/messenger-mix.pcapng > messages.csv', 'one row per message with its campaign')
    .example('$0 audit --format json samples/messenger-mix.pcapng | jq \'.campaigns[] | {id, size, template}\'', 'campaigns as JSON')
    .example('$0 audit --parquet export/ samples/messenger-mix.pcapng', 'Parquet for Spark, Trino, ClickHouse or DuckDB')
    .example('$0 audit --sink clickhouse://127.0.0.1:8123/msgscope samples/messenger-mix.pcapng', 'every message into ClickHouse, where the audit queries run at scale');
}

function positive(name: string, value: number, integer = true): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}`);
  return value;
}

/** Audit options from the command line (checked). `format`: what prints the result (member lists only for JSON or a report). */
export function auditOptions(args: AuditArgs, captureHashes?: readonly string[], format = 'json'): AuditOptions {
  const similarity = args.similarity;
  if (!(similarity > 0 && similarity <= 1)) throw new UsageError('--similarity must be above 0 and at most 1');
  return {
    ...DEFAULT_AUDIT,
    minSize: positive('min-size', args['min-size']),
    grouping: { maxTemplates: positive('max-templates', args['max-templates']), similarity },
    minSweep: positive('min-sweep', args['min-sweep']),
    campaignLimits: { ...DEFAULT_CAMPAIGN_LIMITS, members: positive('members', args.members) },
    thresholds: {
      hosts: positive('alert-hosts', args['alert-hosts']),
      recipients: positive('alert-recipients', args['alert-recipients']),
      text: positive('alert-text', args['alert-text']),
      interval: positive('alert-interval', args['alert-interval'], false),
    },
    listMembers: format === 'json' || format === 'ndjson' || args.report !== undefined,
    protocolsOff: [...protocolsOff(args)],
    ...(captureHashes !== undefined ? { captureHashes } : {}),
  };
}

/**
 * The file outputs (--report, --db, --parquet), each opened or checked now, before any capture is
 * read: a path that cannot be written fails here. `captures` are hashed for the history.
 */
export async function fileOutputs(args: AuditArgs, captures: readonly string[] | undefined, warnFn: (message: string) => void): Promise<{ outputs: AuditOutput[]; hashes?: string[] }> {
  if (args.compare && args.db === undefined) throw new UsageError('--compare needs --db (the history to compare with)');
  // A capture in the history is not audited again: one audited in part would stay in part.
  if (args.db !== undefined && protocolsOff(args).size > 0) throw new UsageError('--db keeps whole captures: it does not go with --disable-protocol (a capture audited in part would never be audited again)');
  const outputs: AuditOutput[] = [];
  try {
    // ECharts and DuckDB load only when an output needs them (other commands start faster).
    if (args.report !== undefined) {
      const { HtmlReportFile } = await import('../output/sinks/audit-html.js');
      outputs.push(new HtmlReportFile(args.report));
    }
    if (args.parquet !== undefined) {
      const { ParquetOutput } = await import('../analysis/audit/parquet.js');
      outputs.push(new ParquetOutput(prepareDirectory(args.parquet)));
    }
    const clickhouse = await openClickHouse(args, 'audit_messages', captures, warnFn);
    if (clickhouse !== undefined) outputs.push(new AuditClickHouseOutput(clickhouse.sink, clickhouse.runId, clickhouse.hashes));
    let hashes: string[] | undefined;
    if (args.db !== undefined) {
      const { HistoryOutput, openHistory } = await import('../analysis/audit/history.js');
      if (captures?.some(isStdin) === true) throw new UsageError('--db needs capture files: standard input cannot be recognised when audited again');
      // The history goes first: the report then says what is new.
      outputs.unshift(new HistoryOutput(await openHistory(args.db, warnFn)));
      if (captures !== undefined && captures.length > 0) {
        hashes = [];
        for (const path of captures) hashes.push(await fileSha256(path));
      }
    }
    return { outputs, ...(hashes !== undefined ? { hashes } : {}) };
  } catch (err) {
    for (const o of outputs) await o.abort?.();
    throw asUsage(err);
  }
}

/** Database and output-path problems are the user's to fix: one line, exit status 2. */
export function asUsage(err: unknown): unknown {
  return err instanceof DatabaseError || err instanceof OutputPathError ? new UsageError(err.message) : err;
}

export async function auditCommand(args: AuditCommandArgs): Promise<void> {
  auditOptions(args);
  const captures = captureList(args, 'audit');
  const out = new Output();
  const { outputs, hashes } = await fileOutputs(args, captures, (m) => warn(args, m));
  const settings = sinkSettings(out, { ...args, format: args.format === 'csv' ? 'csv' : args.format });
  if (args.format === 'csv') outputs.push(new AuditCsvSink(out));
  else {
    const sink = REPORT_SINKS[args.format](settings);
    outputs.push({
      end: async (result) => {
        const report = auditReport(result, args.compare);
        await sink.write(report);
        for (const w of report.warnings ?? []) warn(args, w);
      },
    });
  }
  const audit = new AuditAnalysis(outputs, auditOptions(args, hashes, args.format));
  const runner = makeRunner([audit], args, { eventFilter: await eventFilter(args) });
  try {
    await runEventReport({ command: 'audit', args }, captures, audit, runner);
  } catch (err) {
    // A capture that cannot be read stops the run before the outputs' end: nothing is kept.
    for (const o of outputs) await o.abort?.();
    throw asUsage(err);
  } finally {
    await out.close();
  }
  runner.settle(args['fail-on-error']);
}
