// TCP in the engine: the conversation table, tshark's stream numbering, relative sequence
// numbers and sequence analysis (retransmissions, out-of-order segments, window scaling),
// per-direction reassembly into in-order byte streams, and the choice of the application
// protocol each conversation is given (by port, then by content).
//
// Memory: a conversation whose only segment so far is a SYN is a compact record (SynOnly,
// about 200 bytes with its table entries: a SYN flood or a scan costs that per address and
// port); it also takes the SYN/ACK and the ACK of a plain handshake (about 390 bytes: a connect
// scan), and any other segment turns it into the full conversation, what it took replayed. A full
// conversation costs numbers and analysis state (about 1 KB; conversations stay in the half-open
// list below until their first payload byte, so they are bounded like SYNs) until it carries data an
// application claims; the application and its reassembly buffers are released when the
// conversation ends (FIN both ways, RST, idle timeout), and the record stays so that late
// segments keep their stream and relative numbers. Out-of-order bytes across all
// conversations share one budget; the table holds at most EngineOptions.conversationLimit records and gives
// up the oldest, a batch at a time, with one finding per batch. A conversation left inside a
// message the application buffer budget gave up, and silent since, is in the stalled list
// (EngineOptions.stalledLimit): past it the one stalled longest is ended and forgotten, so that
// connections left open mid-message by the thousand do not each keep their state for an hour.
import { endpoint } from '../net/addr.js';
import { f, type FieldNode } from '../model/fields.js';
import type { FindingDef } from '../model/findings.js';
import { TCP_FINDINGS } from '../net/findings.js';
import type { Layer, Packet } from '../model/packet.js';
import {
  TA_ANY_RETRANSMISSION, TA_FAST_RETRANSMISSION, TA_OUT_OF_ORDER, TA_RETRANSMISSION, TA_SPURIOUS_RETRANSMISSION, TcpAnalysis,
} from '../net/tcp-analysis.js';
import { ReassemblyBudget, TcpDirection, type ReassemblySink } from '../net/tcp-reassembly.js';
import { ACK, FIN, parseTcp, RST, SYN, tcpFlagsText, tcpTree, TCP, type TcpHeader } from '../net/transport.js';
import type { Direction, EngineCore, Route, TcpApp, TcpAppFactory, TcpConversationInfo } from './context.js';
import { RetiredNumbers, type RetiredFlow } from './flow-numbers.js';
import { evictBatch, FlowRecord, flowHash, FlowTable, type FlowSlot } from './flows.js';
import type { IpInfo } from './network.js';

/** Payload segments per conversation on which app detection is tried before giving up. */
const DETECT_TRIES = 16;
// Out-of-order bytes waiting across every conversation (EngineOptions.reassemblyBytes): past
// it the largest wait is given up. Conversations that have carried no data yet (a SYN with no
// answer, a handshake with nothing after it) kept at once (EngineOptions.halfOpenLimit): past
// it the oldest sixteenth is forgotten, with one finding — a SYN flood or a connect scan costs
// a bounded table, and a later segment of a forgotten one starts a new stream.
/**
 * A closed conversation (FIN both ways, RST), or one that carried nothing, is kept this long
 * after its last segment, for late segments' numbers and analysis and for SYN retransmissions
 * (twice the 2-minute MSL of RFC 9293 §3.4.2), then forgotten.
 */
const CLOSED_LINGER_SECONDS = 240;
/**
 * An established conversation silent this long (capture time) is ended: its application is
 * told and released. Zeek's TCP inactivity timeout is 5 minutes; 15 is Windows servers' default
 * autodisconnect for idle SMB sessions (MS-SMB2's and SMB1's clients reconnect after it), and
 * far longer than MSNP's pings (a client pings its notification server about every 50 s).
 * If it speaks again it takes up its numbers and its application is found again.
 */
const IDLE_SECONDS = 900;
/** Conversations ended idle and then forgotten whose numbers are kept (28 bytes each, in a table at most three quarters full). */
export const RETIRED_TCP_LIMIT = 1 << 18;

/** The payload of a segment that carries none (read only, never kept). */
const NO_PAYLOAD = new Uint8Array(0);

const START_HERE = 0;
const FIN_SEEN = 2;
const SENT = 4;

class TcpConversation extends FlowRecord implements TcpConversationInfo {
  readonly index: number;
  readonly dirs: [TcpDirection, TcpDirection];
  analysis = new TcpAnalysis();
  app: TcpApp | null | undefined = undefined;
  appName = '';
  detectTries = 0;
  /**
   * Per-direction flags, two bits each (direction 0 in the low bit), in one small integer rather
   * than three arrays (a connect scan keeps tens of thousands of these records):
   * START_HERE — the direction's next segment is where the app's stream starts (data before the
   * app was chosen is skipped); FIN_SEEN; SENT — the direction has sent a segment (its sequence
   * base is then its own, not guessed from an ACK).
   */
  private dirBits = 0;
  closed = false;
  /** Ended by the idle timeout, not by FIN or RST: a later segment takes it up again. */
  idled = false;
  sawHandshake = false;
  /**
   * In the half-open list: no payload carried yet — a SYN no one answered, or a handshake (a
   * connect scan) or bare ACKs with no data after them. Leaves it with its first payload byte.
   */
  halfOpen = false;
  /**
   * In the stalled list: the buffer budget gave up its unfinished application message and it has
   * carried no payload since. Leaves it with its next payload byte.
   */
  stalled = false;
  /** Made when an application is given the stream (most conversations never need them). */
  sinks: [DirectionSink, DirectionSink] | undefined;
  private endpoints: readonly [string, string] | undefined;
  private addrs: readonly [string, string] | undefined;

  constructor(index: number, addrA: string, addrB: string, portA: number, portB: number, v4A: number, v4B: number, hash: number, now: number, budget: ReassemblyBudget) {
    super(addrA, addrB, portA, portB, v4A, v4B, hash, now);
    this.index = index;
    this.dirs = [new TcpDirection(budget), new TcpDirection(budget)];
  }

