// The messages between the main thread and a --jobs worker. The main thread hands each worker
// one capture at a time; the worker sends back its formatted output in chunks (transferred
// ArrayBuffers, one per flush of its output buffer: no message per frame), its warnings, and
// the end of the file with its count of error findings. Output of a capture whose turn has not
// come, past BACKLOG_LIMIT, goes to a spill file instead, named in the end-of-file report.
import type { TimelineEvent } from '../../model/events.js';

/** Main → worker: read this capture (the `index`-th of the run). */
export interface FileOrder {
  readonly index: number;
  readonly path: string;
  readonly multi: boolean;
}

export type WorkerReport =
  | { readonly kind: 'chunk'; readonly index: number; readonly data: ArrayBuffer }
  | { readonly kind: 'warning'; readonly index: number; readonly message: string }
  /** `spill`: the file holding the output that followed the chunks sent, if any. */
  | { readonly kind: 'done'; readonly index: number; readonly errors: number; readonly spill?: string }
  /** `input`: a problem with the capture (one line, exit 2), otherwise an internal error. */
  | { readonly kind: 'failed'; readonly index: number; readonly message: string; readonly input: boolean };

/** What every worker starts with. */
export interface WorkerSetup<J> {
  /** The command's job description (plain data: it is cloned into the worker). */
  readonly job: J;
  /**
   * Bytes sent and not yet written to stdout by the main thread (one Int32 in shared memory). A
   * worker whose file is not the one being written stops at BACKLOG_LIMIT until its turn comes.
   */
  readonly backlog: SharedArrayBuffer;
  /** The index of the capture whose output is being written to stdout (one Int32 in shared memory, the same for every worker). */
  readonly head: SharedArrayBuffer;
  /** A directory of the run's own for spill files (the main thread removes it at the end); none: wait. */
  readonly spillDir: string | undefined;
}

/**
 * Output a worker may have sent ahead of stdout: bounds the main thread's memory per worker.
 * Past it, a worker whose capture is the one being written waits for stdout (its backpressure);
 * a worker ahead of its turn writes the rest of that capture's output to a spill file and goes
 * on, so every worker keeps working whatever the size of the outputs before its own.
 * MSGSCOPE_JOBS_BACKLOG (bytes) sets it lower, for tests.
 */
export const BACKLOG_LIMIT = backlogLimit(process.env['MSGSCOPE_JOBS_BACKLOG']);

function backlogLimit(text: string | undefined): number {
  const n = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : 16 << 20;
}

// ---- one capture split by flow (split.ts, lane.ts) ----

/** What a lane worker starts with: the job, and that it is a lane (not a reader of whole captures). */
export interface LaneSetup<J> {
  readonly job: J;
  readonly lane: number;
  readonly streams: SplitStreams;
  /** The lane's expected share of the work (LaneChooser.shares): its share of the engine's bounds. */
  readonly share: number;
}

/**
 * Main → lane: a batch of frames (their headers and bytes packed in `data`, see FRAME_HEADER),
 * `through`: the number of the last frame the main thread had dispatched to any lane when it
 * sent the batch; `start`: the time of the capture's first frame.
 */
export type LaneOrder =
  | {
    readonly kind: 'frames';
    readonly data: ArrayBuffer;
    readonly count: number;
    readonly through: number;
    readonly start: { readonly tsSec: number; readonly tsNsec: number };
    readonly comments: BatchComments | undefined;
  }
  | { readonly kind: 'end' };

/** pcapng comments of a batch's frames, by position in the batch (rare: most batches have none). */
export type BatchComments = readonly (readonly [number, readonly string[]])[];

/**
 * Lane → main. `part`: the batch of `bytes` bytes (up to frame `through`) is done, and this is
 * what the lane's work made of it (a LaneWork's part: events with their frames and hold log, or
 * read's rows). `done`: the part the end of the capture made.
 */
export type LaneReport<P> =
  | { readonly kind: 'part'; readonly part: P; readonly through: number; readonly bytes: number }
  | { readonly kind: 'warning'; readonly message: string }
  | { readonly kind: 'done'; readonly part: P }
  | { readonly kind: 'failed'; readonly message: string };

/**
 * An event analysis's part (EventLaneWork): the events completed, in the order they completed,
 * each with the frame (or tick) during which it did (`emitted`; Infinity: the end of the
 * capture), and `held`: pairs (frame, oldest frame the lane's state holds after it, Infinity for
 * none) where that changed.
 */
export interface EventPart {
  readonly events: TimelineEvent[];
  readonly emitted: number[];
  readonly held: number[];
}

/**
 * read's part: a row for each frame the lane's filter selected, in frame order (see
 * src/output/sinks/summary-rows.ts for what a row holds). `errors`: error findings on them.
 */
export interface FrameRows {
  readonly rows: number;
  /** ROW_NUMBERS numbers per row, the first being the frame number. */
  readonly numbers: Float64Array;
  readonly errors: number;
}

/** Summary lines' rows: their columns, `textsPerRow` texts per row. */
export interface RowPart extends FrameRows {
  readonly texts: string[];
  readonly textsPerRow: number;
}

/**
 * Rows of frames whose output stands alone (-V, JSON): row r's text is UTF-8 `bytes` from
 * `ends[r - 1]` (0 for the first) to `ends[r]`, with stream numbers the main thread puts in:
 * `patches` from `patchEnds[r - 1]` to `patchEnds[r]`, PATCH_NUMBERS numbers each (the place in
 * the row's bytes, transport, the lane's index, first frame; see StreamMarks).
 */
export interface TextPart extends FrameRows {
  readonly lane: number;
  readonly ends: Uint32Array;
  readonly bytes: Uint8Array;
  readonly patches: Float64Array;
  readonly patchEnds: Uint32Array;
}

/** Numbers per patch of a TextPart. */
export const PATCH_NUMBERS = 4;

/** The shared memory of a split: every lane's logs of stream first frames and its progress (stream-numbers.ts), in lane order. */
export interface SplitStreams {
  readonly tcp: readonly SharedArrayBuffer[];
  readonly udp: readonly SharedArrayBuffer[];
  readonly progress: readonly SharedArrayBuffer[];
}

/** Numbers per row of a RowPart. */
export const ROW_NUMBERS = 5;

/**
 * A frame in a batch: number (f64), seconds (f64), nanoseconds, captured length, length on the
 * wire, link type, interface (u32 each, little-endian), then the captured bytes.
 */
export const FRAME_HEADER = 36;
/**
 * The captured length of a tick: a frame another lane dissects, given by number and seconds only
 * (Engine.tick). No record is that long (MAX_RECORD), whatever link type a hostile file claims.
 */
export const TICK = 0xffffffff;
