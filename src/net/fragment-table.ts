// One bounded reassembly table for every protocol that joins fragments: IPv4/IPv6 datagrams,
// NetBIOS datagrams, DCE/RPC connectionless and connection-oriented calls, SMB transactions.
// It knows no protocol: entries by key, parts placed by byte offset (OffsetParts) or by
// fragment number (NumberedParts), overlaps and duplicates kept first (or last) and reported,
// and limits in entries, parts per entry, bytes per entry, bytes across entries and age
// (capture time). A limit is never enforced silently: the operation that hits it returns
// which one, and the caller turns that into its protocol's finding and decides what to drop.
// Every operation is O(log n) in the parts of an entry (binary search; in-order parts append)
// or amortised O(log n) in the entries (a heap orders them by age).

import type { FrameHolds } from '../util/frame-holds.js';
import { copyBytes } from '../util/bytes.js';

export interface FragmentLimits {
  /** Entries (datagrams, calls, transactions) in progress at once. */
  readonly maxEntries: number;
  /** Parts one entry may receive, duplicates included (empty parts add no bytes, so bytes alone do not bound them). */
  readonly maxParts: number;
  /** Bytes one entry may hold: the end of its furthest part (offsets), or its parts' sum (numbers). */
  readonly maxEntryBytes: number;
  /** Bytes held across all entries. */
  readonly maxTotalBytes: number;
  /** Capture seconds after which `expire` gives an entry up (default: never). */
  readonly maxAgeSeconds?: number;
  /** Whether age counts from an entry's first part (default) or its latest activity. */
  readonly ageFrom?: 'first' | 'last';
}

export type FragmentLimit = 'entries' | 'parts' | 'entry-bytes' | 'total-bytes';

/** A limit the operation hit; nothing was changed. */
export interface LimitHit {
  readonly kind: 'limit';
  readonly limit: FragmentLimit;
  /** The configured maximum that was hit. */
  readonly max: number;
}

/** A part placed by byte offset. */
export interface OffsetPlaced {
  readonly kind: 'placed';
  /** Bytes not held before. */
  readonly added: number;
  /** Whether the part covered bytes already held. */
  readonly overlap: boolean;
  /** How many of those bytes differed from the copy held. */
  readonly conflicts: number;
}

/** A part placed by fragment number. */
export type NumberedPlaced =
  | { readonly kind: 'placed' }
  /** The number was held already; `same` when the bytes are identical. The first copy stays. */
  | { readonly kind: 'duplicate'; readonly same: boolean };

interface Chunk {
  readonly start: number;
  readonly data: Uint8Array;
}

/** One byte space: disjoint chunks sorted by offset, copies of the parts' new bytes. */
class ByteSpace {
  private readonly chunks: Chunk[] = [];
  /** Bytes held. */
  held = 0;
  /** End of the run of bytes held from offset 0, and how many chunks make it up. */
  private prefix = 0;
  private prefixChunks = 0;

  place(offset: number, bytes: Uint8Array, keepLast: boolean): OffsetPlaced {
    const end = offset + bytes.length;
    const chunks = this.chunks;
    let overlap = false;
    let conflicts = 0;
    let added = 0;
    // First chunk that ends after `offset` (chunks are disjoint and sorted, so their ends are too).
    let lo = 0;
    let hi = chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = chunks[mid]!;
      if (c.start + c.data.length <= offset) lo = mid + 1;
      else hi = mid;
    }
    let i = lo;
    let at = offset;
    while (at < end) {
      const c = chunks[i];
      if (c === undefined || c.start >= end || c.start > at) {
        // A gap from `at` up to the next chunk (or the part's end): new bytes.
        const gapEnd = c === undefined ? end : Math.min(end, c.start);
        chunks.splice(i, 0, { start: at, data: copyBytes(bytes.subarray(at - offset, gapEnd - offset)) });
        added += gapEnd - at;
        at = gapEnd;
        i++;
        continue;
      }
      // Bytes held already, from `at` to the chunk's end or the part's.
      const stop = Math.min(end, c.start + c.data.length);
      overlap = true;
      for (let p = at; p < stop; p++) {
        const mine = bytes[p - offset]!;
        if (c.data[p - c.start] !== mine) {
          conflicts++;
          if (keepLast) c.data[p - c.start] = mine;
        }
      }
      at = stop;
      i++;
    }
    this.held += added;
    while (this.prefixChunks < chunks.length && chunks[this.prefixChunks]!.start === this.prefix) {
      this.prefix += chunks[this.prefixChunks]!.data.length;
      this.prefixChunks++;
    }
    return { kind: 'placed', added, overlap, conflicts };
  }

  /** Bytes held without a hole from offset 0. */
  get contiguous(): number {
    return this.prefix;
  }

  /** The first `length` bytes: what is held, zeros in the holes, nothing past `length`. */
  join(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (const c of this.chunks) {
      if (c.start >= length) break;
      out.set(c.start + c.data.length <= length ? c.data : c.data.subarray(0, length - c.start), c.start);
    }
    return out;
  }
}

