// One capture split by flow across worker threads (`--jobs N` with one capture, for the
// commands whose analysis takes events: timeline, audit). Suricata's "autofp" run mode: the
// main thread reads the capture and sends each frame to the lane its flow belongs to
// (lanes.ts); each lane's worker runs an engine and a runner over its frames (lane.ts). The
// other lanes get a tick when capture time passes a new second or a sweep is due, so timers
// fire, holds age and idle state is swept at the frames where one engine would do it.
//
// Lanes do not reorder: each forwards its events as they complete, tagged with the frame during
// which they did, and logs when its oldest hold changes. The main thread runs the one reorder
// window over them as the runner would over one engine's (see runCaptureSplit), then the event
// filter and the analysis. So the output is what reading the capture with one engine gives,
// frame numbers, relative times, flow ids and tcp.stream numbers (stream-numbers.ts) included.
//
// Bounds: the main thread reads ahead at most MAX_AHEAD bytes of frames per lane not yet
// dissected; the window keeps its own limits; events wait in the main thread only until every
// lane has reported on their frame, which the read-ahead bound keeps short.
import { Worker } from 'node:worker_threads';
import type { Frame } from '../../capture/frame.js';
import type { TimelineEvent } from '../../model/events.js';
import { Progress } from '../../output/progress.js';
import type { Analysis, FileInfo, Timestamp } from '../analysis.js';
import { SWEEP_EVERY } from '../../engine/engine.js';
import type { EventFilter } from '../../filter/index.js';
import { DEFAULT_REORDER, ReorderWindow } from '../reorder.js';
import type { FrameSource } from '../sources.js';
import { LaneChooser } from './lanes.js';
import { streamLog } from './stream-numbers.js';
import { FRAME_HEADER, TICK, type BatchComments, type LaneOrder, type LaneReport, type LaneSetup } from './protocol.js';

/** Bytes a batch of frames holds before it is sent (MSGSCOPE_SPLIT_BATCH sets it lower, for tests of the merge). */
const BATCH_BYTES = batchBytes(process.env['MSGSCOPE_SPLIT_BATCH']);
/** Bytes of frames sent to the lanes and not yet dissected, per lane, before the reader waits. */
const MAX_AHEAD = 2 * 1024 * 1024;

function batchBytes(text: string | undefined): number {
  const n = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : 256 * 1024;
}

export interface SplitCapture<J> {
  /** The worker's entry module (it calls serveLane with the command's runner factory). */
  readonly entry: URL;
  readonly job: J;
  readonly lanes: number;
  readonly source: FrameSource;
  /** The command's analysis (started by the caller, finished by the caller). */
  readonly analysis: Analysis;
  readonly warn: (message: string) => void;
  /** Show a progress bar (the caller checked the terminal and --quiet). */
  readonly progress: boolean;
  /** The events the analysis sees (-Y); all when undefined. */
  readonly filter: EventFilter | undefined;
}

/** Frames packed for one lane, until sent. */
class Batch {
  private buf = new Uint8Array(BATCH_BYTES);
  private view = new DataView(this.buf.buffer);
  private used = 0;
  count = 0;
  private comments: [number, readonly string[]][] | undefined;

  get bytes(): number {
    return this.used;
  }

  add(frame: Frame): void {
    const length = frame.data.byteLength;
    const at = this.header(frame.number, frame.tsSec, frame.tsNsec, length, frame.len, frame.linkType, frame.interfaceId, length);
    this.buf.set(frame.data, at + FRAME_HEADER);
    if (frame.comments !== undefined && frame.comments.length > 0) (this.comments ??= []).push([this.count - 1, frame.comments]);
  }

  /** A frame another lane dissects: its number and seconds (Engine.tick). */
  tick(number: number, tsSec: number): void {
    this.header(number, tsSec, 0, TICK, 0, 0, 0, 0);
  }

  /** Appends a record's header (FRAME_HEADER) with room for `bytes` after it; returns where it starts. */
  private header(number: number, tsSec: number, tsNsec: number, caplen: number, len: number, linkType: number, iface: number, bytes: number): number {
    const need = FRAME_HEADER + bytes;
    if (this.used + need > this.buf.byteLength) this.grow(need);
    const v = this.view;
    const at = this.used;
    v.setFloat64(at, number, true);
    v.setFloat64(at + 8, tsSec, true);
    v.setUint32(at + 16, tsNsec, true);
    v.setUint32(at + 20, caplen, true);
    v.setUint32(at + 24, len, true);
    v.setUint32(at + 28, linkType, true);
    v.setUint32(at + 32, iface, true);
    this.used += need;
    this.count++;
    return at;
  }

