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
 * Bytes waiting in every attached buffer (partial application messages across all
 * connections) against one limit: past it, the owner of the largest is told to give its
 * bytes up, as after a gap.
 */
export class BufferBudget {
  held = 0;
  private readonly holders = new Set<StreamBuffer>();

  constructor(readonly limit: number) {}

  get exceeded(): boolean {
    return this.held > this.limit;
  }

  /** The buffer holding the most bytes (undefined when none holds any). */
  largest(): StreamBuffer | undefined {
    let best: StreamBuffer | undefined;
    for (const buf of this.holders) if (best === undefined || buf.length > best.length) best = buf;
    return best;
  }

  /** Called by a buffer whose length changed by `delta`. */
  changed(buf: StreamBuffer, delta: number): void {
    this.held += delta;
    if (buf.length > 0) this.holders.add(buf);
    else this.holders.delete(buf);
  }
}

const EMPTY = new Uint8Array(0);
/** The room a buffer starts with; emptied buffers of this size go back to a shared pool. */
const ROOM = 4096;
/** Spare rooms kept for reuse, across every buffer. */
const MAX_SPARE = 256;
/**
 * Emptied rooms, for the next buffer that needs one. A buffer holds storage only while it
 * holds bytes: thousands of idle connections (a chat window left open, a session that
 * never closed) would otherwise keep 4 KB per direction each until they end.
 */
const spare: Uint8Array[] = [];

function takeRoom(size: number): Uint8Array {
  return size === ROOM ? spare.pop() ?? new Uint8Array(ROOM) : new Uint8Array(size);
}

export class StreamBuffer {
  private buf: Uint8Array;
  private start = 0;
  private end = 0;
  /** Absolute offset of buf[start]. */
  private consumedTotal = 0;
  private marks: Mark[] = [];

  private budget: BufferBudget | undefined;
  /** The frame of the first byte held, for the reorder window (none until attached with holds). */
  private firstHold: MovingHold | undefined;
  /** What the owner does when the budget takes this buffer's bytes (drop them and resynchronise). */
  evict: (() => void) | undefined;

  /** Nothing is allocated until bytes arrive, and the room is given back once they are consumed. */
  constructor(readonly limit = 16 * 1024 * 1024, private readonly initial = ROOM) {
    this.buf = EMPTY;
  }

  /** Counts this buffer's bytes in a budget shared with other connections; `evict` gives them up. */
  attach(budget: BufferBudget | undefined, evict: () => void, holds?: FrameHolds): void {
    this.budget = budget;
    this.evict = evict;
    this.firstHold = holds !== undefined ? new MovingHold(holds) : undefined;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Bytes of storage this buffer holds now (0 while it holds no bytes). */
  get room(): number {
    return this.buf.length;
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
    this.buf.set(bytes, this.end);
    this.end += bytes.length;
    this.budget?.changed(this, bytes.length);
    const absEnd = this.consumedTotal + this.length;
    const last = this.marks[this.marks.length - 1];
    if (last !== undefined && last.frame === frame) last.end = absEnd;
    else this.marks.push({ end: absEnd, frame, tsSec, tsNsec });
    if (this.firstHold !== undefined && this.firstHold.held === 0) this.firstHold.set(this.marks[0]!.frame);
    return true;
  }

  /** The buffered bytes; valid until the next append or consume (copy what must outlive them). */
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
    this.start += count;
    this.consumedTotal += count;
    if (count > 0) this.budget?.changed(this, -count);
    let drop = 0;
    while (drop < this.marks.length && this.marks[drop]!.end <= this.consumedTotal) drop++;
    if (drop > 0) {
      this.marks.splice(0, drop);
      if (this.firstHold !== undefined && this.firstHold.held !== 0) this.firstHold.set(this.marks[0]?.frame ?? 0);
    }
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
      // Views handed out are valid only until this consume: the room can go to another buffer.
      if (this.buf.length === ROOM && spare.length < MAX_SPARE) spare.push(this.buf);
      this.buf = EMPTY;
    }
    return carried;
  }

  /** Drops everything buffered (after a gap, when the upper protocol must resynchronise). */
  clear(): void {
    this.consume(this.length);
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
      if (this.buf.length === ROOM && spare.length < MAX_SPARE) spare.push(this.buf);
      this.buf = next;
    }
    this.start = 0;
    this.end = used;
  }
}
