// The messages between the main thread and a --jobs worker. The main thread hands each worker
// one capture at a time; the worker sends back its formatted output in chunks (transferred
// ArrayBuffers, one per flush of its output buffer: no message per frame), its warnings, and
// the end of the file with its count of error findings.

/** Main → worker: read this capture (the `index`-th of the run). */
export interface FileOrder {
  readonly index: number;
  readonly path: string;
  readonly multi: boolean;
}

export type WorkerReport =
  | { readonly kind: 'chunk'; readonly index: number; readonly data: ArrayBuffer }
  | { readonly kind: 'warning'; readonly index: number; readonly message: string }
  | { readonly kind: 'done'; readonly index: number; readonly errors: number }
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
}

/** Output a worker may have sent ahead of stdout: bounds the main thread's memory per worker. */
export const BACKLOG_LIMIT = 16 << 20;
