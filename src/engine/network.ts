// The network layer of the engine: IPv4 and IPv6 (with defragmentation and IP-in-IP tunnels),
// ICMP and ICMPv6 (whose errors quote the datagram that caused them, decoded as quoted
// layers), and the hand-off of each transport payload to TCP or UDP.
import { f, type FieldNode } from '../model/fields.js';
import { ICMP_FINDINGS, ICMPV6_FINDINGS, IP_FINDINGS, IPV6_FINDINGS } from '../net/findings.js';
import type { Layer, Packet } from '../model/packet.js';
import { Defragmenter, type Expired } from '../net/defrag.js';
import { ipv4Tree, parseIpv4, IP, IP_PROTOCOLS, type Ipv4Header } from '../net/ipv4.js';
import { ipv6Tree, parseIpv6, IPV6 } from '../net/ipv6.js';
import { ICMP, ICMP_TYPES, ICMP_UNREACH_CODES, ICMPV6, ICMPV6_TYPES, ICMPV6_UNREACH_CODES } from '../net/transport.js';
import type { EngineCore, IcmpError } from './context.js';
import type { TcpConversations } from './tcp-conversations.js';
import type { UdpFlows } from './udp.js';

/** IP-in-IP nesting decoded before giving up (each level is at least 20 bytes, but stay sane). */
const MAX_TUNNEL_DEPTH = 4;

/** The ICMP or ICMPv6 error that quotes a datagram. */
interface Quote {
  readonly reason: string;
  readonly type: number;
  readonly code: number;
}

/** What the network layer tells the transport about a payload. */
export interface IpInfo {
  readonly src: string;
  readonly dst: string;
  readonly quoted: boolean;
  readonly icmpReason?: string;
  /** For quoted datagrams: the ICMP error's type and code. */
  readonly icmp?: IcmpError;
  /** IPv4 identification: what ties a bounce's quoted header to the datagram it copies. */
  readonly ipId?: number;
  readonly frames: number[];
  /** The IPv4 header's addresses as numbers (the flow tables' hash); undefined for IPv6. */
  readonly src4?: number;
  readonly dst4?: number;
}

const u32 = (d: Uint8Array, o: number): number => ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;

/** An IPv4 header's layer: its tree is built when an output asks (no closure per frame). */
class Ipv4Layer implements Layer {
  readonly name = 'ip';
  readonly column = 'IPv4';
  readonly length: number;

  constructor(readonly bytes: Uint8Array, readonly offset: number, private readonly h: Ipv4Header, readonly quoted: boolean, readonly info: string | undefined) {
    this.length = h.headerLength;
  }

  get srcAddress(): string {
    return this.h.src;
  }

  get dstAddress(): string {
    return this.h.dst;
  }

  get srcAddress4(): number {
    return u32(this.bytes, this.offset + 12);
  }

  get dstAddress4(): number {
    return u32(this.bytes, this.offset + 16);
  }

  tree(): FieldNode[] {
    return ipv4Tree(this.bytes, this.offset, this.h);
  }
}

export class Network {
  private readonly defrag4 = new Defragmenter((gone, why) => this.giveUp(gone, 'IPv4', why));
  private readonly defrag6 = new Defragmenter((gone, why) => this.giveUp(gone, 'IPv6', why));

  constructor(private readonly core: EngineCore, private readonly tcp: TcpConversations, private readonly udp: UdpFlows) {
    this.defrag4.holds = core.holds;
    this.defrag6.holds = core.holds;
  }

  /** Reports datagrams whose fragments never completed: those past the timeout, or all of them at the end. */
  sweep(now: number, all: boolean): void {
    for (const [defrag, label] of [[this.defrag4, 'IPv4'], [this.defrag6, 'IPv6']] as const) {
      for (const expired of defrag.expire(now, all)) this.giveUp(expired, label, all ? 'end of capture' : 'no fragment for 60 s');
    }
  }

  /**
   * A datagram whose fragments never completed (timed out, evicted, end of capture): one
   * finding, on the frame being decoded when there is one (its fragments' frames are named),
   * and as a finding event on the datagram's addresses.
   */
  private giveUp(gone: Expired, label: string, why: string): void {
    const [src = '', dst = ''] = gone.key.split('|');
    const frame = this.core.packet?.frame.number ?? gone.frames[0] ?? 0;
    const item = IP_FINDINGS.defragIncomplete.at(frame, `${label} datagram never completed (${why}): fragments in frames ${gone.frames.join(', ')} were not reassembled`);
    this.core.standaloneFinding(item, label === 'IPv4' ? 'ip' : 'ipv6', { transport: label === 'IPv4' ? 'ip' : 'ipv6', src, dst }, gone.tsSec, 0);
  }

