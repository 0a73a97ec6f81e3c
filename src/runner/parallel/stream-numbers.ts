// tcp.stream numbers in a capture split by flow. Each lane numbers the TCP conversations it sees
// 0, 1, 2, … in frame order; the capture's number of a conversation first seen in frame f is
// its lane index plus, for every other lane, how many conversations that lane first saw before
// frame f. Each lane logs the first frames of its conversations in shared memory, with how far
// it has read (its progress). The number is worked out only when an event's text needs it (a
// TCP finding): then the lane waits until every other lane has read past f,
// and counts the entries below f in its log (a binary search). Nothing is computed per frame.
//
// The logs are rings of LOG_CAPACITY entries: a conversation first seen more than that many
// conversations ago in another lane gets an approximate number, and the lane warns once.
import type { TcpStreamNumbers } from '../../engine/context.js';

/** Entries of each lane's log: 4 MiB of shared memory per lane. */
export const LOG_CAPACITY = 1 << 20;
/** Int32 slots before the ring: entries written, progress, lanes waiting on this lane's progress. */
const HEADER = 3;
const WRITTEN = 0;
const PROGRESS = 1;
const WAITERS = 2;
/** Progress of a lane that has read its last frame (as an unsigned 32-bit value). */
const DONE = 0xffffffff;
/** How long a wait lasts before the progress is read again (a notify usually comes first). */
const WAIT_MS = 50;

/** The shared memory of one lane's log (made by the main thread, one per lane). */
export function streamLog(capacity = LOG_CAPACITY): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER + capacity) * 4);
}

export class LaneStreamNumbers implements TcpStreamNumbers {
  private readonly logs: Int32Array[];
  private readonly capacity: number;
  private warned = false;

  /** `logs`: every lane's log, `lane`: this lane's place among them; `warn`: told once when a number is only approximate. */
  constructor(logs: readonly SharedArrayBuffer[], private readonly lane: number, private readonly warn: (message: string) => void) {
    this.logs = logs.map((buffer) => new Int32Array(buffer));
    this.capacity = this.logs[lane]!.length - HEADER;
  }

  created(index: number, frame: number): void {
    const log = this.logs[this.lane]!;
    log[HEADER + (index % this.capacity)] = frame;
    Atomics.store(log, WRITTEN, index + 1);
  }

  /** Every frame up to `frame` has been read: no conversation of this lane starts at or before it any more. */
  progress(frame: number): void {
    const log = this.logs[this.lane]!;
    // Never back: a number asked at the end of the capture must not undo `done`.
    if (Atomics.load(log, PROGRESS) >>> 0 >= frame) return;
    Atomics.store(log, PROGRESS, Math.min(frame, DONE - 1) | 0);
    // Waking is a system call: only when a lane waits (numbers are asked rarely).
    if (Atomics.load(log, WAITERS) > 0) Atomics.notify(log, PROGRESS);
  }

  /** The lane has read its last frame. */
  done(): void {
    const log = this.logs[this.lane]!;
    Atomics.store(log, PROGRESS, DONE | 0);
    Atomics.notify(log, PROGRESS);
  }

  number(index: number, current: number): number {
    const own = this.logs[this.lane]!;
    const written = Atomics.load(own, WRITTEN);
    if (index >= written || index < written - this.capacity) return this.bound(index);
    const first = own[HEADER + (index % this.capacity)]! >>> 0;
    // Other lanes may wait for this one meanwhile: it has read every frame before the current one.
    this.progress(current - 1);
    let total = index;
    for (let lane = 0; lane < this.logs.length; lane++) {
      if (lane === this.lane) continue;
      const log = this.logs[lane]!;
      for (;;) {
        const progress = Atomics.load(log, PROGRESS);
        if (progress >>> 0 >= first - 1) break;
        Atomics.add(log, WAITERS, 1);
        Atomics.wait(log, PROGRESS, progress, WAIT_MS);
        Atomics.sub(log, WAITERS, 1);
      }
      const below = this.countBelow(log, first);
      if (below === undefined) return this.bound(total + Math.max(0, Atomics.load(log, WRITTEN) - this.capacity));
      total += below;
    }
    return total;
  }

  /** Entries of `log` below `frame`; undefined when the ring no longer holds the entry where that count ends. */
  private countBelow(log: Int32Array, frame: number): number | undefined {
    const written = Atomics.load(log, WRITTEN);
    const oldest = Math.max(0, written - this.capacity);
    let lo = oldest;
    let hi = written;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log[HEADER + (mid % this.capacity)]! >>> 0 < frame) lo = mid + 1;
      else hi = mid;
    }
    return lo === oldest && oldest > 0 ? undefined : lo;
  }

  private bound(value: number): number {
    if (!this.warned) {
      this.warned = true;
      this.warn(`--jobs: a TCP conversation began more than ${LOG_CAPACITY} conversations before a finding about it: its tcp.stream number in that finding is approximate (--jobs 1 gives the exact number)`);
    }
    return value;
  }
}
