// The main-thread side of --jobs for several captures: up to N workers, each reading one
// capture at a time with its own engine, and the output written in file order — the capture
// being written streams straight to stdout, the later ones wait in memory (at most
// BACKLOG_LIMIT per worker: a worker ahead of its turn stops until its file is written).
import { Worker } from 'node:worker_threads';
import { CaptureFormatError } from '../../capture/frame.js';
import type { Output } from '../../output/writer.js';
import type { FileOrder, WorkerReport, WorkerSetup } from './protocol.js';

export interface ParallelFiles<J> {
  /** The worker's entry module (it calls serveFiles with the command's runner factory). */
  readonly entry: URL;
  readonly job: J;
  readonly jobs: number;
  readonly paths: readonly string[];
  readonly out: Output;
  readonly warn: (message: string) => void;
}

interface Pending {
  readonly chunks: { readonly data: Uint8Array; readonly worker: WorkerSlot }[];
  readonly warnings: string[];
  done: boolean;
  failure?: { readonly message: string; readonly input: boolean };
}

interface WorkerSlot {
  readonly worker: Worker;
  readonly backlog: Int32Array;
}

/** Reads every capture on workers and writes their output in file order; returns the error findings. */
export function runFilesInParallel<J>(run: ParallelFiles<J>): Promise<number> {
  const files: Pending[] = run.paths.map(() => ({ chunks: [], warnings: [], done: false }));
  const slots: WorkerSlot[] = [];
  let next = 0;
  let head = 0;
  let errors = 0;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const end = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      for (const slot of slots) void slot.worker.terminate();
      if (err === undefined) resolve(errors);
      else reject(err);
    };
    const write = (data: Uint8Array, slot: WorkerSlot): void => {
      run.out.bytes(data, () => {
        Atomics.sub(slot.backlog, 0, data.byteLength);
        Atomics.notify(slot.backlog, 0);
      });
    };
    // Writes what the files at the head have ready, and moves on past the finished ones.
    const drain = (): void => {
      while (head < files.length) {
        const file = files[head]!;
        for (const chunk of file.chunks) write(chunk.data, chunk.worker);
        file.chunks.length = 0;
        for (const message of file.warnings) run.warn(message);
        file.warnings.length = 0;
        if (!file.done) return;
        if (file.failure !== undefined) {
          end(file.failure.input ? new CaptureFormatError(file.failure.message) : new Error(`worker: ${file.failure.message}`));
          return;
        }
        head++;
      }
      end();
    };
    const assign = (slot: WorkerSlot): void => {
      if (next >= run.paths.length) return;
      const order: FileOrder = { index: next, path: run.paths[next]!, multi: run.paths.length > 1 };
      next++;
      slot.worker.postMessage(order);
    };
    const onReport = (slot: WorkerSlot, report: WorkerReport): void => {
      const file = files[report.index]!;
      switch (report.kind) {
        case 'chunk':
          file.chunks.push({ data: new Uint8Array(report.data), worker: slot });
          break;
        case 'warning':
          file.warnings.push(report.message);
          break;
        case 'done':
          file.done = true;
          errors += report.errors;
          assign(slot);
          break;
        case 'failed':
          file.done = true;
          file.failure = { message: report.message, input: report.input };
          break;
      }
      if (report.index === head) drain();
    };
    const count = Math.min(run.jobs, run.paths.length);
    for (let i = 0; i < count; i++) {
      const backlog = new SharedArrayBuffer(4);
      const setup: WorkerSetup<J> = { job: run.job, backlog };
      const slot: WorkerSlot = { worker: new Worker(run.entry, { workerData: setup }), backlog: new Int32Array(backlog) };
      slots.push(slot);
      slot.worker.on('message', (report: WorkerReport) => onReport(slot, report));
      slot.worker.on('error', (err) => end(err));
      slot.worker.on('exit', (code) => {
        if (!settled && code !== 0) end(new Error(`worker stopped with exit status ${code}`));
      });
      assign(slot);
    }
  });
}
