// A byte queue for one direction of a reassembled stream that remembers which frames carried
// which bytes, so an application PDU knows its frames and the time of its first byte. While it
// holds bytes it holds the frame of the first one for the timeline's reorder window: the
// message they begin will be an event keyed by that frame.
import { MovingHold, type FrameHolds } from '../util/frame-holds.js';

export interface Carried {
  /** Frames that carried the consumed bytes, in order, without repeats. */
  readonly frames: number[];
  /** Capture time of the first consumed byte. */
  readonly tsSec: number;
  readonly tsNsec: number;
}

interface Mark {
  /** Absolute stream offset just past the bytes this frame carried. */
  end: number;
  frame: number;
  tsSec: number;
  tsNsec: number;
}

/**
 * The memory of every attached buffer that holds bytes (partial application messages across
 * all connections) against one limit: past it, the owner of the largest is told to give its
 * bytes up, as after a gap. A buffer counts for its room, not its bytes (the room is what it
 * costs: up to twice the bytes, as it grows by doubling), and only while it holds bytes; an
 * empty one keeps no room (MAX_IDLE_ROOM). The buffers that hold bytes are kept in a max-heap
 * by their counted room, updated when the room changes or the buffer fills or empties (not
 * on every append), so the largest is found in O(1) and updated in O(log n).
 */
export class BufferBudget {
  /** Room counted across buffers holding bytes. */
  held = 0;
  private readonly heap: StreamBuffer[] = [];
  /**
   * The connection being dissected, set by the engine while an application runs: a buffer
   * attached meanwhile belongs to it (`StreamBuffer.owner`), so that when the budget gives the
   * buffer's bytes up the engine knows which connection was left inside a message.
   */
  owner: object | undefined;
  /** Counts buffers as they start holding bytes, for `StreamBuffer.since`. */
  private started = 0;

  constructor(readonly limit: number) {}

  get exceeded(): boolean {
    return this.held > this.limit;
  }

  /** Buffers holding bytes. */
  get holders(): number {
    return this.heap.length;
  }

  /** The buffer with the most room among those holding bytes (undefined when none holds any). */
  largest(): StreamBuffer | undefined {
    return this.heap[0];
  }

  /** Called by a buffer whose counted room changed from `before` to `buf.counted`. */
  changed(buf: StreamBuffer, before: number): void {
    const now = buf.counted;
    this.held += now - before;
    const heap = this.heap;
    let i = buf.heapIndex;
    if (now === 0) {
      if (i < 0) return;
      const last = heap.pop()!;
      buf.heapIndex = -1;
      if (last === buf) return;
      heap[i] = last;
      last.heapIndex = i;
      this.siftDown(i);
      this.siftUp(last.heapIndex);
      return;
    }
    if (i < 0) {
      i = heap.length;
      heap.push(buf);
      buf.heapIndex = i;
      buf.since = this.started++;
    }
    if (now > before) this.siftUp(i);
    else this.siftDown(i);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!comesFirst(item, p)) break;
      heap[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    heap[i] = item;
    item.heapIndex = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && comesFirst(heap[right]!, heap[left]!) ? right : left;
      const c = heap[child]!;
      if (!comesFirst(c, item)) break;
      heap[i] = c;
      c.heapIndex = i;
      i = child;
    }
    heap[i] = item;
    item.heapIndex = i;
  }
}

/**
 * The budget's order: the most room first and, of equal rooms, the one holding bytes longest.
 * Buffers of one hostile pattern all reach the same room; giving up the oldest first releases the
 * reorder window's watermark (which the oldest first byte holds) instead of an arbitrary one.
 */
function comesFirst(a: StreamBuffer, b: StreamBuffer): boolean {
  return a.counted > b.counted || (a.counted === b.counted && a.since < b.since);
}

const EMPTY = new Uint8Array(0);
/**
 * The room an emptied buffer keeps: none. A connection waiting for its next message (thousands
 * of open connections, sessions idle for an hour) costs no storage; its next message takes a
 * room from the spares below.
 */
