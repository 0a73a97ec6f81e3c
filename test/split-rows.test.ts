// read split by flow: the main thread writes the lanes' summary rows in frame order (RowMerge),
// whatever the order in which the lanes' reports arrive. Property-tested against the frames
// themselves: every selected frame once, in increasing order, none before every lane has
// reported past it (no lane could still send a smaller one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RowMerge } from '../src/runner/parallel/merge-rows.js';
import { ROW_NUMBERS, type RowPart } from '../src/runner/parallel/protocol.js';

function part(frames: readonly number[], errors = 0): RowPart {
  const numbers = new Float64Array(frames.length * ROW_NUMBERS);
  frames.forEach((frame, i) => {
    numbers[i * ROW_NUMBERS] = frame;
  });
  return { rows: frames.length, numbers, texts: frames.flatMap((f) => [`s${f}`, `d${f}`, 'P', `i${f}`]), textsPerRow: 4, errors };
}

interface Report {
  readonly lane: number;
  readonly frames: number[];
  /** undefined: the lane's end. */
  readonly through: number | undefined;
}

const capture = fc.record({
  lanes: fc.integer({ min: 1, max: 4 }),
  frames: fc.array(fc.record({ lane: fc.nat(3), selected: fc.boolean(), cut: fc.boolean(), full: fc.boolean() }), { maxLength: 120 }),
  order: fc.array(fc.nat(3), { maxLength: 400 }),
});

test('RowMerge writes every selected frame once, in frame order, only once no lane can precede it', () => {
  fc.assert(fc.property(capture, ({ lanes, frames, order }) => {
    // Each lane's reports in order: its frames cut into parts where the main thread sent a batch.
    const queues: Report[][] = Array.from({ length: lanes }, () => []);
    const pending: number[][] = Array.from({ length: lanes }, () => []);
    frames.forEach((f, i) => {
      const number = i + 1;
      const lane = f.lane % lanes;
      if (f.selected) pending[lane]!.push(number);
      if (f.cut) {
        // A batch goes to every lane (ready() sends one to each), through this frame.
        for (let l = 0; l < lanes; l++) {
          queues[l]!.push({ lane: l, frames: pending[l]!, through: number });
          pending[l] = [];
        }
      } else if (f.full) {
        // The frame's lane's batch is full: it alone gets one.
        queues[lane]!.push({ lane, frames: pending[lane]!, through: number });
        pending[lane] = [];
      }
    });
    for (let l = 0; l < lanes; l++) queues[l]!.push({ lane: l, frames: pending[l]!, through: undefined });
    // Each part (not a lane's end) carries one error finding: the merge sums them.
    const parts = queues.flat().filter((r) => r.through !== undefined).length;
    const written: number[] = [];
    /** How far each lane has reported: a row may be written only when every lane is past it or has it waiting. */
    const reported = new Array<number>(lanes).fill(0);
    const done = new Array<boolean>(lanes).fill(false);
    const received = new Set<number>();
    const merge = new RowMerge<RowPart>(lanes, (p, row) => {
      const frame = p.numbers[row * ROW_NUMBERS]!;
      assert.equal(p.texts[row * p.textsPerRow + 3], `i${frame}`);
      assert.ok(received.has(frame));
      for (let l = 0; l < lanes; l++) {
        if (done[l] || reported[l]! >= frame) continue;
        // A lane not yet past the frame must have a row of its own waiting below it: impossible, its rows come in order.
        assert.fail(`frame ${frame} written before lane ${l} reported past ${reported[l]}`);
      }
      written.push(frame);
    });
    const deliver = (report: Report): void => {
      for (const frame of report.frames) received.add(frame);
      if (report.through === undefined) {
        done[report.lane] = true;
        merge.done(report.lane, part(report.frames));
      } else {
        reported[report.lane] = report.through;
        merge.part(report.lane, part(report.frames, 1), report.through);
      }
    };
    // The reports arrive interleaved as `order` picks lanes, then whatever is left.
    for (const pick of order) {
      const queue = queues[pick % lanes]!;
      if (queue.length > 0) deliver(queue.shift()!);
    }
    for (const queue of queues) while (queue.length > 0) deliver(queue.shift()!);
    const errors = merge.finish();
    const selected = frames.flatMap((f, i) => (f.selected ? [i + 1] : []));
    assert.deepEqual(written, selected);
    assert.equal(errors, parts);
  }), { numRuns: 500 });
});
