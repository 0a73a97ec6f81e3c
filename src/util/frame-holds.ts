// Holds on frame numbers: pending state that will later emit a timeline event whose first
// frame is already past (a request waiting for its response, a message waiting for its last
// block, bytes of a message not yet complete) holds that frame until the event is emitted or
// the state is dropped. The timeline's reorder window releases every event below the oldest
// live hold at once, instead of waiting for a count or a capture-time bound.
//
// A hold is a count per frame number (several pieces of state may hold the same frame) and a
// min-heap of the frame numbers with a count; a frame whose count fell to zero leaves the heap
// lazily, when it surfaces, and the heap is rebuilt when such stale entries outnumber the live
// ones. Holding and releasing cost O(log n), the oldest hold O(1) amortised.
import { BinaryHeap } from './binary-heap.js';

/** What pending state sees: hold a frame, release it (once per hold). */
export interface FrameHolds {
  /** Frame `frame` will carry an event emitted later. Frames ≤ 0 (no frame) are ignored. */
  hold(frame: number): void;
  /** The state holding `frame` emitted its event or was dropped. */
  release(frame: number): void;
}

interface Entry {
  readonly frame: number;
  /** Capture time (seconds) when the frame was first held. */
  readonly since: number;
}

const lower = (a: Entry, b: Entry): boolean => a.frame < b.frame;

export class HoldRegistry implements FrameHolds {
  private readonly counts = new Map<number, number>();
  private readonly heap = new BinaryHeap<Entry>(lower);
  /** Capture time of the frame being dissected (set by the engine), stamped on new holds. */
  now = 0;
  /** Frames whose holds outlived the horizon and stopped holding the watermark back. */
  overdue = 0;
  /**
   * The frames of those holds, for `oldestAny` (they still will carry an event); a frame whose
   * count fell to zero leaves it when it surfaces.
   */
  private readonly overdueFrames = new BinaryHeap<number>((a, b) => a < b);
  /** Live holds (the sum of the counts). */
  private live = 0;
  /** Releases of frames that were not held (a bug in the caller; counted, never negative). */
  unmatched = 0;

  /** Live holds in all. */
  get size(): number {
    return this.live;
  }

  /** Distinct frames held. */
  get frames(): number {
    return this.counts.size;
  }

  hold(frame: number): void {
    if (!(frame > 0)) return;
    const n = this.counts.get(frame);
    this.live++;
    if (n !== undefined) {
      this.counts.set(frame, n + 1);
      return;
    }
    this.counts.set(frame, 1);
    this.heap.push({ frame, since: this.now });
    if (this.heap.size > 2 * this.counts.size + 64) {
      // Stale entries (count fell to zero) and repeats (held again after a release) go.
      const seen = new Set<number>();
      this.heap.retain((e) => this.counts.has(e.frame) && !seen.has(e.frame) && seen.add(e.frame) !== undefined);
    }
  }

  release(frame: number): void {
    if (!(frame > 0)) return;
    const n = this.counts.get(frame);
    if (n === undefined) {
      this.unmatched++;
      return;
    }
    this.live--;
    if (n > 1) this.counts.set(frame, n - 1);
    else this.counts.delete(frame);
  }

  /** The oldest frame held (Infinity when none). */
  get oldest(): number {
    return this.oldestSince(-Infinity);
  }

  /**
   * The oldest frame held since capture time `horizon` or later (Infinity when none). Older
   * holds leave the heap for good (they are still counted, so their release is matched): a
   * hold that lasts longer than the horizon no longer holds anything back.
   */
  oldestSince(horizon: number): number {
    for (let top = this.heap.peek(); top !== undefined; top = this.heap.peek()) {
      if (this.counts.has(top.frame)) {
        if (top.since >= horizon) return top.frame;
        this.overdue++;
        this.overdueFrames.push(top.frame);
      }
      this.heap.pop();
    }
    return Infinity;
  }

  /**
   * The oldest frame held, overdue holds included (Infinity when none): no event emitted from now
   * on has a frame below it, late ones included. What remembers frames for events (the runner's
   * carrier findings) forgets those below it.
   */
  get oldestAny(): number {
    for (let top = this.overdueFrames.peek(); top !== undefined && !this.counts.has(top); top = this.overdueFrames.peek()) this.overdueFrames.pop();
    return Math.min(this.overdueFrames.peek() ?? Infinity, this.oldestSince(-Infinity));
  }

  clear(): void {
    this.counts.clear();
    this.heap.clear();
    this.overdueFrames.clear();
    this.live = 0;
  }
}

/** One piece of state's hold, moved as the state's first frame changes (release the old, hold the new). */
export class MovingHold {
  private frame = 0;
  constructor(private readonly holds: FrameHolds | undefined) {}

  /** Holds `frame` instead of what was held (0: nothing). */
  set(frame: number): void {
    if (frame === this.frame) return;
    if (this.frame > 0) this.holds?.release(this.frame);
    this.frame = frame > 0 ? frame : 0;
    if (this.frame > 0) this.holds?.hold(this.frame);
  }

  get held(): number {
    return this.frame;
  }

  clear(): void {
    this.set(0);
  }
}
