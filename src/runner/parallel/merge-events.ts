// The merge of a capture split by flow for the commands whose analysis takes events (timeline,
// audit). Lanes do not reorder: each forwards its events as they complete, tagged with the frame
// during which they did, and logs when its oldest hold changes (EventLaneWork). This runs the one
// reorder window over them as the runner would over one engine's, then the event filter and the
// analysis. The window keeps its own limits.
import type { TimelineEvent } from '../../model/events.js';
import type { EventFilter } from '../../filter/index.js';
import type { Analysis, FileInfo } from '../analysis.js';
import { DEFAULT_REORDER, ReorderWindow } from '../reorder.js';
import type { EventPart } from './protocol.js';
import type { LaneMerge } from './split.js';

interface LaneEvents {
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
}

/** Queues a part's events, dropping the ones already pushed when they are most of the queue. */
function takeEvents(lane: LaneEvents, events: readonly TimelineEvent[], emitted: readonly number[]): void {
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
 * The window is replayed frame by frame, but only at the frames where something happens: at
 * frame F, the lanes' events completed during F are pushed (late ones released after them),
 * then everything below min(F + 1, every lane's oldest hold) is released and the capture time
 * of F ages the rest, as the runner does after each frame. Frames where nothing happens only
 * move those thresholds, and moving them once for a run of such frames releases the same
 * events in the same order.
 */
export class EventMerge implements LaneMerge<EventPart> {
  private readonly lanes: LaneEvents[];
  private readonly reorder: ReorderWindow;
  private errors = 0;
  /** Where capture time passed a new second: (frame, seconds) pairs, for the window's ageing; and the latest applied. */
  private timePoints: number[] = [];
  private timeHead = 0;
  private replayedSec = -Infinity;

  /** `filter`: the events the analysis sees (-Y); all when undefined. */
  constructor(lanes: number, analysis: Analysis, filter: EventFilter | undefined, file: FileInfo) {
    this.lanes = Array.from({ length: lanes }, () => ({ events: [], emitted: [], eventHead: 0, held: [], heldHead: 0, heldFrom: Infinity, through: 0, finish: undefined }));
    this.reorder = new ReorderWindow((event) => {
      if (filter !== undefined && !filter.match(event)) return;
      for (const item of event.findings) if (item.severity === 'error') this.errors++;
      analysis.event?.(event, file);
    }, DEFAULT_REORDER);
  }

  newSecond(number: number, tsSec: number): void {
    this.timePoints.push(number, tsSec);
  }

  part(index: number, part: EventPart, through: number): void {
    const lane = this.lanes[index]!;
    lane.through = through;
    takeEvents(lane, part.events, part.emitted);
    if (lane.heldHead > 0 && lane.heldHead * 2 >= lane.held.length) {
      lane.held = lane.held.slice(lane.heldHead);
      lane.heldHead = 0;
    }
    for (const value of part.held) lane.held.push(value);
    this.replay();
  }

  done(index: number, part: EventPart): void {
    this.lanes[index]!.finish = part.events;
    this.replay();
  }

  finish(through: number): number {
    this.replay();
    // After the last frame, as the runner settles after it (a lane's reports may have stopped short of it).
    if (through > 0) this.settle(Math.min(through + 1, this.oldestHold()), this.secondsThrough(through));
    // The end of the capture, as the runner ends it: the events the engine's finish completed, then everything held.
    for (const lane of this.lanes) for (const event of lane.finish ?? []) this.reorder.push(event);
    this.reorder.releaseLate();
    this.reorder.flush();
    return this.errors;
  }

  /** The latest capture second at or before frame `frame`. */
  private secondsThrough(frame: number): number {
    const points = this.timePoints;
    while (this.timeHead < points.length && points[this.timeHead]! <= frame) {
      this.replayedSec = points[this.timeHead + 1]!;
      this.timeHead += 2;
    }
    if (this.timeHead > 4096 && this.timeHead * 2 >= points.length) {
      this.timePoints = points.slice(this.timeHead);
      this.timeHead = 0;
    }
    return this.replayedSec;
  }

  /** What the runner does after a frame: releases below the watermark and ages the window, until neither frees more. */
  private settle(watermark: number, seconds: number): void {
    const reorder = this.reorder;
    for (let size = -1; size !== reorder.size;) {
      size = reorder.size;
      reorder.releaseBelow(watermark);
      if (seconds > -Infinity) reorder.advance(seconds);
    }
  }

  private oldestHold(): number {
    let oldest = Infinity;
    for (const lane of this.lanes) if (lane.heldFrom < oldest) oldest = lane.heldFrom;
    return oldest;
  }

  /** Replays the window up to the last frame every lane has reported on. */
  private replay(): void {
    const lanes = this.lanes;
    let reported = Infinity;
    for (const lane of lanes) if (lane.finish === undefined && lane.through < reported) reported = lane.through;
    for (;;) {
      let frame = Infinity;
      for (const lane of lanes) {
        if (lane.eventHead < lane.events.length && lane.emitted[lane.eventHead]! < frame) frame = lane.emitted[lane.eventHead]!;
        if (lane.heldHead < lane.held.length && lane.held[lane.heldHead]! < frame) frame = lane.held[lane.heldHead]!;
      }
      if (frame > reported || frame === Infinity) break;
      this.settle(Math.min(frame, this.oldestHold()), this.secondsThrough(frame - 1));
      for (const lane of lanes) {
        while (lane.eventHead < lane.events.length && lane.emitted[lane.eventHead] === frame) this.reorder.push(lane.events[lane.eventHead++]!);
      }
      this.reorder.releaseLate();
      for (const lane of lanes) {
        while (lane.heldHead < lane.held.length && lane.held[lane.heldHead] === frame) {
          lane.heldFrom = lane.held[lane.heldHead + 1]!;
          lane.heldHead += 2;
        }
      }
      this.settle(Math.min(frame + 1, this.oldestHold()), this.secondsThrough(frame));
    }
    if (reported < Infinity && reported > 0) this.settle(Math.min(reported + 1, this.oldestHold()), this.secondsThrough(reported));
  }
}