/** Parts placed by byte offset, in one or more independent byte spaces (e.g. SMB parameters and data). */
export class OffsetParts {
  private readonly spaces: ByteSpace[];
  /** The length of space 0 once the last part said where it ends. */
  end: number | undefined;

  constructor(spaces = 1, private readonly keepLast = false) {
    this.spaces = Array.from({ length: spaces }, () => new ByteSpace());
  }

  place(offset: number, bytes: Uint8Array, space: number): OffsetPlaced {
    return this.space(space).place(offset, bytes, this.keepLast);
  }

  /** Bytes held in a space. */
  held(space = 0): number {
    return this.space(space).held;
  }

  /** Bytes held from offset 0 without a hole, in a space. */
  contiguous(space = 0): number {
    return this.space(space).contiguous;
  }

  /** Whether space 0 is whole: its end is known and every byte before it is held. */
  get complete(): boolean {
    return this.end !== undefined && this.spaces[0]!.contiguous >= this.end;
  }

  /** The first `length` bytes of a space (default: space 0 up to its end). */
  join(length = this.end ?? this.contiguous(0), space = 0): Uint8Array {
    return this.space(space).join(length);
  }

  private space(n: number): ByteSpace {
    const s = this.spaces[n];
    if (s === undefined) throw new RangeError(`no byte space ${n}`);
    return s;
  }
}

/** Parts placed by fragment number 0, 1, 2…; whole when every number up to the last one is held. */
export class NumberedParts {
  private readonly parts = new Map<number, Uint8Array>();
  private lastNumber: number | undefined;
  /** How many numbers from 0 up to `last` are held. */
  private upToLast = 0;
  private highest = -1;

  place(n: number, bytes: Uint8Array): NumberedPlaced {
    const held = this.parts.get(n);
    if (held !== undefined) return { kind: 'duplicate', same: equalBytes(held, bytes) };
    this.parts.set(n, copyBytes(bytes));
    if (n > this.highest) this.highest = n;
    if (this.lastNumber !== undefined && n <= this.lastNumber) this.upToLast++;
    return { kind: 'placed' };
  }

  /** Numbers held. */
  get size(): number {
    return this.parts.size;
  }

  /** The highest number held (-1 when none). */
  get max(): number {
    return this.highest;
  }

  has(n: number): boolean {
    return this.parts.has(n);
  }

  get last(): number | undefined {
    return this.lastNumber;
  }

  /** Sets the number of the last part. */
  set last(n: number | undefined) {
    if (n === this.lastNumber) return;
    this.lastNumber = n;
    this.upToLast = 0;
    if (n !== undefined) for (const k of this.parts.keys()) if (k <= n) this.upToLast++;
  }

  get complete(): boolean {
    return this.lastNumber !== undefined && this.upToLast === this.lastNumber + 1;
  }