  /** The packed frames (transferred to the lane), and a fresh buffer for the next ones. */
  take(): { readonly data: ArrayBuffer; readonly count: number; readonly comments: BatchComments | undefined } {
    const data = this.buf.buffer.slice(0, this.used);
    const taken = { data, count: this.count, comments: this.comments };
    this.used = 0;
    this.count = 0;
    this.comments = undefined;
    return taken;
  }

  private grow(need: number): void {
    const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.used + need));
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

interface Lane {
  readonly worker: Worker;
  readonly batch: Batch;
  /** Events received and not yet pushed into the window (from `eventHead`), and the frame each completed in. */
  events: TimelineEvent[];
  emitted: number[];
  eventHead: number;
  /** (frame, oldest hold) pairs received and not yet applied (from `heldHead`). */
  held: number[];
  heldHead: number;
  /** The oldest frame the lane's state holds, as of the frames applied so far. */
  heldFrom: number;
  /** The last frame the lane has reported on: every event and hold change up to it is here. */
  through: number;
  /** Events of the end of the capture, once the lane is done. */
  finish: TimelineEvent[] | undefined;
  /** Bytes of frames sent and not yet dissected. */
  ahead: number;
}

/** Queues a report's events, dropping the ones already pushed when they are most of the queue. */
function takeEvents(lane: Lane, events: readonly TimelineEvent[], emitted: readonly number[]): void {
  if (lane.eventHead > 0 && lane.eventHead * 2 >= lane.events.length) {
    lane.events = lane.events.slice(lane.eventHead);
    lane.emitted = lane.emitted.slice(lane.eventHead);
    lane.eventHead = 0;
  }
  for (let i = 0; i < events.length; i++) {
    lane.events.push(events[i]!);
    lane.emitted.push(emitted[i]!);
  }
}

/**
 * Reads one capture split across `lanes` workers and hands the events, through one reorder
 * window fed as one engine would feed it, to the analysis; returns the error findings.
 *
 * The window is replayed frame by frame, but only at the frames where something happens: at
 * frame F, the lanes' events completed during F are pushed (late ones released after them),
 * then everything below min(F + 1, every lane's oldest hold) is released and the capture time
 * of F ages the rest, as the runner does after each frame. Frames where nothing happens only
 * move those thresholds, and moving them once for a run of such frames releases the same
 * events in the same order.
 */
