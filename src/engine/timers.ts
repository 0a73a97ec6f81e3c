// Capture-time timers: a protocol that waits for something (a response, an ACK, the next
// fragment) asks to be called back at a capture time, and the engine fires the callback
// before the first frame at or past that time — or never, when the protocol cancels it or
// the capture ends first (the protocols flush what they still hold at the end). The queue is
// a binary heap ordered by time, then by scheduling order; a cancelled timer leaves the heap
// lazily, and the heap is rebuilt when cancelled entries outnumber the live ones. Checking it
// per frame costs one comparison.
import { BinaryHeap } from '../util/binary-heap.js';

/** A scheduled callback; `cancel` is harmless after it fired. */
export interface Timer {
  cancel(): void;
}

class Entry implements Timer {
  live = true;
  constructor(readonly at: number, readonly seq: number, readonly fire: () => void, private readonly queue: TimerQueue) {}

  cancel(): void {
    if (!this.live) return;
    this.live = false;
    this.queue.cancelled();
  }
}

const before = (a: Entry, b: Entry): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class TimerQueue {
  private readonly heap = new BinaryHeap<Entry>(before);
  private seq = 0;
  private dead = 0;

  /** Timers waiting to fire. */
  get size(): number {
    return this.heap.size - this.dead;
  }

  /** Calls `fire` once capture time passes `atSec`. */
  schedule(atSec: number, fire: () => void): Timer {
    const entry = new Entry(atSec, this.seq++, fire, this);
    this.heap.push(entry);
    return entry;
  }

  /** Capture time of the next timer to fire (Infinity when none). */
  get next(): number {
    this.dropDead();
    return this.heap.peek()?.at ?? Infinity;
  }

  /** Fires, in order, every timer due before `nowSec`; `run` wraps each call (the engine's guard). */
  advance(nowSec: number, run: (fire: () => void) => void): void {
    for (;;) {
      this.dropDead();
      const top = this.heap.peek();
      if (top === undefined || top.at >= nowSec) return;
      this.heap.pop();
      top.live = false;
      run(top.fire);
    }
  }

  /** Forgets every timer (end of capture: the protocols flush their state themselves). */
  clear(): void {
    for (const entry of this.heap.values()) entry.live = false;
    this.heap.clear();
    this.dead = 0;
  }

  /** Called by an entry when it is cancelled. */
  cancelled(): void {
    this.dead++;
    if (this.dead > 64 && this.dead * 2 > this.heap.size) {
      this.heap.retain((e) => e.live);
      this.dead = 0;
    }
  }

  private dropDead(): void {
    while (this.heap.size > 0 && !this.heap.peek()!.live) {
      this.heap.pop();
      this.dead--;
    }
  }
}