  has(flag: number, dir: Direction): boolean {
    return (this.dirBits & (1 << (flag + dir))) !== 0;
  }

  both(flag: number): boolean {
    return ((this.dirBits >>> flag) & 3) === 3;
  }

  mark(flag: number, dir: Direction, on = true): void {
    if (on) this.dirBits |= 1 << (flag + dir);
    else this.dirBits &= ~(1 << (flag + dir));
  }

  /** IPv4 addresses are kept as numbers only: their text is made when an application asks. */
  get addr(): readonly [string, string] {
    return (this.addrs ??= [this.address(0), this.address(1)]);
  }

  get port(): readonly [number, number] {
    return [this.portA, this.portB];
  }

  get endpoint(): readonly [string, string] {
    const addr = this.addr;
    return (this.endpoints ??= [endpoint(addr[0], this.portA), endpoint(addr[1], this.portB)]);
  }
}

/**
 * A conversation that has carried one pure SYN and nothing else: what a SYN flood or a scan
 * leaves behind by the hundred thousand. It keeps the flow's identity, its stream number and
 * what is needed to replay that SYN into a full conversation when anything else arrives
 * (a second segment either way, a retransmitted SYN): a few numbers instead of the
 * conversation's directions, analysis and flags (about 200 bytes instead of 1.3 KB).
 */
class SynOnly extends FlowRecord {
  /** Sequence and acknowledgement numbers as signed 32-bit values (small integers, not boxed numbers). */
  private readonly seq32: number;
  private readonly ack32: number;
  /** Window (16 bits), window scale option + 1 (4 bits, 0: none), TCP flags (9 bits), in one small integer. */
  private readonly bits: number;

  constructor(
    addrA: string, addrB: string, portA: number, portB: number, v4A: number, v4B: number, hash: number, now: number,
    readonly index: number,
    h: TcpHeader,
    readonly tsNsec: number,
  ) {
    super(addrA, addrB, portA, portB, v4A, v4B, hash, now);
    this.seq32 = h.seq | 0;
    this.ack32 = h.ack | 0;
    // Scales past 14 count as 14 (RFC 7323 §2.3), which is all the analysis does with them.
    this.bits = h.window | ((h.windowScale === undefined ? 0 : Math.min(h.windowScale, 14) + 1) << 16) | ((h.flags & 0x1ff) << 20);
  }

  get seq(): number {
    return this.seq32 >>> 0;
  }

  get ack(): number {
    return this.ack32 >>> 0;
  }

  get window(): number {
    return this.bits & 0xffff;
  }

  get windowScale(): number | undefined {
    const ws = (this.bits >>> 16) & 0xf;
    return ws === 0 ? undefined : ws - 1;
  }

  get flags(): number {
    return (this.bits >>> 20) & 0x1ff;
  }

  /** The SYN/ACK and then the ACK that completed the handshake, when they came (a connect scan's). */
  rest: HandshakeRest | undefined;
}

/**
 * What a SYN-only record keeps of the SYN/ACK and the ACK that follow its SYN, so that a connect
 * scan's handshakes (SYN, SYN/ACK, ACK, then nothing) stay compact too: about 100 bytes here
 * instead of the full conversation's kilobyte. The ACK's numbers are the SYN's and SYN/ACK's plus one.
 */
class HandshakeRest {
  /** Capture time of the SYN (the record's lastSec moves on). */
  readonly synSec: number;
  readonly seq: number;
  readonly window: number;
  readonly windowScale: number | undefined;
  readonly sec: number;
  readonly nsec: number;
  /** The ACK: window, time; undefined until it came. */
  ackWindow: number | undefined;
  ackSec = 0;
  ackNsec = 0;

  constructor(synSec: number, h: TcpHeader, sec: number, nsec: number) {
    this.synSec = synSec;
    this.seq = h.seq;
    this.window = h.window;
    this.windowScale = h.windowScale;
    this.sec = sec;
    this.nsec = nsec;
  }
}

type TcpRecord = TcpConversation | SynOnly;

/** One direction's reassembly events, forwarded to the conversation's application. */
class DirectionSink implements ReassemblySink {
  constructor(private readonly owner: TcpConversations, private readonly conv: TcpConversation, private readonly dir: Direction) {}

  route(): Route {
    const ep = this.conv.endpoint;
    return { transport: 'tcp', src: ep[this.dir], dst: ep[this.dir === 0 ? 1 : 0] };
  }

  data(bytes: Uint8Array): void {
    const app = this.conv.app;
    if (app === null || app === undefined) return;
    try {
      app.data(this.dir, bytes);
    } catch (err) {
      this.owner.core.internalError(this.conv.appName, err);
    }
  }

  gap(from: number, length: number): void {
    this.owner.report(this, TCP_FINDINGS.gap, `TCP stream ${this.owner.streamNumber(this.conv)}: ${length} byte(s) from ${this.route().src} not captured (relative seq ${from}–${from + length - 1})`);
    const app = this.conv.app;
    if (app === null || app === undefined) return;
    try {
      app.gap(this.dir, length);
    } catch (err) {
      this.owner.core.internalError(this.conv.appName, err);
    }
  }

  conflict(from: number, length: number): void {
    this.owner.report(this, TCP_FINDINGS.overlapConflict, `TCP stream ${this.owner.streamNumber(this.conv)}: retransmitted bytes at relative seq ${from} (${length} byte(s)) differ from the first copy; the first copy was kept`);
  }

  limitHit(bytes: number): void {
    this.owner.report(this, TCP_FINDINGS.reassemblyLimit, `TCP stream ${this.owner.streamNumber(this.conv)}: ${bytes} bytes of out-of-order data waiting; the oldest hole is declared a gap`);
  }
}

/** What a segment's layer needs to build its Info text and tree, without a closure. */
class TcpLayer implements Layer {
  readonly name = 'tcp';
  readonly offset = 0;
  readonly length: number;
  private infoText: string | undefined;

