// Which worker ("lane") a frame goes to when one capture is split by flow (`--jobs N` on one
// capture; Suricata's autofp run mode). Each lane runs its own engine, so every frame whose
// dissection may read state left by another frame must land in the same lane as that frame.
//
// State in msgscope's dissectors is kept per address pair for these, so they are spread over
// every lane by a hash of the (unordered) pair:
// - TCP on ports 139 and 445 (NBSS, SMB1/SMB2, their named pipes and DCE/RPC over them):
//   per connection;
// - UDP other than NetBIOS (DCE/RPC connectionless, MS-MSRP's NetrSendMessage): per call,
//   whose response may come from another port of the same host;
// - ICMP errors, in the lane of the datagram they quote (a router's bounce comes from a third
//   address: the quoted pair decides); other ICMP, by its own pair.
// Everything else goes to lane 0, one engine seeing all of it, because its state crosses pairs:
// MSNP (referrals join a client's notification and switchboard connections, message legs join
// two clients through a server; found on any TCP port by content), NetBIOS name and datagram
// service on UDP 137/138 (a broadcast query answered by unicast), broadcasts and multicasts,
// non-IP frames, tunnels, and whatever this parse does not recognise.
// IP fragments carry ports in the first fragment only: the class found for the first fragment
// seen of a datagram is remembered (bounded), so the others follow it.
//
// Balance: lane 0 has all the shared traffic, so it takes only the share of the pairs that
// brings it to 1/N of the work, given the shared traffic's share of a sample of the capture
// (`balance`, called once before the first frame is dispatched).
import { LINKTYPE } from '../../capture/frame.js';
import { FifoMap } from '../../util/fifo-map.js';

/** Datagrams whose fragments are followed at most (the oldest forgotten first). */
const MAX_FRAGMENTED = 65536;

const PAIR_TCP_PORTS = new Set([139, 445]);
const SHARED_UDP_PORTS = new Set([137, 138]);
/**
 * The work of a shared frame against a pair frame's, for `balance`. Measured on the 250k spam
 * bench capture (stop 21), its shared and pair frames written to two captures and each read by
 * `timeline` alone: 36 µs of CPU per shared frame (MSNP sessions, LAN noise: web and other TCP,
 * NetBIOS) against 17 µs per pair frame (the SMB and DCE/RPC exchanges of spam).
 */
const SHARED_COST = 2;

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMPV6 = 58;

/** The class of a frame whose state may cross address pairs: lane 0. Any other class is a pair's hash (unsigned 32 bits). */
export const SHARED = -1;

export class LaneChooser {
  private readonly fragments = new FifoMap<string, number>();
  /** The share of the pairs' hash space that goes to lane 0 (the rest is split evenly). */
  private zeroShare: number;
  /** The shared frames' share of the work, as the sample gave it (none before `balance`). */
  private sharedWork = 0;

  constructor(readonly lanes: number) {
    this.zeroShare = 1 / lanes;
  }

  /**
   * Sets lane 0's share of the pairs from the share of shared-class frames in a sample, so that
   * each lane gets about 1/N of the work. Call before the first frame is dispatched: a pair
   * must keep its lane.
   */
  balance(sharedShare: number): void {
    // In work rather than frames: a shared frame costs about SHARED_COST pair frames.
    const work = (SHARED_COST * sharedShare) / (SHARED_COST * sharedShare + 1 - sharedShare);
    this.sharedWork = work;
    const fair = 1 / this.lanes;
    this.zeroShare = work >= fair ? 0 : (fair - work) / (1 - work);
  }

  /**
   * Each lane's share of the engine's bounds, from its expected share of the work as `balance`
   * left it: lane 0 the shared frames and its share of the pairs, the others the rest of the
   * pairs evenly. None below half of 1/N, as the sample may not show traffic that comes later:
   * the lanes together hold at most 1.5 times one engine's bounds (1 when the work is balanced).
   */
  shares(): number[] {
    if (this.lanes === 1) return [1];
    const work = this.sharedWork;
    const zero = work + this.zeroShare * (1 - work);
    const floor = 1 / (2 * this.lanes);
    return [zero, ...Array.from({ length: this.lanes - 1 }, () => (1 - zero) / (this.lanes - 1))].map((x) => Math.max(floor, x));
  }

  /** The lane of a frame, 0 ≤ lane < lanes. */
  lane(data: Uint8Array, linkType: number): number {
    return this.laneOf(this.classify(data, linkType));
  }

