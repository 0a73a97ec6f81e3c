// Community ID v1 (corelight/community-id-spec): one hash per flow, the same from both ends
// and in every tool that implements it (Zeek, Suricata, Arkime), so our events join their logs.
// SHA-1 over seed (2 bytes, big-endian), the two addresses, the protocol, a zero pad byte and
// the two ports (or ICMP type/code equivalents), the smaller (address, port) first; base64,
// prefixed with the version `1:`.
import { sha1 } from '../util/sha1.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;
export const IPPROTO_ICMPV6 = 58;

export interface FlowTuple {
  /** 4 bytes (IPv4) or 16 bytes (IPv6), network order; both of the same family. */
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly proto: number;
  /** Ports for TCP, UDP and SCTP; for ICMP and ICMPv6 the type and the code. Absent for other protocols. */
  readonly srcPort?: number;
  readonly dstPort?: number;
}

/** ICMP message types and their counterparts (request ↔ reply): such a pair is one bidirectional flow. */
const ICMP4_COUNTERPART: ReadonlyMap<number, number> = new Map([[8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [10, 9], [17, 18], [18, 17]]);
const ICMP6_COUNTERPART: ReadonlyMap<number, number> = new Map([
  [128, 129], [129, 128], [133, 134], [134, 133], [135, 136], [136, 135], [130, 131], [131, 130], [139, 140], [140, 139], [144, 145], [145, 144],
]);

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The Community ID v1 string of a flow, e.g. `1:LQU9qZlK+B5F3KDmev6m5PMibrg=`. */
export function communityId(flow: FlowTuple, seed = 0): string {
  let { src, dst } = flow;
  let ports: [number, number] | undefined = flow.srcPort !== undefined && flow.dstPort !== undefined ? [flow.srcPort, flow.dstPort] : undefined;
  let oneWay = false;
  if (ports !== undefined && (flow.proto === IPPROTO_ICMP || flow.proto === IPPROTO_ICMPV6)) {
    // Type and code become port equivalents: a type with a counterpart is keyed (type, counterpart);
    // any other is one-way, keyed (type, code) and never reordered.
    const counterpart = (flow.proto === IPPROTO_ICMP ? ICMP4_COUNTERPART : ICMP6_COUNTERPART).get(ports[0]);
    if (counterpart !== undefined) ports = [ports[0], counterpart];
    else oneWay = true;
  }
  const order = compare(src, dst);
  const swap = !oneWay && (order > 0 || (order === 0 && ports !== undefined && ports[0] > ports[1]));
  if (swap) {
    [src, dst] = [dst, src];
    if (ports !== undefined) ports = [ports[1], ports[0]];
  }
  // The hashed bytes, laid out in one buffer (at most 2 + 16 + 16 + 2 + 4).
  const input = new Uint8Array(8 + src.length + dst.length);
  let n = 0;
  input[n++] = (seed >>> 8) & 0xff;
  input[n++] = seed & 0xff;
  input.set(src, n);
  n += src.length;
  input.set(dst, n);
  n += dst.length;
  input[n++] = flow.proto & 0xff;
  input[n++] = 0;
  if (ports !== undefined) {
    input[n++] = (ports[0] >>> 8) & 0xff;
    input[n++] = ports[0] & 0xff;
    input[n++] = (ports[1] >>> 8) & 0xff;
    input[n++] = ports[1] & 0xff;
  }
  const digest = sha1(input, n);
  return `1:${Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('base64')}`;
}
