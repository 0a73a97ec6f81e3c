// One capture split by flow across worker threads (`--jobs N` with one capture). Suricata's
// "autofp" run mode: the main thread reads the capture and sends each frame to the lane its
// flow belongs to (lanes.ts); each lane's worker runs an engine and a runner over its frames
// (lane.ts). The other lanes get a tick when capture time passes a new second or a sweep is
// due, so timers fire, holds age and idle state is swept at the frames where one engine would
// do it.
//
// What the lanes send back after each batch is merged on the main thread by the command's
// LaneMerge: the timeline's and the audit's events through the one reorder window
// (merge-events.ts), read's rows (summary columns or whole texts) in frame order
// (merge-rows.ts). So the output is what reading the capture with one engine gives, frame
// numbers, relative times, flow ids and tcp.stream and udp.stream numbers (stream-numbers.ts)
// included.
//
// Bounds: the main thread reads ahead at most MAX_AHEAD bytes of frames per lane not yet
// dissected; what the lanes sent waits in the main thread only until every lane has reported
// on its frames, which the read-ahead bound keeps short.
import { Worker } from 'node:worker_threads';
import type { Frame } from '../../capture/frame.js';
import { Progress } from '../../output/progress.js';
import type { Analysis, FileInfo, Timestamp } from '../analysis.js';
import { SWEEP_EVERY } from '../../engine/engine.js';
import type { FrameSource } from '../sources.js';
import { LaneChooser, SHARED } from './lanes.js';
import { laneProgress, streamLog } from './stream-numbers.js';
import { Batch, BATCH_BYTES } from './batch.js';
import { FRAME_HEADER, type LaneOrder, type LaneReport, type LaneSetup, type SplitStreams } from './protocol.js';

/** Bytes of frames sent to the lanes and not yet dissected, per lane, before the reader waits. */
const MAX_AHEAD = 2 * 1024 * 1024;
/**
 * The first frames, held back (packed, as a batch) until their share of shared-class frames
 * balances the lanes (LaneChooser.balance). The share moves over a capture: 15% of the first
 * 65,536 frames of the 1M spam bench capture are shared, 26% of the first 262,144, 29% of all.
 */
const SAMPLE_FRAMES = sampleFrames(process.env['MSGSCOPE_SPLIT_SAMPLE']);
const SAMPLE_BYTES = 32 * 1024 * 1024;

/** MSGSCOPE_SPLIT_SAMPLE sets the sample shorter, for tests of what follows it. */
function sampleFrames(text: string | undefined): number {
  const n = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : 262144;
}

export interface SplitCapture<J> {
  /** The worker's entry module (it calls serveLane with the command's lane work). */
  readonly entry: URL;
  readonly job: J;
  readonly lanes: number;
  readonly source: FrameSource;
  /** The command's analysis: told where the file begins and ends (started and finished by the caller). */
  readonly analysis: Analysis;
  readonly warn: (message: string) => void;
  /** Show a progress bar (the caller checked the terminal and --quiet). */
  readonly progress: boolean;
}

/**
 * How the lanes' parts become the command's output, on the main thread. Each lane's parts
 * arrive in order; `part` and `done` are never called after `finish`.
 */
export interface LaneMerge<P> {
  /** Lane `lane` has read every frame up to `through` that was sent to it; `part` is what it made of them. */
  part(lane: number, part: P, through: number): void;
  /** Lane `lane` has read its last frame; `part` is what the end of the capture made. */
  done(lane: number, part: P): void;
  /** Capture time passed a new second at frame `number` (the lanes learn it by that frame or a tick). */
  newSecond?(number: number, tsSec: number): void;
  /** Every lane is done; `through` is the last frame read (0 for none). Returns the error findings. */
  finish(through: number): number;
}

interface Lane {
  readonly worker: Worker;
  readonly batch: Batch;
  /** Bytes of frames sent and not yet dissected. */
  ahead: number;
  done: boolean;
}

/**
 * Reads one capture split across `lanes` workers; `makeMerge` makes, for the capture's file and
 * the lanes' shared memory, the merge of what they send back. Returns the error findings the
 * merge counted.
 */
