// The timeline's reorder window. Dissectors emit an event when it is complete — a message
// carried by several frames, or waiting for its response, comes out after events of later
// frames — while the timeline is in frame order. The window holds events in a heap keyed by
// their first frame and releases one as soon as it is older (in capture time) than the window,
// or when the window holds too many: output starts long before the file ends and memory is
// bounded by the window, not by the file. An event whose place has already been passed is
// released at once, with a note saying so (TIMELINE_FINDINGS.late), rather than held.
import type { TimelineEvent } from '../model/events.js';
import { TIMELINE_FINDINGS } from './findings.js';

export interface ReorderLimits {
  /** Events held at most; past it the earliest is released. 0: no reordering (live capture shows each event when it completes). */
  readonly maxEvents: number;
  /** Capture seconds an event is held at most, counted from its own time. */
  readonly maxSeconds: number;
}

// Dissectors finish pending state (an unanswered request, a message waiting for its ACK) on
// their own capture-time timeouts, well inside these bounds; an event that only completes when
// its connection ends (a session summary on a connection idle until the end of the capture)
// can still come late.
export const DEFAULT_REORDER: ReorderLimits = { maxEvents: 10_000, maxSeconds: 3600 };

/** Live capture: each event as soon as it is complete. */
export const NO_REORDER: ReorderLimits = { maxEvents: 0, maxSeconds: 0 };

interface Held {
  readonly event: TimelineEvent;
  /** First frame; events without frames (file-level findings) sort last, as before. */
  readonly key: number;
  readonly seq: number;
}

const before = (a: Held, b: Held): boolean => a.key < b.key || (a.key === b.key && a.seq < b.seq);

export class ReorderWindow {
  private readonly heap: Held[] = [];
  private seq = 0;
  /** Key of the last event released (events must not be released before it any more). */
  private released = 0;
  lateEvents = 0;

  constructor(private readonly release: (event: TimelineEvent) => void, private readonly limits: ReorderLimits = DEFAULT_REORDER) {}

  get size(): number {
    return this.heap.length;
  }

  push(event: TimelineEvent): void {
    if (this.limits.maxEvents === 0) {
      this.release(event);
      return;
    }
    const key = event.frames[0] ?? Number.MAX_SAFE_INTEGER;
    if (key < this.released) {
      this.lateEvents++;
      event.findings.push(TIMELINE_FINDINGS.late.at(key, `event completed after the reorder window had passed its place (frame ${key}); shown out of order`));
      this.release(event);
      return;
    }
    this.add({ event, key, seq: this.seq++ });
    while (this.heap.length > this.limits.maxEvents) this.pop();
  }

  /** Capture time has reached `nowSec`: releases what has been held long enough. */
  advance(nowSec: number): void {
    const horizon = nowSec - this.limits.maxSeconds;
    while (this.heap.length > 0 && this.heap[0]!.event.tsSec <= horizon && this.heap[0]!.key !== Number.MAX_SAFE_INTEGER) this.pop();
  }

  /** End of a capture: releases everything, in order, and starts afresh. */
  flush(): void {
    while (this.heap.length > 0) this.pop();
    this.released = 0;
  }

  private pop(): void {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    this.released = top.key;
    this.release(top.event);
  }

  private add(item: Held): void {
    const heap = this.heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  private down(i: number): void {
    const heap = this.heap;
    const item = heap[i]!;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, item)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
