// The stream numbers of flows a table stopped tracking. tshark never forgets a conversation:
// a UDP flow silent for hours keeps its udp.stream when it speaks again. A full flow record
// costs about 200 bytes with its table entries, so idle flows are retired here instead, at
// 16 bytes per IPv4 flow in one typed array (open addressing, linear probing) and a map entry
// per IPv6 flow, up to a limit past which every number is forgotten at once.
import { flowHash, type FlowRecord } from './flows.js';

/** Slots per entry: side 0's address, side 1's address, both ports, index + 1 (0: empty slot). */
const STRIDE = 4;
const FIRST_CAPACITY = 1 << 12;

export class RetiredNumbers {
  private slots = new Int32Array(FIRST_CAPACITY * STRIDE);
  private mask = FIRST_CAPACITY - 1;
  private count = 0;
  private readonly v6 = new Map<string, number>();

  /** At most `limit` flows remembered (the table grows to twice that many slots, 32 bytes each). */
  constructor(readonly limit: number) {}

  get size(): number {
    return this.count + this.v6.size;
  }

  /** Bytes the table takes (for tests and reports). */
  get bytes(): number {
    return this.slots.byteLength;
  }

  /**
   * Remembers the number of a flow the table stops tracking. Returns false when the limit was
   * reached and every number remembered so far was forgotten first (the caller reports it).
   */
  remember(rec: FlowRecord, index: number): boolean {
    let kept = true;
    if (this.size >= this.limit) {
      this.clear();
      kept = false;
    }
    const a4 = rec.v4A;
    const b4 = rec.v4B;
    if (a4 < 0 || b4 < 0) {
      this.v6.set(v6Key(rec.addrA, rec.portA, rec.addrB, rec.portB), index);
      return kept;
    }
    if ((this.count + 1) * 2 > this.mask + 1) this.grow();
    const ports = (rec.portA << 16) | rec.portB;
    const at = this.probe(rec.hash, a4 | 0, rec.portA, b4 | 0, rec.portB);
    if (this.slots[at + 3] === 0) this.count++;
    this.slots[at] = a4 | 0;
    this.slots[at + 1] = b4 | 0;
    this.slots[at + 2] = ports;
    this.slots[at + 3] = index + 1;
    return kept;
  }

  /** The number of the flow of a packet (either direction), if it was retired. */
  find(hash: number, src: string, sp: number, dst: string, dp: number, src4: number, dst4: number): number | undefined {
    if (src4 < 0 || dst4 < 0) return this.v6.size === 0 ? undefined : this.v6.get(v6Key(src, sp, dst, dp));
    if (this.count === 0) return undefined;
    const at = this.probe(hash, src4 | 0, sp, dst4 | 0, dp);
    const stored = this.slots[at + 3]!;
    return stored === 0 ? undefined : stored - 1;
  }

  clear(): void {
    this.slots = new Int32Array(FIRST_CAPACITY * STRIDE);
    this.mask = FIRST_CAPACITY - 1;
    this.count = 0;
    this.v6.clear();
  }

  /** The slot holding this flow (either orientation), or the empty slot where it would go. */
  private probe(hash: number, a: number, pa: number, b: number, pb: number): number {
    const s = this.slots;
    const forward = (pa << 16) | pb;
    const backward = (pb << 16) | pa;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const at = i * STRIDE;
      if (s[at + 3] === 0) return at;
      if ((s[at] === a && s[at + 1] === b && s[at + 2] === forward) || (s[at] === b && s[at + 1] === a && s[at + 2] === backward)) return at;
    }
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    this.slots = new Int32Array(capacity * STRIDE);
    this.mask = capacity - 1;
    for (let at = 0; at < old.length; at += STRIDE) {
      if (old[at + 3] === 0) continue;
      const a = old[at]!;
      const b = old[at + 1]!;
      const ports = old[at + 2]!;
      const pa = ports >>> 16;
      const pb = ports & 0xffff;
      const to = this.probe(flowHash('', pa, '', pb, a >>> 0, b >>> 0), a, pa, b, pb);
      this.slots.set(old.subarray(at, at + STRIDE), to);
    }
  }
}

/** One key for both directions of an IPv6 flow: the smaller side first. */
function v6Key(a: string, pa: number, b: string, pb: number): string {
  const left = `${a}|${pa}`;
  const right = `${b}|${pb}`;
  return left < right ? `${left}|${right}` : `${right}|${left}`;
}