  constructor(
    readonly bytes: Uint8Array,
    private readonly h: TcpHeader,
    private readonly stream: number,
    /** Shows the capture's tcp.stream for `stream` (another number only in a lane of a split capture). */
    private readonly numbers: Pick<EngineCore, 'tcpStream'>,
    private readonly relSeq: number,
    private readonly relAck: number,
    private readonly payloadLength: number,
    private readonly window: number,
    private readonly scale: number,
    private readonly analysis: number,
  ) {
    this.length = h.headerLength;
  }

  get srcPort(): number {
    return this.h.srcPort;
  }

  get dstPort(): number {
    return this.h.dstPort;
  }

  /** Built when a summary line asks for it (the timeline never does). */
  get info(): string {
    const h = this.h;
    return (this.infoText ??= `${infoPrefix(this.analysis)}${h.srcPort} → ${h.dstPort} [${tcpFlagsText(h.flags & 0x1ff)}] Seq=${this.relSeq}${(h.flags & ACK) !== 0 ? ` Ack=${this.relAck}` : ''} Win=${this.window} Len=${this.payloadLength}`);
  }

  tree(): FieldNode[] {
    const nodes = tcpTree(this.bytes, 0, this.h, { stream: this.numbers.tcpStream(this.stream), relSeq: this.relSeq, relAck: this.relAck, payloadLength: this.payloadLength, window: this.window, scale: this.scale });
    const a = this.analysis;
    if ((a & TA_ANY_RETRANSMISSION) !== 0) nodes.push(f(TCP['analysis.retransmission'], true));
    if ((a & TA_FAST_RETRANSMISSION) !== 0) nodes.push(f(TCP['analysis.fast_retransmission'], true));
    if ((a & TA_SPURIOUS_RETRANSMISSION) !== 0) nodes.push(f(TCP['analysis.spurious_retransmission'], true));
    if ((a & TA_OUT_OF_ORDER) !== 0) nodes.push(f(TCP['analysis.out_of_order'], true));
    return nodes;
  }
}

/**
 * A handshake segment's layer whose values come from replaying the compact record into a
 * throw-away conversation, done on first use: only summary lines, trees and filters use them.
 */
class HandshakeLayer implements Layer {
  readonly name = 'tcp';
  readonly offset = 0;
  readonly length: number;
  private built: TcpLayer | undefined;

  readonly srcPort: number;
  readonly dstPort: number;

  constructor(readonly bytes: Uint8Array, h: TcpHeader, private readonly build: () => TcpLayer) {
    this.length = h.headerLength;
    this.srcPort = h.srcPort;
    this.dstPort = h.dstPort;
  }

  get info(): string {
    return this.layer().info;
  }

  tree(): FieldNode[] {
    return this.layer().tree();
  }

  private layer(): TcpLayer {
    return (this.built ??= this.build());
  }
}

/** A conversation's first segment, a pure SYN from side 0, through the sequence analysis (its analysis flags). */
function analyseFirstSyn(analysis: TcpAnalysis, seq: number, ack: number, flags: number, window: number, windowScale: number | undefined, sec: number, nsec: number): number {
  const found = analysis.analyze(0, seq, ack, 0, flags, window, sec, nsec);
  analysis.synOptions(0, false, windowScale);
  return found;
}

/** The layer of a SYN that starts a SYN-only record: what a fresh conversation would show for it. */
function firstSynLayer(d: Uint8Array, h: TcpHeader, syn: SynOnly, numbers: Pick<EngineCore, 'tcpStream'>, sec: number, nsec: number): TcpLayer {
  const analysis = new TcpAnalysis();
  const flags = analyseFirstSyn(analysis, h.seq, h.ack, h.flags, h.window, h.windowScale, sec, nsec);
  // No ACK flag: tshark shows the acknowledgement field raw; the relative sequence number of the SYN is 0.
  return new TcpLayer(d, h, syn.index, numbers, 0, h.ack, 0, analysis.scaledWindow(0, h.window, h.flags), scaleFactor(analysis.sides[0].winScale), flags);
}

interface LayerValues {
  relSeq: number;
  relAck: number;
  window: number;
  scale: number;
  analysis: number;
}

/** A segment without payload replayed into a conversation as `segment` handles it: its layer's values. */
function replayHandshakeSegment(conv: TcpConversation, dir: Direction, seq: number, ack: number, flags: number, window: number, windowScale: number | undefined, sec: number, nsec: number): LayerValues {
  const mine = conv.dirs[dir];
  const peer = conv.dirs[dir === 0 ? 1 : 0];
  conv.mark(SENT, dir);
  conv.lastSec = sec;
  if ((flags & SYN) !== 0) {
    mine.syn(seq);
    if ((flags & ACK) !== 0) conv.sawHandshake = true;
  }
  if (mine.base === undefined) mine.startMidstream(seq);
  if (peer.base === undefined && (flags & ACK) !== 0) peer.startMidstream(ack);
  const relSeq = mine.displayRelative(seq);
  const relAck = (flags & ACK) === 0 ? ack : peer.base !== undefined ? peer.displayRelative(ack) : 0;
  const analysis = conv.analysis.analyze(dir, seq, ack, 0, flags, window, sec, nsec);
  if ((flags & SYN) !== 0) conv.analysis.synOptions(dir, (flags & ACK) !== 0, windowScale);
  return { relSeq, relAck, window: conv.analysis.scaledWindow(dir, window, flags), scale: scaleFactor(conv.analysis.sides[dir].winScale), analysis };
}

/** The first `n` items of a list kept in order (the oldest, or the least recently active). */
function firstOf<T>(items: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const item of items) {
    if (out.length >= n) break;
    out.push(item);
  }
  return out;
}

/** tshark's Info prefixes for the retransmission family. */
function infoPrefix(analysis: number): string {
  if (analysis === 0) return '';
  if ((analysis & TA_RETRANSMISSION) !== 0) return '[TCP Retransmission] ';
  if ((analysis & TA_FAST_RETRANSMISSION) !== 0) return '[TCP Fast Retransmission] ';
  if ((analysis & TA_SPURIOUS_RETRANSMISSION) !== 0) return '[TCP Spurious Retransmission] ';
  if ((analysis & TA_OUT_OF_ORDER) !== 0) return '[TCP Out-Of-Order] ';
  return '';
}

