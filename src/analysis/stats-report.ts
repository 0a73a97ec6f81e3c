// The `stats` report: the collector's tables as a Report (JSON contract object plus the lines
// and tables the text and CSV sinks draw).
import type { Cell, Report, ReportBlock, ReportTable, RowList } from '../output/report.js';
import type { SortedRows } from './conversations.js';
import type { ConversationRow, CountRow, EndpointRow, PhsNode, SrtRow, StatsReport } from './stats.js';

/** Every table `stats` draws, named as tshark's -z spells them where tshark has one. */
export const STATS_TABLES = ['phs', 'conv,tcp', 'conv,udp', 'conv,ip', 'conv,ipv6', 'endpoints,ip', 'endpoints,ipv6', 'commands', 'messages', 'expert', 'dcerpc,srt'] as const;
export type StatsTable = (typeof STATS_TABLES)[number];

/** What `stats` without -z prints. */
export const DEFAULT_STATS_TABLES: readonly StatsTable[] = ['phs', 'conv,tcp', 'conv,udp', 'conv,ip', 'conv,ipv6', 'endpoints,ip', 'endpoints,ipv6', 'commands', 'messages'];

/** tshark's -z dcerpc,srt: the DCE/RPC calls whose answer was seen, per interface and operation. */
function srtRows(r: StatsReport): SrtRow[] {
  return r.srt;
}

function seconds(v: number | undefined, digits = 6): string {
  return v === undefined ? '' : v.toFixed(digits);
}

/** Some of an object's properties, each read from it when read (JSON.stringify reads one table, writes it, then the next). */
function lazyPick(source: object, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) Object.defineProperty(out, key, { enumerable: true, get: (): unknown => (source as Record<string, unknown>)[key] });
  return out;
}

function jsonReport(r: StatsReport, tables: ReadonlySet<StatsTable>): Record<string, unknown> {
  const out: Record<string, unknown> = { frames: r.frames, bytes: r.bytes };
  if (tables.has('phs')) out.phs = r.phs;
  const conv = Object.keys(r.conversations).filter((k) => tables.has(`conv,${k}` as StatsTable));
  if (conv.length > 0) out.conversations = lazyPick(r.conversations, conv);
  const endpoints = Object.keys(r.endpoints).filter((k) => tables.has(`endpoints,${k}` as StatsTable));
  if (endpoints.length > 0) out.endpoints = lazyPick(r.endpoints, endpoints);
  if (tables.has('commands')) out.commands = r.commands;
  if (tables.has('messages')) out.messages = r.messages;
  if (tables.has('expert')) out.expert = r.expert;
  if (tables.has('dcerpc,srt')) out.dcerpcSrt = srtRows(r);
  out.truncated = r.truncated;
  return out;
}

const CONV_HEADERS = ['Address A', 'Address B', 'Frames A→B', 'Bytes A→B', 'Frames B→A', 'Bytes B→A', 'Frames', 'Bytes', 'Rel. start', 'Duration'];
const CONV_CSV = ['address_a', 'address_b', 'frames_ab', 'bytes_ab', 'frames_ba', 'bytes_ba', 'frames', 'bytes', 'rel_start', 'duration'];

/**
 * The big tables (conversations, endpoints, senders: up to 200,000 rows each) make each row's
 * cells when a sink iterates them, each time it does: no table has all its cells alive at once,
 * and the text cells of a JSON or CSV report are never made. (Made eagerly, the rows and cells
 * of every table were some 170 MB of garbage at the end of spam-1m, the run's peak.)
 */
function rowList<T>(source: () => SortedRows<T>, cells: (item: T) => Cell[]): RowList {
  // The order is worked out once (4 bytes a row for conversations); the rows again at each pass.
  let sorted: SortedRows<T> | undefined;
  const rows = (): SortedRows<T> => (sorted ??= source());
  return {
    get length(): number {
      return rows().length;
    },
    *[Symbol.iterator](): Iterator<Cell[]> {
      const all = rows();
      for (let i = 0; i < all.length; i++) yield cells(all.at(i));
    },
  };
}

/** An array's items in order (what rowList draws from). */
function inOrder<T>(items: () => readonly T[]): () => SortedRows<T> {
  return () => {
    const all = items();
    return { length: all.length, at: (i) => all[i]! };
  };
}

function convTable(title: string, name: string, rows: () => SortedRows<ConversationRow>, optional?: boolean): ReportTable {
  const cells = (durationDigits: number) => (c: ConversationRow): Cell[] =>
    [c.a, c.b, c.framesAB, c.bytesAB, c.framesBA, c.bytesBA, c.frames, c.bytes, seconds(c.relStart, 9), seconds(c.duration, durationDigits)];
  return {
    title, name, headers: CONV_HEADERS, csvHeaders: CONV_CSV, align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'], ...(optional !== undefined ? { optional } : {}),
    rows: rowList(rows, cells(4)),
    csvRows: rowList(rows, cells(9)),
  };
}

function endpointTable(title: string, name: string, rows: () => readonly EndpointRow[], optional?: boolean): ReportTable {
  return {
    title,
    name,
    ...(optional !== undefined ? { optional } : {}),
    headers: ['Address', 'Frames', 'Bytes', 'Tx frames', 'Tx bytes', 'Rx frames', 'Rx bytes'],
    csvHeaders: ['address', 'frames', 'bytes', 'tx_frames', 'tx_bytes', 'rx_frames', 'rx_bytes'],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: rowList(inOrder(rows), (e) => [e.address, e.frames, e.bytes, e.txFrames, e.txBytes, e.rxFrames, e.rxBytes]),
  };
}