export const MAX_IDLE_ROOM = 0;
/** The smallest room a buffer gets when bytes first arrive. */
const MIN_ROOM = 256;
/** Rooms up to this size are kept for reuse when given back (256, 512, … 128 KiB). */
const MAX_SPARE_ROOM = 128 * 1024;
/** Spare rooms kept per size: 64 of the small ones, 1 MiB of each larger size (8 of 128 KiB); 5 MiB at most in all. */
const MAX_SPARES = 64;
const MAX_SPARE_BYTES = 1024 * 1024;
/**
 * Rooms given back by emptied buffers, by size (index log2(size / MIN_ROOM)), shared by every
 * buffer: most messages fit one segment, and a room taken and given back per message would
 * otherwise be a new ArrayBuffer each time. The larger sizes are for messages that grow a
 * buffer by doubling (a room of each size on the way, then the last one given up): without
 * them, connections that each bring a large unfinished message (left open by the thousand,
 * the buffer budget giving them up in turn) made ~250 KB of garbage ArrayBuffers apiece,
 * which the allocator and V8 kept as RSS.
 */
const spares: Uint8Array[][] = Array.from({ length: 31 - Math.clz32(MAX_SPARE_ROOM / MIN_ROOM) + 1 }, () => []);

function spareClass(size: number): number {
  return size >= MIN_ROOM && size <= MAX_SPARE_ROOM && (size & (size - 1)) === 0 ? 31 - Math.clz32(size / MIN_ROOM) : -1;
}

/** A room of `size` bytes (a power of two), a spare when there is one: its bytes are stale, not zero. */
export function takeRoom(size: number): Uint8Array {
  const c = spareClass(size);
  return (c >= 0 ? spares[c]!.pop() : undefined) ?? new Uint8Array(size);
}

/** A room no longer used (nothing may keep a view of it): kept as a spare when its size has room. */
export function giveBack(room: Uint8Array): void {
  const c = spareClass(room.length);
  if (c >= 0 && spares[c]!.length < Math.min(MAX_SPARES, MAX_SPARE_BYTES / room.length)) spares[c]!.push(room);
}

/** Spare rooms kept now, in bytes (for tests). */
export function spareBytes(): number {
  return spares.reduce((sum, list) => sum + list.reduce((s, room) => s + room.length, 0), 0);
}

export class StreamBuffer {
  private buf: Uint8Array;
  private start = 0;
  private end = 0;
  /** Absolute offset of buf[start]. */
  private consumedTotal = 0;
  private marks: Mark[] = [];

  private budget: BufferBudget | undefined;
  /** The room counted in the budget: the room while bytes are held, else 0. */
  counted = 0;
  /** Position in the budget's heap (-1: not in it). */
  heapIndex = -1;
  /** When (in the budget's count) this buffer last started holding bytes: ties go oldest first. */
  since = 0;
  /** The frame of the first byte held, for the reorder window (none until attached with holds). */
  private firstHold: MovingHold | undefined;
  /** What the owner does when the budget takes this buffer's bytes (drop them and resynchronise). */
  evict: (() => void) | undefined;
  /** The connection the buffer was attached for (the budget's `owner` then), if any. */
  owner: object | undefined;

  /**
   * Nothing is allocated until bytes arrive: most connections never buffer anything. The first
   * room is `initial` or, when larger, the next power of two (from 256) that holds what arrives.
   */
  constructor(readonly limit = 16 * 1024 * 1024, private readonly initial = MIN_ROOM) {
    this.buf = EMPTY;
  }

  /** Bytes allocated (held or not). */
  get room(): number {
    return this.buf.length;
  }