/** tshark's tcp.window_size_scalefactor: 2^shift, -1 unknown, -2 no scaling. */
function scaleFactor(shift: number): number {
  return shift >= 0 ? 2 ** shift : shift;
}

export class TcpConversations {
  private readonly table = new FlowTable<TcpRecord>();
  /** Conversations that carried nothing yet (full ones and SYN-only records), oldest first. */
  private readonly halfOpen = new Set<FlowSlot>();
  /**
   * Open conversations whose unfinished message the buffer budget gave up and that carried no
   * payload since, in the order they stalled: the first is the one idle longest.
   */
  private readonly stalledList = new Set<TcpConversation>();
  /**
   * Open conversations with an application, least recently active first (a conversation moves
   * to the end with each segment): past `-o tcp.app_limit` the first are ended as if idle.
   */
  private readonly withApp = new Set<TcpConversation>();
  private streams = 0;
  private readonly budget: ReassemblyBudget;

  /** The next tcp.stream index, told to the engine (a lane of a split capture keeps a log of them). */
  private newStream(): number {
    const index = this.streams++;
    this.core.tcpStreamCreated(index);
    return index;
  }

  /** The tcp.stream number a finding's text shows for a conversation. */
  streamNumber(conv: TcpConversation): number {
    return this.core.tcpStream(conv.index);
  }
  /** Directions holding out-of-order data, for the shared budget. */
  private readonly waiting = new Set<TcpDirection>();
  private readonly sinkOf = new Map<TcpDirection, DirectionSink>();
  /** Conversations ended idle and then forgotten: stream number, sequence bases, window scales. */
  private readonly retired = new RetiredNumbers(RETIRED_TCP_LIMIT, RETIRED_WORDS);

  constructor(readonly core: EngineCore, private readonly apps: readonly TcpAppFactory[]) {
    this.budget = new ReassemblyBudget(core.options.reassemblyBytes, core.options.historyBytes);
  }

  /** Ends conversations idle past the limit and forgets closed ones (all of them at the end). */
  sweep(now: number, all: boolean): void {
    for (const conv of this.table.records()) {
      if (all) this.end(conv);
      else if (now - conv.lastSec > IDLE_SECONDS && conv instanceof TcpConversation && !conv.closed) this.end(conv, true);
    }
    if (all) {
      this.table.clear();
      this.halfOpen.clear();
      this.retired.clear();
      this.stalledList.clear();
      this.withApp.clear();
      return;
    }
    // Closed conversations, and ones only one side ever spoke in (SYNs no one answered), go
    // after the linger time; the rest after the idle limit above (a handshake with no data yet
    // stays in the half-open list, bounded by its limit, but lingers as long as any open one).
    for (const conv of this.table.records()) {
      const idle = now - conv.lastSec;
      // A compact record whose handshake was answered lasts as a full conversation would: until the idle limit.
      if (conv instanceof SynOnly && conv.rest !== undefined) {
        if (idle > IDLE_SECONDS) this.forget(conv);
      } else if ((conv instanceof SynOnly || conv.closed || (conv.halfOpen && !conv.both(SENT))) && idle > CLOSED_LINGER_SECONDS) {
        // Only a conversation that carried data is worth its numbers (a scan's handshakes are not).
        const retire = conv instanceof TcpConversation && conv.idled && !conv.halfOpen;
        this.forget(conv);
        if (retire) this.retire(conv);
      }
    }
  }

  /** A conversation ended idle leaves the table: its numbers are kept in case it speaks again. */
  private retire(conv: TcpConversation): void {
    if (this.retired.remember(conv, conv.index, retiredWords(conv))) return;
    this.core.packetFinding(TCP_FINDINGS.numberingLimit.at(this.core.packet?.frame.number ?? 0,
      `more than ${RETIRED_TCP_LIMIT} idle TCP conversations remembered: their stream numbers were forgotten (a later segment of one starts a new stream)`));
  }

  /** A segment of a conversation ended idle and forgotten: its record again, ended, with its numbers. */
  private revive(found: RetiredFlow, ip: IpInfo, h: TcpHeader, hash: number, now: number): TcpConversation {
    const src4 = ip.src4 ?? -1;
    const dst4 = ip.dst4 ?? -1;
    const [a, b, pa, pb, a4, b4] = found.fromSide0
      ? [ip.src, ip.dst, h.srcPort, h.dstPort, src4, dst4]
      : [ip.dst, ip.src, h.dstPort, h.srcPort, dst4, src4];
    const conv = new TcpConversation(found.index, a4 >= 0 ? '' : a, b4 >= 0 ? '' : b, pa, pb, a4, b4, hash, now, this.budget);
    restoreWords(conv, found.words);
    conv.closed = true;
    conv.idled = true;
    if (this.table.size >= this.core.options.conversationLimit) this.evictOldest();
    this.table.insert(conv);
    this.table.side = found.fromSide0 ? 0 : 1;
    return conv;
  }

  /** A conversation ended idle speaks again: open, its application to be found from this segment. */
  private reopen(conv: TcpConversation): void {
    conv.closed = false;
    conv.idled = false;
    conv.app = undefined;
    conv.appName = '';
    conv.detectTries = 0;
    // Not a start at the handshake: each direction's stream starts at its next segment.
    conv.sawHandshake = false;
  }

  /** End of capture, after every conversation ended: the protocols flush state shared across conversations. */
  finish(): void {
    for (const app of this.apps) this.core.guard(app.name, () => app.finish?.(this.core));
  }

  /** A finding about one direction of a conversation, shown on its own in the timeline. */
  report(sink: DirectionSink, def: FindingDef, summary: string): void {
    const frame = this.core.packet?.frame;
    this.core.standaloneFinding(def.at(frame?.number ?? 0, summary), 'tcp', sink.route(), frame?.tsSec ?? this.core.lastSec, frame?.tsNsec ?? 0);
  }

