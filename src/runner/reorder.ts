// The timeline's reorder window. Dissectors emit an event when it is complete — a message
// carried by several frames, or waiting for its response, comes out after events of later
// frames — while the timeline is in frame order. The window holds events in a heap keyed by
// their first frame (then by arrival) and releases them in that order.
//
// What lets an event go is a watermark: every piece of pending state that will later emit an
// event whose first frame is already past holds that frame (src/util/frame-holds.ts: an
// unanswered request, a multi-block message, a fragment set, bytes of an incomplete message,
// an MSNP message waiting for its legs or ACK…). After each frame the runner gives the window
// the oldest live hold (or the next frame when nothing is held), and every held event below it
// goes out at once: nothing can arrive before it any more. On spam-shaped traffic an event is
// out a few frames after it completes, and the first line is printed at once.
//
// Bounds stay as a backstop, for state that holds a frame for a long time (a session summary
// keyed by an old frame on a connection idle for half an hour, a hold a dissector forgot to
// release): the window holds at most `maxEvents` events, `maxBytes` bytes (estimated) and
// `maxSeconds` of capture time; past them the earliest goes out even below a live hold, and an
// event that completes after the window has passed its place is released at once, with a note
// saying so (TIMELINE_FINDINGS.late), rather than held. Late events completed in one frame go
// out together after that frame's other events are pushed, in first-frame order: their order
// then depends on the frames alone, not on which conversation's state finished first (so a
// capture split by flow across lanes, whose lanes finish state in another order, gives the same).
import type { TimelineEvent } from '../model/events.js';
import { TIMELINE_FINDINGS } from './findings.js';

export interface ReorderLimits {
  /** Events held at most; past it the earliest is released. 0: no reordering (live capture shows each event when it completes). */
  readonly maxEvents: number;
  /** Capture seconds an event is held at most, counted from its own time. */
  readonly maxSeconds: number;
  /** Bytes held at most (estimated per event: see `eventBytes`); past it the earliest is released. */
  readonly maxBytes?: number;
}

// Dissectors finish pending state (an unanswered request, a message waiting for its ACK) on
// their own capture-time timeouts, well inside these bounds; an event that only completes when
// its connection ends (a session summary on a connection idle until the end of the capture)
// can still come late.
export const DEFAULT_REORDER: ReorderLimits = { maxEvents: 200_000, maxSeconds: 3600, maxBytes: 64 * 1024 * 1024 };

/** Live capture: each event as soon as it is complete. */
export const NO_REORDER: ReorderLimits = { maxEvents: 0, maxSeconds: 0 };

/**
 * The held events: a binary min-heap by first frame (events without frames, file-level
 * findings, sort last) and then arrival. The keys sit in typed arrays beside the events, so the
 * comparisons of a push or pop (tens of thousands of events are held on spam-shaped traffic,
 * waiting for unanswered requests' timeouts) read contiguous numbers, not scattered objects.
 */
class EventHeap {
  private keys = new Float64Array(1024);
  private seqs = new Float64Array(1024);
  private events: TimelineEvent[] = [];
  private sizes: number[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** First frame of the first event; undefined when empty. */
  get topKey(): number | undefined {
    return this.n > 0 ? this.keys[0] : undefined;
  }

  get topEvent(): TimelineEvent | undefined {
    return this.events[0];
  }

  /** Estimated bytes of the first event (see `eventBytes`). */
  get topBytes(): number {
    return this.sizes[0] ?? 0;
  }

  push(event: TimelineEvent, key: number, seq: number, bytes: number): void {
    if (this.n === this.keys.length) this.grow();
    const keys = this.keys;
    const seqs = this.seqs;
    let i = this.n++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (!(key < pk || (key === pk && seq < seqs[parent]!))) break;
      this.move(parent, i);
      i = parent;
    }
    this.place(i, event, key, seq, bytes);
  }

  /** Removes the first event (the heap is not empty). */
  pop(): TimelineEvent {
    const top = this.events[0]!;
    const last = --this.n;
    const key = this.keys[last]!;
    const seq = this.seqs[last]!;
    const event = this.events[last]!;
    const bytes = this.sizes[last]!;
    this.events.pop();
    this.sizes.pop();
    if (last === 0) return top;
    const keys = this.keys;
    const seqs = this.seqs;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= last) break;
      const right = left + 1;
      const child = right < last && (keys[right]! < keys[left]! || (keys[right] === keys[left] && seqs[right]! < seqs[left]!)) ? right : left;
      const ck = keys[child]!;
      if (!(ck < key || (ck === key && seqs[child]! < seq))) break;
      this.move(child, i);
      i = child;
    }
    this.place(i, event, key, seq, bytes);
    return top;
  }

  private move(from: number, to: number): void {
    this.keys[to] = this.keys[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.events[to] = this.events[from]!;
    this.sizes[to] = this.sizes[from]!;
  }

  private place(at: number, event: TimelineEvent, key: number, seq: number, bytes: number): void {
    this.keys[at] = key;
    this.seqs[at] = seq;
    this.events[at] = event;
    this.sizes[at] = bytes;
  }

  private grow(): void {
    const keys = new Float64Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const seqs = new Float64Array(this.seqs.length * 2);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }
}