  /** The lane of a class (see `classify`). */
  laneOf(klass: number): number {
    if (klass < 0 || this.lanes === 1) return 0;
    const u = klass / 4294967296;
    if (u < this.zeroShare) return 0;
    return Math.min(this.lanes - 1, 1 + Math.floor(((u - this.zeroShare) / (1 - this.zeroShare)) * (this.lanes - 1)));
  }

  /** SHARED, or the hash of the frame's address pair (the same both ways). */
  classify(data: Uint8Array, linkType: number): number {
    if (this.lanes === 1) return SHARED;
    const start = networkStart(data, linkType);
    if (start < 0) return SHARED;
    return (start & 1) === 1 ? this.ipv6(data, start >> 1) : this.ipv4(data, start >> 1);
  }

  private ipv4(d: Uint8Array, o: number): number {
    if (d.length < o + 20 || d[o]! >> 4 !== 4) return SHARED;
    const ihl = (d[o]! & 0x0f) * 4;
    if (ihl < 20) return SHARED;
    const src = readU32(d, o + 12);
    const dst = readU32(d, o + 16);
    const proto = d[o + 9]!;
    const fragField = (d[o + 6]! << 8) | d[o + 7]!;
    const offset = fragField & 0x1fff;
    const more = (fragField & 0x2000) !== 0;
    const group = isGroup4(dst);
    if (offset === 0 && !more) return this.transport(proto, d, o + ihl, src, dst, group, false);
    const key = `4|${src}|${dst}|${proto}|${(d[o + 4]! << 8) | d[o + 5]!}`;
    return this.fragment(key, () => (offset === 0 ? this.transport(proto, d, o + ihl, src, dst, group, true) : SHARED));
  }

  private ipv6(d: Uint8Array, o: number): number {
    if (d.length < o + 40 || d[o]! >> 4 !== 6) return SHARED;
    const src = addressHash(d, o + 8, 16);
    const dst = addressHash(d, o + 24, 16);
    const group = d[o + 24] === 0xff;
    let next = d[o + 6]!;
    let at = o + 40;
    // Hop-by-hop, routing and destination options, then perhaps a fragment header.
    for (let hops = 0; hops < 8; hops++) {
      if (next === 0 || next === 43 || next === 60) {
        if (d.length < at + 2) return SHARED;
        next = d[at]!;
        at += (d[at + 1]! + 1) * 8;
        continue;
      }
      if (next === 44) {
        if (d.length < at + 8) return SHARED;
        const fragField = (d[at + 2]! << 8) | d[at + 3]!;
        const offset = fragField >> 3;
        const proto = d[at]!;
        const key = `6|${src}|${dst}|${readU32(d, at + 4)}`;
        return this.fragment(key, () => (offset === 0 ? this.transport(proto, d, at + 8, src, dst, group, true) : SHARED));
      }
      return this.transport(next, d, at, src, dst, group, false);
    }
    return SHARED;
  }

  /** The class of a datagram's fragments: the one found for the first fragment seen of it. */
  private fragment(key: string, choose: () => number): number {
    const known = this.fragments.get(key);
    if (known !== undefined) return known;
    const klass = choose();
    if (this.fragments.size >= MAX_FRAGMENTED) this.fragments.deleteOldest();
    this.fragments.set(key, klass);
    return klass;
  }

  /**
   * `src`, `dst`: the addresses as numbers (IPv4) or hashes (IPv6); `group`: to a broadcast or
   * multicast address; `partial`: a first fragment (what follows the header may be cut).
   */
  private transport(proto: number, d: Uint8Array, at: number, src: number, dst: number, group: boolean, partial: boolean): number {
    if (proto === TCP || proto === UDP) {
      if (d.length < at + 4) return SHARED;
      const sp = (d[at]! << 8) | d[at + 1]!;
      const dp = (d[at + 2]! << 8) | d[at + 3]!;
      return this.ports(proto, src, dst, group, sp, dp);
    }
    if (proto === ICMP || proto === ICMPV6) return partial ? SHARED : this.icmp(proto, d, at, src, dst);
    return SHARED;
  }

  private ports(proto: number, src: number, dst: number, group: boolean, sp: number, dp: number): number {
    if (proto === TCP) return PAIR_TCP_PORTS.has(sp) || PAIR_TCP_PORTS.has(dp) ? pairHash(src, dst) : SHARED;
    if (group || SHARED_UDP_PORTS.has(sp) || SHARED_UDP_PORTS.has(dp)) return SHARED;
    return pairHash(src, dst);
  }

