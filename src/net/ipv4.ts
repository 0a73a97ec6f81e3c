// IPv4 (RFC 791) header decoding.
import { defineProtocol, f, type FieldNode } from '../model/fields.js';
import { ipv4String } from './addr.js';

export const IP_PROTOCOLS: Record<number, string> = {
  0: 'IPv6 Hop-by-Hop', 1: 'ICMP', 2: 'IGMP', 6: 'TCP', 17: 'UDP', 41: 'IPv6', 43: 'IPv6 Routing', 44: 'IPv6 Fragment', 47: 'GRE',
  50: 'ESP', 51: 'AH', 58: 'ICMPv6', 59: 'IPv6 No Next Header', 60: 'IPv6 Destination Options', 89: 'OSPF', 132: 'SCTP',
};

export const IP = defineProtocol('ip', 'Internet Protocol Version 4', {
  version: { type: 'uint', label: 'Version' },
  hdr_len: { type: 'uint', label: 'Header Length' },
  dsfield: { type: 'uint', label: 'Differentiated Services Field', base: 'hex' },
  len: { type: 'uint', label: 'Total Length' },
  id: { type: 'uint', label: 'Identification', base: 'hex' },
  flags: { type: 'uint', label: 'Flags', base: 'hex' },
  'flags.df': { type: 'bool', label: "Don't fragment" },
  'flags.mf': { type: 'bool', label: 'More fragments' },
  frag_offset: { type: 'uint', label: 'Fragment Offset' },
  ttl: { type: 'uint', label: 'Time to Live' },
  proto: { type: 'uint', label: 'Protocol', values: IP_PROTOCOLS },
  checksum: { type: 'uint', label: 'Header Checksum', base: 'hex' },
  src: { type: 'ipv4', label: 'Source Address' },
  dst: { type: 'ipv4', label: 'Destination Address' },
  addr: { type: 'ipv4', label: 'Source or Destination Address' },
  options: { type: 'bytes', label: 'Options' },
  reassembled_in: { type: 'uint', label: 'Reassembled IPv4 in frame' },
  fragments: { type: 'string', label: 'IPv4 fragments (frames)' },
});

export interface Ipv4Header {
  readonly headerLength: number;
  readonly totalLength: number;
  readonly id: number;
  readonly dontFragment: boolean;
  readonly moreFragments: boolean;
  /** Fragment offset in bytes. */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly src: string;
  readonly dst: string;
}

/** Parses the header at `o`; returns a string saying what is wrong when it cannot. */
export function parseIpv4(d: Uint8Array, o: number): Ipv4Header | string {
  if (d.length - o < 20) return 'IPv4 header truncated';
  const vihl = d[o]!;
  if (vihl >> 4 !== 4) return `IPv4 version field is ${vihl >> 4}`;
  const headerLength = (vihl & 0xf) * 4;
  if (headerLength < 20) return `IPv4 header length ${headerLength} is below the minimum 20`;
  if (d.length - o < headerLength) return 'IPv4 options truncated';
  const totalLength = (d[o + 2]! << 8) | d[o + 3]!;
  const flagsFrag = (d[o + 6]! << 8) | d[o + 7]!;
  return {
    headerLength,
    totalLength,
    id: (d[o + 4]! << 8) | d[o + 5]!,
    dontFragment: (flagsFrag & 0x4000) !== 0,
    moreFragments: (flagsFrag & 0x2000) !== 0,
    fragmentOffset: (flagsFrag & 0x1fff) * 8,
    ttl: d[o + 8]!,
    protocol: d[o + 9]!,
    src: ipv4String(d, o + 12),
    dst: ipv4String(d, o + 16),
  };
}

export function ipv4Tree(d: Uint8Array, o: number, h: Ipv4Header): FieldNode[] {
  const flags = d[o + 6]! >> 5;
  const nodes: FieldNode[] = [
    f(IP.version, 4, o, 1),
    f(IP.hdr_len, h.headerLength, o, 1),
    f(IP.dsfield, d[o + 1]!, o + 1, 1),
    f(IP.len, h.totalLength, o + 2, 2),
    f(IP.id, h.id, o + 4, 2),
    f(IP.flags, flags, o + 6, 1, [f(IP['flags.df'], h.dontFragment, o + 6, 1), f(IP['flags.mf'], h.moreFragments, o + 6, 1)]),
    f(IP.frag_offset, h.fragmentOffset, o + 6, 2),
    f(IP.ttl, h.ttl, o + 8, 1),
    f(IP.proto, h.protocol, o + 9, 1),
    f(IP.checksum, (d[o + 10]! << 8) | d[o + 11]!, o + 10, 2),
    f(IP.src, h.src, o + 12, 4),
    f(IP.dst, h.dst, o + 16, 4),
  ];
  if (h.headerLength > 20) nodes.push(f(IP.options, d.subarray(o + 20, o + h.headerLength), o + 20, h.headerLength - 20));
  return nodes;
}