const NO_FRAME = Number.MAX_SAFE_INTEGER;

/**
 * An estimate of the heap bytes an event holds: the object and its arrays, its strings (two
 * bytes a character at most) and findings. Cheap (no walk of `details`, counted as a flat
 * allowance); the byte bound is a backstop, not an accounting.
 */
export function eventBytes(event: TimelineEvent): number {
  let n = 400 + 8 * event.frames.length + 2 * (event.src.length + event.dst.length + event.transport.length);
  for (const f of event.findings) n += 120 + 2 * f.summary.length;
  if (event.kind === 'message') n += 2 * (event.text.length + event.from.length) + 40 * event.to.length;
  if ('details' in event && event.details !== undefined) n += 300;
  return n;
}

export class ReorderWindow {
  private readonly heap = new EventHeap();
  private seq = 0;
  /** Key of the last event released (events must not be released before it any more). */
  private released = 0;
  private bytes = 0;
  private readonly maxBytes: number;
  lateEvents = 0;
  /** Late events pushed since the last releaseLate, in arrival order. */
  private late: TimelineEvent[] = [];
  /** Events released by a bound (count, bytes, time) rather than by the watermark. */
  forced = 0;

  constructor(private readonly release: (event: TimelineEvent) => void, private readonly limits: ReorderLimits = DEFAULT_REORDER) {
    this.maxBytes = limits.maxBytes ?? Infinity;
  }

  get size(): number {
    return this.heap.size;
  }

  /** No reordering (maxEvents 0): every event goes out as it is pushed, nothing is ever held. */
  get passesThrough(): boolean {
    return this.limits.maxEvents === 0;
  }

  /** Estimated bytes of the events held. */
  get heldBytes(): number {
    return this.bytes;
  }

  push(event: TimelineEvent): void {
    if (this.passesThrough) {
      this.release(event);
      return;
    }
    const key = event.frames[0] ?? NO_FRAME;
    if (key < this.released) {
      this.lateEvents++;
      event.findings.push(TIMELINE_FINDINGS.late.at(key, `event completed after the reorder window had passed its place (frame ${key}); shown out of order`));
      this.late.push(event);
      return;
    }
    const bytes = eventBytes(event);
    this.heap.push(event, key, this.seq++, bytes);
    this.bytes += bytes;
    while (this.heap.size > this.limits.maxEvents || this.bytes > this.maxBytes) this.pop(true);
  }

  /** Releases the late events pushed since the last call, by first frame (then arrival): after each frame's pushes. */
  releaseLate(): void {
    if (this.late.length === 0) return;
    const late = this.late;
    this.late = [];
    // Array.prototype.sort is stable: events of one first frame keep their arrival order.
    if (late.length > 1) late.sort((a, b) => (a.frames[0] ?? NO_FRAME) - (b.frames[0] ?? NO_FRAME));
    for (const event of late) this.release(event);
  }

  /**
   * No event can arrive any more whose first frame is below `watermark` (the oldest frame
   * pending state holds, or the next frame): releases every held event below it.
   */
  releaseBelow(watermark: number): void {
    for (let top = this.heap.topKey; top !== undefined && top < watermark; top = this.heap.topKey) this.pop(false);
  }

  /** Capture time has reached `nowSec`: releases what has been held long enough. */
  advance(nowSec: number): void {
    const horizon = nowSec - this.limits.maxSeconds;
    for (let top = this.heap.topEvent; top !== undefined && top.tsSec <= horizon && this.heap.topKey !== NO_FRAME; top = this.heap.topEvent) this.pop(true);
  }

  /** End of a capture: releases everything, in order, and starts afresh. */
  flush(): void {
    this.releaseLate();
    while (this.heap.size > 0) this.pop(false);
    this.released = 0;
  }

  private pop(forced: boolean): void {
    this.released = this.heap.topKey!;
    this.bytes -= this.heap.topBytes;
    const event = this.heap.pop();
    if (forced) this.forced++;
    this.release(event);
  }
}
