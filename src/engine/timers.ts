// Capture-time timers: a protocol that waits for something (a response, an ACK, the next
// fragment) asks to be called back at a capture time, and the engine fires the callback
// before the first frame at or past that time — or never, when the protocol cancels it or
// the capture ends first (the protocols flush what they still hold at the end). The queue is
// a binary heap ordered by time, then by scheduling order; a cancelled timer leaves the heap
// lazily, and the heap is rebuilt when cancelled entries outnumber the live ones. Checking it
// per frame costs one comparison.

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
  private heap: Entry[] = [];
  private seq = 0;
  private dead = 0;

  /** Timers waiting to fire. */
  get size(): number {
    return this.heap.length - this.dead;
  }

  /** Calls `fire` once capture time passes `atSec`. */
  schedule(atSec: number, fire: () => void): Timer {
    const entry = new Entry(atSec, this.seq++, fire, this);
    this.push(entry);
    return entry;
  }

  /** Capture time of the next timer to fire (Infinity when none). */
  get next(): number {
    this.dropDead();
    return this.heap.length > 0 ? this.heap[0]!.at : Infinity;
  }

  /** Fires, in order, every timer due before `nowSec`; `run` wraps each call (the engine's guard). */
  advance(nowSec: number, run: (fire: () => void) => void): void {
    for (;;) {
      this.dropDead();
      const top = this.heap[0];
      if (top === undefined || top.at >= nowSec) return;
      this.pop();
      top.live = false;
      run(top.fire);
    }
  }

  /** Forgets every timer (end of capture: the protocols flush their state themselves). */
  clear(): void {
    for (const entry of this.heap) entry.live = false;
    this.heap = [];
    this.dead = 0;
  }

  /** Called by an entry when it is cancelled. */
  cancelled(): void {
    this.dead++;
    if (this.dead > 64 && this.dead * 2 > this.heap.length) this.rebuild();
  }

  private dropDead(): void {
    while (this.heap.length > 0 && !this.heap[0]!.live) {
      this.pop();
      this.dead--;
    }
  }

  private rebuild(): void {
    const live = this.heap.filter((e) => e.live);
    this.heap = [];
    this.dead = 0;
    for (const entry of live) this.push(entry);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
