// `msgscope stats`: protocol hierarchy, conversations and endpoints (tshark's numbers),
// command counts with response times, and messenger messages per protocol, sender and
// recipient — as aligned text, JSON or CSV.
import type { Argv } from 'yargs';
import { StatsCollector, type ConversationRow, type CountRow, type EndpointRow, type PhsNode, type StatsReport } from '../analysis/stats.js';
import { csvField, displayWidth, escapeText } from '../output/escape.js';
import { makeStyle, wantColour, type Style } from '../output/style.js';
import { Output } from '../output/writer.js';
import { packetFilter, runCaptures, withCommonOptions, type CommonArgs } from './common.js';

export const STATS_TABLES = ['phs', 'conv', 'endpoints', 'commands', 'messages'] as const;
type TableName = (typeof STATS_TABLES)[number];

export interface StatsArgs extends CommonArgs {
  captures: string[];
  table?: TableName | TableName[];
}

export function statsBuilder(y: Argv) {
  return withCommonOptions(y, ['text', 'json', 'csv'])
    .positional('captures', { type: 'string', array: true, demandOption: true, describe: 'capture files, or - for stdin' })
    // Not an array option: yargs arrays would swallow the capture names that follow; repeat -z instead.
    .option('table', { alias: 'z', type: 'string', choices: STATS_TABLES, describe: 'Only this table (repeat for several; default: all)' })
    .option('display-filter', { alias: 'Y', type: 'string', describe: 'Count only the frames this display filter selects (messages are counted from all events)' })
    .example('$0 stats capture.pcap', 'every table')
    .example('$0 stats -z conv -z endpoints capture.pcap', 'like tshark -z conv,tcp -z conv,udp -z conv,ip -z endpoints,ip')
    .example('$0 stats -z messages --format csv spam.pcap > senders.csv', 'messages per sender and recipient, for a spreadsheet')
    .example('$0 stats -z commands --format json capture.pcap | jq .commands', 'SMB commands, DCE/RPC opnums, MSNP commands with response times');
}

export async function statsCommand(args: StatsArgs): Promise<void> {
  const filter = packetFilter(args);
  const stats = new StatsCollector();
  let files = 0;
  await runCaptures(args.captures, args, () => {
    if (files++ > 0) stats.nextFile();
    filter?.reset();
    return {
      packet: (packet) => {
        if (filter === undefined || filter.match(packet)) stats.packet(packet);
      },
      event: (event) => stats.event(event),
    };
  });
  const report = stats.report();
  const chosen = args.table === undefined ? [] : Array.isArray(args.table) ? args.table : [args.table];
  const tables = new Set<TableName>(chosen.length > 0 ? chosen : STATS_TABLES);
  const out = new Output();
  if (args.format === 'json') out.line(JSON.stringify(jsonReport(report, tables), null, 2));
  else if (args.format === 'csv') csvReport(out, report, tables);
  else textReport(out, report, tables, makeStyle(wantColour(args.color)));
  await out.close();
  if (report.truncated.length > 0 && !args.quiet) {
    process.stderr.write(`msgscope: warning: tables cut at their size limit: ${report.truncated.join(', ')}\n`);
  }
}

function jsonReport(r: StatsReport, tables: ReadonlySet<TableName>): Record<string, unknown> {
  const out: Record<string, unknown> = { frames: r.frames, bytes: r.bytes };
  if (tables.has('phs')) out.phs = r.phs;
  if (tables.has('conv')) out.conversations = r.conversations;
  if (tables.has('endpoints')) out.endpoints = r.endpoints;
  if (tables.has('commands')) out.commands = r.commands;
  if (tables.has('messages')) out.messages = r.messages;
  out.truncated = r.truncated;
  return out;
}

// ---- text ----

type Align = 'l' | 'r';