  ipv4(packet: Packet, d: Uint8Array, o: number, quoted: Quote | undefined): void {
    const h = parseIpv4(d, o);
    if (typeof h === 'string') {
      packet.findings.push(IP_FINDINGS.malformed.at(packet.frame.number, h));
      return;
    }
    const isQuoted = quoted !== undefined;
    if (!isQuoted) {
      packet.src = h.src;
      packet.dst = h.dst;
    }
    let end = Math.min(d.length, o + h.totalLength);
    if (h.totalLength < h.headerLength) {
      if (!isQuoted) packet.findings.push(IP_FINDINGS.badLength.at(packet.frame.number, `IPv4 total length ${h.totalLength} is less than the header length`));
      end = d.length;
    }
    const fragmented = h.moreFragments || h.fragmentOffset > 0;
    const layerIndex = packet.layers.length;
    packet.layers.push(new Ipv4Layer(d, o, h, isQuoted,
      fragmented ? `Fragmented IP protocol (proto=${IP_PROTOCOLS[h.protocol] ?? h.protocol} ${h.protocol}, off=${h.fragmentOffset}, ID=${h.id.toString(16).padStart(4, '0')})` : undefined));
    let payload = d.subarray(o + h.headerLength, end);
    let frames = [packet.frame.number];
    if (fragmented && !isQuoted) {
      const key = `${h.src}|${h.dst}|${h.protocol}|${h.id}`;
      const result = this.defrag4.add(key, packet.frame.number, packet.frame.tsSec, h.fragmentOffset, payload, h.moreFragments);
      if (result.state === 'error') {
        packet.findings.push(IP_FINDINGS.defragLimit.at(packet.frame.number, result.reason));
        return;
      }
      if (result.state === 'incomplete') return;
      if (result.overlaps > 0) {
        packet.findings.push((result.conflicts > 0 ? IP_FINDINGS.defragConflict : IP_FINDINGS.defragOverlap).at(packet.frame.number,
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
    const info: IpInfo = { src: h.src, dst: h.dst, quoted: isQuoted, icmpReason: quoted?.reason, icmp: quoted !== undefined ? { type: quoted.type, code: quoted.code } : undefined, ipId: h.id, frames, src4: u32(d, o + 12), dst4: u32(d, o + 16) };
    this.transport(packet, h.protocol, payload, info);
  }

  ipv6(packet: Packet, d: Uint8Array, o: number, quoted: Quote | undefined): void {
    const h = parseIpv6(d, o);
    if (typeof h === 'string') {
      packet.findings.push(IPV6_FINDINGS.malformed.at(packet.frame.number, h));
      return;
    }
    const isQuoted = quoted !== undefined;
    if (!isQuoted) {
      packet.src = h.src;
      packet.dst = h.dst;
    }
    const end = Math.min(d.length, o + 40 + h.payloadLength);
    const layerIndex = packet.layers.length;
    packet.layers.push({ name: 'ipv6', bytes: d, offset: o, length: h.headerLength, quoted: isQuoted, column: 'IPv6', srcAddress: h.src, dstAddress: h.dst, tree: () => ipv6Tree(d, o, h) });
    let payload = d.subarray(Math.min(end, o + h.headerLength), end);
    let frames = [packet.frame.number];
    if (h.fragment !== undefined) {
      if (isQuoted) {
        if (h.fragment.offset > 0) return;
      } else {
        const key = `${h.src}|${h.dst}|${h.fragment.id}`;
        const result = this.defrag6.add(key, packet.frame.number, packet.frame.tsSec, h.fragment.offset, payload, h.fragment.more);
        if (result.state === 'error') {
          packet.findings.push(IPV6_FINDINGS.defragLimit.at(packet.frame.number, result.reason));
          return;
        }
        if (result.state === 'incomplete') return;
        if (result.overlaps > 0) {
          // RFC 8200 §4.5: overlapping IPv6 fragments must be discarded; we keep them but say so.
          packet.findings.push(IPV6_FINDINGS.defragOverlap.at(packet.frame.number, `IPv6 fragments overlap (${result.overlaps} fragment(s))`));
        }
        payload = result.payload;
        frames = result.frames;
        const layer = packet.layers[layerIndex]!;
        packet.layers[layerIndex] = { ...layer, tree: () => [...ipv6Tree(d, o, h), f(IPV6.reassembled_in, packet.frame.number)] };
      }
    }
    this.transport(packet, h.protocol, payload, {
      src: h.src, dst: h.dst, quoted: isQuoted, icmpReason: quoted?.reason, icmp: quoted !== undefined ? { type: quoted.type, code: quoted.code } : undefined, frames,
    });
  }

  private transport(packet: Packet, protocol: number, payload: Uint8Array, ip: IpInfo): void {
    switch (protocol) {
      case 6:
        return this.tcp.segment(packet, payload, ip);
      case 17:
        return this.udp.datagram(packet, payload, ip);
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
          packet.findings.push(IP_FINDINGS.tunnelDepth.at(packet.frame.number, `more than ${MAX_TUNNEL_DEPTH} nested IP headers; the inner ones are not decoded`));
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
      packet.findings.push(ICMP_FINDINGS.truncated.at(packet.frame.number, 'ICMP header truncated'));
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
    if (isError && d.length >= 28) this.ipv4(packet, d, 8, { reason: `ICMP ${reason}`, type, code });
  }

  private icmpv6(packet: Packet, d: Uint8Array): void {
    if (d.length < 4) {
      packet.findings.push(ICMPV6_FINDINGS.truncated.at(packet.frame.number, 'ICMPv6 header truncated'));
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
    if (type >= 1 && type <= 4 && d.length >= 48) this.ipv6(packet, d, 8, { reason: `ICMPv6 ${reason}`, type, code });
  }
}
