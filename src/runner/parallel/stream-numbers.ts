// tcp.stream and udp.stream numbers in a capture split by flow. Each lane numbers the TCP
// conversations (and, apart, the UDP flows) it sees 0, 1, 2, … in frame order; the capture's
// number of a conversation first seen in frame f is its lane index plus, for every other lane,
// how many conversations that lane first saw before frame f. Each lane logs the first frames of
// its conversations in shared memory (one log per transport), and how far it has read (its
// progress, one for both logs). The number is worked out only when an output needs it (a TCP
// finding's text, a frame's detail tree or JSON): then the lane waits until every other lane
// has read past f, and counts the entries below f in that lane's log (a binary search). A
// summary line or an event without such text computes nothing per frame.
//
// A frame's detail tree and JSON show a number on every TCP and UDP frame. Waiting there would
// keep the lanes in step at each new conversation, so while a lane makes a frame's text it does
// not wait: a number it cannot know yet goes into the text as a marker (StreamMarks), and the
// main thread, which writes the frame once every lane has read past it, puts the number in its
// place (StreamCounts).
//
// The logs are rings of LOG_CAPACITY entries: a conversation first seen more than that many
// conversations ago in another lane gets an approximate number, and the lane warns once.
import type { StreamNumbers } from '../../engine/context.js';

/** Entries of each lane's log: 4 MiB of shared memory per lane and transport. */
export const LOG_CAPACITY = 1 << 20;
/** Int32 slots before a log's ring: the entries written. */
const HEADER = 1;
const WRITTEN = 0;
/** A lane's progress: how far it has read, and how many lanes wait for it to move. */
const PROGRESS = 0;
const WAITERS = 1;
/** Markers are MARK + k: above any stream number, exact in a double, MARK_DIGITS decimal digits. */
const MARK = 2 ** 52;
export const MARK_DIGITS = String(MARK).length;
/** Transports, as a marker entry names them. */
export const TCP_NUMBERS = 0;
export const UDP_NUMBERS = 1;
/** Progress of a lane that has read its last frame (as an unsigned 32-bit value). */
const DONE = 0xffffffff;
/** How long a wait lasts before the progress is read again (a notify usually comes first). */
const WAIT_MS = 50;

/** The shared memory of one lane's log for one transport (made by the main thread). */
export function streamLog(capacity = LOG_CAPACITY): SharedArrayBuffer {
  return new SharedArrayBuffer((HEADER + capacity) * 4);
}

/** The shared memory of one lane's progress (made by the main thread). */
export function laneProgress(): SharedArrayBuffer {
  return new SharedArrayBuffer(2 * 4);
}

/**
 * How far each lane has read. One for both transports: a lane waiting for a TCP number must
 * still show the others how far it has read, or two lanes could wait for each other.
 */
export class LaneProgress {
  private readonly all: Int32Array[];

  constructor(buffers: readonly SharedArrayBuffer[], readonly lane: number) {
    this.all = buffers.map((buffer) => new Int32Array(buffer));
  }

  get lanes(): number {
    return this.all.length;
  }

  /** Every frame up to `frame` has been read: no conversation of this lane starts at or before it any more. */
  progress(frame: number): void {
    const own = this.all[this.lane]!;
    // Never back: a number asked at the end of the capture must not undo `done`.
    if (Atomics.load(own, PROGRESS) >>> 0 >= frame) return;
    Atomics.store(own, PROGRESS, Math.min(frame, DONE - 1) | 0);
    // Waking is a system call: only when a lane waits.
    if (Atomics.load(own, WAITERS) > 0) Atomics.notify(own, PROGRESS);
  }

  /** The lane has read its last frame. */
  done(): void {
    const own = this.all[this.lane]!;
    Atomics.store(own, PROGRESS, DONE | 0);
    Atomics.notify(own, PROGRESS);
  }

  /** Whether every other lane has read every frame up to `frame`. */
  passed(frame: number): boolean {
    for (let lane = 0; lane < this.all.length; lane++) {
      if (lane !== this.lane && Atomics.load(this.all[lane]!, PROGRESS) >>> 0 < frame) return false;
    }
    return true;
  }

  /** Waits until lane `other` has read every frame up to `frame`. */
  waitFor(other: number, frame: number): void {
    const its = this.all[other]!;
    for (;;) {
      const progress = Atomics.load(its, PROGRESS);
      if (progress >>> 0 >= frame) return;
      Atomics.add(its, WAITERS, 1);
      Atomics.wait(its, PROGRESS, progress, WAIT_MS);
      Atomics.sub(its, WAITERS, 1);
    }
  }
}

/**
 * The numbers a lane's frame text leaves to the main thread. While `deferring` (a frame's text
 * being made), a number the lane cannot know without waiting is a marker: MARK + k, the k-th
 * entry (transport, the lane's index, the first frame).
 */
export class StreamMarks {
  deferring = false;
  /** Three numbers per marker. */
  readonly entries: number[] = [];