  segment(packet: Packet, d: Uint8Array, ip: IpInfo): void {
    const h = parseTcp(d, 0);
    if (typeof h === 'string') {
      if (!ip.quoted) packet.findings.push(TCP_FINDINGS.malformed.at(packet.frame.number, h));
      else this.quoted(packet, d);
      return;
    }
    if (ip.quoted) {
      this.quoted(packet, d);
      return;
    }
    // Many segments carry nothing (ACKs, the handshake, FINs): no view is made for them.
    const payload = h.headerLength < d.length ? d.subarray(h.headerLength) : NO_PAYLOAD;
    const frame = packet.frame;
    const compact = payload.length === 0 && (h.flags & (SYN | ACK | FIN | RST)) === SYN;
    const found = this.conversation(ip, h, frame.tsSec, frame.tsNsec, compact, payload.length);
    if (found instanceof SynOnly) {
      if (found.rest === undefined) packet.layers.push(firstSynLayer(d, h, found, this.core, frame.tsSec, frame.tsNsec));
      else packet.layers.push(this.handshakeLayer(d, h, found));
      return;
    }
    const conv = found;
    const dir = this.table.side;
    if (conv.halfOpen && payload.length > 0) {
      conv.halfOpen = false;
      this.leaveHalfOpen(conv);
    }
    if (conv.stalled && payload.length > 0) this.unstall(conv);
    // Buffers an application attaches now are this conversation's (see `stalled`).
    const buffers = this.core.buffers;
    if (buffers !== undefined) buffers.owner = conv;
    const mine = conv.dirs[dir];
    const peer = conv.dirs[dir === 0 ? 1 : 0];
    if ((h.flags & SYN) !== 0) {
      mine.syn(h.seq);
      if ((h.flags & ACK) !== 0) conv.sawHandshake = true;
    }
    if (mine.base === undefined) mine.startMidstream(h.seq);
    // Mid-stream start: the first ACK fixes the peer's base too, so relative numbers start at 1 as in tshark.
    if (peer.base === undefined && (h.flags & ACK) !== 0) peer.startMidstream(h.ack);
    const relSeq = mine.displayRelative(h.seq);
    // Without the ACK flag tshark still shows the acknowledgement field, as its raw value (e.g. a bare RST).
    const relAck = (h.flags & ACK) === 0 ? h.ack : peer.base !== undefined ? peer.displayRelative(h.ack) : 0;
    const analysis = conv.analysis.analyze(dir, h.seq, h.ack, payload.length, h.flags, h.window, frame.tsSec, frame.tsNsec);
    if ((h.flags & SYN) !== 0) conv.analysis.synOptions(dir, (h.flags & ACK) !== 0, h.windowScale);
    const window = conv.analysis.scaledWindow(dir, h.window, h.flags);
    packet.layers.push(new TcpLayer(d, h, conv.index, this.core, relSeq, relAck, payload.length, window, scaleFactor(conv.analysis.sides[dir].winScale), analysis));

    if (conv.app === undefined && payload.length > 0 && !conv.closed) {
      this.detectApp(conv, dir, payload);
      // A late start skips what the peer sent before it: the detecting segment's ACK says how much.
      if (conv.app !== undefined && conv.has(START_HERE, dir === 0 ? 1 : 0) && (h.flags & ACK) !== 0 && peer.base !== undefined) {
        peer.next = Math.max(peer.next, peer.relative(h.ack));
      }
    }
    const app = conv.app;
    if (app !== null && app !== undefined) {
      this.touch(conv);
      const sinks = this.sinksOf(conv);
      if (conv.has(START_HERE, dir) && payload.length > 0) {
        conv.mark(START_HERE, dir, false);
        mine.next = Math.max(mine.next, mine.relative(h.seq));
      }
      try {
        if ((h.flags & ACK) !== 0 && peer.base !== undefined) peer.acknowledged(peer.relative(h.ack), sinks[dir === 0 ? 1 : 0]);
        mine.segment(h.seq, payload, sinks[dir]);
      } catch (err) {
        this.core.internalError(conv.appName, err);
      }
      if (this.budget.historyRefused) {
        this.budget.historyRefused = false;
        this.report(sinks[dir], TCP_FINDINGS.historyLimit,
          `TCP stream ${this.streamNumber(conv)}: ${this.budget.historyLimit} bytes of delivered data are kept across conversations to compare retransmissions against; this stream's history stops growing (retransmissions are compared with its last ${Math.max(mine.historyRoom, peer.historyRoom)} bytes at most)`);
      }
      if (mine.waiting > 0) this.waiting.add(mine);
      else this.waiting.delete(mine);
      if (peer.waiting === 0) this.waiting.delete(peer);
      if (this.budget.exceeded) this.giveUpLargestWait();
    }
    if ((h.flags & FIN) !== 0) {
      conv.mark(FIN_SEEN, dir);
      mine.fin = mine.relative(h.seq) + payload.length;
    }
    if ((h.flags & RST) !== 0 || conv.both(FIN_SEEN)) this.end(conv);
    if (buffers !== undefined) buffers.owner = undefined;
  }

  /**
   * The buffer budget gave up an unfinished message of `owner`'s application: the conversation
   * is left inside a message (a peer that declared more than it sends, connections left open by
   * the thousand) and joins the stalled list until it carries payload again. Past
   * `-o tcp.stalled_limit` the oldest stalled are ended and forgotten, with one finding: their
   * application, TCP analysis and numbers are what every such connection would otherwise keep
   * until the idle limit.
   */
  stalled(owner: object): void {
    // A closed conversation holds no application state (and every one forgotten was ended first).
    if (!(owner instanceof TcpConversation) || owner.closed || owner.stalled) return;
    owner.stalled = true;
    this.stalledList.add(owner);
    if (this.stalledList.size > this.core.options.stalledLimit) this.evictStalled();
  }

  private unstall(conv: TcpConversation): void {
    conv.stalled = false;
    this.stalledList.delete(conv);
  }