/** Aligned columns; cells are escaped (names and texts come from the wire). */
function table(out: Output, style: Style, title: string, headers: string[], align: Align[], rows: (string | number)[][]): void {
  out.line(style.heading(title));
  if (rows.length === 0) {
    out.line('  (none)');
    out.line('');
    return;
  }
  const cells = rows.map((row) => row.map((c) => escapeText(String(c))));
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...cells.map((row) => displayWidth(row[i] ?? ''))));
  const pad = (text: string, i: number): string => {
    const gap = ' '.repeat(Math.max(0, widths[i]! - displayWidth(text)));
    return align[i] === 'r' ? `${gap}${text}` : `${text}${gap}`;
  };
  out.line(`  ${headers.map((h, i) => pad(h, i)).join('  ')}`.trimEnd());
  for (const row of cells) out.line(`  ${row.map((c, i) => pad(c, i)).join('  ')}`.trimEnd());
  out.line('');
}

function seconds(v: number | undefined, digits = 6): string {
  return v === undefined ? '' : v.toFixed(digits);
}

function phsLines(nodes: PhsNode[], depth: number, rows: (string | number)[][]): void {
  for (const n of nodes) {
    rows.push([`${'  '.repeat(depth)}${n.protocol}`, n.frames, n.bytes]);
    phsLines(n.children, depth + 1, rows);
  }
}

function convTable(out: Output, style: Style, title: string, rows: ConversationRow[]): void {
  table(
    out, style, title,
    ['Address A', 'Address B', 'Frames A→B', 'Bytes A→B', 'Frames B→A', 'Bytes B→A', 'Frames', 'Bytes', 'Rel. start', 'Duration'],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows.map((c) => [c.a, c.b, c.framesAB, c.bytesAB, c.framesBA, c.bytesBA, c.frames, c.bytes, seconds(c.relStart, 9), seconds(c.duration, 4)]),
  );
}

