// IPv6 (RFC 8200) with its extension-header chain.
import { defineProtocol, f, type FieldNode } from '../model/fields.js';
import { ipv6String } from './addr.js';
import { IP_PROTOCOLS } from './ipv4.js';

export const IPV6 = defineProtocol('ipv6', 'Internet Protocol Version 6', {
  version: { type: 'uint', label: 'Version' },
  tclass: { type: 'uint', label: 'Traffic Class', base: 'hex' },
  flow: { type: 'uint', label: 'Flow Label', base: 'hex' },
  plen: { type: 'uint', label: 'Payload Length' },
  nxt: { type: 'uint', label: 'Next Header', values: IP_PROTOCOLS },
  hlim: { type: 'uint', label: 'Hop Limit' },
  src: { type: 'ipv6', label: 'Source Address' },
  dst: { type: 'ipv6', label: 'Destination Address' },
  addr: { type: 'ipv6', label: 'Source or Destination Address' },
  ext: { type: 'label', label: 'Extension header' },
  'ext.type': { type: 'uint', label: 'Extension header type', values: IP_PROTOCOLS },
  'ext.len': { type: 'uint', label: 'Length' },
  'fragment.offset': { type: 'uint', label: 'Fragment offset' },
  'fragment.more': { type: 'bool', label: 'More fragments' },
  'fragment.id': { type: 'uint', label: 'Identification', base: 'hex' },
  reassembled_in: { type: 'uint', label: 'Reassembled IPv6 in frame' },
});

export interface Ipv6Header {
  readonly payloadLength: number;
  readonly hopLimit: number;
  readonly src: string;
  readonly dst: string;
  /** The upper-layer protocol after the extension headers. */
  readonly protocol: number;
  /** Offset (from the IPv6 header start) of the upper-layer payload. */
  readonly headerLength: number;
  readonly extensions: { type: number; offset: number; length: number }[];
  readonly fragment?: { offset: number; more: boolean; id: number; headerOffset: number };
}

const EXTENSIONS = new Set([0, 43, 44, 60, 51, 135, 139, 140]);

export function parseIpv6(d: Uint8Array, o: number): Ipv6Header | string {
  if (d.length - o < 40) return 'IPv6 header truncated';
  if (d[o]! >> 4 !== 6) return `IPv6 version field is ${d[o]! >> 4}`;
  let next = d[o + 6]!;
  let pos = o + 40;
  const extensions: Ipv6Header['extensions'] = [];
  let fragment: Ipv6Header['fragment'];
  for (let count = 0; EXTENSIONS.has(next); count++) {
    if (count > 16) return 'IPv6 extension header chain too long';
    if (d.length - pos < 8) return 'IPv6 extension header truncated';
    let length: number;
    if (next === 44) {
      length = 8;
      const offMore = (d[pos + 2]! << 8) | d[pos + 3]!;
      fragment = {
        offset: offMore & 0xfff8,
        more: (offMore & 1) === 1,
        id: ((d[pos + 4]! << 24) | (d[pos + 5]! << 16) | (d[pos + 6]! << 8) | d[pos + 7]!) >>> 0,
        headerOffset: pos - o,
      };
    } else if (next === 51) {
      length = (d[pos + 1]! + 2) * 4; // AH counts 4-byte units (RFC 4302 §2.2)
    } else {
      length = (d[pos + 1]! + 1) * 8;
    }
    if (d.length - pos < length) return 'IPv6 extension header truncated';
    extensions.push({ type: next, offset: pos - o, length });
    next = d[pos]!;
    pos += length;
    if (fragment !== undefined) break; // what follows a fragment header is fragment data
  }
  return {
    payloadLength: (d[o + 4]! << 8) | d[o + 5]!,
    hopLimit: d[o + 7]!,
    src: ipv6String(d, o + 8),
    dst: ipv6String(d, o + 24),
    protocol: next,
    headerLength: pos - o,
    extensions,
    fragment,
  };
}

export function ipv6Tree(d: Uint8Array, o: number, h: Ipv6Header): FieldNode[] {
  const word = ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
  const nodes: FieldNode[] = [
    f(IPV6.version, 6, o, 1),
    f(IPV6.tclass, (word >>> 20) & 0xff, o, 2),
    f(IPV6.flow, word & 0xfffff, o + 1, 3),
    f(IPV6.plen, h.payloadLength, o + 4, 2),
    f(IPV6.nxt, d[o + 6]!, o + 6, 1),
    f(IPV6.hlim, h.hopLimit, o + 7, 1),
    f(IPV6.src, h.src, o + 8, 16),
    f(IPV6.dst, h.dst, o + 24, 16),
  ];
  for (const ext of h.extensions) {
    const children: FieldNode[] = [f(IPV6['ext.type'], ext.type, o + ext.offset, 1), f(IPV6['ext.len'], ext.length, o + ext.offset + 1, 1)];
    if (ext.type === 44 && h.fragment !== undefined) {
      children.push(
        f(IPV6['fragment.offset'], h.fragment.offset, o + ext.offset + 2, 2),
        f(IPV6['fragment.more'], h.fragment.more, o + ext.offset + 3, 1),
        f(IPV6['fragment.id'], h.fragment.id, o + ext.offset + 4, 4),
      );
    }
    nodes.push(f(IPV6.ext, IP_PROTOCOLS[ext.type] ?? String(ext.type), o + ext.offset, ext.length, children));
  }
  return nodes;
}