  /** A conversation with an application carried a segment: it becomes the most recently active. */
  private touch(conv: TcpConversation): void {
    this.withApp.delete(conv);
    this.withApp.add(conv);
    if (this.withApp.size > this.core.options.appLimit) this.evictLeastActive();
  }

  /**
   * Too many open conversations hold application state: the least recently active sixteenth
   * is ended as if idle and retired (its numbers kept), with one finding. A later segment of
   * one takes its stream up again and finds its application from there.
   */
  private evictLeastActive(): void {
    const victims = firstOf(this.withApp, evictBatch(this.core.options.appLimit));
    for (const conv of victims) {
      this.end(conv, true);
      this.forget(conv);
      this.retire(conv);
    }
    const frame = this.core.packet?.frame.number ?? 0;
    this.core.packetFinding(TCP_FINDINGS.appLimit.at(frame,
      `more than ${this.core.options.appLimit} open TCP conversations hold application state: the ${victims.length} least recently active were ended (a later segment of one takes up its stream again)`));
  }

  /** Too many stalled conversations: the oldest sixteenth is ended and forgotten, with one finding. */
  private evictStalled(): void {
    const victims = firstOf(this.stalledList, evictBatch(this.core.options.stalledLimit));
    for (const conv of victims) {
      this.end(conv);
      this.forget(conv);
    }
    const frame = this.core.packet?.frame.number ?? 0;
    this.core.packetFinding(TCP_FINDINGS.stalledLimit.at(frame,
      `more than ${this.core.options.stalledLimit} TCP conversations left inside an application message the buffer budget gave up, with nothing sent since: the ${victims.length} stalled longest were ended and forgotten (a later segment of one starts a new stream)`));
  }

  /** A TCP header quoted in an ICMP error: ports (and sequence number) only, no reassembly. */
  private quoted(packet: Packet, d: Uint8Array): void {
    if (d.length < 4) return;
    const sp = (d[0]! << 8) | d[1]!;
    const dp = (d[2]! << 8) | d[3]!;
    packet.layers.push({
      name: 'tcp',
      bytes: d,
      offset: 0,
      length: Math.min(d.length, 20),
      quoted: true,
      srcPort: sp,
      dstPort: dp,
      info: `${sp} → ${dp}`,
      tree: () => [f(TCP.srcport, sp, 0, 2), f(TCP.dstport, dp, 2, 2)],
    });
  }

  /** The conversation a segment belongs to (made when new); `table.side` is the segment's direction. */
  private conversation(ip: IpInfo, h: TcpHeader, now: number, nsec: number, compact: boolean, payloadLength: number): TcpRecord {
    const src4 = ip.src4 ?? -1;
    const dst4 = ip.dst4 ?? -1;
    const src = ip.src;
    const dst = ip.dst;
    const sp = h.srcPort;
    const dp = h.dstPort;
    const hash = flowHash(src, sp, dst, dp, src4, dst4);
    let record = this.table.find(hash, src, sp, dst, dp, src4, dst4);
    if (record === undefined && this.retired.size > 0) {
      const found = this.retired.recall(hash, src, sp, dst, dp, src4, dst4);
      if (found !== undefined) record = this.revive(found, ip, h, hash, now);
    }
    // A SYN-only record takes the handshake's SYN/ACK and ACK as they come; anything else makes
    // it a full conversation, what it holds replayed first.
    if (record instanceof SynOnly && payloadLength === 0 && this.absorb(record, h, this.table.side, now, nsec)) return record;
    let conv = record instanceof SynOnly ? this.promote(record) : record;
    const pureSyn = (h.flags & (SYN | ACK)) === SYN;
    let reuseIndex: number | undefined;
    /** A retransmitted SYN's stream keeps its sequence analysis, from the SYN sender's side. */
    let carried: { analysis: TcpAnalysis; senderDir: Direction } | undefined;
    if (conv !== undefined && pureSyn) {
      // As tshark: a SYN whose sequence number differs from its direction's base starts a new
      // stream (port reuse); a retransmitted SYN (same ISN) stays in the same stream, even
      // after a RST or FIN closed it (then with fresh state for the application).
      const senderDir = this.table.side;
      const sender = conv.dirs[senderDir];
      const sameIsn = !conv.has(SENT, senderDir) || (sender.sawSyn ? sender.base === h.seq : ((sender.base ?? 0) + 1) >>> 0 === h.seq);
      if (!sameIsn || conv.closed) {
        if (sameIsn) {
          reuseIndex = conv.index;
          carried = { analysis: conv.analysis, senderDir };
        }
        this.end(conv);
        this.forget(conv);
        conv = undefined;
      }
    }
    if (conv !== undefined && conv.idled && !pureSyn) this.reopen(conv);
    if (conv === undefined) {
      if (this.table.size >= this.core.options.conversationLimit) this.evictOldest();
      if (compact && carried === undefined) {
        // The first segment is a SYN: a compact record until anything else arrives.
        const syn = new SynOnly(src4 >= 0 ? '' : src, dst4 >= 0 ? '' : dst, sp, dp, src4, dst4, hash, now, reuseIndex ?? this.newStream(), h, nsec);
        this.table.insert(syn);
        this.enterHalfOpen(syn);
        if (this.halfOpen.size > this.core.options.halfOpenLimit) this.evictHalfOpen();
        this.table.side = 0;
        return syn;
      }
      // The SYN's sender is the client; otherwise guess the side on the well-known (lower) port is the server.
      const srcIsClient = pureSyn || (h.flags & (SYN | ACK)) !== (SYN | ACK) ? !(sp < dp && sp < 1024 && dp >= 1024) : false;
      conv = srcIsClient
        ? new TcpConversation(reuseIndex ?? this.newStream(), src4 >= 0 ? '' : src, dst4 >= 0 ? '' : dst, sp, dp, src4, dst4, hash, now, this.budget)
        : new TcpConversation(reuseIndex ?? this.newStream(), dst4 >= 0 ? '' : dst, src4 >= 0 ? '' : src, dp, sp, dst4, src4, hash, now, this.budget);
      this.table.insert(conv);
      conv.halfOpen = true;
      this.enterHalfOpen(conv);
      if (this.halfOpen.size > this.core.options.halfOpenLimit) this.evictHalfOpen();
      this.table.side = srcIsClient ? 0 : 1;
      if (carried !== undefined) conv.analysis = carried.senderDir === this.table.side ? carried.analysis : carried.analysis.mirrored();
    }
    conv.lastSec = now;
    conv.mark(SENT, this.table.side);
    return conv;
  }

