// UDP (RFC 768), TCP (RFC 9293) and ICMP/ICMPv6 (RFC 792, RFC 4443) header decoding.
import { defineProtocol, f, type FieldNode } from '../model/fields.js';

export const UDP = defineProtocol('udp', 'User Datagram Protocol', {
  srcport: { type: 'uint', label: 'Source Port' },
  dstport: { type: 'uint', label: 'Destination Port' },
  port: { type: 'uint', label: 'Source or Destination Port' },
  length: { type: 'uint', label: 'Length' },
  checksum: { type: 'uint', label: 'Checksum', base: 'hex' },
  stream: { type: 'uint', label: 'Stream index' },
});

export const TCP = defineProtocol('tcp', 'Transmission Control Protocol', {
  srcport: { type: 'uint', label: 'Source Port' },
  dstport: { type: 'uint', label: 'Destination Port' },
  port: { type: 'uint', label: 'Source or Destination Port' },
  stream: { type: 'uint', label: 'Stream index' },
  len: { type: 'uint', label: 'TCP Segment Len' },
  seq: { type: 'uint', label: 'Sequence Number (relative)' },
  seq_raw: { type: 'uint', label: 'Sequence Number (raw)' },
  nxtseq: { type: 'uint', label: 'Next Sequence Number (relative)' },
  ack: { type: 'uint', label: 'Acknowledgment Number (relative)' },
  ack_raw: { type: 'uint', label: 'Acknowledgment number (raw)' },
  hdr_len: { type: 'uint', label: 'Header Length' },
  flags: { type: 'uint', label: 'Flags', base: 'hex' },
  'flags.fin': { type: 'bool', label: 'Fin' },
  'flags.syn': { type: 'bool', label: 'Syn' },
  'flags.reset': { type: 'bool', label: 'Reset' },
  'flags.push': { type: 'bool', label: 'Push' },
  'flags.ack': { type: 'bool', label: 'Acknowledgment' },
  'flags.urg': { type: 'bool', label: 'Urgent' },
  'flags.ece': { type: 'bool', label: 'ECN-Echo' },
  'flags.cwr': { type: 'bool', label: 'Congestion Window Reduced' },
  window_size_value: { type: 'uint', label: 'Window' },
  window_size: { type: 'uint', label: 'Calculated window size' },
  window_size_scalefactor: { type: 'int', label: 'Window size scaling factor', description: '2 to the shift count from the SYNs; -1 not known (no SYN seen), -2 no window scaling' },
  checksum: { type: 'uint', label: 'Checksum', base: 'hex' },
  urgent_pointer: { type: 'uint', label: 'Urgent Pointer' },
  options: { type: 'label', label: 'Options' },
  'option_kind': { type: 'uint', label: 'Kind' },
  'options.mss_val': { type: 'uint', label: 'MSS Value' },
  'options.wscale.shift': { type: 'uint', label: 'Window scale shift count' },
  'options.sack_perm': { type: 'bool', label: 'SACK Permitted' },
  'options.sack': { type: 'string', label: 'SACK blocks' },
  'options.timestamp.tsval': { type: 'uint', label: 'Timestamp value' },
  'options.timestamp.tsecr': { type: 'uint', label: 'Timestamp echo reply' },
  'analysis.retransmission': { type: 'bool', label: 'This frame is a (suspected) retransmission' },
  'analysis.fast_retransmission': { type: 'bool', label: 'This frame is a (suspected) fast retransmission' },
  'analysis.spurious_retransmission': { type: 'bool', label: 'This frame is a (suspected) spurious retransmission' },
  'analysis.out_of_order': { type: 'bool', label: 'This frame arrived out of order' },
  'analysis.lost_segment': { type: 'bool', label: 'A previous segment was not captured' },
  payload: { type: 'bytes', label: 'TCP payload' },
});

export const ICMP_TYPES: Record<number, string> = {
  0: 'Echo (ping) reply', 3: 'Destination unreachable', 4: 'Source quench', 5: 'Redirect', 8: 'Echo (ping) request',
  11: 'Time-to-live exceeded', 12: 'Parameter problem', 13: 'Timestamp', 14: 'Timestamp reply',
};
export const ICMP_UNREACH_CODES: Record<number, string> = {
  0: 'Network unreachable', 1: 'Host unreachable', 2: 'Protocol unreachable', 3: 'Port unreachable', 4: 'Fragmentation needed',
  5: 'Source route failed', 6: 'Destination network unknown', 7: 'Destination host unknown', 9: 'Network administratively prohibited',
  10: 'Host administratively prohibited', 13: 'Communication administratively filtered',
};

export const ICMP = defineProtocol('icmp', 'Internet Control Message Protocol', {
  type: { type: 'uint', label: 'Type', values: ICMP_TYPES },
  code: { type: 'uint', label: 'Code' },
  checksum: { type: 'uint', label: 'Checksum', base: 'hex' },
  ident: { type: 'uint', label: 'Identifier' },
  seq: { type: 'uint', label: 'Sequence Number' },
  quoted: { type: 'label', label: 'Quoted packet (the datagram that caused the error)' },
});

