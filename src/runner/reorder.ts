// The timeline's reorder window. Dissectors emit an event when it is complete — a message
// carried by several frames, or waiting for its response, comes out after events of later
// frames — while the timeline is in frame order. The window holds events in a heap keyed by
// their first frame and releases one as soon as it is older (in capture time) than the window,
// or when the window holds too many: output starts long before the file ends and memory is
// bounded by the window, not by the file. An event whose place has already been passed is
// released at once, with a note saying so (TIMELINE_FINDINGS.late), rather than held.
import type { TimelineEvent } from '../model/events.js';
import { BinaryHeap } from '../util/binary-heap.js';
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
  private readonly heap = new BinaryHeap<Held>(before);
  private seq = 0;
  /** Key of the last event released (events must not be released before it any more). */
  private released = 0;
  lateEvents = 0;

  constructor(private readonly release: (event: TimelineEvent) => void, private readonly limits: ReorderLimits = DEFAULT_REORDER) {}

  get size(): number {
    return this.heap.size;
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
    this.heap.push({ event, key, seq: this.seq++ });
    while (this.heap.size > this.limits.maxEvents) this.pop();
  }

  /** Capture time has reached `nowSec`: releases what has been held long enough. */
  advance(nowSec: number): void {
    const horizon = nowSec - this.limits.maxSeconds;
    for (let top = this.heap.peek(); top !== undefined && top.event.tsSec <= horizon && top.key !== Number.MAX_SAFE_INTEGER; top = this.heap.peek()) this.pop();
  }

  /** End of a capture: releases everything, in order, and starts afresh. */
  flush(): void {
    while (this.heap.size > 0) this.pop();
    this.released = 0;
  }

  private pop(): void {
    const top = this.heap.pop()!;
    this.released = top.key;
    this.release(top.event);
  }
}