  mark(transport: number, index: number, first: number): number {
    const k = this.entries.length / 3;
    this.entries.push(transport, index, first);
    return MARK + k;
  }

  /** The text of marker k, as the frame's text shows it. */
  static text(k: number): string {
    return String(MARK + k);
  }
}

export class LaneStreamNumbers implements StreamNumbers {
  private readonly logs: Int32Array[];
  private readonly capacity: number;
  private warned = false;

  /**
   * `logs`: every lane's log of one transport (TCP_NUMBERS or UDP_NUMBERS), in lane order;
   * `lanes`: every lane's progress, this lane's place among them; `marks`: where a frame's text
   * leaves its numbers; `warn`: told once when a number is only approximate.
   */
  constructor(
    logs: readonly SharedArrayBuffer[],
    private readonly lanes: LaneProgress,
    private readonly transport: number,
    private readonly marks: StreamMarks,
    private readonly warn: (message: string) => void,
  ) {
    this.logs = logs.map((buffer) => new Int32Array(buffer));
    this.capacity = this.logs[lanes.lane]!.length - HEADER;
  }

  created(index: number, frame: number): void {
    const log = this.logs[this.lanes.lane]!;
    log[HEADER + (index % this.capacity)] = frame;
    Atomics.store(log, WRITTEN, index + 1);
  }

  number(index: number, current: number): number {
    const own = this.logs[this.lanes.lane]!;
    const written = Atomics.load(own, WRITTEN);
    if (index >= written || index < written - this.capacity) return this.bound(index);
    const first = own[HEADER + (index % this.capacity)]! >>> 0;
    if (!this.lanes.passed(first - 1)) {
      if (this.marks.deferring) return this.marks.mark(this.transport, index, first);
      // Before waiting, the lane says it has read every frame before the current one: a lane
      // waiting for it meanwhile then goes on (a lane that does not wait says so after each batch).
      this.lanes.progress(current - 1);
    }
    const number = rankOf(this.logs, this.lanes.lane, index, first, (lane) => this.lanes.waitFor(lane, first - 1));
    return number.exact ? number.value : this.bound(number.value);
  }

  private bound(value: number): number {
    if (!this.warned) {
      this.warned = true;
      this.warn(approximate(this.transport));
    }
    return value;
  }
}

function approximate(transport: number): string {
  return `--jobs: a conversation began more than ${LOG_CAPACITY} conversations before a later frame or finding of it: the ${transport === TCP_NUMBERS ? 'tcp.stream' : 'udp.stream'} number shown there is approximate (--jobs 1 gives the exact number)`;
}

/**
 * The capture's number of lane `lane`'s conversation `index`, first seen in frame `first`: the
 * index plus every other lane's conversations first seen before that frame (`ready` is called
 * before a lane's log is read). Not exact when a log's ring no longer holds the entry its count
 * ends at (an upper bound then).
 */
function rankOf(logs: readonly Int32Array[], lane: number, index: number, first: number, ready?: (lane: number) => void): { value: number; exact: boolean } {
  let value = index;
  for (let other = 0; other < logs.length; other++) {
    if (other === lane) continue;
    const log = logs[other]!;
    ready?.(other);
    const below = countBelow(log, first);
    if (below === undefined) return { value: value + Math.max(0, Atomics.load(log, WRITTEN) - (log.length - HEADER)), exact: false };
    value += below;
  }
  return { value, exact: true };
}

/** Entries of `log` below `frame`; undefined when the ring no longer holds the entry where that count ends. */
function countBelow(log: Int32Array, frame: number): number | undefined {
  const capacity = log.length - HEADER;
  const written = Atomics.load(log, WRITTEN);
  const oldest = Math.max(0, written - capacity);
  let lo = oldest;
  let hi = written;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (log[HEADER + (mid % capacity)]! >>> 0 < frame) lo = mid + 1;
    else hi = mid;
  }
  return lo === oldest && oldest > 0 ? undefined : lo;
}

/**
 * The main thread's side of the markers: the numbers of a lane's frame once every lane has
 * read past it (RowMerge writes a frame only then), so nothing waits.
 */
export class StreamCounts {
  private readonly logs: readonly (readonly Int32Array[])[];
  private warned = false;

  /** `logs`: every lane's logs, by transport (TCP_NUMBERS, UDP_NUMBERS). */
  constructor(logs: { readonly tcp: readonly SharedArrayBuffer[]; readonly udp: readonly SharedArrayBuffer[] }, private readonly warn: (message: string) => void) {
    this.logs = [logs.tcp.map((b) => new Int32Array(b)), logs.udp.map((b) => new Int32Array(b))];
  }

  number(lane: number, transport: number, index: number, first: number): number {
    const number = rankOf(this.logs[transport]!, lane, index, first);
    if (!number.exact && !this.warned) {
      this.warned = true;
      this.warn(approximate(transport));
    }
    return number.value;
  }
}

