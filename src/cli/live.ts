// `msgscope live`: the read or timeline view on live traffic, optionally saved as pcapng.
import { openClickHouse, withClickHouseOptions } from './clickhouse.js';
import { EventClickHouseSink } from '../output/sinks/event-clickhouse.js';
import type { Argv } from 'yargs';
import { listInterfaces, LiveCaptureUnavailable } from '../capture/live.js';
import { PacketListing } from '../analysis/listing.js';
import { Timeline } from '../analysis/timeline.js';
import { EVENT_FORMATS, PACKET_SINKS, type EventFormat } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { NO_REORDER } from '../runner/reorder.js';
import { liveSource } from '../runner/sources.js';
import { AuditAnalysis } from '../analysis/audit/audit.js';
import { alertLine, auditReport } from '../analysis/audit/report.js';
import { alertJson } from '../analysis/audit/result.js';
import type { Analysis } from '../runner/analysis.js';
import { REPORT_SINKS } from '../output/sinks/index.js';
import { asUsage, auditOptions, fileOutputs, liveCaptureHash, withAuditOptions, type AuditArgs } from './audit.js';
import { eventFilter, eventSinks, withTimeFormatOption, withFieldsOptions, makeRunner, packetFilter, sinkSettings, UsageError, warn, withCommonOptions, withFilterOptions, withLogDirOption, type CommonArgs } from './common.js';
import { jsonText } from '../output/escape.js';

export interface LiveArgs extends CommonArgs, AuditArgs {
  audit: boolean;
  format: EventFormat;
  interface?: string;
  filter: string;
  write?: string;
  list: boolean;
  view: 'read' | 'timeline';
  verbose: boolean;
  count?: number;
  duration?: number;
  wide?: boolean;
  'log-dir'?: string;
  sink?: string;
  spool?: string;
}

/** On stderr (unless -q), once the interface is open: where, with which filter, and that frames are being taken. */
function readyNotice(args: LiveArgs, iface: string): (linkType: number) => void {
  return (linkType) => {
    if (args.quiet) return;
    const filter = args.filter !== '' ? `, capture filter '${args.filter}'` : '';
    process.stderr.write(`msgscope: capturing on ${iface} (link type ${linkType}${filter}); ready\n`);
  };
}

