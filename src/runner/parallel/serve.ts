// The worker side of --jobs: reads the captures the main thread hands it, one at a time, with
// a runner of its own, and sends back the formatted output in chunks (or, ahead of its turn
// and past the backlog limit, writes it to a spill file).
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { CaptureFormatError } from '../../capture/frame.js';
import { Output } from '../../output/writer.js';
import type { Runner } from '../runner.js';
import { fileSource } from '../sources.js';
import { BACKLOG_LIMIT, type FileOrder, type WorkerReport, type WorkerSetup } from './protocol.js';

/** Builds the command's runner, writing to `out` and reporting warnings through `warn`. */
export type RunnerFactory<J> = (job: J, out: Output, warn: (message: string) => void) => Promise<Runner>;

/** A spill file that could not be written (a full disk): one line, as a bad capture is. */
class SpillError extends Error {}

function openSpill(path: string): { readonly fd: number; readonly path: string } {
  try {
    return { fd: openSync(path, 'w'), path };
  } catch (err) {
    throw new SpillError(`--jobs: cannot write ${path}: ${(err as Error).message} (set TMPDIR elsewhere, or use --jobs 1)`);
  }
}

function writeSpill(spill: { readonly fd: number; readonly path: string }, chunk: Uint8Array): void {
  try {
    for (let at = 0; at < chunk.byteLength; ) at += writeSync(spill.fd, chunk, at, chunk.byteLength - at);
  } catch (err) {
    throw new SpillError(`--jobs: cannot write ${spill.path}: ${(err as Error).message} (set TMPDIR elsewhere, or use --jobs 1)`);
  }
}

export async function serveFiles<J>(makeRunner: RunnerFactory<J>): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveFiles runs in a worker thread');
  const setup = workerData as WorkerSetup<J>;
  const backlog = new Int32Array(setup.backlog);
  const head = new Int32Array(setup.head);
  let current = -1;
  /** The spill file of the current capture, once its output went past the backlog ahead of its turn. */
  let spill: { readonly fd: number; readonly path: string } | undefined;
  const send = (report: WorkerReport, transfer: ArrayBuffer[] = []): void => port.postMessage(report, transfer);
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (spill !== undefined) {
        writeSpill(spill, chunk);
        callback();
        return;
      }
      // A copy of the bytes in an ArrayBuffer of their own, transferred (no second copy).
      const data = new Uint8Array(chunk.byteLength);
      data.set(chunk);
      Atomics.add(backlog, 0, data.byteLength);
      send({ kind: 'chunk', index: current, data: data.buffer }, [data.buffer]);
      for (;;) {
        const pending = Atomics.load(backlog, 0);
        if (pending <= BACKLOG_LIMIT) break;
        if (setup.spillDir !== undefined && Atomics.load(head, 0) !== current) {
          // Not this capture's turn: what follows goes to disk rather than waiting for the captures before it.
          spill = openSpill(join(setup.spillDir, `${current}.out`));
          break;
        }
        // This capture's turn: wait until the main thread has written enough (stdout's backpressure).
        Atomics.wait(backlog, 0, pending, 1000);
      }
      callback();
    },
  });
  /** Ends the current capture's spill file: its path for the end-of-file report. */
  const endSpill = (): string | undefined => {
    if (spill === undefined) return undefined;
    closeSync(spill.fd);
    const path = spill.path;
    spill = undefined;
    return path;
  };
  const out = new Output(stream);
  const runner = await makeRunner(setup.job, out, (message) => send({ kind: 'warning', index: current, message }));
  port.on('message', (order: FileOrder) => {
    current = order.index;
    const before = runner.errors;
    runner.runPart(fileSource(order.path), order.index, order.multi)
      .then(() => out.close())
      .then(
        () => send({ kind: 'done', index: order.index, errors: runner.errors - before, spill: endSpill() }),
        async (err: unknown) => {
          await out.close().catch(() => undefined);
          endSpill();
          const input = err instanceof CaptureFormatError || err instanceof SpillError;
          send({ kind: 'failed', index: order.index, input, message: input ? err.message : err instanceof Error ? err.stack ?? err.message : String(err) });
        },
      );
  });
}
