// Statistics over dissected frames and timeline events (`msgscope stats`): the protocol
// hierarchy (tshark -z io,phs), conversations and endpoints (tshark -z conv,… / endpoints,ip,
// same numbers: frames and on-the-wire bytes, A being the first frame's source), per-protocol
// command counts with response times, and messenger messages per protocol, sender and
// recipient. Everything is derived from the field registry and the events: a protocol that
// declares a command field (`<p>.cmd`, `<p>.command`, `<p>.opnum`, `<p>.opcode`) gets a
// command table; one that links responses to requests (`<p>.request_in`, `<p>.response_to`)
// gets response times.
import { NEEDS_TREE, type Packet, type Layer } from '../model/packet.js';
import type { TimelineEvent } from '../model/events.js';
import { formatValue, listProtocols, type FieldDef, type FieldNode, type FieldValue } from '../model/fields.js';
import type { ReportSink } from '../output/sinks/index.js';
import type { Analysis, FileInfo } from '../runner/analysis.js';
import type { Severity } from '../model/findings.js';

const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { error: 0, warning: 1, note: 2 };
import { statsReport, type StatsTable } from './stats-report.js';
import { PendingCalls } from './pending-calls.js';
import { Conversations, type ConvKind, type SortedRows } from './conversations.js';

/** Bounds: tables stop growing here (the report says so) so memory stays bounded (pending requests: pending-calls.ts). */
const MAX_ROWS = 200_000;

export interface PhsNode {
  protocol: string;
  frames: number;
  bytes: number;
  children: PhsNode[];
}

export interface ConversationRow {
  a: string;
  b: string;
  /** A → B */
  framesAB: number;
  bytesAB: number;
  /** B → A */
  framesBA: number;
  bytesBA: number;
  frames: number;
  bytes: number;
  /** Seconds from the first frame of the first capture. */
  relStart: number;
  duration: number;
}

export interface EndpointRow {
  address: string;
  frames: number;
  bytes: number;
  txFrames: number;
  txBytes: number;
  rxFrames: number;
  rxBytes: number;
}

export interface CommandRow {
  protocol: string;
  command: string;
  requests: number;
  responses: number;
  /** Response times in seconds, over the responses matched to a request. */
  matched: number;
  minRt?: number;
  maxRt?: number;
  avgRt?: number;
}

/** One row of -z dcerpc,srt. */
export interface SrtRow {
  interface: string;
  /** The opnum, with its name where a layer gives one. */
  operation: string;
  calls: number;
  minSrt: number;
  maxSrt: number;
  avgSrt: number;
  sumSrt: number;
}

/** One row of -z expert: a finding, how often, where first. */
export interface ExpertRow {
  severity: Severity;
  protocol: string;
  id: string;
  summary: string;
  count: number;
  firstFrame: number;
}

export interface CountRow {
  key: string;
  messages: number;
}

export interface StatsReport {
  frames: number;
  bytes: number;
  phs: PhsNode[];
  /** Conversation and endpoint tables: each made (sorted) when read. */
  conversations: { readonly tcp: ConversationRow[]; readonly udp: ConversationRow[]; readonly ip: ConversationRow[]; readonly ipv6: ConversationRow[] };
  endpoints: { readonly ip: EndpointRow[]; readonly ipv6: EndpointRow[] };
  /** A conversation table's rows in the order of `conversations`, each made when asked for (what text and CSV draw). */
  conversationRows(kind: ConvKind): SortedRows<ConversationRow>;
  commands: CommandRow[];
  srt: SrtRow[];
  expert: ExpertRow[];
  messages: { total: number; byProtocol: CountRow[]; bySender: CountRow[]; byRecipient: CountRow[]; byStatus: CountRow[] };
  /** Tables that hit their bound (rows beyond it were not counted separately). */
  truncated: string[];
}