export function liveBuilder(y: Argv) {
  return withClickHouseOptions(withLogDirOption(withTimeFormatOption(withFieldsOptions(withAuditOptions(withFilterOptions(withCommonOptions(y, EVENT_FORMATS), 'frames')), 'frame or event (--view timeline)'), 'r on the read view, ud on the timeline view')))
    .option('audit', { type: 'boolean', default: false, describe: 'Spam audit on the live traffic: an alert the moment a source crosses a threshold (--alert-*), the summary (and --report, --db, --parquet) when capture stops' })
    .option('interface', { alias: 'i', type: 'string', describe: 'Interface to capture on' })
    .option('filter', { alias: 'f', type: 'string', default: '', describe: 'Capture filter (BPF syntax, as tcpdump)' })
    .option('write', { alias: 'w', type: 'string', describe: 'Also save the captured frames to this pcapng file' })
    .option('list', { alias: 'D', type: 'boolean', default: false, describe: 'List the interfaces and exit' })
    .option('view', { choices: ['read', 'timeline'] as const, default: 'read' as const, describe: 'Per-frame lines, or the messenger timeline' })
    .option('verbose', { alias: 'V', type: 'boolean', default: false, describe: 'Detail tree (read view)' })
    .option('count', { alias: 'c', type: 'number', describe: 'Stop after this many frames' })
    .option('duration', { alias: 'a', type: 'number', describe: 'Stop after this many seconds' })
    .option('wide', { type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 live -i eth0 -f "port 139 or udp port 1026"', 'watch messenger traffic')
    .example('$0 live -i lo --view timeline -w out.pcapng', 'timeline of live traffic, saved')
    .example('$0 live -i eth0 -Y \'udp.port in {1026 1027}\'', 'display filter on the read view')
    .example('$0 live -i eth0 --view timeline -Y \'kind == "message"\'', 'event filter on the timeline view');
}

export async function liveCommand(args: LiveArgs): Promise<void> {
  try {
    await live(args);
  } catch (err) {
    if (err instanceof LiveCaptureUnavailable) throw new UsageError(err.message);
    throw err;
  }
}

async function live(args: LiveArgs): Promise<void> {
  if (args.list) {
    const out = new Output();
    for (const dev of listInterfaces()) {
      const addrs = dev.addresses.map((a) => a.addr).filter((a) => a !== undefined).join(', ');
      out.line(`${dev.name}${dev.description ? ` (${dev.description})` : ''}${addrs ? `  ${addrs}` : ''}`);
    }
    await out.close();
    return;
  }
  if (args.interface === undefined) throw new UsageError('live needs -i <interface> (or --list)');
  if (args.view === 'read' && (args.format === 'csv' || args.format === 'eve')) throw new UsageError(`${args.format} is available for the timeline view only (--view timeline)`);
  if (args['log-dir'] !== undefined && (args.view !== 'timeline' || args.audit)) throw new UsageError('--log-dir writes timeline events: use it with --view timeline');
  if (args.sink !== undefined && (args.view !== 'timeline' || args.audit)) throw new UsageError('--sink inserts timeline events on live traffic: use it with --view timeline');
  if (args.audit) {
    await liveAudit(args, args.interface);
    return;
  }
  // Every record goes out as soon as it is complete: no batching on live traffic.
  const out = new Output(process.stdout, 0);
  const settings = sinkSettings(out, args);
  // -Y filters frames on the read view and events on the timeline view.
  const timeline = args.view === 'timeline';
  // --sink: events into ClickHouse as they complete (batched, spooled while the server is down).
  const clickhouse = timeline ? await openClickHouse(args, 'events', undefined, (m) => warn(args, m)) : undefined;
  const also = clickhouse !== undefined ? [new EventClickHouseSink(clickhouse.sink, clickhouse.runId, clickhouse.hashes)] : [];
  const analysis = timeline ? new Timeline(await eventSinks(out, args, also)) : new PacketListing([PACKET_SINKS[args.format === 'csv' || args.format === 'eve' ? 'text' : args.format](settings)]);
  const runner = makeRunner([analysis], args, timeline ? { eventFilter: await eventFilter(args), reorder: NO_REORDER } : { frameFilter: await packetFilter(args) });
  const source = liveSource({ iface: args.interface, filter: args.filter, count: args.count, seconds: args.duration, write: args.write, onReady: readyNotice(args, args.interface) });
  await runner.run([source]);
  await out.close();
  runner.settle(args['fail-on-error']);
  if (!args.quiet) {
    process.stderr.write(`msgscope: ${source.captured()} frame(s) captured on ${args.interface}; kernel drops: not reported (the cap module does not expose pcap_stats)\n`);
  }
}

/**
 * `live --audit`: the audit's state on live traffic. Alerts go out the moment a threshold is
 * crossed; the summary (text or one JSON object) and the file outputs when capture stops.
 */
async function liveAudit(args: LiveArgs, iface: string): Promise<void> {
  if (args.format === 'csv' || args.format === 'eve' || args.format === 'fields') throw new UsageError('live --audit prints text, json or ndjson (alerts as they happen, the summary at the end)');
  auditOptions(args);
  const out = new Output(process.stdout, 0);
  const hash = liveCaptureHash(iface);
  const { outputs } = await fileOutputs(args, undefined, (m) => warn(args, m));
  const text = args.format === 'text';
  const sink = REPORT_SINKS[text ? 'text' : 'json'](sinkSettings(out, args));
  outputs.push({
    end: async (result) => {
      const report = auditReport(result, args.compare);
      if (text) await sink.write(report);
      else out.line(jsonText(report.json));
      for (const w of report.warnings ?? []) warn(args, w);
    },
  });
  const audit: Analysis = new AuditAnalysis(outputs, auditOptions(args, args.db !== undefined ? [hash] : undefined, args.format), (alert, capture) => {
    const captures = capture !== undefined ? [capture] : [];
    const json = alertJson({ ...alert, capture: 0 }, captures, undefined);
    out.line(text ? alertLine(json) : jsonText({ alert: json }));
  });
  const runner = makeRunner([audit], args, { eventFilter: await eventFilter(args), reorder: NO_REORDER });
  const source = liveSource({ iface, filter: args.filter, count: args.count, seconds: args.duration, write: args.write, onReady: readyNotice(args, iface) });
  try {
    await runner.run([source]);
  } catch (err) {
    for (const o of outputs) await o.abort?.();
    throw asUsage(err);
  } finally {
    await out.close();
  }
  if (!args.quiet) process.stderr.write(`msgscope: ${source.captured()} frame(s) captured on ${iface}\n`);
}