export function runCaptureSplit<J, P>(run: SplitCapture<J>, makeMerge: (file: FileInfo, streams: SplitStreams) => LaneMerge<P>): Promise<number> {
  const chooser = new LaneChooser(run.lanes);
  const lanes: Lane[] = [];
  const file: { -readonly [K in keyof FileInfo]: FileInfo[K] } = { path: run.source.path, label: run.source.label, index: 0, multi: false, size: run.source.size, start: undefined };
  const each = <T>(make: () => T): T[] => Array.from({ length: run.lanes }, make);
  const streams: SplitStreams = { tcp: each(() => streamLog()), udp: each(() => streamLog()), progress: each(laneProgress) };
  const merge = makeMerge(file, streams);
  let start: Timestamp | undefined;
  let through = 0;
  let maxSec = -Infinity;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let finished: (() => void) | undefined;

  const send = (lane: Lane): void => {
    const { data, count, comments } = lane.batch.take();
    lane.ahead += data.byteLength;
    const order: LaneOrder = { kind: 'frames', data, count, through, start: start!, comments };
    lane.worker.postMessage(order, [data]);
  };

  const fail = (err: Error): void => {
    failure ??= err;
    wake?.();
    finished?.();
  };

  const onReport = (index: number, lane: Lane, report: LaneReport<P>): void => {
    if (failure !== undefined) return;
    switch (report.kind) {
      case 'part':
        lane.ahead -= report.bytes;
        merge.part(index, report.part, report.through);
        if (wake !== undefined && lanes.every((l) => l.ahead <= MAX_AHEAD / 2)) {
          const go = wake;
          wake = undefined;
          go();
        }
        return;
      case 'warning':
        run.warn(report.message);
        return;
      case 'done':
        lane.done = true;
        merge.done(index, report.part);
        if (finished !== undefined && lanes.every((l) => l.done)) finished();
        return;
      case 'failed':
        fail(new Error(`worker: ${report.message}`));
        return;
    }
  };

  /**
   * The workers start once the sample has set the balance: each lane's engine gets the share of
   * the bounds that matches its expected share of the work (lane 0, with the traffic whose state
   * crosses pairs, may carry more than 1/N).
   */
  const startLanes = (shares: readonly number[]): void => {
    for (let i = 0; i < run.lanes; i++) {
      const setup: LaneSetup<J> = { job: run.job, lane: i, streams, share: shares[i]! };
      const lane: Lane = { worker: new Worker(run.entry, { workerData: setup }), batch: new Batch(), ahead: 0, done: false };
      lane.worker.on('message', (report: LaneReport<P>) => {
        try {
          onReport(i, lane, report);
        } catch (err) {
          // A merge that throws (the output failed, say) ends the run with its error.
          fail(err instanceof Error ? err : new Error(String(err)));
        }
      });
      lane.worker.on('error', (err) => fail(err));
      lane.worker.on('exit', (code) => {
        if (!lane.done && code !== 0) fail(new Error(`worker stopped with exit status ${code}`));
      });
      lanes.push(lane);
    }
  };

  const progress = run.progress && run.source.progress ? new Progress(run.source.label, run.source.size) : undefined;

  /** Frame `number` goes to `owner`: the other lanes get a tick when time passes a new second or a sweep is due. */
  const dispatch = (frame: Frame, owner: Lane): void => {
    through = frame.number;
    const newSecond = frame.tsSec > maxSec;
    if (newSecond) {
      maxSec = frame.tsSec;
      merge.newSecond?.(frame.number, maxSec);
    }
    if (newSecond || frame.number % SWEEP_EVERY === 0) {
      for (const lane of lanes) {
        if (lane === owner) continue;
        lane.batch.tick(frame.number, frame.tsSec);
        if (lane.batch.bytes >= BATCH_BYTES) send(lane);
      }
    }
    owner.batch.add(frame);
    if (owner.batch.bytes >= BATCH_BYTES) send(owner);
  };

  // The first frames (copied) and their classes, until the sample is complete; then none.
  let sample: Batch | undefined = new Batch();
  const classes: number[] = [];
  let shared = 0;
  const endSample = (): void => {
    if (sample === undefined) return;
    const held = sample;
    sample = undefined;
    chooser.balance(classes.length === 0 ? 0 : shared / classes.length);
    startLanes(chooser.shares());
    let i = 0;
    held.visit({ frame: (frame) => dispatch(frame, lanes[chooser.laneOf(classes[i++]!)]!), tick: () => {} });
    classes.length = 0;
  };

  const read = async (): Promise<number> => {
    run.analysis.beginFile?.(file);
    await run.source.read(
      {
        frame: (frame) => {
          start ??= { tsSec: frame.tsSec, tsNsec: frame.tsNsec };
          file.start = start;
          const klass = chooser.classify(frame.data, frame.linkType);
          if (sample !== undefined && (classes.length >= SAMPLE_FRAMES || sample.bytes + FRAME_HEADER + frame.data.byteLength > SAMPLE_BYTES)) endSample();
          if (sample === undefined) {
            dispatch(frame, lanes[chooser.laneOf(klass)]!);
            return;
          }
          // The reader's bytes are valid during the call only: the batch copies them.
          sample.add(frame);
          classes.push(klass);
          if (klass === SHARED) shared++;
        },
        warning: (message) => {
          progress?.done();
          run.warn(`${run.source.label}: ${message}`);
        },
        ready: () => {
          if (failure !== undefined) throw failure;
          // Every lane learns how far the capture has been read, even one that got no frame.
          if (start !== undefined) for (const lane of lanes) send(lane);
          if (lanes.every((lane) => lane.ahead <= MAX_AHEAD)) return undefined;
          return new Promise<void>((resolve) => {
            wake = resolve;
          });
        },
      },
      progress !== undefined ? (bytes) => progress.update(bytes) : undefined,
    );
    progress?.done();
    if (failure !== undefined) throw failure;
    endSample();
    for (const lane of lanes) {
      if (start !== undefined && lane.batch.count > 0) send(lane);
      lane.worker.postMessage({ kind: 'end' } satisfies LaneOrder);
    }
    await new Promise<void>((resolve) => {
      finished = resolve;
      if (failure !== undefined || lanes.every((l) => l.done)) resolve();
    });
    if (failure !== undefined) throw failure;
    const errors = merge.finish(through);
    run.analysis.endFile?.(file);
    return errors;
  };

  return read().finally(() => {
    progress?.done();
    return Promise.all(lanes.map((lane) => lane.worker.terminate()));
  });
}
