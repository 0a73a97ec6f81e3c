// What the engine's conversation tables (TCP and UDP) share: their bounds, and one hash table
// of flows found by a number hashed from the addresses and ports — the same whichever side
// sent the packet — so the per-packet lookup builds no key string. Records that hash alike
// are chained and told apart field by field; the hash is keyed with secrets of the process, so
// a capture cannot be made to chain them. A set keeps the records in insertion order: the first
// are the oldest, the ones a full table gives up first.
import { randomBytes } from 'node:crypto';
import { ipv4Text } from '../net/addr.js';

// Flows tracked at once per transport: EngineOptions.conversationLimit (262,144 by default);
// past it the oldest are given up, a batch at a time.

/** How many of the oldest flows a full table gives up at once (one finding per batch): a sixteenth of its limit. */
export function evictBatch(limit: number): number {
  return Math.max(1, Math.floor(limit / 16));
}
/** The identity of a flow: both sides' addresses and ports, in the order the record keeps them. */
export abstract class FlowRecord {
  /** The next record in the same hash bucket. */
  chain: this | undefined = undefined;
  /** Whether the table holds this record. */
  inTable = false;
  lastSec: number;
  /** Whether both sides are IPv4 (then compared by `a4`, `b4` instead of the strings). */
  private readonly v4: boolean;
  /** IPv4 addresses as signed 32-bit values: small integers, where unsigned ones past 2^31 would each be a boxed number. */
  private readonly a4: number;
  private readonly b4: number;

  constructor(
    /** Addresses of side 0 and side 1 (for TCP: client, server); TCP leaves an IPv4 one '' (see `address`). */
    readonly addrA: string,
    readonly addrB: string,
    readonly portA: number,
    readonly portB: number,
    /** IPv4 addresses as numbers, or -1 (IPv6). */
    v4A: number,
    v4B: number,
    readonly hash: number,
    now: number,
  ) {
    this.lastSec = now;
    this.v4 = v4A >= 0 && v4B >= 0;
    this.a4 = this.v4 ? v4A | 0 : 0;
    this.b4 = this.v4 ? v4B | 0 : 0;
  }

  /** Side 0's IPv4 address as an unsigned number, or -1 (IPv6). */
  get v4A(): number {
    return this.v4 ? this.a4 >>> 0 : -1;
  }

  get v4B(): number {
    return this.v4 ? this.b4 >>> 0 : -1;
  }

  /** The side's address text (an IPv4 address is kept as a number only, its text made here). */
  address(side: 0 | 1): string {
    const v4 = side === 0 ? this.v4A : this.v4B;
    return v4 >= 0 ? ipv4Text(v4) : side === 0 ? this.addrA : this.addrB;
  }

  /** 0 when the packet was sent by side 0, 1 by side 1, -1 when it is another flow. */
  sideOf(src: string, sp: number, dst: string, dp: number, src4: number, dst4: number): -1 | 0 | 1 {
    if (this.v4 && src4 >= 0) {
      const s = src4 | 0;
      const d = dst4 | 0;
      if (this.a4 === s && this.portA === sp && this.b4 === d && this.portB === dp) return 0;
      if (this.a4 === d && this.portA === dp && this.b4 === s && this.portB === sp) return 1;
      return -1;
    }
    if (this.v4 || src4 >= 0) return -1;
    if (this.addrA === src && this.portA === sp && this.addrB === dst && this.portB === dp) return 0;
    if (this.addrA === dst && this.portA === dp && this.addrB === src && this.portB === sp) return 1;
    return -1;
  }
}

/**
 * Secrets of this process mixed into every flow hash. The input is hostile: with a public hash a
 * capture can be made of many flows that hash alike (before, an address and port whose XOR was
 * equal hashed alike, and a flow from an endpoint to itself hashed to 0), and every packet would
 * walk one long chain — time that grows with the square of the input.
 */
const SEED = randomBytes(12);
const SEED_ADDR = SEED.readInt32LE(0);
const SEED_PORT = SEED.readInt32LE(4);
const SEED_TEXT = SEED.readInt32LE(8);

function fmix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}

/** One side of an IPv4 flow hashed (address and port mixed apart, with the secrets). */
function mix4(addr: number, port: number): number {
  return fmix(fmix(addr ^ SEED_ADDR) ^ Math.imul(port ^ SEED_PORT, 0x9e3779b1));
}

function mixText(addr: string, port: number): number {
  let h = 0x811c9dc5 ^ SEED_TEXT;
  for (let i = 0; i < addr.length; i++) h = Math.imul(h ^ addr.charCodeAt(i), 0x01000193);
  return mix4(h, port);
}

/** Both sides combined the same whichever sent the packet, without letting a side cancel itself out. */
function combine(x: number, y: number): number {
  return x < y ? fmix(Math.imul(x, 0x9e3779b1) ^ y) : fmix(Math.imul(y, 0x9e3779b1) ^ x);
}

/** The flow hash of a packet: IPv4 addresses as numbers when both are given (>= 0), else the address texts. */
export function flowHash(src: string, sp: number, dst: string, dp: number, src4: number, dst4: number): number {
  return src4 >= 0 && dst4 >= 0 ? combine(mix4(src4, sp), mix4(dst4, dp)) : combine(mixText(src, sp), mixText(dst, dp));
}

export class FlowTable<R extends FlowRecord> {
  private readonly buckets = new Map<number, R>();
  /** Every record, oldest first: sweeps and eviction go in this order, whatever the (secret) hash. */
  private readonly order = new Set<R>();
  /** Side of the packet in the record the last `find` returned. */
  side: 0 | 1 = 0;

  get size(): number {
    return this.order.size;
  }

  find(hash: number, src: string, sp: number, dst: string, dp: number, src4: number, dst4: number): R | undefined {
    for (let r = this.buckets.get(hash); r !== undefined; r = r.chain) {
      const side = r.sideOf(src, sp, dst, dp, src4, dst4);
      if (side >= 0) {
        this.side = side as 0 | 1;
        return r;
      }
    }
    return undefined;
  }

  /** Adds a record (a record of the same flow must have been removed first). */
  insert(rec: R): void {
    rec.chain = this.buckets.get(rec.hash);
    this.buckets.set(rec.hash, rec);
    rec.inTable = true;
    this.order.add(rec);
  }

  remove(rec: R): void {
    if (!rec.inTable) return;
    rec.inTable = false;
    this.order.delete(rec);
    const head = this.buckets.get(rec.hash);
    if (head === rec) {
      if (rec.chain === undefined) this.buckets.delete(rec.hash);
      else this.buckets.set(rec.hash, rec.chain);
    } else {
      for (let r = head; r !== undefined; r = r.chain) {
        if (r.chain === rec) {
          r.chain = rec.chain;
          break;
        }
      }
    }
    rec.chain = undefined;
  }

  /** Every record, oldest first; records may be removed while iterating. */
  records(): IterableIterator<R> {
    return this.order.values();
  }

  /** Up to `n` of the oldest records (for eviction when the table is full). */
  oldest(n: number): R[] {
    const out: R[] = [];
    for (const r of this.records()) {
      if (out.length >= n) break;
      out.push(r);
    }
    return out;
  }

  clear(): void {
    for (const r of this.records()) {
      r.inTable = false;
      r.chain = undefined;
    }
    this.buckets.clear();
    this.order.clear();
  }
}