  /** An ICMP error goes where the datagram it quotes went; other ICMP by its own pair. */
  private icmp(proto: number, d: Uint8Array, at: number, src: number, dst: number): number {
    if (d.length < at + 8) return SHARED;
    const type = d[at]!;
    const error = proto === ICMP ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12 : type >= 1 && type <= 4;
    if (!error) return pairHash(src, dst);
    const q = at + 8;
    if (proto === ICMP) {
      if (d.length < q + 20 || d[q]! >> 4 !== 4) return SHARED;
      const ihl = (d[q]! & 0x0f) * 4;
      if (ihl < 20 || (((d[q + 6]! << 8) | d[q + 7]!) & 0x1fff) !== 0) return SHARED;
      const qp = d[q + 9]!;
      if ((qp !== TCP && qp !== UDP) || d.length < q + ihl + 4) return SHARED;
      const qdst = readU32(d, q + 16);
      return this.ports(qp, readU32(d, q + 12), qdst, isGroup4(qdst), (d[q + ihl]! << 8) | d[q + ihl + 1]!, (d[q + ihl + 2]! << 8) | d[q + ihl + 3]!);
    }
    if (d.length < q + 44 || d[q]! >> 4 !== 6) return SHARED;
    const qp = d[q + 6]!;
    if (qp !== TCP && qp !== UDP) return SHARED;
    const t = q + 40;
    return this.ports(qp, addressHash(d, q + 8, 16), addressHash(d, q + 24, 16), d[q + 24] === 0xff, (d[t]! << 8) | d[t + 1]!, (d[t + 2]! << 8) | d[t + 3]!);
  }
}

/** The hash of an address pair, the same both ways (unsigned 32 bits). */
function pairHash(a: number, b: number): number {
  const lo = a < b ? a : b;
  const hi = a < b ? b : a;
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((hi >>> 16) | (hi << 16), 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x27d4eb2d);
  h ^= h >>> 13;
  return h >>> 0;
}

function readU32(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
}

/** An IPv6 address as one unsigned number (FNV-1a over its bytes): only compared and hashed. */
function addressHash(d: Uint8Array, at: number, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ d[at + i]!, 0x01000193);
  return h >>> 0;
}

/** IPv4 multicast (224.0.0.0/4) and the limited broadcast. */
function isGroup4(dst: number): boolean {
  return dst >>> 28 === 0xe || dst === 0xffffffff;
}

/**
 * Where the IP header starts for the common link types (two 802.1Q/802.1ad tags at most), as
 * offset × 2 + 1 for IPv6; -1 otherwise (lane 0).
 */
function networkStart(d: Uint8Array, linkType: number): number {
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      let o = 12;
      let type = d.length >= 14 ? (d[12]! << 8) | d[13]! : 0;
      for (let tags = 0; (type === 0x8100 || type === 0x88a8) && tags < 2; tags++) {
        o += 4;
        type = d.length >= o + 2 ? (d[o]! << 8) | d[o + 1]! : 0;
      }
      return ethertype(type, o + 2);
    }
    case LINKTYPE.LINUX_SLL:
      return d.length >= 16 ? ethertype((d[14]! << 8) | d[15]!, 16) : -1;
    case LINKTYPE.LINUX_SLL2:
      return d.length >= 20 ? ethertype((d[0]! << 8) | d[1]!, 20) : -1;
    case LINKTYPE.RAW:
    case 12:
    case 14:
      return d.length === 0 ? -1 : d[0]! >> 4 === 4 ? 0 : d[0]! >> 4 === 6 ? 1 : -1;
    case LINKTYPE.IPV4:
      return 0;
    case LINKTYPE.IPV6:
      return 1;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (d.length < 4) return -1;
      // The address family, in the capturing host's byte order (NULL) or network order (LOOP).
      const family = linkType === LINKTYPE.LOOP ? readU32(d, 0) : Math.min(readU32(d, 0), ((d[3]! << 24) | (d[2]! << 16) | (d[1]! << 8) | d[0]!) >>> 0);
      if (family === 2) return 8;
      if (family === 24 || family === 28 || family === 30) return 9;
      return -1;
    }
    default:
      return -1;
  }
}

function ethertype(type: number, offset: number): number {
  return type === 0x0800 ? offset * 2 : type === 0x86dd ? offset * 2 + 1 : -1;
}