  /** Parts 0 to the last one (or to the highest held), joined in order; missing ones are skipped. */
  join(): Uint8Array {
    const top = this.lastNumber ?? this.highest;
    let length = 0;
    for (let i = 0; i <= top; i++) length += this.parts.get(i)?.length ?? 0;
    const out = new Uint8Array(length);
    let o = 0;
    for (let i = 0; i <= top; i++) {
      const part = this.parts.get(i);
      if (part === undefined) continue;
      out.set(part, o);
      o += part.length;
    }
    return out;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One datagram, call or transaction being joined. `meta` is the caller's own state. */
export class FragmentEntry<M, P> {
  readonly kind = 'entry';
  /** Frames that carried its parts, each once, in arrival order. */
  readonly frames: number[] = [];
  private readonly frameSet = new Set<number>();
  /** Parts received, duplicates included. */
  received = 0;
  /** Bytes held (counted against the limits). */
  bytes = 0;
  lastSec: number;
  /** False once the entry left its table. */
  live = true;

  constructor(
    readonly key: string,
    readonly meta: M,
    readonly parts: P,
    /** Creation order in its table. */
    readonly seq: number,
    readonly firstSec: number,
  ) {
    this.lastSec = firstSec;
  }

  addFrames(frames: readonly number[]): void {
    for (const n of frames) {
      if (this.frameSet.has(n)) continue;
      this.frameSet.add(n);
      this.frames.push(n);
    }
  }
}

interface AgeItem<M, P> {
  readonly at: number;
  readonly entry: FragmentEntry<M, P>;
}

export class FragmentTable<M, P extends OffsetParts | NumberedParts> {
  /**
   * Holds for the timeline's reorder window: an entry holds its first frame while it is in the
   * table (what it joins will be keyed by that frame). Set by the owner when it has them.
   */
  holds: FrameHolds | undefined;
  private readonly entries = new Map<string, FragmentEntry<M, P>>();
  private totalBytes = 0;
  private seq = 0;
  /** Entries by age (min-heap on `at`); items of entries that left the table are dropped lazily. */
  private readonly ages: AgeItem<M, P>[] = [];
  private readonly maxAge: number;
  private readonly ageFromLast: boolean;

  constructor(readonly limits: FragmentLimits, private readonly makeParts: () => P) {
    this.maxAge = limits.maxAgeSeconds ?? Infinity;
    this.ageFromLast = limits.ageFrom === 'last';
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes held across all entries. */
  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): FragmentEntry<M, P> | undefined {
    return this.entries.get(key);
  }

  /** The entry opened first of those still in the table. */
  oldest(): FragmentEntry<M, P> | undefined {
    return this.entries.values().next().value;
  }

  values(): IterableIterator<FragmentEntry<M, P>> {
    return this.entries.values();
  }

  /**
   * Starts an entry (replacing one under the same key). A full table refuses, even a
   * replacement: the caller may give up `oldest()` (or everything) and try again.
   */
  open(key: string, meta: M, now: number): FragmentEntry<M, P> | LimitHit {
    if (this.entries.size >= this.limits.maxEntries) return hit('entries', this.limits.maxEntries);
    const old = this.entries.get(key);
    if (old !== undefined) this.delete(old);
    const entry = new FragmentEntry(key, meta, this.makeParts(), this.seq++, now);
    this.entries.set(key, entry);
    if (this.maxAge !== Infinity) this.fileAge({ at: now, entry });
    return entry;
  }

  /** Removes an entry (joined, given up or dropped). */
  delete(entry: FragmentEntry<M, P>): void {
    if (!entry.live) return;
    entry.live = false;
    this.entries.delete(entry.key);
    this.totalBytes -= entry.bytes;
    if (entry.frames.length > 0) this.holds?.release(entry.frames[0]!);
  }

  clear(): void {
    for (const entry of this.entries.values()) {
      entry.live = false;
      if (entry.frames.length > 0) this.holds?.release(entry.frames[0]!);
    }
    this.entries.clear();
    this.ages.length = 0;
    this.totalBytes = 0;
  }

  /** Removes and returns the entries older than the age limit (all of them with `all`), in the order they were opened. */
  expire(now: number, all = false): FragmentEntry<M, P>[] {
    if (all) {
      const out = [...this.entries.values()];
      this.clear();
      return out;
    }
    const out: FragmentEntry<M, P>[] = [];
    const ages = this.ages;
    while (ages.length > 0) {
      const top = ages[0]!;
      if (top.entry.live && !(now - top.at > this.maxAge)) break;
      this.popAge();
      if (!top.entry.live) continue;
      if (this.ageFromLast && top.entry.lastSec !== top.at) {
        this.pushAge({ at: top.entry.lastSec, entry: top.entry }); // active since: re-file by its latest time
        continue;
      }
      out.push(top.entry);
    }
    out.sort((a, b) => a.seq - b.seq);
    for (const entry of out) this.delete(entry);
    return out;
  }

  /**
   * Places a part at a byte offset (of `space`), recording its frames. Refused, with nothing
   * changed, when the entry has all the parts it may receive, when the part would end past the
   * bytes an entry may hold, or when the table would hold too many bytes.
   */
  addAt(this: FragmentTable<M, OffsetParts>, entry: FragmentEntry<M, OffsetParts>, offset: number, bytes: Uint8Array, frames: readonly number[], now: number, space = 0): OffsetPlaced | LimitHit {
    this.touch(entry, now);
    if (entry.received >= this.limits.maxParts) return hit('parts', this.limits.maxParts);
    const placed = this.placeAt(entry, offset, bytes, space);
    if (placed.kind === 'limit') return placed;
    entry.received++;
    this.addFrames(entry, frames);
    return placed;
  }

  /** Counts a part without placing bytes (a part that places into several spaces, or none). */
  countPart(entry: FragmentEntry<M, P>, now: number): LimitHit | undefined {
    this.touch(entry, now);
    if (entry.received >= this.limits.maxParts) return hit('parts', this.limits.maxParts);
    entry.received++;
    return undefined;
  }

  /** Places bytes at an offset of one space, as part of a part counted with `countPart`. */
  placeAt(this: FragmentTable<M, OffsetParts>, entry: FragmentEntry<M, OffsetParts>, offset: number, bytes: Uint8Array, space = 0): OffsetPlaced | LimitHit {
    if (offset + bytes.length > this.limits.maxEntryBytes) return hit('entry-bytes', this.limits.maxEntryBytes);
    if (this.totalBytes + bytes.length > this.limits.maxTotalBytes) return hit('total-bytes', this.limits.maxTotalBytes);
    const placed = entry.parts.place(offset, bytes, space);
    entry.bytes += placed.added;
    this.totalBytes += placed.added;
    return placed;
  }

  /**
   * Places a part by its number, recording its frames. A number held already is a duplicate
   * (its frames are not recorded: the caller decides). Refused, with nothing changed, on the
   * limits of parts, entry bytes and table bytes.
   */
  addNumbered(this: FragmentTable<M, NumberedParts>, entry: FragmentEntry<M, NumberedParts>, n: number, bytes: Uint8Array, frames: readonly number[], now: number): NumberedPlaced | LimitHit {
    this.touch(entry, now);
    if (entry.received >= this.limits.maxParts) return hit('parts', this.limits.maxParts);
    if (entry.parts.has(n)) {
      entry.received++;
      return entry.parts.place(n, bytes);
    }
    if (entry.bytes + bytes.length > this.limits.maxEntryBytes) return hit('entry-bytes', this.limits.maxEntryBytes);
    if (this.totalBytes + bytes.length > this.limits.maxTotalBytes) return hit('total-bytes', this.limits.maxTotalBytes);
    entry.parts.place(n, bytes);
    entry.received++;
    entry.bytes += bytes.length;
    this.totalBytes += bytes.length;
    this.addFrames(entry, frames);
    return { kind: 'placed' };
  }

  /** Records an entry's frames (what callers do with `entry.addFrames` for frames of their own goes through here too). */
  addFrames(entry: FragmentEntry<M, P>, frames: readonly number[]): void {
    const had = entry.frames.length > 0;
    entry.addFrames(frames);
    if (!had && entry.frames.length > 0 && entry.live) this.holds?.hold(entry.frames[0]!);
  }

  // ---- the age heap ----

  private touch(entry: FragmentEntry<M, P>, now: number): void {
    // A later time is found when the entry's item surfaces; an earlier one (capture time going back) needs an item of its own.
    if (this.ageFromLast && this.maxAge !== Infinity && now < entry.lastSec) this.fileAge({ at: now, entry });
    entry.lastSec = now;
  }

  private fileAge(item: AgeItem<M, P>): void {
    this.pushAge(item);
    // Items of entries that left are dropped as they surface; rebuild before they outnumber the live ones.
    if (this.ages.length > 2 * this.entries.size + 64) this.rebuildAges();
  }

  private pushAge(item: AgeItem<M, P>): void {
    const a = this.ages;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  private popAge(): void {
    const a = this.ages;
    const last = a.pop()!;
    if (a.length === 0) return;
    a[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && before(a[l]!, a[m]!)) m = l;
      if (r < a.length && before(a[r]!, a[m]!)) m = r;
      if (m === i) return;
      [a[i], a[m]] = [a[m]!, a[i]!];
      i = m;
    }
  }

  private rebuildAges(): void {
    this.ages.length = 0;
    for (const entry of this.entries.values()) this.pushAge({ at: this.ageFromLast ? entry.lastSec : entry.firstSec, entry });
  }
}

function before<M, P>(a: AgeItem<M, P>, b: AgeItem<M, P>): boolean {
  return a.at < b.at || (a.at === b.at && a.entry.seq < b.entry.seq);
}

function hit(limit: FragmentLimit, max: number): LimitHit {
  return { kind: 'limit', limit, max };
}
