// The messages between the main thread and a --jobs worker. The main thread hands each worker
// one capture at a time; the worker sends back its formatted output in chunks (transferred
// ArrayBuffers, one per flush of its output buffer: no message per frame), its warnings, and
// the end of the file with its count of error findings. Output of a capture whose turn has not
// come, past BACKLOG_LIMIT, goes to a spill file instead, named in the end-of-file report.

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