export function runCaptureSplit<J>(run: SplitCapture<J>): Promise<number> {
  const chooser = new LaneChooser(run.lanes);
  const lanes: Lane[] = [];
  const file: { -readonly [K in keyof FileInfo]: FileInfo[K] } = { path: run.source.path, label: run.source.label, index: 0, multi: false, size: run.source.size, start: undefined };
  let start: Timestamp | undefined;
  let through = 0;
  let errors = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let finished: (() => void) | undefined;
  /** Where capture time passed a new second: (frame, seconds) pairs, for the window's ageing; and the latest applied. */
  let timePoints: number[] = [];
  let timeHead = 0;
  let maxSec = -Infinity;
  let replayedSec = -Infinity;

  const reorder = new ReorderWindow((event) => {
    if (run.filter !== undefined && !run.filter.match(event)) return;
    for (const item of event.findings) if (item.severity === 'error') errors++;
    run.analysis.event?.(event, file);
  }, DEFAULT_REORDER);

  /** The latest capture second at or before frame `frame`. */
  const secondsThrough = (frame: number): number => {
    while (timeHead < timePoints.length && timePoints[timeHead]! <= frame) {
      replayedSec = timePoints[timeHead + 1]!;
      timeHead += 2;
    }
    if (timeHead > 4096 && timeHead * 2 >= timePoints.length) {
      timePoints = timePoints.slice(timeHead);
      timeHead = 0;
    }
    return replayedSec;
  };

  /** What the runner does after a frame: releases below the watermark and ages the window, until neither frees more. */
  const settle = (watermark: number, seconds: number): void => {
    for (let size = -1; size !== reorder.size;) {
      size = reorder.size;
      reorder.releaseBelow(watermark);
      if (seconds > -Infinity) reorder.advance(seconds);
    }
  };

  const oldestHold = (): number => {
    let oldest = Infinity;
    for (const lane of lanes) if (lane.heldFrom < oldest) oldest = lane.heldFrom;
    return oldest;
  };

  /** Replays the window up to the last frame every lane has reported on. */
  const replay = (): void => {
    let reported = Infinity;
    for (const lane of lanes) if (lane.finish === undefined && lane.through < reported) reported = lane.through;
    for (;;) {
      let frame = Infinity;
      for (const lane of lanes) {
        if (lane.eventHead < lane.events.length && lane.emitted[lane.eventHead]! < frame) frame = lane.emitted[lane.eventHead]!;
        if (lane.heldHead < lane.held.length && lane.held[lane.heldHead]! < frame) frame = lane.held[lane.heldHead]!;
      }
      if (frame > reported || frame === Infinity) break;
      settle(Math.min(frame, oldestHold()), secondsThrough(frame - 1));
      for (const lane of lanes) {
        while (lane.eventHead < lane.events.length && lane.emitted[lane.eventHead] === frame) reorder.push(lane.events[lane.eventHead++]!);
      }
      reorder.releaseLate();
      for (const lane of lanes) {
        while (lane.heldHead < lane.held.length && lane.held[lane.heldHead] === frame) {
          lane.heldFrom = lane.held[lane.heldHead + 1]!;
          lane.heldHead += 2;
        }
      }
      settle(Math.min(frame + 1, oldestHold()), secondsThrough(frame));
    }
    if (reported < Infinity && reported > 0) settle(Math.min(reported + 1, oldestHold()), secondsThrough(reported));
  };

  const send = (lane: Lane): void => {
    const { data, count, comments } = lane.batch.take();
    lane.ahead += data.byteLength;
    const order: LaneOrder = { kind: 'frames', data, count, through, start: start!, comments };
    lane.worker.postMessage(order, [data]);
  };

  const onReport = (lane: Lane, report: LaneReport<TimelineEvent>): void => {
    switch (report.kind) {
      case 'events': {
        lane.ahead -= report.bytes;
        lane.through = report.through;
        takeEvents(lane, report.events, report.emitted);
        if (lane.heldHead > 0 && lane.heldHead * 2 >= lane.held.length) {
          lane.held = lane.held.slice(lane.heldHead);
          lane.heldHead = 0;
        }
        for (const value of report.held) lane.held.push(value);
        if (wake !== undefined && lanes.every((l) => l.ahead <= MAX_AHEAD / 2)) {
          const go = wake;
          wake = undefined;
          go();
        }
        break;
      }
      case 'warning':
        run.warn(report.message);
        return;
      case 'done':
        lane.finish = report.events;
        break;
      case 'failed':
        fail(new Error(`worker: ${report.message}`));
        return;
    }
    replay();
    if (finished !== undefined && lanes.every((l) => l.finish !== undefined)) finished();
  };

  const fail = (err: Error): void => {
    failure ??= err;
    wake?.();
    finished?.();
  };

  const streams = Array.from({ length: run.lanes }, () => streamLog());
  for (let i = 0; i < run.lanes; i++) {
    const setup: LaneSetup<J> = { job: run.job, lane: i, streams };
    const lane: Lane = {
      worker: new Worker(run.entry, { workerData: setup }), batch: new Batch(),
      events: [], emitted: [], eventHead: 0, held: [], heldHead: 0, heldFrom: Infinity, through: 0, finish: undefined, ahead: 0,
    };
    lane.worker.on('message', (report: LaneReport<TimelineEvent>) => onReport(lane, report));
    lane.worker.on('error', (err) => fail(err));
    lane.worker.on('exit', (code) => {
      if (lane.finish === undefined && code !== 0) fail(new Error(`worker stopped with exit status ${code}`));
    });
    lanes.push(lane);
  }

  const progress = run.progress && run.source.progress ? new Progress(run.source.label, run.source.size) : undefined;

  /** Frame `number` goes to `owner`: the other lanes get a tick when time passes a new second or a sweep is due. */
  const dispatch = (frame: Frame, owner: Lane): void => {
    const newSecond = frame.tsSec > maxSec;
    if (newSecond) {
      maxSec = frame.tsSec;
      timePoints.push(frame.number, maxSec);
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

  const read = async (): Promise<number> => {
    run.analysis.beginFile?.(file);
    await run.source.read(
      {
        frame: (frame) => {
          start ??= { tsSec: frame.tsSec, tsNsec: frame.tsNsec };
          file.start = start;
          through = frame.number;
          dispatch(frame, lanes[chooser.lane(frame.data, frame.linkType)]!);
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
    for (const lane of lanes) {
      if (start !== undefined && lane.batch.count > 0) send(lane);
      lane.worker.postMessage({ kind: 'end' } satisfies LaneOrder);
    }
    await new Promise<void>((resolve) => {
      finished = resolve;
      if (failure !== undefined || lanes.every((l) => l.finish !== undefined)) resolve();
    });
    if (failure !== undefined) throw failure;
    replay();
    // After the last frame, as the runner settles after it (a lane's reports may have stopped short of it).
    if (through > 0) settle(Math.min(through + 1, oldestHold()), secondsThrough(through));
    // The end of the capture, as the runner ends it: the events the engine's finish completed, then everything held.
    for (const lane of lanes) for (const event of lane.finish ?? []) reorder.push(event);
    reorder.releaseLate();
    reorder.flush();
    run.analysis.endFile?.(file);
    return errors;
  };

  return read().finally(() => {
    progress?.done();
    return Promise.all(lanes.map((lane) => lane.worker.terminate()));
  });
}
