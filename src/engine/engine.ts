// The dissection engine: frames in, packets (layers + columns) and timeline events out.
// It decodes the layers up to the transport itself, keeps the conversation tables, IP
// reassembly and TCP reassembly, and hands application bytes to the protocols it is given.
import type { Frame } from '../capture/frame.js';
import { f } from '../model/fields.js';
import { finding, type Finding } from '../model/findings.js';
import type { TimelineEvent } from '../model/events.js';
import { decodeLink } from '../net/link.js';
import { ipv4Tree, parseIpv4, IP, IP_PROTOCOLS } from '../net/ipv4.js';
import { ipv6Tree, parseIpv6, IPV6 } from '../net/ipv6.js';
import { decodeArp } from '../net/arp.js';
import { decodeIpx } from '../net/ipx.js';
import { Defragmenter } from '../net/defrag.js';
import {
  ACK, FIN, ICMP, ICMP_TYPES, ICMP_UNREACH_CODES, ICMPV6, ICMPV6_TYPES, ICMPV6_UNREACH_CODES, parseTcp, parseUdp, RST, SYN,
  tcpFlagsText, tcpTree, udpTree, TCP, type TcpHeader,
} from '../net/transport.js';
import { TcpDirection, type ReassemblySink } from '../net/tcp-reassembly.js';
import { endpoint } from '../net/addr.js';
import type {
  Direction, EngineContext, EngineOptions, Route, TcpApp, TcpAppFactory, TcpConversationInfo, UdpAppFactory, UdpDatagram,
} from './context.js';
import { DEFAULT_OPTIONS } from './context.js';
import { instantiate, type ProtocolSet } from './protocols.js';
import type { Packet } from '../model/packet.js';

export interface EngineHandlers {
  /** Every dissected frame, in order, while its data is still valid. */
  packet?(packet: Packet): void;
  /** Every timeline event, when it is complete (not necessarily in frame order). */
  event?(event: TimelineEvent): void;
}

const MAX_CONVERSATIONS = 1_000_000;
/** Conversations idle this long (capture time) are ended, their state freed. */
const IDLE_SECONDS = 3600;
const SWEEP_EVERY = 65536;
/** Payload segments per conversation on which app detection is tried before giving up. */
const DETECT_TRIES = 16;
/** IP-in-IP nesting decoded before giving up (each level is at least 20 bytes, but stay sane). */
const MAX_TUNNEL_DEPTH = 4;

interface TcpConversation extends TcpConversationInfo {
  readonly dirs: [TcpDirection, TcpDirection];
  app: TcpApp | null | undefined;
  appName: string;
  detectTries: number;
  /** Directions whose next segment is where the app's stream starts (data before the app was chosen is skipped). */
  startHere: [boolean, boolean];
  finSeen: [boolean, boolean];
  /** Whether each direction has sent a segment (its sequence base is then its own, not guessed from an ACK). */
  sent: [boolean, boolean];
  closed: boolean;
  lastSec: number;
  sawHandshake: boolean;
  /** Made when an application is given the stream (most conversations never need them). */
  sinks: [ReassemblySink, ReassemblySink] | undefined;
  /** IPv4 addresses as numbers ([client, server]) for the fast lookup; undefined for IPv6. */
  readonly v4: readonly [number, number] | undefined;
  /** Its slot in the IPv4 index (-1 when not indexed). */
  readonly hash4: number;
  /** Whether the string-keyed table (the authority) holds this conversation. */
  inTable: boolean;
}

interface UdpConversation {
  readonly index: number;
  lastSec: number;
}

interface IpInfo {
  readonly src: string;
  readonly dst: string;
  readonly quoted: boolean;
  readonly icmpReason?: string;
  readonly frames: number[];
  /** The outer IPv4 header's addresses as numbers (TCP's fast conversation lookup). */
  readonly src4?: number;
  readonly dst4?: number;
}

const u32 = (d: Uint8Array, o: number): number => ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;

/** One side of an IPv4 conversation hashed (XOR-combined with the other side: the order does not matter). */
function mix4(addr: number, port: number): number {
  let x = Math.imul(addr ^ (port << 16) ^ port, 0x9e3779b1);
  x ^= x >>> 15;
  return Math.imul(x, 0x85ebca6b) ^ (x >>> 13);
}