  /**
   * A SYN-only record gets its second segment: it becomes a full conversation (in the table and
   * the half-open list, as the newest) with its SYN replayed as `segment` handles a first SYN.
   */
  private promote(syn: SynOnly): TcpConversation {
    const conv = this.materialize(syn).conv;
    // A full conversation made on the second segment is the newest; one that the record's
    // handshake stood for takes the record's place (the SYN/ACK made it the newest then).
    // (In the half-open list the record's place is its table place: `replace` hands it on.)
    if (syn.rest === undefined) {
      this.leaveHalfOpen(syn);
      this.table.remove(syn);
      this.table.insert(conv);
      this.enterHalfOpen(conv);
    } else this.table.replace(syn, conv);
    conv.halfOpen = true;
    return conv;
  }

  /**
   * The full conversation a compact record stands for, its segments replayed as `segment` handles
   * them (outside the table), and the layer values of the last one replayed.
   */
  private materialize(syn: SynOnly, withAck = true): { conv: TcpConversation; last: LayerValues | undefined } {
    const rest = syn.rest;
    const conv = new TcpConversation(syn.index, syn.addrA, syn.addrB, syn.portA, syn.portB, syn.v4A, syn.v4B, syn.hash, rest?.synSec ?? syn.lastSec, this.budget);
    conv.mark(SENT, 0);
    conv.dirs[0].syn(syn.seq);
    analyseFirstSyn(conv.analysis, syn.seq, syn.ack, syn.flags, syn.window, syn.windowScale, rest?.synSec ?? syn.lastSec, syn.tsNsec);
    if (rest === undefined) return { conv, last: undefined };
    const serverIsn = rest.seq;
    let last = replayHandshakeSegment(conv, 1, serverIsn, (syn.seq + 1) >>> 0, SYN | ACK, rest.window, rest.windowScale, rest.sec, rest.nsec);
    if (withAck && rest.ackWindow !== undefined) last = replayHandshakeSegment(conv, 0, (syn.seq + 1) >>> 0, (serverIsn + 1) >>> 0, ACK, rest.ackWindow, undefined, rest.ackSec, rest.ackNsec);
    return { conv, last };
  }

  /**
   * The next step of a compact record's handshake, kept in the record: the SYN/ACK from the
   * server acknowledging the SYN, then the client's bare ACK of it. False for anything else.
   */
  private absorb(syn: SynOnly, h: TcpHeader, side: Direction, now: number, nsec: number): boolean {
    const flags = h.flags & 0x1ff;
    const rest = syn.rest;
    if (rest === undefined) {
      if (side !== 1 || flags !== (SYN | ACK) || h.ack !== ((syn.seq + 1) >>> 0) || (syn.flags & 0x1ff) !== SYN) return false;
      syn.rest = new HandshakeRest(syn.lastSec, h, now, nsec);
    } else {
      if (side !== 0 || flags !== ACK || rest.ackWindow !== undefined || h.seq !== ((syn.seq + 1) >>> 0) || h.ack !== ((rest.seq + 1) >>> 0)) return false;
      rest.ackWindow = h.window;
      rest.ackSec = now;
      rest.ackNsec = nsec;
    }
    syn.lastSec = now;
    // The SYN/ACK is where a full conversation would have been made: the newest in the table and
    // the half-open list, as then.
    if (rest === undefined) {
      this.leaveHalfOpen(syn);
      this.table.remove(syn);
      this.table.insert(syn);
      this.enterHalfOpen(syn);
    }
    this.table.side = side;
    return true;
  }

  /**
   * The layer of a handshake segment a compact record took: what the full conversation would show,
   * worked out when an output asks for it (the timeline and the audit never do).
   */
  private handshakeLayer(d: Uint8Array, h: TcpHeader, syn: SynOnly): Layer {
    // The record keeps the SYN/ACK and the ACK; this segment is the last of them it has now.
    const withAck = syn.rest?.ackWindow !== undefined;
    return new HandshakeLayer(d, h, () => {
      const v = this.materialize(syn, withAck).last!;
      return new TcpLayer(d, h, syn.index, this.core, v.relSeq, v.relAck, 0, v.window, v.scale, v.analysis);
    });
  }

  /** The table is full: the oldest conversations are ended and forgotten, with one finding. */
  private evictOldest(): void {
    const victims = this.table.oldest(evictBatch(this.core.options.conversationLimit));
    for (const conv of victims) {
      this.end(conv);
      this.forget(conv);
    }
    const frame = this.core.packet?.frame.number ?? 0;
    this.core.packetFinding(TCP_FINDINGS.tableFull.at(frame,
      `more than ${this.core.options.conversationLimit} TCP conversations tracked: the ${victims.length} oldest were ended and forgotten (a later segment of one starts a new stream)`));
  }

  /** Too many conversations that carried nothing: the oldest are forgotten, with one finding. */
  private evictHalfOpen(): void {
    const batch = evictBatch(this.core.options.halfOpenLimit);
    for (const slot of firstOf(this.halfOpen, batch)) {
      const conv = slot.rec as TcpRecord;
      this.end(conv);
      this.forget(conv);
    }
    const frame = this.core.packet?.frame.number ?? 0;
    this.core.packetFinding(TCP_FINDINGS.halfOpenLimit.at(frame,
      `more than ${this.core.options.halfOpenLimit} TCP conversations that carried nothing yet: the ${batch} oldest were forgotten (a later segment of one starts a new stream)`));
  }

  private forget(conv: TcpRecord): void {
    if (conv instanceof SynOnly) this.leaveHalfOpen(conv);
    else if (conv.halfOpen) {
      conv.halfOpen = false;
      this.leaveHalfOpen(conv);
    }
    this.table.remove(conv);
  }