interface CommandInfo {
  readonly command: FieldDef;
  readonly link: FieldDef[];
  readonly operation?: FieldDef;
  readonly iface?: FieldDef;
  /** A PDU type whose values say request or response (DCE/RPC's `pkt_type`). */
  readonly pduType?: FieldDef;
  /** Fields that name one call in both directions where no request_in link exists (DCE/RPC datagrams: activity and sequence number). */
  readonly callKey: FieldDef[];
  /** All of the above, each once: the fields read from a PDU, into an array in this order. */
  readonly wanted: readonly FieldDef[];
  /** Each wanted field's place in that array. */
  readonly slot: ReadonlyMap<FieldDef, number>;
}

/** DCE/RPC PDU types (C706 12.1): which count as a call's request, which as its answer; others (bind, ack, ping…) are no call. */
const REQUEST_PDU = new Set([0]);
const ANSWER_PDU = new Set([2, 3]);

interface CmdAcc {
  /** Its place in `StatsCollector.commandRows` (what a pending request names). */
  readonly index: number;
  protocol: string;
  command: string;
  /** The interface (DCE/RPC) and the command alone, for -z dcerpc,srt. */
  group: string | undefined;
  code: string;
  requests: number;
  responses: number;
  matched: number;
  sum: number;
  min: number;
  max: number;
}

function commandProtocols(): Map<string, CommandInfo> {
  const out = new Map<string, CommandInfo>();
  for (const p of listProtocols()) {
    const get = (key: string): FieldDef | undefined => p.fields.get(`${p.name}.${key}`);
    const command = get('cmd') ?? get('command') ?? get('opnum') ?? get('opcode');
    if (command === undefined) continue;
    const link = [get('request_in'), get('response_to')].filter((d): d is FieldDef => d !== undefined);
    const callKey = [get('dg_act_id'), get('dg_seqnum')].filter((d): d is FieldDef => d !== undefined);
    const info = { command, link, operation: get('operation'), iface: get('interface'), pduType: get('pkt_type'), callKey: callKey.length === 2 ? callKey : [] };
    const wanted = new Set<FieldDef>([info.command, ...info.link, ...info.callKey]);
    for (const def of [info.operation, info.iface, info.pduType]) if (def !== undefined) wanted.add(def);
    out.set(p.name, { ...info, wanted: [...wanted], slot: new Map([...wanted].map((def, i) => [def, i])) });
  }
  return out;
}

/** The fields the command table reads from each protocol's PDUs (what `Layer.fieldValue` should give without the tree). */
export function commandFields(): Map<string, readonly FieldDef[]> {
  return new Map([...commandProtocols()].map(([name, info]) => [name, info.wanted]));
}

/** The values of a PDU's wanted fields, by `info.slot`: a layer's own answers (`Layer.fieldValue`), else its tree's first node of each. */
class WantedValues {
  private readonly values: (FieldValue | undefined)[] = [];

  constructor(readonly info: CommandInfo) {}

  read(layer: Layer): void {
    const { wanted } = this.info;
    const values = this.values;
    if (layer.fieldValue !== undefined) {
      let i = 0;
      for (; i < wanted.length; i++) {
        const v = layer.fieldValue(wanted[i]!);
        if (v === NEEDS_TREE) break;
        values[i] = v;
      }
      if (i === wanted.length) return;
    }
    values.length = 0;
    findNodes(layer.tree(), this.info.slot, values);
  }

  get(def: FieldDef | undefined): FieldValue | undefined {
    if (def === undefined) return undefined;
    const i = this.info.slot.get(def);
    return i === undefined ? undefined : this.values[i];
  }
}

function findNodes(nodes: readonly FieldNode[], slot: ReadonlyMap<FieldDef, number>, into: (FieldValue | undefined)[]): void {
  for (const node of nodes) {
    const i = slot.get(node.def);
    if (i !== undefined && into[i] === undefined) into[i] = node.value;
    if (node.children !== undefined) findNodes(node.children, slot, into);
  }
}