export class Engine implements EngineContext {
  readonly options: EngineOptions;
  packet: Packet | undefined;
  private readonly tcpApps: TcpAppFactory[];
  private readonly udpApps: UdpAppFactory[];
  private readonly tcp = new Map<string, TcpConversation>();
  /**
   * IPv4 conversations by a number hashed from their addresses and ports: found without
   * building the key string per segment. A hint only: a hit is checked field by field and
   * against `inTable`, a miss falls back to `tcp`.
   */
  private readonly tcp4 = new Map<number, TcpConversation>();
  private readonly udp = new Map<string, UdpConversation>();
  private tcpStreams = 0;
  private udpStreams = 0;
  private readonly defrag4 = new Defragmenter();
  private readonly defrag6 = new Defragmenter();
  private frameCount = 0;
  private lastSec = 0;
  private tableFullReported = false;
  private finished = false;

  /** `protocols`: the application protocols to dissect, e.g. `defaultProtocols()` from src/protocols/index.ts. */
  constructor(private readonly handlers: EngineHandlers, options: Partial<EngineOptions>, protocols: ProtocolSet) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    const apps = instantiate(protocols);
    this.tcpApps = apps.tcp;
    this.udpApps = apps.udp;
  }

  // ---- EngineContext ----

  emit(event: TimelineEvent): void {
    this.handlers.event?.(event);
  }

  packetFinding(item: Finding): void {
    if (this.packet !== undefined && (item.frame === this.packet.frame.number || item.frame === 0)) this.packet.findings.push(item);
  }

  standaloneFinding(item: Finding, protocol: string, route: Route, tsSec: number, tsNsec: number): void {
    this.packetFinding(item);
    this.emit({ kind: 'finding', tsSec, tsNsec, frames: item.frame > 0 ? [item.frame] : [], protocol, transport: route.transport, src: route.src, dst: route.dst, findings: [item] });
  }

  // ---- frames ----

  frame(frame: Frame): void {
    const packet: Packet = { frame, layers: [], src: '', dst: '', findings: [] };
    this.packet = packet;
    this.frameCount++;
    this.lastSec = frame.tsSec;
    try {
      const start = decodeLink(packet, frame.data, frame.linkType);
      if (start.ethertype === 0x0800) this.ipv4(packet, frame.data, start.offset, undefined);
      else if (start.ethertype === 0x86dd) this.ipv6(packet, frame.data, start.offset, undefined);
      else if (start.ethertype === 0x0806) decodeArp(packet, frame.data, start.offset);
      else if (start.ethertype === 0x8137) decodeIpx(packet, frame.data, start.offset);
    } catch (err) {
      this.internalError(packet, 'engine', err);
    }
    if (frame.caplen < frame.len && packet.layers.length > 0) {
      // A snap length cut the frame: upper layers may be missing, as tshark notes.
      packet.findings.push(finding('frame.snaplen', 'note', frame.number, `frame cut by the snap length: ${frame.caplen} of ${frame.len} bytes captured`));
    }
    if (this.frameCount % SWEEP_EVERY === 0) this.sweep(false);
    this.handlers.packet?.(packet);
    this.packet = undefined;
  }

  /** End of input: closes every conversation, reports incomplete reassemblies, flushes apps. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.sweep(true);
    for (const app of this.udpApps) this.guard(app.name, () => app.finish?.(this));
    for (const app of this.tcpApps) this.guard(app.name, () => app.finish?.(this));
  }

  get framesSeen(): number {
    return this.frameCount;
  }

  private internalError(packet: Packet | undefined, where: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const item = finding('msgscope.internal-error', 'error', packet?.frame.number ?? 0, `internal error in the ${where} dissector: ${message}`);
    if (packet !== undefined) packet.findings.push(item);
    else process.emitWarning(item.summary);
  }

  /** Runs an application dissector so that a bug in one never stops the capture. */
  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.internalError(this.packet, where, err);
    }
  }

  private sweep(all: boolean): void {
    for (const [, conv] of this.tcp) {
      if (all || (this.lastSec - conv.lastSec > IDLE_SECONDS)) this.endTcp(conv);
    }
    if (all) {
      for (const [, conv] of this.tcp) conv.inTable = false;
      this.tcp.clear();
      this.tcp4.clear();
    } else {
      for (const [key, conv] of this.tcp) {
        if (conv.closed && this.lastSec - conv.lastSec > IDLE_SECONDS) {
          this.tcp.delete(key);
          conv.inTable = false;
          if (this.tcp4.get(conv.hash4) === conv) this.tcp4.delete(conv.hash4);
        }
      }
    }
    for (const [key, conv] of this.udp) if (all || this.lastSec - conv.lastSec > IDLE_SECONDS) this.udp.delete(key);
    for (const [defrag, label] of [[this.defrag4, 'IPv4'], [this.defrag6, 'IPv6']] as const) {
      for (const expired of defrag.expire(this.lastSec, all)) {
        const item = finding('ip.defrag.incomplete', 'warning', expired.frames[0] ?? 0, `${label} datagram never completed: fragments in frames ${expired.frames.join(', ')} were not reassembled`);
        this.packetFinding(item);
      }
    }
  }

  // ---- network layer ----

  private ipv4(packet: Packet, d: Uint8Array, o: number, quoted: { reason: string } | undefined): void {
    const h = parseIpv4(d, o);
    if (typeof h === 'string') {
      packet.findings.push(finding('ip.malformed', 'error', packet.frame.number, h));
      return;
    }
    const isQuoted = quoted !== undefined;
    if (!isQuoted) {
      packet.src = h.src;
      packet.dst = h.dst;
    }
    let end = Math.min(d.length, o + h.totalLength);
    if (h.totalLength < h.headerLength) {
      if (!isQuoted) packet.findings.push(finding('ip.bad-length', 'error', packet.frame.number, `IPv4 total length ${h.totalLength} is less than the header length`));
      end = d.length;
    }
    const fragmented = h.moreFragments || h.fragmentOffset > 0;
    const layerIndex = packet.layers.length;
    packet.layers.push({
      name: 'ip',
      bytes: d,
      offset: o,
      length: h.headerLength,
      quoted: isQuoted,
      info: fragmented ? `Fragmented IP protocol (proto=${IP_PROTOCOLS[h.protocol] ?? h.protocol} ${h.protocol}, off=${h.fragmentOffset}, ID=${h.id.toString(16).padStart(4, '0')})` : undefined,
      column: 'IPv4',
      tree: () => ipv4Tree(d, o, h),
    });
    let payload = d.subarray(o + h.headerLength, end);
    let frames = [packet.frame.number];
    if (fragmented && !isQuoted) {
      const key = `${h.src}|${h.dst}|${h.protocol}|${h.id}`;
      const result = this.defrag4.add(key, packet.frame.number, packet.frame.tsSec, h.fragmentOffset, payload, h.moreFragments);
      if (result.state === 'error') {
        packet.findings.push(finding('ip.defrag.limit', 'warning', packet.frame.number, result.reason));
        return;
      }
      if (result.state === 'incomplete') return;
      if (result.overlaps > 0) {
        packet.findings.push(finding(result.conflicts > 0 ? 'ip.defrag.conflict' : 'ip.defrag.overlap', result.conflicts > 0 ? 'error' : 'warning', packet.frame.number,
          `IPv4 fragments overlap (${result.overlaps} fragment(s)${result.conflicts > 0 ? `, ${result.conflicts} byte(s) differ; the first copy was kept` : ''})`));
      }
      payload = result.payload;
      frames = result.frames;
      const layer = packet.layers[layerIndex]!;
      packet.layers[layerIndex] = {
        ...layer,
        info: undefined,
        tree: () => [...ipv4Tree(d, o, h), f(IP.fragments, frames.join(', ')), f(IP.reassembled_in, packet.frame.number)],
      };
    } else if (fragmented && h.fragmentOffset > 0) {
      return; // a quoted non-first fragment has no transport header
    }
    const info: IpInfo = isQuoted
      ? { src: h.src, dst: h.dst, quoted: isQuoted, icmpReason: quoted?.reason, frames }
      : { src: h.src, dst: h.dst, quoted: isQuoted, icmpReason: undefined, frames, src4: u32(d, o + 12), dst4: u32(d, o + 16) };
    this.transport(packet, h.protocol, payload, info);
  }

  private ipv6(packet: Packet, d: Uint8Array, o: number, quoted: { reason: string } | undefined): void {
    const h = parseIpv6(d, o);
    if (typeof h === 'string') {
      packet.findings.push(finding('ipv6.malformed', 'error', packet.frame.number, h));
      return;
    }
    const isQuoted = quoted !== undefined;
    if (!isQuoted) {
      packet.src = h.src;
      packet.dst = h.dst;
    }
    const end = Math.min(d.length, o + 40 + h.payloadLength);
    const layerIndex = packet.layers.length;
    packet.layers.push({ name: 'ipv6', bytes: d, offset: o, length: h.headerLength, quoted: isQuoted, column: 'IPv6', tree: () => ipv6Tree(d, o, h) });
    let payload = d.subarray(Math.min(end, o + h.headerLength), end);
    let frames = [packet.frame.number];
    if (h.fragment !== undefined) {
      if (isQuoted) {
        if (h.fragment.offset > 0) return;
      } else {
        const key = `${h.src}|${h.dst}|${h.fragment.id}`;
        const result = this.defrag6.add(key, packet.frame.number, packet.frame.tsSec, h.fragment.offset, payload, h.fragment.more);
        if (result.state === 'error') {
          packet.findings.push(finding('ipv6.defrag.limit', 'warning', packet.frame.number, result.reason));
          return;
        }
        if (result.state === 'incomplete') return;
        if (result.overlaps > 0) {
          // RFC 8200 §4.5: overlapping IPv6 fragments must be discarded; we keep them but say so.
          packet.findings.push(finding('ipv6.defrag.overlap', 'error', packet.frame.number, `IPv6 fragments overlap (${result.overlaps} fragment(s))`, 'RFC 8200 4.5'));
        }
        payload = result.payload;
        frames = result.frames;
        const layer = packet.layers[layerIndex]!;
        packet.layers[layerIndex] = { ...layer, tree: () => [...ipv6Tree(d, o, h), f(IPV6.reassembled_in, packet.frame.number)] };
      }
    }
    this.transport(packet, h.protocol, payload, { src: h.src, dst: h.dst, quoted: isQuoted, icmpReason: quoted?.reason, frames });
  }

  private transport(packet: Packet, protocol: number, payload: Uint8Array, ip: IpInfo): void {
    switch (protocol) {
      case 6:
        return this.tcpSegment(packet, payload, ip);
      case 17:
        return this.udpDatagram(packet, payload, ip);
      case 1:
        if (!ip.quoted) this.icmp(packet, payload);
        return;
      case 58:
        if (!ip.quoted) this.icmpv6(packet, payload);
        return;
      case 4: // IP in IP (RFC 2003) and IPv6 in IP (RFC 4213, 6in4 tunnels)
      case 41: {
        if (ip.quoted) return;
        let depth = 0;
        for (const layer of packet.layers) if (layer.name === 'ip' || layer.name === 'ipv6') depth++;
        if (depth >= MAX_TUNNEL_DEPTH) {
          packet.findings.push(finding('ip.tunnel-depth', 'warning', packet.frame.number, `more than ${MAX_TUNNEL_DEPTH} nested IP headers; the inner ones are not decoded`));
          return;
        }
        if (protocol === 4) this.ipv4(packet, payload, 0, undefined);
        else this.ipv6(packet, payload, 0, undefined);
        return;
      }
      default:
        return;
    }
  }

  // ---- ICMP: errors quote the datagram that caused them ----

  private icmp(packet: Packet, d: Uint8Array): void {
    if (d.length < 4) {
      packet.findings.push(finding('icmp.truncated', 'error', packet.frame.number, 'ICMP header truncated'));
      return;
    }
    const type = d[0]!;
    const code = d[1]!;
    const isError = type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
    const isEcho = type === 0 || type === 8;
    const reason = type === 3 ? ICMP_UNREACH_CODES[code] ?? `Destination unreachable (code ${code})` : ICMP_TYPES[type] ?? `ICMP type ${type}`;
    packet.layers.push({
      name: 'icmp',
      bytes: d,
      offset: 0,
      length: Math.min(d.length, 8),
      info: `${ICMP_TYPES[type] ?? `Type ${type}`}${type === 3 ? ` (${reason})` : ''}${isEcho && d.length >= 8 ? `  id=0x${((d[4]! << 8) | d[5]!).toString(16).padStart(4, '0')}, seq=${(d[6]! << 8) | d[7]!}` : ''}`,
      tree: () => {
        const nodes = [f(ICMP.type, type, 0, 1), f(ICMP.code, code, 1, 1)];
        if (d.length >= 4) nodes.push(f(ICMP.checksum, (d[2]! << 8) | d[3]!, 2, 2));
        if (isEcho && d.length >= 8) nodes.push(f(ICMP.ident, (d[4]! << 8) | d[5]!, 4, 2), f(ICMP.seq, (d[6]! << 8) | d[7]!, 6, 2));
        return nodes;
      },
    });
    if (isError && d.length >= 28) this.ipv4(packet, d, 8, { reason: `ICMP ${reason}` });
  }

  private icmpv6(packet: Packet, d: Uint8Array): void {
    if (d.length < 4) {
      packet.findings.push(finding('icmpv6.truncated', 'error', packet.frame.number, 'ICMPv6 header truncated'));
      return;
    }
    const type = d[0]!;
    const code = d[1]!;
    const reason = type === 1 ? ICMPV6_UNREACH_CODES[code] ?? `Destination unreachable (code ${code})` : ICMPV6_TYPES[type] ?? `ICMPv6 type ${type}`;
    packet.layers.push({
      name: 'icmpv6',
      bytes: d,
      offset: 0,
      length: Math.min(d.length, 8),
      column: 'ICMPv6',
      info: `${ICMPV6_TYPES[type] ?? `Type ${type}`}${type === 1 ? ` (${reason})` : ''}`,
      tree: () => [f(ICMPV6.type, type, 0, 1), f(ICMPV6.code, code, 1, 1), f(ICMPV6.checksum, (d[2]! << 8) | d[3]!, 2, 2)],
    });
    if (type >= 1 && type <= 4 && d.length >= 48) this.ipv6(packet, d, 8, { reason: `ICMPv6 ${reason}` });
  }

  // ---- UDP ----

  private udpDatagram(packet: Packet, d: Uint8Array, ip: IpInfo): void {
    const h = parseUdp(d, 0);
    if (typeof h === 'string') {
      if (!ip.quoted) packet.findings.push(finding('udp.truncated', 'error', packet.frame.number, h));
      return;
    }
    let end = d.length;
    if (h.length >= 8 && h.length <= d.length) end = h.length;
    else if (!ip.quoted && h.length !== d.length) {
      packet.findings.push(finding('udp.bad-length', 'warning', packet.frame.number, `UDP length ${h.length} disagrees with the ${d.length} bytes present`));
    }
    const payload = d.subarray(8, end);
    // tshark gives a quoted datagram the stream index of the conversation it belongs to (creating one if needed).
    const stream = this.udpStream(ip.src, h.srcPort, ip.dst, h.dstPort, packet.frame.tsSec);
    packet.layers.push({
      name: 'udp',
      bytes: d,
      offset: 0,
      length: 8,
      quoted: ip.quoted,
      info: `${h.srcPort} → ${h.dstPort} Len=${payload.length}`,
      tree: () => udpTree(0, h, stream),
    });
    const app = this.pickUdpApp(h.srcPort, h.dstPort, payload);
    if (app === undefined) return;
    const datagram: UdpDatagram = {
      src: ip.src, dst: ip.dst, srcPort: h.srcPort, dstPort: h.dstPort, stream, payload, quoted: ip.quoted, icmpReason: ip.icmpReason,
      frames: ip.frames, tsSec: packet.frame.tsSec, tsNsec: packet.frame.tsNsec,
    };
    this.guard(app.name, () => app.dissect(this, datagram));
  }

  private pickUdpApp(srcPort: number, dstPort: number, payload: Uint8Array): UdpAppFactory | undefined {
    for (const app of this.udpApps) if (app.ports?.includes(dstPort)) return app;
    for (const app of this.udpApps) if (app.ports?.includes(srcPort)) return app;
    for (const app of this.udpApps) if (app.detect?.(payload) === true) return app;
    return undefined;
  }

  private udpStream(src: string, sp: number, dst: string, dp: number, now: number): number {
    const key = src < dst || (src === dst && sp <= dp) ? `${src}|${sp}|${dst}|${dp}` : `${dst}|${dp}|${src}|${sp}`;
    let conv = this.udp.get(key);
    if (conv === undefined) {
      conv = { index: this.udpStreams++, lastSec: now };
      if (this.udp.size < MAX_CONVERSATIONS) this.udp.set(key, conv);
    }
    conv.lastSec = now;
    return conv.index;
  }

  // ---- TCP ----

  private tcpSegment(packet: Packet, d: Uint8Array, ip: IpInfo): void {
    const h = parseTcp(d, 0);
    if (typeof h === 'string') {
      if (!ip.quoted) packet.findings.push(finding('tcp.malformed', 'error', packet.frame.number, h));
      else this.quotedTcp(packet, d);
      return;
    }
    if (ip.quoted) {
      this.quotedTcp(packet, d);
      return;
    }
    const payload = d.subarray(h.headerLength);
    const { conv, dir } = this.tcpConversation(ip.src, h.srcPort, ip.dst, h.dstPort, h, packet.frame.tsSec, ip.src4, ip.dst4);
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
    const layerIndex = packet.layers.length;
    let analysis: 'retransmission' | 'out-of-order' | undefined;
    packet.layers.push(this.tcpLayer(d, h, conv.index, relSeq, relAck, payload.length, analysis));

    if (conv.app === undefined && payload.length > 0) this.detectTcpApp(conv, dir, payload);
    const app = conv.app;
    if (app !== null && app !== undefined) {
      const sinks = this.sinksOf(conv);
      if (conv.startHere[dir] && payload.length > 0) {
        conv.startHere[dir] = false;
        mine.next = Math.max(mine.next, mine.relative(h.seq));
      }
      if ((h.flags & ACK) !== 0 && peer.base !== undefined) {
        const ackRel = peer.relative(h.ack);
        this.guard(conv.appName, () => peer.acknowledged(ackRel, sinks[dir === 0 ? 1 : 0]));
      }
      const kind = mine.segment(h.seq, payload, sinks[dir]);
      if (kind === 'retransmission' || kind === 'out-of-order') {
        analysis = kind;
        packet.layers[layerIndex] = this.tcpLayer(d, h, conv.index, relSeq, relAck, payload.length, analysis);
      }
    }
    if ((h.flags & FIN) !== 0) {
      conv.finSeen[dir] = true;
      mine.fin = mine.relative(h.seq) + payload.length;
    }
    if ((h.flags & RST) !== 0 || (conv.finSeen[0] && conv.finSeen[1])) this.endTcp(conv);
  }

  private tcpLayer(d: Uint8Array, h: TcpHeader, stream: number, relSeq: number, relAck: number, payloadLength: number, analysis: 'retransmission' | 'out-of-order' | undefined) {
    const flagText = tcpFlagsText(h.flags & 0x1ff);
    const prefix = analysis === 'retransmission' ? '[TCP Retransmission] ' : analysis === 'out-of-order' ? '[TCP Out-Of-Order] ' : '';
    return {
      name: 'tcp',
      bytes: d,
      offset: 0,
      length: h.headerLength,
      info: `${prefix}${h.srcPort} → ${h.dstPort} [${flagText}] Seq=${relSeq}${(h.flags & ACK) !== 0 ? ` Ack=${relAck}` : ''} Win=${h.window} Len=${payloadLength}`,
      tree: () => {
        const nodes = tcpTree(d, 0, h, { stream, relSeq, relAck, payloadLength });
        if (analysis === 'retransmission') nodes.push(f(TCP['analysis.retransmission'], true));
        if (analysis === 'out-of-order') nodes.push(f(TCP['analysis.out_of_order'], true));
        return nodes;
      },
    };
  }

  /** A TCP header quoted in an ICMP error: ports (and sequence number) only, no reassembly. */
  private quotedTcp(packet: Packet, d: Uint8Array): void {
    if (d.length < 4) return;
    const sp = (d[0]! << 8) | d[1]!;
    const dp = (d[2]! << 8) | d[3]!;
    packet.layers.push({
      name: 'tcp',
      bytes: d,
      offset: 0,
      length: Math.min(d.length, 20),
      quoted: true,
      info: `${sp} → ${dp}`,
      tree: () => [f(TCP.srcport, sp, 0, 2), f(TCP.dstport, dp, 2, 2)],
    });
  }

  private tcpConversation(src: string, sp: number, dst: string, dp: number, h: TcpHeader, now: number, src4?: number, dst4?: number): { conv: TcpConversation; dir: Direction } {
    let conv: TcpConversation | undefined;
    let hash4 = -1;
    if (src4 !== undefined && dst4 !== undefined) {
      hash4 = (mix4(src4, sp) ^ mix4(dst4, dp)) & 0x3fffffff;
      const hit = this.tcp4.get(hash4);
      if (hit !== undefined && hit.inTable && hit.v4 !== undefined) {
        const v4 = hit.v4;
        const port = hit.port;
        if ((v4[0] === src4 && port[0] === sp && v4[1] === dst4 && port[1] === dp) || (v4[0] === dst4 && port[0] === dp && v4[1] === src4 && port[1] === sp)) conv = hit;
      }
    }
    const indexed = conv !== undefined;
    let key: string | undefined;
    const keyOf = (): string => (src < dst || (src === dst && sp <= dp) ? `${src}|${sp}|${dst}|${dp}` : `${dst}|${dp}|${src}|${sp}`);
    if (conv === undefined) {
      key = keyOf();
      conv = this.tcp.get(key);
    }
    const pureSyn = (h.flags & (SYN | ACK)) === SYN;
    let reuseIndex: number | undefined;
    if (conv !== undefined && pureSyn) {
      // As tshark: a SYN whose sequence number differs from its direction's base starts a new
      // stream (port reuse); a retransmitted SYN (same ISN) stays in the same stream, even
      // after a RST or FIN closed it (then with fresh state for the application).
      const senderDir = conv.addr[0] === src && conv.port[0] === sp ? 0 : 1;
      const sender = conv.dirs[senderDir];
      const sameIsn = !conv.sent[senderDir] || (sender.sawSyn ? sender.base === h.seq : ((sender.base ?? 0) + 1) >>> 0 === h.seq);
      if (!sameIsn || conv.closed) {
        if (sameIsn) reuseIndex = conv.index;
        this.endTcp(conv);
        conv = undefined;
      }
    }
    if (conv === undefined) {
      // The SYN's sender is the client; otherwise guess the side on the well-known (lower) port is the server.
      const srcIsClient = pureSyn || (h.flags & (SYN | ACK)) !== (SYN | ACK) ? !(sp < dp && sp < 1024 && dp >= 1024) : false;
      const c: [string, number] = srcIsClient ? [src, sp] : [dst, dp];
      const s: [string, number] = srcIsClient ? [dst, dp] : [src, sp];
      const v4: [number, number] | undefined = src4 !== undefined && dst4 !== undefined ? (srcIsClient ? [src4, dst4] : [dst4, src4]) : undefined;
      const dirs: [TcpDirection, TcpDirection] = [new TcpDirection(), new TcpDirection()];
      const created: TcpConversation = {
        index: reuseIndex ?? this.tcpStreams++,
        addr: [c[0], s[0]],
        port: [c[1], s[1]],
        endpoint: [endpoint(c[0], c[1]), endpoint(s[0], s[1])],
        sawHandshake: false,
        dirs,
        app: undefined,
        appName: '',
        detectTries: 0,
        startHere: [false, false],
        finSeen: [false, false],
        sent: [false, false],
        closed: false,
        lastSec: now,
        sinks: undefined,
        v4,
        hash4,
        inTable: false,
      };
      conv = created;
      if (this.tcp.size < MAX_CONVERSATIONS) {
        key ??= keyOf();
        const replaced = this.tcp.get(key);
        if (replaced !== undefined) replaced.inTable = false;
        this.tcp.set(key, conv);
        conv.inTable = true;
        if (hash4 >= 0) this.tcp4.set(hash4, conv);
      } else if (!this.tableFullReported) {
        this.tableFullReported = true;
        this.packetFinding(finding('tcp.table-full', 'warning', this.packet?.frame.number ?? 0, `more than ${MAX_CONVERSATIONS} TCP conversations in progress: later ones are not reassembled`));
        conv.app = null;
      }
    }
    if (hash4 >= 0 && !indexed && conv.inTable && conv.v4 !== undefined) this.tcp4.set(hash4, conv);
    conv.lastSec = now;
    const dir: Direction = conv.addr[0] === src && conv.port[0] === sp ? 0 : 1;
    conv.sent[dir] = true;
    return { conv, dir };
  }

  private sinksOf(conv: TcpConversation): [ReassemblySink, ReassemblySink] {
    return (conv.sinks ??= [this.reassemblySink(() => conv, 0), this.reassemblySink(() => conv, 1)]);
  }

  private reassemblySink(conv: () => TcpConversation, dir: Direction): ReassemblySink {
    const route = (): Route => {
      const c = conv();
      return { transport: 'tcp', src: c.endpoint[dir], dst: c.endpoint[dir === 0 ? 1 : 0] };
    };
    const report = (id: string, severity: 'warning' | 'error', summary: string): void => {
      const frame = this.packet?.frame;
      this.standaloneFinding(finding(id, severity, frame?.number ?? 0, summary), 'tcp', route(), frame?.tsSec ?? this.lastSec, frame?.tsNsec ?? 0);
    };
    return {
      data: (bytes) => {
        const c = conv();
        if (c.app) this.guard(c.appName, () => c.app!.data(dir, bytes));
      },
      gap: (from, length) => {
        const c = conv();
        report('tcp.gap', 'warning', `TCP stream ${c.index}: ${length} byte(s) from ${route().src} not captured (relative seq ${from}–${from + length - 1})`);
        if (c.app) this.guard(c.appName, () => c.app!.gap(dir, length));
      },
      conflict: (from, length) => {
        report('tcp.overlap-conflict', 'error', `TCP stream ${conv().index}: retransmitted bytes at relative seq ${from} (${length} byte(s)) differ from the first copy; the first copy was kept`);
      },
      limitHit: (bytes) => {
        report('tcp.reassembly-limit', 'warning', `TCP stream ${conv().index}: ${bytes} bytes of out-of-order data waiting; the oldest hole is declared a gap`);
      },
    };
  }

  private detectTcpApp(conv: TcpConversation, dir: Direction, payload: Uint8Array): void {
    const byPort = this.tcpApps.find((app) => app.ports?.includes(conv.port[1])) ?? this.tcpApps.find((app) => app.ports?.includes(conv.port[0]));
    let chosen: TcpAppFactory | undefined;
    if (byPort !== undefined && (byPort.detect === undefined || byPort.detect(payload, dir, conv) || conv.detectTries >= 2)) chosen = byPort;
    if (chosen === undefined) chosen = this.tcpApps.find((app) => app !== byPort && app.detect?.(payload, dir, conv) === true);
    if (chosen === undefined && byPort !== undefined) chosen = byPort;
    if (chosen === undefined) {
      if (++conv.detectTries >= DETECT_TRIES) conv.app = null;
      return;
    }
    const factory = chosen;
    conv.appName = factory.name;
    this.guard(factory.name, () => {
      conv.app = factory.create(conv, this);
    });
    if (conv.app === undefined) conv.app = null;
    // Data seen before the app was chosen was not kept: each direction's stream starts at its
    // next segment, so the skipped bytes are not mistaken for a gap. When the handshake was
    // seen and this is the first payload, nothing was skipped: keep the streams at their start,
    // or a first segment that arrives out of order would be taken as the start.
    conv.startHere = conv.sawHandshake && conv.detectTries === 0 ? [false, false] : [true, true];
  }

  private endTcp(conv: TcpConversation): void {
    if (conv.closed) return;
    conv.closed = true;
    const app = conv.app;
    if (app === null || app === undefined) return;
    this.guard(conv.appName, () => {
      const sinks = this.sinksOf(conv);
      conv.dirs[0].flush(sinks[0]);
      conv.dirs[1].flush(sinks[1]);
      app.end();
    });
  }
}