function countTable(title: string, name: string, what: string, rows: CountRow[]): ReportTable {
  return { title, name, headers: [what, 'Messages'], csvHeaders: [what.toLowerCase(), 'messages'], align: ['l', 'r'], rows: rowList(inOrder(() => rows), (c) => [c.key, c.messages]) };
}

function phsTable(nodes: PhsNode[]): ReportTable {
  const rows: Cell[][] = [];
  const csvRows: Cell[][] = [];
  const walk = (level: PhsNode[], depth: number, path: string): void => {
    for (const n of level) {
      const p = path === '' ? n.protocol : `${path}:${n.protocol}`;
      rows.push([`${'  '.repeat(depth)}${n.protocol}`, n.frames, n.bytes]);
      csvRows.push([p, n.frames, n.bytes]);
      walk(n.children, depth + 1, p);
    }
  };
  walk(nodes, 0, '');
  return { title: 'Protocol hierarchy', name: 'phs', headers: ['Protocol', 'Frames', 'Bytes'], csvHeaders: ['protocols', 'frames', 'bytes'], align: ['l', 'r', 'r'], rows, csvRows };
}

export function statsReport(r: StatsReport, tables: ReadonlySet<StatsTable>): Report {
  const blocks: ReportBlock[] = [{ kind: 'line', text: `${r.frames} frames, ${r.bytes} bytes` }, { kind: 'line', text: '' }];
  const table = (t: ReportTable): void => {
    blocks.push({ kind: 'table', table: t });
  };
  if (tables.has('phs')) table(phsTable(r.phs));
  // IPv6 tables are left out of the text when empty, unless asked for by name alone.
  const v6Optional = tables.has('conv,ip') || tables.has('endpoints,ip');
  if (tables.has('conv,tcp')) table(convTable('TCP conversations', 'conv_tcp', () => r.conversationRows('tcp')));
  if (tables.has('conv,udp')) table(convTable('UDP conversations', 'conv_udp', () => r.conversationRows('udp')));
  if (tables.has('conv,ip')) table(convTable('IPv4 conversations', 'conv_ip', () => r.conversationRows('ip')));
  if (tables.has('conv,ipv6')) table(convTable('IPv6 conversations', 'conv_ipv6', () => r.conversationRows('ipv6'), v6Optional));
  if (tables.has('endpoints,ip')) table(endpointTable('IPv4 endpoints', 'endpoints_ip', () => r.endpoints.ip));
  if (tables.has('endpoints,ipv6')) table(endpointTable('IPv6 endpoints', 'endpoints_ipv6', () => r.endpoints.ipv6, v6Optional));
  if (tables.has('commands')) {
    table({
      title: 'Commands (response times in seconds)',
      name: 'commands',
      headers: ['Protocol', 'Command', 'Requests', 'Responses', 'Matched', 'Min RT', 'Max RT', 'Avg RT'],
      csvHeaders: ['protocol', 'command', 'requests', 'responses', 'matched', 'min_rt', 'max_rt', 'avg_rt'],
      align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows: r.commands.map((c) => [c.protocol, c.command, c.requests, c.responses, c.matched, seconds(c.minRt), seconds(c.maxRt), seconds(c.avgRt)]),
      csvRows: r.commands.map((c) => [c.protocol, c.command, c.requests, c.responses, c.matched, seconds(c.minRt, 9), seconds(c.maxRt, 9), seconds(c.avgRt, 9)]),
    });
  }
  if (tables.has('messages')) {
    blocks.push({ kind: 'line', text: `Messenger messages: ${r.messages.total}`, heading: true }, { kind: 'line', text: '' });
    table(countTable('Messages per protocol', 'messages_protocol', 'Protocol', r.messages.byProtocol));
    table(countTable('Messages per sender', 'messages_sender', 'Sender', r.messages.bySender));
    table(countTable('Messages per recipient', 'messages_recipient', 'Recipient', r.messages.byRecipient));
    table(countTable('Messages per status', 'messages_status', 'Status', r.messages.byStatus));
  }
  if (tables.has('expert')) {
    const total = r.expert.reduce((n, e) => n + e.count, 0);
    table({
      title: `Expert information: ${total} finding(s)`,
      name: 'expert',
      headers: ['Severity', 'Protocol', 'Finding', 'Count', 'First frame', 'Summary'],
      csvHeaders: ['severity', 'protocol', 'id', 'count', 'first_frame', 'summary'],
      align: ['l', 'l', 'l', 'r', 'r', 'l'],
      rows: r.expert.map((e) => [e.severity, e.protocol, e.id, e.count, e.firstFrame, e.summary]),
    });
  }
  if (tables.has('dcerpc,srt')) {
    const rows = srtRows(r);
    table({
      title: 'DCE/RPC service response times (seconds), per interface and operation',
      name: 'dcerpc_srt',
      headers: ['Interface', 'Operation', 'Calls', 'Min SRT', 'Max SRT', 'Avg SRT', 'Sum SRT'],
      csvHeaders: ['interface', 'operation', 'calls', 'min_srt', 'max_srt', 'avg_srt', 'sum_srt'],
      align: ['l', 'l', 'r', 'r', 'r', 'r', 'r'],
      rows: rows.map((c) => [c.interface, c.operation, c.calls, seconds(c.minSrt), seconds(c.maxSrt), seconds(c.avgSrt), seconds(c.sumSrt)]),
      csvRows: rows.map((c) => [c.interface, c.operation, c.calls, seconds(c.minSrt, 9), seconds(c.maxSrt, 9), seconds(c.avgSrt, 9), seconds(c.sumSrt, 9)]),
    });
  }
  return {
    json: jsonReport(r, tables),
    blocks,
    warnings: r.truncated.length > 0 ? [`tables cut at their size limit: ${r.truncated.join(', ')}`] : [],
  };
}
