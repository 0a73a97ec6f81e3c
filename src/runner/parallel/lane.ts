// The worker side of a capture split by flow: one lane's engine and runner over the frames the
// main thread sends it (batches of packed frames and ticks, in capture order). The lane does
// not reorder: it forwards each event as it completes, tagged with the frame during which it
// did, and logs when its oldest hold changes; the main thread runs the one reorder window over
// every lane's events with those (split.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { Frame } from '../../capture/frame.js';
import type { TcpStreamNumbers } from '../../engine/context.js';
import type { TimelineEvent } from '../../model/events.js';
import type { Timestamp } from '../analysis.js';
import type { Runner } from '../runner.js';
import type { FrameSource } from '../sources.js';
import { FRAME_HEADER, TICK, type BatchComments, type LaneOrder, type LaneReport, type LaneSetup } from './protocol.js';
import { LaneStreamNumbers } from './stream-numbers.js';

/** What a lane's runner is built with. */
export interface LaneContext {
  /** Takes every event the lane's analysis is handed. */
  readonly forward: (event: TimelineEvent) => void;
  readonly warn: (message: string) => void;
  /** The capture-wide tcp.stream numbers. */
  readonly tcpStreams: TcpStreamNumbers;
  /** How many lanes share the capture (the byte budgets are shared out among them). */
  readonly lanes: number;
}

/**
 * Builds the lane's runner: no reordering and no event filter (the main thread's window and
 * filter take the events), its analysis handing every event to `lane.forward`.
 */
export type LaneRunnerFactory<J> = (job: J, lane: LaneContext) => Promise<Runner>;

/** What a batch holds: frames (their bytes are views into the batch, valid during the call) and ticks. */
interface BatchVisitor {
  frame(frame: Frame): void;
  tick(number: number, tsSec: number): void;
}

/** Hands every record of a batch to `visit`, in order. */
function unpackFrames(data: ArrayBuffer, count: number, comments: BatchComments | undefined, visit: BatchVisitor): void {
  const view = new DataView(data);
  const bytes = new Uint8Array(data);
  const notes = comments === undefined ? undefined : new Map(comments);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const number = view.getFloat64(at, true);
    const tsSec = view.getFloat64(at + 8, true);
    const caplen = view.getUint32(at + 20, true);
    if (caplen === TICK) {
      visit.tick(number, tsSec);
      at += FRAME_HEADER;
    } else {
      const frame: Frame = {
        number,
        tsSec,
        tsNsec: view.getUint32(at + 16, true),
        caplen,
        len: view.getUint32(at + 24, true),
        linkType: view.getUint32(at + 28, true),
        interfaceId: view.getUint32(at + 32, true),
        data: bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + caplen),
        comments: notes?.get(i),
      };
      visit.frame(frame);
      at += FRAME_HEADER + caplen;
    }
  }
}

export async function serveLane<J>(makeRunner: LaneRunnerFactory<J>): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveLane runs in a worker thread');
  const setup = workerData as LaneSetup<J>;
  /** The frame (or tick) being read: what the events completed now are tagged with; Infinity at the end. */
  let current = 0;
  let events: TimelineEvent[] = [];
  let emitted: number[] = [];
  let held: number[] = [];
  let lastHeld = Infinity;
  const send = (report: LaneReport<TimelineEvent>): void => port.postMessage(report);
  const warn = (message: string): void => send({ kind: 'warning', message });
  const streams = new LaneStreamNumbers(setup.streams, setup.lane, warn);
  const forward = (event: TimelineEvent): void => {
    events.push(event);
    emitted.push(current);
  };
  const runner = await makeRunner(setup.job, { forward, warn, tcpStreams: streams, lanes: setup.streams.length });
  /** After each record: when the lane's oldest hold moved, the log says so (frame, new value). */
  const logHeld = (): void => {
    const now = runner.heldFrom;
    if (now === lastHeld) return;
    lastHeld = now;
    held.push(current, now);
  };
  const report = (through: number, bytes: number): void => {
    send({ kind: 'events', events, emitted, held, through, bytes });
    events = [];
    emitted = [];
    held = [];
  };
  let start: Timestamp | undefined;
  const source: FrameSource = {
    path: `lane ${setup.lane}`,
    label: `lane ${setup.lane}`,
    size: undefined,
    progress: false,
    get start() {
      return start;
    },
    read: (sink) => new Promise<void>((resolve, reject) => {
      const onOrder = (order: LaneOrder): void => {
        if (order.kind === 'end') {
          port.off('message', onOrder);
          streams.done();
          current = Infinity;
          resolve();
          return;
        }
        start ??= order.start;
        try {
          unpackFrames(order.data, order.count, order.comments, {
            frame: (frame) => {
              current = frame.number;
              sink.frame(frame);
              logHeld();
            },
            tick: (number, tsSec) => {
              current = number;
              sink.tick?.(number, tsSec);
              logHeld();
            },
          });
        } catch (err) {
          port.off('message', onOrder);
          reject(err);
          return;
        }
        streams.progress(order.through);
        report(order.through, order.data.byteLength);
      };
      port.on('message', onOrder);
    }),
  };
  try {
    await runner.runPart(source, 0, false);
    send({ kind: 'done', events, emitted });
  } catch (err) {
    send({ kind: 'failed', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
}