class Table<T> {
  readonly rows = new Map<string, T>();
  full = false;

  get(key: string, make: () => T): T | undefined {
    let row = this.rows.get(key);
    if (row === undefined) {
      if (this.rows.size >= MAX_ROWS) {
        this.full = true;
        return undefined;
      }
      row = make();
      this.rows.set(key, row);
    }
    return row;
  }
}

export class StatsCollector {
  private frames = 0;
  private bytes = 0;
  /** The first frame's time; every other time is kept relative to it (doubles keep ns precision that way). */
  private base: { sec: number; nsec: number } | undefined;
  private readonly phsRoot: PhsNode = { protocol: '', frames: 0, bytes: 0, children: [] };
  private readonly conv = new Conversations();
  /** Per protocol with a command field: what to read and where its values go (one array, reused). */
  private readonly commandInfo = new Map([...commandProtocols()].map(([name, info]) => [name, new WantedValues(info)]));
  private readonly commands = new Table<CmdAcc>();
  /** The command rows by index. */
  private readonly commandRows: CmdAcc[] = [];
  /** Requests waiting for their answer (their command row's index), by frame (request_in links) or call key; cleared per file. */
  private readonly pendingCalls: PendingCalls;
  /** Whether pending requests went because their table was full (in any file). */
  private pendingFull = false;
  private file = 0;
  private messages = 0;
  private readonly byProtocol = new Table<CountRow>();
  private readonly bySender = new Table<CountRow>();
  private readonly byRecipient = new Table<CountRow>();
  private readonly byStatus = new Table<CountRow>();
  private readonly expert = new Table<ExpertRow>();

  /** `bounds`: the pending requests' (smaller in tests; pending-calls.ts has the defaults). */
  constructor(bounds: { readonly pendingFrames?: number; readonly pendingCalls?: number } = {}) {
    this.pendingCalls = new PendingCalls(bounds.pendingFrames, bounds.pendingCalls);
  }

  /** The next packets come from another capture file (frame numbers start again). */
  nextFile(): void {
    this.file++;
    this.pendingFull ||= this.pendingCalls.full;
    this.pendingCalls.clear();
  }

  packet(packet: Packet): void {
    const frame = packet.frame;
    this.base ??= { sec: frame.tsSec, nsec: frame.tsNsec };
    const t = frame.tsSec - this.base.sec + (frame.tsNsec - this.base.nsec) / 1e9;
    this.frames++;
    this.bytes += frame.len;
    this.hierarchy(packet.layers, frame.len);
    this.conv.packet(packet.layers, t, frame.len);
    if (this.commandInfo.size > 0) this.commandStats(packet, t);
    for (const f of packet.findings) {
      const row = this.expert.get(f.id, () => ({ severity: f.severity, protocol: f.id.split('.')[0]!, id: f.id, summary: f.summary, count: 0, firstFrame: f.frame }));
      if (row !== undefined) row.count++;
    }
  }

  private hierarchy(layers: readonly Layer[], len: number): void {
    let node = this.phsRoot;
    node.frames++;
    node.bytes += len;
    let previous = '';
    for (const layer of layers) {
      // Several PDUs of one protocol in a frame count once, as one protocol in the chain.
      if (layer.name === previous) continue;
      previous = layer.name;
      let child = node.children.find((c) => c.protocol === layer.name);
      if (child === undefined) {
        child = { protocol: layer.name, frames: 0, bytes: 0, children: [] };
        node.children.push(child);
      }
      child.frames++;
      child.bytes += len;
      node = child;
    }
  }

