// `msgscope stats`: protocol hierarchy, conversations and endpoints (tshark's numbers),
// command counts with response times, and messenger messages per protocol, sender and
// recipient — as aligned text, JSON or CSV.
import type { Argv } from 'yargs';
import { StatsAnalysis } from '../analysis/stats.js';
import { STATS_TABLES, type StatsTable } from '../analysis/stats-report.js';
import { REPORT_FORMATS, REPORT_SINKS, type ReportFormat } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { captureList, fileSources, withCaptureOptions, type CaptureArgs, makeRunner, packetFilter, sinkSettings, warn, withCommonOptions, type CommonArgs } from './common.js';

export interface StatsArgs extends CommonArgs, CaptureArgs {
  format: ReportFormat;
  table?: StatsTable | StatsTable[];
}

export function statsBuilder(y: Argv) {
  return withCommonOptions(withCaptureOptions(y), REPORT_FORMATS)
    // Not an array option: yargs arrays would swallow the capture names that follow; repeat -z instead.
    .option('table', { alias: 'z', type: 'string', choices: STATS_TABLES, describe: 'Only this table (repeat for several; default: all)' })
    .option('display-filter', { alias: 'Y', type: 'string', describe: 'Count only the frames this display filter selects (messages are counted from all events)' })
    .example('$0 stats capture.pcap', 'every table')
    .example('$0 stats -z conv -z endpoints capture.pcap', 'like tshark -z conv,tcp -z conv,udp -z conv,ip -z endpoints,ip')
    .example('$0 stats -z messages --format csv spam.pcap > senders.csv', 'messages per sender and recipient, for a spreadsheet')
    .example('$0 stats -z commands --format json capture.pcap | jq .commands', 'SMB commands, DCE/RPC opnums, MSNP commands with response times');
}

export async function statsCommand(args: StatsArgs): Promise<void> {
  const chosen = args.table === undefined ? [] : Array.isArray(args.table) ? args.table : [args.table];
  const tables = new Set<StatsTable>(chosen.length > 0 ? chosen : STATS_TABLES);
  const out = new Output();
  const sink = REPORT_SINKS[args.format](sinkSettings(out, args));
  const stats = new StatsAnalysis(tables, [sink], (message) => warn(args, message));
  const runner = makeRunner([stats], args, { frameFilter: packetFilter(args) });
  await runner.run(fileSources(captureList(args, 'stats')));
  await out.close();
}

