// Capture-wide tcp.stream numbers in a capture split by flow (src/runner/parallel/stream-numbers.ts):
// a lane's conversation gets the number one engine reading every frame would give it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LaneStreamNumbers, streamLog } from '../src/runner/parallel/stream-numbers.js';

/** Frames 1..n, each maybe starting a conversation in some lane: [lane, starts]. */
const capture = fc.array(fc.tuple(fc.nat(3), fc.boolean()), { minLength: 1, maxLength: 300 });

test('stream numbers: a conversation\'s number is its rank among every lane\'s conversations, by first frame', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), capture, (lanes, frames) => {
    const logs = Array.from({ length: lanes }, () => streamLog(1024));
    const numbers = logs.map((_, lane) => new LaneStreamNumbers(logs, lane, () => assert.fail('no warning expected')));
    const local = new Array<number>(lanes).fill(0);
    const expected: { lane: number; index: number; number: number; frame: number }[] = [];
    frames.forEach(([which, starts], i) => {
      const lane = which % lanes;
      const frame = i + 1;
      if (!starts) return;
      numbers[lane]!.created(local[lane]!, frame);
      expected.push({ lane, index: local[lane]!, number: expected.length, frame });
      local[lane]!++;
    });
    for (const n of numbers) n.done();
    for (const e of expected) assert.equal(numbers[e.lane]!.number(e.index, frames.length + 1), e.number, `lane ${e.lane} index ${e.index} (frame ${e.frame})`);
  }));
});

test('stream numbers: asked while other lanes are behind, a lane waits for them to pass the frame (here: they have, up to it)', () => {
  const logs = [streamLog(64), streamLog(64)];
  const a = new LaneStreamNumbers(logs, 0, () => undefined);
  const b = new LaneStreamNumbers(logs, 1, () => undefined);
  b.created(0, 1);
  a.created(0, 2);
  b.created(1, 3);
  // Lane 1 has read up to frame 1 only: enough for a conversation first seen in frame 2.
  b.progress(1);
  assert.equal(a.number(0, 5), 1);
  // Progress never goes back: a later, smaller report leaves `done` in place.
  b.done();
  b.progress(2);
  assert.equal(a.number(0, 5), 1);
});

test('stream numbers: past the log\'s capacity the number is approximate (at most the entries dropped too high), with one warning', () => {
  const logs = [streamLog(4), streamLog(4)];
  const warnings: string[] = [];
  const a = new LaneStreamNumbers(logs, 0, (m) => warnings.push(m));
  const b = new LaneStreamNumbers(logs, 1, () => undefined);
  a.created(0, 1);
  for (let i = 0; i < 10; i++) b.created(i, 2 + i);
  a.created(1, 20);
  a.done();
  b.done();
  // Lane 1's ring holds its last 4 entries (frames 8..11), all below 20: exact.
  assert.equal(a.number(1, 21), 11);
  assert.equal(warnings.length, 0);
  // Frame 1's count in lane 1 (0) is no longer in its ring: an upper bound (6 dropped entries, any of them below frame 1), and a warning.
  assert.equal(a.number(0, 21), 6);
  assert.equal(a.number(0, 21), 6);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /approximate/);
});
