// `msgscope stats`: protocol hierarchy, conversations and endpoints (tshark's numbers),
// command counts with response times, and messenger messages per protocol, sender and
// recipient — as aligned text, JSON or CSV.
import type { Argv } from 'yargs';
import { StatsAnalysis } from '../analysis/stats.js';
import { FollowAnalysis, type FollowMode, type FollowProtocol, type FollowRequest } from '../analysis/follow.js';
import { followText } from '../output/follow-text.js';
import type { Analysis } from '../runner/analysis.js';
import { DEFAULT_STATS_TABLES, STATS_TABLES, type StatsTable } from '../analysis/stats-report.js';
import { REPORT_FORMATS, REPORT_SINKS, type ReportFormat } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { UsageError, captureList, fileSources, withCaptureOptions, type CaptureArgs, makeRunner, packetFilter, sinkSettings, warn, withCommonOptions, type CommonArgs } from './common.js';

export interface StatsArgs extends CommonArgs, CaptureArgs {
  format: ReportFormat;
  table?: string | string[];
}

/** Group names: a -z without its qualifier gives every table of the group. */
const GROUPS: Readonly<Record<string, readonly StatsTable[]>> = {
  conv: ['conv,tcp', 'conv,udp', 'conv,ip', 'conv,ipv6'],
  endpoints: ['endpoints,ip', 'endpoints,ipv6'],
  'io,phs': ['phs'],
};

/** What -z accepts, as the help and the errors list it. */
const Z_NAMES = [...STATS_TABLES, ...Object.keys(GROUPS), 'follow,tcp|udp|msnp,ascii|hex,N'].sort();

/**
 * tshark's `-z follow,PROTOCOL,MODE,N`: N is the tcp.stream (tcp, msnp) or udp.stream index.
 * tshark's other forms (`follow,tcp,ascii,ADDR:PORT,ADDR:PORT`, `,N,SUBSTREAM`) are not taken.
 */
export function followRequest(value: string): FollowRequest | undefined {
  const parts = value.trim().toLowerCase().split(',');
  if (parts[0] !== 'follow') return undefined;
  const accepted = 'accepted: follow,tcp|udp|msnp,ascii|hex,N (N: the tcp.stream or udp.stream index)';
  const [, protocol, mode, stream] = parts;
  if (parts.length !== 4 || !['tcp', 'udp', 'msnp'].includes(protocol ?? '') || !['ascii', 'hex'].includes(mode ?? '') || !/^\d{1,9}$/.test(stream ?? '')) {
    throw new UsageError(`-z ${value}: ${accepted}`);
  }
  return { protocol: protocol as FollowProtocol, mode: mode as FollowMode, stream: Number(stream) };
}

/** tshark -z spellings: `conv,tcp`, `endpoints,ip`, `io,phs`; a trailing display filter (`conv,tcp,FILTER`) is not supported. */
export function statsTables(value: string): StatsTable[] {
  const v = value.trim().toLowerCase();
  const group = GROUPS[v];
  if (group !== undefined) return [...group];
  if ((STATS_TABLES as readonly string[]).includes(v)) return [v as StatsTable];
  const base = v.split(',').slice(0, 2).join(',');
  const known = GROUPS[base] !== undefined || (STATS_TABLES as readonly string[]).includes(base);
  if (known) throw new UsageError(`-z ${value}: a filter or interface after the table name is not supported here; use -Y for a filter (accepted: ${Z_NAMES.join(', ')})`);
  throw new UsageError(`-z ${value}: unknown statistics; accepted: ${Z_NAMES.join(', ')}`);
}

export function statsBuilder(y: Argv) {
  return withCommonOptions(withCaptureOptions(y), REPORT_FORMATS)
    // Not an array option: yargs arrays would swallow the capture names that follow; repeat -z instead.
    .option('table', { alias: 'z', type: 'string', requiresArg: true, describe: `Only this table, tshark's spellings (repeat for several; default: all but expert and dcerpc,srt): ${Z_NAMES.join(', ')}` })
    .option('display-filter', { alias: 'Y', type: 'string', describe: 'Count only the frames this display filter selects (messages are counted from all events)' })
    .example('$0 stats samples/messenger-mix.pcapng', 'every table')
    .example('$0 stats -z conv -z endpoints samples/messenger-mix.pcapng', 'like tshark -z conv,tcp -z conv,udp -z conv,ip -z endpoints,ip')
    .example('$0 stats -z messages --format csv samples/messenger-mix.pcapng > senders.csv', 'messages per sender and recipient, for a spreadsheet')
    .example('$0 stats -z commands --format json samples/messenger-mix.pcapng | jq .commands', 'SMB commands, DCE/RPC opnums, MSNP commands with response times')
    .example('$0 stats -z expert -z dcerpc,srt samples/messenger-mix.pcapng', 'findings by severity and protocol; DCE/RPC response times per interface and operation')
    .example('$0 stats -z follow,tcp,ascii,0 samples/messenger-mix.pcapng', "the bytes of TCP stream 0, both directions, as tshark's -z follow")
    .example('$0 stats -z follow,msnp,ascii,4 samples/messenger-mix.pcapng', 'the MSNP commands of TCP stream 4 (a switchboard chat), one per line, with frame and direction');
}

export async function statsCommand(args: StatsArgs): Promise<void> {
  const chosen = args.table === undefined ? [] : Array.isArray(args.table) ? args.table : [args.table];
  const follows: FollowRequest[] = [];
  const named: string[] = [];
  for (const value of chosen) {
    const follow = followRequest(value);
    if (follow !== undefined) follows.push(follow);
    else named.push(value);
  }
  if (follows.length > 0 && args.format !== 'text') throw new UsageError('-z follow prints text only (tshark\'s block); leave out --format');
  const tables = new Set<StatsTable>(named.length > 0 ? named.flatMap(statsTables) : follows.length > 0 ? [] : DEFAULT_STATS_TABLES);
  const out = new Output();
  const analyses: Analysis[] = [];
  if (tables.size > 0) {
    const sink = REPORT_SINKS[args.format](sinkSettings(out, args));
    analyses.push(new StatsAnalysis(tables, [sink], (message) => warn(args, message)));
  }
  if (follows.length > 0) {
    analyses.push(new FollowAnalysis(follows, (results) => {
      for (const result of results) for (const line of followText(result)) out.line(line);
    }));
  }
  const runner = makeRunner(analyses, args, { frameFilter: await packetFilter(args) });
  await runner.run(fileSources(captureList(args, 'stats')));
  await out.close();
}
