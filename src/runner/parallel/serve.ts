// The worker side of --jobs: reads the captures the main thread hands it, one at a time, with
// a runner of its own, and sends back the formatted output in chunks.
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { CaptureFormatError } from '../../capture/frame.js';
import { Output } from '../../output/writer.js';
import type { Runner } from '../runner.js';
import { fileSource } from '../sources.js';
import { BACKLOG_LIMIT, type FileOrder, type WorkerReport, type WorkerSetup } from './protocol.js';

/** Builds the command's runner, writing to `out` and reporting warnings through `warn`. */
export type RunnerFactory<J> = (job: J, out: Output, warn: (message: string) => void) => Promise<Runner>;

export async function serveFiles<J>(makeRunner: RunnerFactory<J>): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveFiles runs in a worker thread');
  const setup = workerData as WorkerSetup<J>;
  const backlog = new Int32Array(setup.backlog);
  let current = -1;
  const send = (report: WorkerReport, transfer: ArrayBuffer[] = []): void => port.postMessage(report, transfer);
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      // A copy of the bytes in an ArrayBuffer of their own, transferred (no second copy).
      const data = new Uint8Array(chunk.byteLength);
      data.set(chunk);
      Atomics.add(backlog, 0, data.byteLength);
      send({ kind: 'chunk', index: current, data: data.buffer }, [data.buffer]);
      for (;;) {
        const pending = Atomics.load(backlog, 0);
        if (pending <= BACKLOG_LIMIT) break;
        Atomics.wait(backlog, 0, pending);
      }
      callback();
    },
  });
  const out = new Output(stream);
  const runner = await makeRunner(setup.job, out, (message) => send({ kind: 'warning', index: current, message }));
  port.on('message', (order: FileOrder) => {
    current = order.index;
    const before = runner.errors;
    runner.runPart(fileSource(order.path), order.index, order.multi)
      .then(() => out.close())
      .then(
        () => send({ kind: 'done', index: order.index, errors: runner.errors - before }),
        async (err: unknown) => {
          await out.close();
          const input = err instanceof CaptureFormatError;
          send({ kind: 'failed', index: order.index, input, message: input ? err.message : err instanceof Error ? err.stack ?? err.message : String(err) });
        },
      );
  });
}
