// The worker side of a capture split by flow: one lane's engine and runner over the frames the
// main thread sends it (batches of packed frames and ticks, in capture order), and what its
// work collects from them, sent back after each batch. For an event analysis the lane does not
// reorder: it forwards each event as it completes, tagged with the frame during which it did,
// and logs when its oldest hold changes; the main thread runs the one reorder window over every
// lane's events with those (split.ts). For `read`, it sends a row for each of its frames (the
// summary columns, or the frame's whole text with -V, JSON and fields), which the main thread
// writes in frame order.
import { parentPort, workerData } from 'node:worker_threads';
import type { LaneStreams } from '../../engine/context.js';
import type { TimelineEvent } from '../../model/events.js';
import type { Timestamp } from '../analysis.js';
import type { Runner } from '../runner.js';
import type { FrameSource } from '../sources.js';
import { unpackFrames } from './batch.js';
import type { EventPart, LaneOrder, LaneReport, LaneSetup } from './protocol.js';
import { LaneProgress, LaneStreamNumbers, StreamMarks, TCP_NUMBERS, UDP_NUMBERS } from './stream-numbers.js';

/** What a lane's work is built with. */
export interface LaneContext {
  /** The lane's place among the lanes. */
  readonly lane: number;
  readonly warn: (message: string) => void;
  /** The capture-wide tcp.stream and udp.stream numbers. */
  readonly streams: LaneStreams;
  /** Where a frame's text leaves the numbers the lane does not know yet (see StreamMarks). */
  readonly marks: StreamMarks;
  /** The lane's share of the engine's bounds: its expected share of the capture's work. */
  readonly share: number;
}

/**
 * A lane's runner (no reordering: the main thread merges) and what it collects for the main
 * thread from the frames it reads: events with their frames (EventLaneWork), or rows of frames (read).
 */
export interface LaneWork<P> {
  readonly runner: Runner;
  /** Record `number` (a frame or a tick) is about to be read; Infinity: the end of the capture. */
  before?(number: number): void;
  /** The record has been read. */
  after?(): void;
  /** What was collected since the last take: after each batch, and once at the end of the capture. */
  take(): P;
  /** Buffers of a part taken that go to the main thread without a copy (the lane keeps no view of them). */
  transfer?(part: P): ArrayBuffer[];
}

export type LaneWorkFactory<J, P> = (job: J, lane: LaneContext) => Promise<LaneWork<P>>;

/**
 * The lane's part for an event analysis: every event it is handed, tagged with the frame (or
 * tick) during which it completed, and the log of the lane's oldest hold.
 */
export class EventLaneWork implements LaneWork<EventPart> {
  private current = 0;
  private events: TimelineEvent[] = [];
  private emitted: number[] = [];
  private held: number[] = [];
  private lastHeld = Infinity;
  readonly runner: Runner;

  /** `makeRunner`: the lane's runner, its analysis handing every event to `forward`. */
  constructor(makeRunner: (forward: (event: TimelineEvent) => void) => Runner) {
    this.runner = makeRunner((event) => {
      this.events.push(event);
      this.emitted.push(this.current);
    });
  }

  before(number: number): void {
    this.current = number;
  }

  /** When the lane's oldest hold moved, the log says so (frame, new value). */
  after(): void {
    const now = this.runner.heldFrom;
    if (now === this.lastHeld) return;
    this.lastHeld = now;
    this.held.push(this.current, now);
  }

  take(): EventPart {
    const part = { events: this.events, emitted: this.emitted, held: this.held };
    this.events = [];
    this.emitted = [];
    this.held = [];
    return part;
  }
}

export async function serveLane<J, P>(makeWork: LaneWorkFactory<J, P>): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveLane runs in a worker thread');
  const setup = workerData as LaneSetup<J>;
  const send = (report: LaneReport<P>, transfer: ArrayBuffer[] = []): void => port.postMessage(report, transfer);
  const warn = (message: string): void => send({ kind: 'warning', message });
  const lanes = new LaneProgress(setup.streams.progress, setup.lane);
  const marks = new StreamMarks();
  const tcp = new LaneStreamNumbers(setup.streams.tcp, lanes, TCP_NUMBERS, marks, warn);
  const udp = new LaneStreamNumbers(setup.streams.udp, lanes, UDP_NUMBERS, marks, warn);
  const work = await makeWork(setup.job, { lane: setup.lane, warn, streams: { tcp, udp }, marks, share: setup.share });
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
          lanes.done();
          work.before?.(Infinity);
          resolve();
          return;
        }
        start ??= order.start;
        try {
          unpackFrames(order.data, order.count, order.comments, {
            frame: (frame) => {
              work.before?.(frame.number);
              sink.frame(frame);
              work.after?.();
            },
            tick: (number, tsSec) => {
              work.before?.(number);
              sink.tick?.(number, tsSec);
              work.after?.();
            },
          });
        } catch (err) {
          port.off('message', onOrder);
          reject(err);
          return;
        }
        lanes.progress(order.through);
        const part = work.take();
        send({ kind: 'part', part, through: order.through, bytes: order.data.byteLength }, work.transfer?.(part));
      };
      port.on('message', onOrder);
    }),
  };
  try {
    await work.runner.runPart(source, 0, false);
    const part = work.take();
    send({ kind: 'done', part }, work.transfer?.(part));
  } catch (err) {
    send({ kind: 'failed', message: err instanceof Error ? err.stack ?? err.message : String(err) });
  }
}
