// The stream numbers of flows a table stopped tracking. tshark never forgets a conversation:
// a UDP flow silent for hours keeps its udp.stream when it speaks again, and so does a TCP
// conversation that went idle. A full flow record costs hundreds of bytes with its table
// entries, so idle flows are retired here instead, at 16 bytes per IPv4 flow (plus 4 per extra
// word a transport keeps, such as TCP's sequence bases) in one typed array (open addressing,
// linear probing) and a map entry per IPv6 flow, up to a limit past which every number is
// forgotten at once.
import { flowHash, type FlowRecord } from './flows.js';

/** Slots per entry before the extra words: side 0's address, side 1's address, both ports, index + 1 (0: empty slot). */
const KEY_WORDS = 4;
const FIRST_CAPACITY = 1 << 12;

/** A retired flow found again: its number, its extra words, and which side the packet came from. */
export interface RetiredFlow {
  readonly index: number;
  /** The extra words given to `remember`, as unsigned 32-bit values. */
  readonly words: readonly number[];
  /** The packet's source is the record's side 0. */
  readonly fromSide0: boolean;
}

interface RetiredV6 {
  readonly index: number;
  readonly words: readonly number[];
  readonly addrA: string;
  readonly portA: number;
}

export class RetiredNumbers {
  /** Int32 slots per entry. */
  private readonly stride: number;
  private slots: Int32Array;
  private mask = FIRST_CAPACITY - 1;
  private count = 0;
  private readonly v6 = new Map<string, RetiredV6>();

  /**
   * At most `limit` flows remembered (the table is kept at most three quarters full: linear
   * probing then looks at about 2.5 slots to find a flow, 8.5 to miss one); each keeps
   * `extraWords` 32-bit words besides its number.
   */
  constructor(readonly limit: number, private readonly extraWords = 0) {
    this.stride = KEY_WORDS + extraWords;
    this.slots = new Int32Array(FIRST_CAPACITY * this.stride);
  }

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
  remember(rec: FlowRecord, index: number, words: readonly number[] = []): boolean {
    let kept = true;
    if (this.size >= this.limit) {
      this.clear();
      kept = false;
    }
    const a4 = rec.v4A;
    const b4 = rec.v4B;
    if (a4 < 0 || b4 < 0) {
      this.v6.set(v6Key(rec.addrA, rec.portA, rec.addrB, rec.portB), { index, words: words.map((w) => w >>> 0), addrA: rec.addrA, portA: rec.portA });
      return kept;
    }
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const ports = (rec.portA << 16) | rec.portB;
    const at = this.probe(rec.hash, a4 | 0, rec.portA, b4 | 0, rec.portB);
    const s = this.slots;
    if (s[at + 3] === 0) this.count++;
    s[at] = a4 | 0;
    s[at + 1] = b4 | 0;
    s[at + 2] = ports;
    s[at + 3] = index + 1;
    for (let i = 0; i < this.extraWords; i++) s[at + KEY_WORDS + i] = (words[i] ?? 0) | 0;
    return kept;
  }

  /** The number of the flow of a packet (either direction), if it was retired. */
  find(hash: number, src: string, sp: number, dst: string, dp: number, src4: number, dst4: number): number | undefined {
    if (src4 < 0 || dst4 < 0) return this.v6.size === 0 ? undefined : this.v6.get(v6Key(src, sp, dst, dp))?.index;
    if (this.count === 0) return undefined;
    const at = this.probe(hash, src4 | 0, sp, dst4 | 0, dp);
    const stored = this.slots[at + 3]!;
    return stored === 0 ? undefined : stored - 1;
  }

  /** The flow of a packet (either direction) with its extra words, if it was retired. */
  recall(hash: number, src: string, sp: number, dst: string, dp: number, src4: number, dst4: number): RetiredFlow | undefined {
    if (src4 < 0 || dst4 < 0) {
      const v6 = this.v6.size === 0 ? undefined : this.v6.get(v6Key(src, sp, dst, dp));
      return v6 === undefined ? undefined : { index: v6.index, words: v6.words, fromSide0: v6.addrA === src && v6.portA === sp };
    }
    if (this.count === 0) return undefined;
    const s = this.slots;
    const at = this.probe(hash, src4 | 0, sp, dst4 | 0, dp);
    if (s[at + 3] === 0) return undefined;
    const words: number[] = [];
    for (let i = 0; i < this.extraWords; i++) words.push(s[at + KEY_WORDS + i]! >>> 0);
    return { index: s[at + 3]! - 1, words, fromSide0: s[at] === (src4 | 0) && s[at + 2]! >>> 16 === sp };
  }

  clear(): void {
    this.slots = new Int32Array(FIRST_CAPACITY * this.stride);
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
      const at = i * this.stride;
      if (s[at + 3] === 0) return at;
      if ((s[at] === a && s[at + 1] === b && s[at + 2] === forward) || (s[at] === b && s[at + 1] === a && s[at + 2] === backward)) return at;
    }
  }

  private grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const stride = this.stride;
    this.slots = new Int32Array(capacity * stride);
    this.mask = capacity - 1;
    for (let at = 0; at < old.length; at += stride) {
      if (old[at + 3] === 0) continue;
      const a = old[at]!;
      const b = old[at + 1]!;
      const ports = old[at + 2]!;
      const pa = ports >>> 16;
      const pb = ports & 0xffff;
      const to = this.probe(flowHash('', pa, '', pb, a >>> 0, b >>> 0), a, pa, b, pb);
      this.slots.set(old.subarray(at, at + stride), to);
    }
  }
}

/** One key for both directions of an IPv6 flow: the smaller side first. */
function v6Key(a: string, pa: number, b: string, pb: number): string {
  const left = `${a}|${pa}`;
  const right = `${b}|${pb}`;
  return left < right ? `${left}|${right}` : `${right}|${left}`;
}