  /** Counts this buffer's bytes in a budget shared with other connections; `evict` gives them up. */
  attach(budget: BufferBudget | undefined, evict: () => void, holds?: FrameHolds): void {
    this.budget = budget;
    this.evict = evict;
    this.owner = budget?.owner;
    this.firstHold = holds !== undefined ? new MovingHold(holds) : undefined;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Absolute offset (bytes consumed so far). */
  get offset(): number {
    return this.consumedTotal;
  }

  /** Appends a copy of `bytes`. Returns false (and appends nothing) when the limit would be passed. */
  append(bytes: Uint8Array, frame: number, tsSec: number, tsNsec: number): boolean {
    if (bytes.length === 0) return true;
    if (this.length + bytes.length > this.limit) return false;
    if (this.end + bytes.length > this.buf.length) this.makeRoom(bytes.length);
    const wasEmpty = this.end === this.start;
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
    if (wasEmpty) this.recount();
    const absEnd = this.consumedTotal + this.length;
    const last = this.marks[this.marks.length - 1];
    if (last !== undefined && last.frame === frame) last.end = absEnd;
    else this.marks.push({ end: absEnd, frame, tsSec, tsNsec });
    if (this.firstHold !== undefined && this.firstHold.held === 0) this.firstHold.set(this.marks[0]!.frame);
    return true;
  }

  /** The buffered bytes; valid until the next append or consume (copy what must outlive them: the room may go to another buffer). */
  view(): Uint8Array {
    return this.buf.subarray(this.start, this.end);
  }

  /** Frames and first-byte time of the next `n` bytes, without consuming them. */
  carried(n: number): Carried {
    const frames: number[] = [];
    // An empty range was carried by no frame (the first mark would otherwise always match).
    if (n <= 0) return { frames, tsSec: 0, tsNsec: 0 };
    const from = this.consumedTotal;
    const to = from + n;
    let tsSec = 0;
    let tsNsec = 0;
    let prevEnd = -Infinity;
    for (const mark of this.marks) {
      const markStart = prevEnd;
      prevEnd = mark.end;
      if (mark.end <= from) continue;
      if (markStart >= to && frames.length > 0) break;
      if (frames.length === 0) {
        tsSec = mark.tsSec;
        tsNsec = mark.tsNsec;
      }
      if (frames[frames.length - 1] !== mark.frame) frames.push(mark.frame);
    }
    return { frames, tsSec, tsNsec };
  }

  /** Removes the next `n` bytes and says which frames carried them. */
  consume(n: number): Carried {
    const count = Math.min(n, this.length);
    const carried = this.carried(count);
    this.advance(count);
    return carried;
  }

  /** Removes the next `n` bytes, when the caller does not need to know which frames carried them. */
  discard(n: number): void {
    this.advance(Math.min(n, this.length));
  }

  private advance(count: number): void {
    this.start += count;
    this.consumedTotal += count;
    let drop = 0;
    while (drop < this.marks.length && this.marks[drop]!.end <= this.consumedTotal) drop++;
    if (drop > 0) {
      // One mark (the usual case) by shift: splice would make an array of the removed marks.
      if (drop === 1) this.marks.shift();
      else this.marks.splice(0, drop);
      if (this.firstHold !== undefined && this.firstHold.held !== 0) this.firstHold.set(this.marks[0]?.frame ?? 0);
    }
    if (count > 0 && this.start === this.end) {
      this.start = 0;
      this.end = 0;
      giveBack(this.buf);
      this.buf = EMPTY;
      this.recount();
    }
  }

  /** Drops everything buffered (after a gap, when the upper protocol must resynchronise). */
  clear(): void {
    this.discard(this.length);
  }

  /** Tells the budget the room this buffer now counts for (its room while it holds bytes). */
  private recount(): void {
    const budget = this.budget;
    if (budget === undefined) return;
    const before = this.counted;
    this.counted = this.end > this.start ? this.buf.length : 0;
    if (this.counted !== before) budget.changed(this, before);
  }

  private makeRoom(extra: number): void {
    const used = this.length;
    if (used + extra <= this.buf.length && this.start > 0) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      let size = Math.max(this.initial, this.buf.length * 2);
      while (size < used + extra) size *= 2;
      const next = takeRoom(size);
      next.set(this.buf.subarray(this.start, this.end));
      giveBack(this.buf);
      this.buf = next;
      this.start = 0;
      this.end = used;
      this.recount();
    }
    this.start = 0;
    this.end = used;
  }
}