  private commandStats(packet: Packet, t: number): void {
    this.pendingCalls.expire(t);
    for (const layer of packet.layers) {
      const found = this.commandInfo.get(layer.name);
      if (found === undefined || layer.quoted === true) continue;
      const info = found.info;
      found.read(layer);
      const pdu = found.get(info.pduType);
      if (typeof pdu === 'number' && !REQUEST_PDU.has(pdu) && !ANSWER_PDU.has(pdu)) continue;
      let requestFrame: number | undefined;
      for (const def of info.link) {
        const v = found.get(def);
        if (typeof v === 'number') requestFrame = v;
      }
      const keyParts = info.callKey.map((d) => found.get(d));
      const callKey = keyParts.length > 0 && keyParts.every((v) => v !== undefined && v !== null) ? `call:${layer.name}:${keyParts.map(String).join(':')}` : undefined;
      const answer = typeof pdu === 'number' ? ANSWER_PDU.has(pdu) : requestFrame !== undefined;
      if (answer) {
        // The request's row (the answer often does not repeat the command, e.g. DCE/RPC's opnum) and time.
        const pendingIndex = requestFrame !== undefined ? this.pendingCalls.getFrame(layer.name, requestFrame) : callKey !== undefined ? this.pendingCalls.getCall(callKey) : -1;
        const pending = pendingIndex >= 0 ? this.commandRows[pendingIndex] : undefined;
        const requestTime = this.pendingCalls.foundTime;
        const row = pending ?? this.commandRow(layer.name, info, found);
        if (row === undefined) continue;
        row.responses++;
        if (pending !== undefined && requestFrame !== packet.frame.number) {
          if (callKey !== undefined && requestFrame === undefined) this.pendingCalls.deleteCall(callKey);
          const rt = t - requestTime;
          row.matched++;
          row.sum += rt;
          if (rt < row.min) row.min = rt;
          if (rt > row.max) row.max = rt;
        }
        continue;
      }
      const row = this.commandRow(layer.name, info, found);
      if (row === undefined) continue;
      row.requests++;
      if (info.link.length > 0 || callKey !== undefined) {
        // Several PDUs of one frame: the first request is the one an answer's request_in names.
        if (callKey !== undefined) {
          if (!this.pendingCalls.hasCall(callKey)) this.pendingCalls.setCall(callKey, t, row.index);
        } else if (!this.pendingCalls.hasFrame(layer.name, packet.frame.number)) {
          this.pendingCalls.setFrame(layer.name, packet.frame.number, t, row.index);
        }
      }
    }
  }

  /** The row of a command: its value named, with the operation and interface where the layer gives them. */
  private commandRow(protocol: string, info: CommandInfo, found: WantedValues): CmdAcc | undefined {
    const value = found.get(info.command);
    if (value === undefined || value === null) return undefined;
    let code = info.command.values !== undefined || typeof value === 'string' ? formatValue(info.command, value) : String(value);
    const op = found.get(info.operation);
    if (typeof op === 'string' && op !== '') code = `${code} (${op})`;
    const iface = found.get(info.iface);
    const group = typeof iface === 'string' && iface !== '' ? iface : undefined;
    const label = group !== undefined ? `${group} ${code}` : code;
    return this.commands.get(`${protocol}\u0000${label}`, () => {
      const row = { index: this.commandRows.length, protocol, command: label, group, code, requests: 0, responses: 0, matched: 0, sum: 0, min: Infinity, max: -Infinity };
      this.commandRows.push(row);
      return row;
    });
  }

  event(event: TimelineEvent): void {
    if (event.kind !== 'message') return;
    this.messages++;
    const bump = (table: Table<CountRow>, key: string): void => {
      const row = table.get(key, () => ({ key, messages: 0 }));
      if (row !== undefined) row.messages++;
    };
    bump(this.byProtocol, event.protocol);
    bump(this.bySender, event.from);
    for (const to of new Set(event.to)) bump(this.byRecipient, to);
    bump(this.byStatus, event.status === 'error' && event.error !== undefined ? `error ${event.error}` : event.status);
  }

