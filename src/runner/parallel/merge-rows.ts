// The merge of a capture split by flow for `read`: each lane sends the rows of its
// frames in frame order; they are written in the capture's frame order. A row is written once
// no lane can still send a smaller one: every lane has either a row waiting or reported past it.
import { ROW_NUMBERS, type FrameRows } from './protocol.js';
import type { LaneMerge } from './split.js';

interface LaneRows<P> {
  /** Parts received with rows not yet written (from `head`, row `row` of the first). */
  parts: P[];
  head: number;
  row: number;
  /** The last frame the lane has reported on. */
  through: number;
  done: boolean;
}

export class RowMerge<P extends FrameRows> implements LaneMerge<P> {
  private readonly lanes: LaneRows<P>[];
  private errors = 0;

  /** `write`: writes row `row` of `part` (in frame order). */
  constructor(lanes: number, private readonly write: (part: P, row: number) => void) {
    this.lanes = Array.from({ length: lanes }, () => ({ parts: [], head: 0, row: 0, through: 0, done: false }));
  }

  part(index: number, part: P, through: number): void {
    const lane = this.lanes[index]!;
    lane.through = through;
    this.take(lane, part);
    this.drain();
  }

  done(index: number, part: P): void {
    const lane = this.lanes[index]!;
    lane.done = true;
    this.take(lane, part);
    this.drain();
  }

  finish(): number {
    this.drain();
    return this.errors;
  }

  private take(lane: LaneRows<P>, part: P): void {
    this.errors += part.errors;
    if (part.rows === 0) return;
    if (lane.head > 0 && lane.head * 2 >= lane.parts.length) {
      lane.parts = lane.parts.slice(lane.head);
      lane.head = 0;
    }
    lane.parts.push(part);
  }

  /** Writes every row no lane can still precede. */
  private drain(): void {
    const lanes = this.lanes;
    for (;;) {
      // The smallest waiting row, and how far every lane without one has reported.
      let next: LaneRows<P> | undefined;
      let nextFrame = Infinity;
      let reported = Infinity;
      for (const lane of lanes) {
        if (lane.head < lane.parts.length) {
          const frame = lane.parts[lane.head]!.numbers[lane.row * ROW_NUMBERS]!;
          if (frame < nextFrame) {
            nextFrame = frame;
            next = lane;
          }
        } else if (!lane.done && lane.through < reported) reported = lane.through;
      }
      if (next === undefined || nextFrame > reported) return;
      // Every row of `next` below the next lane's smallest is written in one go.
      let bound = reported;
      for (const lane of lanes) {
        if (lane !== next && lane.head < lane.parts.length) bound = Math.min(bound, lane.parts[lane.head]!.numbers[lane.row * ROW_NUMBERS]!);
      }
      const part = next.parts[next.head]!;
      let row = next.row;
      while (row < part.rows && part.numbers[row * ROW_NUMBERS]! <= bound) this.write(part, row++);
      if (row < part.rows) next.row = row;
      else {
        next.head++;
        next.row = 0;
      }
    }
  }
}