export const ICMPV6_TYPES: Record<number, string> = {
  1: 'Destination Unreachable', 2: 'Packet Too Big', 3: 'Time Exceeded', 4: 'Parameter Problem', 128: 'Echo (ping) request',
  129: 'Echo (ping) reply', 133: 'Router Solicitation', 134: 'Router Advertisement', 135: 'Neighbor Solicitation', 136: 'Neighbor Advertisement',
  143: 'Multicast Listener Report Message v2',
};
export const ICMPV6_UNREACH_CODES: Record<number, string> = {
  0: 'No route to destination', 1: 'Administratively prohibited', 3: 'Address unreachable', 4: 'Port unreachable',
};

export const ICMPV6 = defineProtocol('icmpv6', 'Internet Control Message Protocol v6', {
  type: { type: 'uint', label: 'Type', values: ICMPV6_TYPES },
  code: { type: 'uint', label: 'Code' },
  checksum: { type: 'uint', label: 'Checksum', base: 'hex' },
  quoted: { type: 'label', label: 'Quoted packet (the datagram that caused the error)' },
});

export interface UdpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly length: number;
  readonly checksum: number;
}

export function parseUdp(d: Uint8Array, o: number): UdpHeader | string {
  if (d.length - o < 8) return 'UDP header truncated';
  return {
    srcPort: (d[o]! << 8) | d[o + 1]!,
    dstPort: (d[o + 2]! << 8) | d[o + 3]!,
    length: (d[o + 4]! << 8) | d[o + 5]!,
    checksum: (d[o + 6]! << 8) | d[o + 7]!,
  };
}

export function udpTree(o: number, h: UdpHeader, stream: number): FieldNode[] {
  return [
    f(UDP.srcport, h.srcPort, o, 2),
    f(UDP.dstport, h.dstPort, o + 2, 2),
    f(UDP.length, h.length, o + 4, 2),
    f(UDP.checksum, h.checksum, o + 6, 2),
    f(UDP.stream, stream),
  ];
}

/** In tshark's order (lowest bit first), so Info reads `[SYN, ACK]`, `[FIN, PSH, ACK]`. */
export const TCP_FLAG_NAMES: [number, string][] = [
  [0x01, 'FIN'], [0x02, 'SYN'], [0x04, 'RST'], [0x08, 'PSH'], [0x10, 'ACK'], [0x20, 'URG'], [0x40, 'ECE'], [0x80, 'CWR'],
];

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export interface TcpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly seq: number;
  readonly ack: number;
  readonly headerLength: number;
  readonly flags: number;
  readonly window: number;
  readonly checksum: number;
  readonly urgent: number;
  readonly mss?: number;
  readonly windowScale?: number;
}

export function parseTcp(d: Uint8Array, o: number): TcpHeader | string {
  if (d.length - o < 20) return 'TCP header truncated';
  const headerLength = (d[o + 12]! >> 4) * 4;
  if (headerLength < 20) return `TCP header length ${headerLength} is below the minimum 20`;
  if (d.length - o < headerLength) return 'TCP options truncated';
  let mss: number | undefined;
  let windowScale: number | undefined;
  // The same walk as tcpOptions, without a generator and an object per option (every segment pays it).
  const end = o + headerLength;
  for (let pos = o + 20; pos < end; ) {
    const kind = d[pos]!;
    if (kind === 0) break;
    if (kind === 1) {
      pos++;
      continue;
    }
    if (pos + 1 >= end) break;
    const length = d[pos + 1]!;
    if (length < 2 || pos + length > end) break;
    if (kind === 2 && length === 4) mss = (d[pos + 2]! << 8) | d[pos + 3]!;
    if (kind === 3 && length === 3) windowScale = d[pos + 2]!;
    pos += length;
  }
  return {
    srcPort: (d[o]! << 8) | d[o + 1]!,
    dstPort: (d[o + 2]! << 8) | d[o + 3]!,
    seq: ((d[o + 4]! << 24) | (d[o + 5]! << 16) | (d[o + 6]! << 8) | d[o + 7]!) >>> 0,
    ack: ((d[o + 8]! << 24) | (d[o + 9]! << 16) | (d[o + 10]! << 8) | d[o + 11]!) >>> 0,
    headerLength,
    flags: d[o + 13]! | ((d[o + 12]! & 1) << 8),
    window: (d[o + 14]! << 8) | d[o + 15]!,
    checksum: (d[o + 16]! << 8) | d[o + 17]!,
    urgent: (d[o + 18]! << 8) | d[o + 19]!,
    mss,
    windowScale,
  };
}

interface TcpOption {
  kind: number;
  offset: number;
  length: number;
}