  report(): StatsReport {
    const counts = (table: Table<CountRow>): CountRow[] => [...table.rows.values()].sort((x, y) => y.messages - x.messages || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    const sortPhs = (nodes: PhsNode[]): PhsNode[] => nodes.map((n) => ({ ...n, children: sortPhs(n.children) })).sort((x, y) => y.frames - x.frames || y.bytes - x.bytes);
    const truncated: string[] = [];
    const conv = this.conv;
    for (const name of conv.truncated()) truncated.push(`conversations.${name}`);
    if (this.commands.full) truncated.push('commands');
    if (this.pendingFull || this.pendingCalls.full) truncated.push('commands.pendingRequests');
    if (this.expert.full) truncated.push('expert');
    for (const [name, table] of [['bySender', this.bySender], ['byRecipient', this.byRecipient], ['byProtocol', this.byProtocol], ['byStatus', this.byStatus]] as const) {
      if (table.full) truncated.push(`messages.${name}`);
    }
    return {
      frames: this.frames,
      bytes: this.bytes,
      phs: sortPhs(this.phsRoot.children),
      // Made when read, each time: a sink takes one table at a time (up to 200,000 rows each), so
      // the others' rows need not be alive at once (about 80 MB of rows at the end of spam-1m).
      conversations: {
        get tcp() { return conv.rows('tcp'); },
        get udp() { return conv.rows('udp'); },
        get ip() { return conv.rows('ip'); },
        get ipv6() { return conv.rows('ipv6'); },
      },
      endpoints: {
        get ip() { return conv.endpoints('ip'); },
        get ipv6() { return conv.endpoints('ipv6'); },
      },
      conversationRows: (kind) => conv.sorted(kind),
      commands: [...this.commands.rows.values()]
        .map((r) => ({
          protocol: r.protocol, command: r.command, requests: r.requests, responses: r.responses, matched: r.matched,
          ...(r.matched > 0 ? { minRt: r.min, maxRt: r.max, avgRt: r.sum / r.matched } : {}),
        }))
        .sort((x, y) => (x.protocol < y.protocol ? -1 : x.protocol > y.protocol ? 1 : y.requests + y.responses - (x.requests + x.responses))),
      srt: [...this.commands.rows.values()]
        .filter((c) => c.protocol === 'dcerpc' && c.matched > 0)
        .map((c) => ({ interface: c.group ?? '(no bind seen)', operation: c.code, calls: c.matched, minSrt: c.min, maxSrt: c.max, avgSrt: c.sum / c.matched, sumSrt: c.sum }))
        .sort((a, b) => (a.interface < b.interface ? -1 : a.interface > b.interface ? 1 : parseInt(a.operation, 10) - parseInt(b.operation, 10))),
      expert: [...this.expert.rows.values()].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.count - a.count || (a.id < b.id ? -1 : 1)),
      messages: { total: this.messages, byProtocol: counts(this.byProtocol), bySender: counts(this.bySender), byRecipient: counts(this.byRecipient), byStatus: counts(this.byStatus) },
      truncated,
    };
  }
}

/** `msgscope stats` as an analysis: frames (after -Y) and every event in, one report out. */
export class StatsAnalysis implements Analysis {
  private collector = new StatsCollector();
  /** Messages are counted by protocol, sender, recipient and status: no flow ids. */
  readonly flowIds = false;

  constructor(private readonly tables: ReadonlySet<StatsTable>, private readonly sinks: readonly ReportSink[], private readonly warn: (message: string) => void) {}

  beginFile(file: FileInfo): void {
    if (file.index > 0) this.collector.nextFile();
  }

  packet(packet: Packet): void {
    this.collector.packet(packet);
  }

  event(event: TimelineEvent): void {
    this.collector.event(event);
  }

  async finish(): Promise<void> {
    const collected = this.collector.report();
    // The tables' rows, keys and pending calls are garbage from here on (the report has copies): let the collector go while the sinks write.
    this.collector = new StatsCollector();
    const report = statsReport(collected, this.tables);
    for (const sink of this.sinks) await sink.write(report);
    for (const warning of report.warnings ?? []) this.warn(warning);
  }
}