function endpointTable(out: Output, style: Style, title: string, rows: EndpointRow[]): void {
  table(
    out, style, title,
    ['Address', 'Frames', 'Bytes', 'Tx frames', 'Tx bytes', 'Rx frames', 'Rx bytes'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows.map((e) => [e.address, e.frames, e.bytes, e.txFrames, e.txBytes, e.rxFrames, e.rxBytes]),
  );
}

function countTable(out: Output, style: Style, title: string, what: string, rows: CountRow[]): void {
  table(out, style, title, [what, 'Messages'], ['l', 'r'], rows.map((c) => [c.key, c.messages]));
}

function textReport(out: Output, r: StatsReport, tables: ReadonlySet<TableName>, style: Style): void {
  out.line(`${r.frames} frames, ${r.bytes} bytes`);
  out.line('');
  if (tables.has('phs')) {
    const rows: (string | number)[][] = [];
    phsLines(r.phs, 0, rows);
    table(out, style, 'Protocol hierarchy', ['Protocol', 'Frames', 'Bytes'], ['l', 'r', 'r'], rows);
  }
  if (tables.has('conv')) {
    convTable(out, style, 'TCP conversations', r.conversations.tcp);
    convTable(out, style, 'UDP conversations', r.conversations.udp);
    convTable(out, style, 'IPv4 conversations', r.conversations.ip);
    if (r.conversations.ipv6.length > 0) convTable(out, style, 'IPv6 conversations', r.conversations.ipv6);
  }
  if (tables.has('endpoints')) {
    endpointTable(out, style, 'IPv4 endpoints', r.endpoints.ip);
    if (r.endpoints.ipv6.length > 0) endpointTable(out, style, 'IPv6 endpoints', r.endpoints.ipv6);
  }
  if (tables.has('commands')) {
    table(
      out, style, 'Commands (response times in seconds)',
      ['Protocol', 'Command', 'Requests', 'Responses', 'Matched', 'Min RT', 'Max RT', 'Avg RT'],
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
      r.commands.map((c) => [c.protocol, c.command, c.requests, c.responses, c.matched, seconds(c.minRt), seconds(c.maxRt), seconds(c.avgRt)]),
    );
  }
  if (tables.has('messages')) {
    out.line(style.heading(`Messenger messages: ${r.messages.total}`));
    out.line('');
    countTable(out, style, 'Messages per protocol', 'Protocol', r.messages.byProtocol);
    countTable(out, style, 'Messages per sender', 'Sender', r.messages.bySender);
    countTable(out, style, 'Messages per recipient', 'Recipient', r.messages.byRecipient);
    countTable(out, style, 'Messages per status', 'Status', r.messages.byStatus);
  }
}

// ---- CSV: one block per table, each with its header row, blocks separated by a blank line ----

function csvBlock(out: Output, name: string, headers: string[], rows: (string | number | undefined)[][], first: { value: boolean }): void {
  if (!first.value) out.line('');
  first.value = false;
  out.line(['table', ...headers].map((h) => csvField(h)).join(','));
  for (const row of rows) out.line([name, ...row].map((c) => csvField(c)).join(','));
}

function csvReport(out: Output, r: StatsReport, tables: ReadonlySet<TableName>): void {
  const first = { value: true };
  if (tables.has('phs')) {
    const rows: (string | number)[][] = [];
    const walk = (nodes: PhsNode[], path: string): void => {
      for (const n of nodes) {
        const p = path === '' ? n.protocol : `${path}:${n.protocol}`;
        rows.push([p, n.frames, n.bytes]);
        walk(n.children, p);
      }
    };
    walk(r.phs, '');
    csvBlock(out, 'phs', ['protocols', 'frames', 'bytes'], rows, first);
  }
  const convHeaders = ['address_a', 'address_b', 'frames_ab', 'bytes_ab', 'frames_ba', 'bytes_ba', 'frames', 'bytes', 'rel_start', 'duration'];
  const convRows = (rows: ConversationRow[]) => rows.map((c) => [c.a, c.b, c.framesAB, c.bytesAB, c.framesBA, c.bytesBA, c.frames, c.bytes, seconds(c.relStart, 9), seconds(c.duration, 9)]);
  if (tables.has('conv')) {
    csvBlock(out, 'conv_tcp', convHeaders, convRows(r.conversations.tcp), first);
    csvBlock(out, 'conv_udp', convHeaders, convRows(r.conversations.udp), first);
    csvBlock(out, 'conv_ip', convHeaders, convRows(r.conversations.ip), first);
    csvBlock(out, 'conv_ipv6', convHeaders, convRows(r.conversations.ipv6), first);
  }
  const epHeaders = ['address', 'frames', 'bytes', 'tx_frames', 'tx_bytes', 'rx_frames', 'rx_bytes'];
  const epRows = (rows: EndpointRow[]) => rows.map((e) => [e.address, e.frames, e.bytes, e.txFrames, e.txBytes, e.rxFrames, e.rxBytes]);
  if (tables.has('endpoints')) {
    csvBlock(out, 'endpoints_ip', epHeaders, epRows(r.endpoints.ip), first);
    csvBlock(out, 'endpoints_ipv6', epHeaders, epRows(r.endpoints.ipv6), first);
  }
  if (tables.has('commands')) {
    csvBlock(out, 'commands', ['protocol', 'command', 'requests', 'responses', 'matched', 'min_rt', 'max_rt', 'avg_rt'],
      r.commands.map((c) => [c.protocol, c.command, c.requests, c.responses, c.matched, seconds(c.minRt, 9), seconds(c.maxRt, 9), seconds(c.avgRt, 9)]), first);
  }
  if (tables.has('messages')) {
    const counts = (rows: CountRow[]) => rows.map((c) => [c.key, c.messages]);
    csvBlock(out, 'messages_protocol', ['protocol', 'messages'], counts(r.messages.byProtocol), first);
    csvBlock(out, 'messages_sender', ['sender', 'messages'], counts(r.messages.bySender), first);
    csvBlock(out, 'messages_recipient', ['recipient', 'messages'], counts(r.messages.byRecipient), first);
    csvBlock(out, 'messages_status', ['status', 'messages'], counts(r.messages.byStatus), first);
  }
}