function* tcpOptions(d: Uint8Array, start: number, end: number): Generator<TcpOption> {
  let pos = start;
  while (pos < end) {
    const kind = d[pos]!;
    if (kind === 0) return;
    if (kind === 1) {
      yield { kind, offset: pos, length: 1 };
      pos++;
      continue;
    }
    if (pos + 1 >= end) return;
    const length = d[pos + 1]!;
    if (length < 2 || pos + length > end) return;
    yield { kind, offset: pos, length };
    pos += length;
  }
}

// Flag sets repeat endlessly: each text is built once (9 flag bits, 512 texts at most).
const flagTexts: (string | undefined)[] = [];

export function tcpFlagsText(flags: number): string {
  if (Number.isInteger(flags) && flags >= 0 && flags < 512) return (flagTexts[flags] ??= buildFlagsText(flags));
  return buildFlagsText(flags);
}

function buildFlagsText(flags: number): string {
  const names = TCP_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  return names.join(', ');
}

const u32 = (d: Uint8Array, o: number): number => ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;

export function tcpTree(
  d: Uint8Array, o: number, h: TcpHeader,
  extra: { stream: number; relSeq: number; relAck: number; payloadLength: number; window: number; scale: number },
): FieldNode[] {
  const flagNodes: FieldNode[] = [
    f(TCP['flags.cwr'], (h.flags & 0x80) !== 0, o + 13, 1),
    f(TCP['flags.ece'], (h.flags & 0x40) !== 0, o + 13, 1),
    f(TCP['flags.urg'], (h.flags & 0x20) !== 0, o + 13, 1),
    f(TCP['flags.ack'], (h.flags & ACK) !== 0, o + 13, 1),
    f(TCP['flags.push'], (h.flags & PSH) !== 0, o + 13, 1),
    f(TCP['flags.reset'], (h.flags & RST) !== 0, o + 13, 1),
    f(TCP['flags.syn'], (h.flags & SYN) !== 0, o + 13, 1),
    f(TCP['flags.fin'], (h.flags & FIN) !== 0, o + 13, 1),
  ];
  const nodes: FieldNode[] = [
    f(TCP.srcport, h.srcPort, o, 2),
    f(TCP.dstport, h.dstPort, o + 2, 2),
    f(TCP.stream, extra.stream),
    f(TCP.len, extra.payloadLength),
    f(TCP.seq, extra.relSeq, o + 4, 4),
    f(TCP.seq_raw, h.seq, o + 4, 4),
    f(TCP.nxtseq, (extra.relSeq + extra.payloadLength + ((h.flags & (SYN | FIN)) !== 0 ? 1 : 0)) >>> 0),
    f(TCP.ack, extra.relAck, o + 8, 4),
    f(TCP.ack_raw, h.ack, o + 8, 4),
    f(TCP.hdr_len, h.headerLength, o + 12, 1),
    f(TCP.flags, h.flags, o + 12, 2, flagNodes, `Flags: 0x${h.flags.toString(16).padStart(3, '0')} (${tcpFlagsText(h.flags)})`),
    f(TCP.window_size_value, h.window, o + 14, 2),
    f(TCP.window_size, extra.window),
    f(TCP.checksum, h.checksum, o + 16, 2),
    f(TCP.urgent_pointer, h.urgent, o + 18, 2),
  ];
  // As tshark: SYNs are never scaled, so they carry no scaling factor.
  if ((h.flags & SYN) === 0) nodes.splice(13, 0, f(TCP.window_size_scalefactor, extra.scale));
  if (h.headerLength > 20) {
    const options: FieldNode[] = [];
    for (const opt of tcpOptions(d, o + 20, o + h.headerLength)) {
      switch (opt.kind) {
        case 2:
          if (opt.length === 4) options.push(f(TCP['options.mss_val'], (d[opt.offset + 2]! << 8) | d[opt.offset + 3]!, opt.offset, 4));
          break;
        case 3:
          if (opt.length === 3) options.push(f(TCP['options.wscale.shift'], d[opt.offset + 2]!, opt.offset, 3));
          break;
        case 4:
          options.push(f(TCP['options.sack_perm'], true, opt.offset, 2));
          break;
        case 5: {
          const blocks: string[] = [];
          for (let p = opt.offset + 2; p + 8 <= opt.offset + opt.length; p += 8) blocks.push(`${u32(d, p)}-${u32(d, p + 4)}`);
          options.push(f(TCP['options.sack'], blocks.join(' '), opt.offset, opt.length));
          break;
        }
        case 8:
          if (opt.length === 10) {
            options.push(f(TCP['options.timestamp.tsval'], u32(d, opt.offset + 2), opt.offset + 2, 4), f(TCP['options.timestamp.tsecr'], u32(d, opt.offset + 6), opt.offset + 6, 4));
          }
          break;
        default:
          options.push(f(TCP.option_kind, opt.kind, opt.offset, opt.length));
      }
    }
    nodes.push(f(TCP.options, null, o + 20, h.headerLength - 20, options, `Options: (${h.headerLength - 20} bytes)`));
  }
  return nodes;
}