  /** The half-open list holds records' table places (in the table's order of them). */
  private enterHalfOpen(rec: TcpRecord): void {
    if (rec.slot !== undefined) this.halfOpen.add(rec.slot);
  }

  private leaveHalfOpen(rec: TcpRecord): void {
    if (rec.slot !== undefined) this.halfOpen.delete(rec.slot);
  }

  /** The out-of-order budget across conversations is exceeded: the largest wait becomes a gap. */
  private giveUpLargestWait(): void {
    while (this.budget.exceeded) {
      let largest: TcpDirection | undefined;
      for (const d of this.waiting) if (largest === undefined || d.waiting > largest.waiting) largest = d;
      if (largest === undefined) return;
      const sink = this.sinkOf.get(largest);
      this.waiting.delete(largest);
      if (sink === undefined) return;
      try {
        largest.giveUpHole(sink);
      } catch (err) {
        this.core.internalError('tcp', err);
      }
      if (largest.waiting > 0) this.waiting.add(largest);
    }
  }

  private sinksOf(conv: TcpConversation): [DirectionSink, DirectionSink] {
    if (conv.sinks !== undefined) return conv.sinks;
    const sinks: [DirectionSink, DirectionSink] = [new DirectionSink(this, conv, 0), new DirectionSink(this, conv, 1)];
    this.sinkOf.set(conv.dirs[0], sinks[0]);
    this.sinkOf.set(conv.dirs[1], sinks[1]);
    conv.sinks = sinks;
    return sinks;
  }

  private detectApp(conv: TcpConversation, dir: Direction, payload: Uint8Array): void {
    const server = conv.portB;
    const client = conv.portA;
    let byPort: TcpAppFactory | undefined;
    for (const app of this.apps) if (app.ports?.includes(server) === true) { byPort = app; break; }
    if (byPort === undefined) for (const app of this.apps) if (app.ports?.includes(client) === true) { byPort = app; break; }
    let chosen: TcpAppFactory | undefined;
    if (byPort !== undefined && (byPort.detect === undefined || byPort.detect(payload, dir, conv, this.core) || conv.detectTries >= 2)) chosen = byPort;
    if (chosen === undefined) for (const app of this.apps) if (app !== byPort && app.detect?.(payload, dir, conv, this.core) === true) { chosen = app; break; }
    if (chosen === undefined && byPort !== undefined) chosen = byPort;
    if (chosen === undefined) {
      if (++conv.detectTries >= DETECT_TRIES) conv.app = null;
      return;
    }
    const factory = chosen;
    conv.appName = factory.name;
    try {
      conv.app = factory.create(conv, this.core);
    } catch (err) {
      this.core.internalError(factory.name, err);
    }
    if (conv.app === undefined) conv.app = null;
    // Data seen before the app was chosen was not kept: each direction's stream starts at its
    // next segment, so the skipped bytes are not mistaken for a gap. When the handshake was
    // seen and this is the first payload, nothing was skipped: keep the streams at their start,
    // or a first segment that arrives out of order would be taken as the start.
    const late = !(conv.sawHandshake && conv.detectTries === 0);
    conv.mark(START_HERE, 0, late);
    conv.mark(START_HERE, 1, late);
  }

  /** The conversation ended (`idle`: by the idle timeout): its application is told and released with its buffers. */
  private end(conv: TcpRecord, idle = false): void {
    if (conv instanceof SynOnly || conv.closed) return;
    conv.closed = true;
    conv.idled = idle;
    if (conv.stalled) this.unstall(conv);
    this.withApp.delete(conv);
    const app = conv.app;
    if (app !== null && app !== undefined) {
      const sinks = this.sinksOf(conv);
      try {
        conv.dirs[0].flush(sinks[0]);
        conv.dirs[1].flush(sinks[1]);
        app.end();
      } catch (err) {
        this.core.internalError(conv.appName, err);
      }
    }
    // A closed conversation keeps its numbers for late segments; its application state goes.
    if (conv.app !== undefined) conv.app = null;
    for (const d of conv.dirs) {
      this.waiting.delete(d);
      this.sinkOf.delete(d);
      d.release();
    }
    conv.sinks = undefined;
  }
}

// What a retired conversation keeps besides its number: each direction's sequence base, and
// one word of flags — per direction whether it has a base, saw its SYN, has sent, and its
// window scale (tshark's shift, or unknown / none) — so relative numbers and scaled windows
// go on as before.
const RETIRED_WORDS = 3;
const R_BASE = 1;
const R_SYN = 2;
const R_SENT = 4;
/** Window scale shift + 2 (0: none, 1: unknown), 4 bits per direction, above the 3 flag bits each. */
const R_SCALE_SHIFT = 3;

function retiredWords(conv: TcpConversation): number[] {
  let flags = 0;
  for (const dir of [0, 1] as const) {
    const d = conv.dirs[dir];
    let bits = 0;
    if (d.base !== undefined) bits |= R_BASE;
    if (d.sawSyn) bits |= R_SYN;
    if (conv.has(SENT, dir)) bits |= R_SENT;
    bits |= (conv.analysis.sides[dir].winScale + 2) << R_SCALE_SHIFT;
    flags |= bits << (dir * 8);
  }
  return [conv.dirs[0].base ?? 0, conv.dirs[1].base ?? 0, flags];
}

function restoreWords(conv: TcpConversation, words: readonly number[]): void {
  const flags = words[2] ?? 0;
  for (const dir of [0, 1] as const) {
    const bits = (flags >>> (dir * 8)) & 0xff;
    const d = conv.dirs[dir];
    if ((bits & R_BASE) !== 0) {
      d.base = words[dir] ?? 0;
      d.next = 1;
    }
    d.sawSyn = (bits & R_SYN) !== 0;
    conv.mark(SENT, dir, (bits & R_SENT) !== 0);
    conv.analysis.sides[dir].winScale = ((bits >>> R_SCALE_SHIFT) & 0xf) - 2;
  }
}
