// The main-thread side of --jobs for several captures: up to N workers, each reading one
// capture at a time with its own engine, and the output written in file order — the capture
// being written streams straight to stdout, the later ones wait in memory (at most
// BACKLOG_LIMIT per worker) and past that in a spill file of the worker's, copied to stdout
// when its turn comes: no worker waits for the captures before its own.
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CaptureFormatError } from '../../capture/frame.js';
import type { FileOrder, WorkerReport, WorkerSetup } from './protocol.js';

/** Where the captures' chunks go, in file order: stdout for the listings, an analysis for the reports. */
export interface ChunkSink {
  /** Takes the bytes; `done` once they are written (or handled), never synchronously. */
  write(data: Uint8Array, done: () => void): void;
}

export interface ParallelFiles<J> {
  /** The worker's entry module (it calls serveFiles with the command's runner factory). */
  readonly entry: URL;
  readonly job: J;
  readonly jobs: number;
  readonly paths: readonly string[];
  readonly sink: ChunkSink;
  readonly warn: (message: string) => void;
}

interface Pending {
  readonly chunks: { readonly data: Uint8Array; readonly worker: WorkerSlot }[];
  readonly warnings: string[];
  done: boolean;
  /** The rest of the output, in a spill file (after the chunks). */
  spill?: string;
  failure?: { readonly message: string; readonly input: boolean };
}

/** Signals after which the spill directory is removed before the process ends. */
const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Bytes of a spill file copied to stdout at a time. */
const COPY_CHUNK = 1 << 20;

interface WorkerSlot {
  readonly worker: Worker;
  readonly backlog: Int32Array;
}

/** A directory of this run's own for spill files, or undefined when none can be made (workers then wait their turn). */
function makeSpillDir(): string | undefined {
  try {
    return mkdtempSync(join(tmpdir(), 'msgscope-jobs-'));
  } catch {
    return undefined;
  }
}

/** Reads every capture on workers and writes their output in file order; returns the error findings. */
export function runFilesInParallel<J>(run: ParallelFiles<J>): Promise<number> {
  const files: Pending[] = run.paths.map(() => ({ chunks: [], warnings: [], done: false }));
  const slots: WorkerSlot[] = [];
  let next = 0;
  let head = 0;
  /** `head` as the workers see it: a worker ahead of it spills rather than waits. */
  const sharedHead = new Int32Array(new SharedArrayBuffer(4));
  const spillDir = makeSpillDir();
  const removeSpills = (): void => {
    if (spillDir !== undefined) rmSync(spillDir, { recursive: true, force: true });
  };
  process.once('exit', removeSpills);
  // Interrupted (Ctrl-C, kill): the spill files go, then the signal takes its default course.
  const onSignal = (signal: NodeJS.Signals): void => {
    removeSpills();
    process.kill(process.pid, signal);
  };
  for (const signal of INTERRUPTS) process.once(signal, onSignal);
  let copying = false;
  let errors = 0;
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const end = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      void Promise.all(slots.map((slot) => slot.worker.terminate())).finally(() => {
        removeSpills();
        process.removeListener('exit', removeSpills);
        for (const signal of INTERRUPTS) process.removeListener(signal, onSignal);
      });
      if (err === undefined) resolve(errors);
      else reject(err);
    };
    // Copies a finished capture's spill file to the sink, a chunk at a time as the sink takes them.
    const copySpill = (path: string, then: () => void): void => {
      copying = true;
      const fd = openSync(path, 'r');
      const step = (): void => {
        if (settled) return closeSync(fd);
        const buf = Buffer.allocUnsafe(COPY_CHUNK);
        const n = readSync(fd, buf, 0, COPY_CHUNK, null);
        if (n > 0) return run.sink.write(buf.subarray(0, n), step);
        closeSync(fd);
        rmSync(path, { force: true });
        copying = false;
        then();
      };
      step();
    };
    const write = (data: Uint8Array, slot: WorkerSlot): void => {
      run.sink.write(data, () => {
        Atomics.sub(slot.backlog, 0, data.byteLength);
        Atomics.notify(slot.backlog, 0);
      });
    };
    // Writes what the files at the head have ready, and moves on past the finished ones.
    const drain = (): void => {
      if (copying || settled) return;
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
        const spill = file.spill;
        head++;
        Atomics.store(sharedHead, 0, head);
        if (spill !== undefined) {
          file.spill = undefined;
          copySpill(spill, drain);
          return;
        }
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
          file.spill = report.spill;
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
      const setup: WorkerSetup<J> = { job: run.job, backlog, head: sharedHead.buffer as SharedArrayBuffer, spillDir };
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
