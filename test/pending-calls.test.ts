// stats' pending requests (src/analysis/pending-calls.ts) against a plain model: frame-linked
// requests in a list sorted by frame (stable), the lowest frame's entry evicted at the bound;
// call keys in a Map in insertion order, the oldest evicted at their bound, and gone once older
// than the timeout at the latest time seen. `full` says whether a bound evicted anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PendingCalls } from '../src/analysis/pending-calls.js';

type Op =
  | { readonly op: 'frame'; readonly protocol: string; readonly step: number }
  | { readonly op: 'call'; readonly protocol: string; readonly key: number }
  | { readonly op: 'answerFrame'; readonly protocol: string; readonly back: number }
  | { readonly op: 'answerCall'; readonly protocol: string; readonly key: number }
  | { readonly op: 'time'; readonly dt: number }
  | { readonly op: 'clear' };

const protocol = fc.constantFrom('smb', 'msnp', 'dcerpc');
const op: fc.Arbitrary<Op> = fc.oneof(
  // Frames mostly go forward; a negative step is a frame out of order (put in its place).
  { arbitrary: fc.record({ op: fc.constant('frame' as const), protocol, step: fc.integer({ min: -3, max: 4 }) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('call' as const), protocol, key: fc.nat(20) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('answerFrame' as const), protocol, back: fc.integer({ min: -1, max: 30 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('answerCall' as const), protocol, key: fc.nat(20) }), weight: 3 },
  // Capture time mostly goes forward, sometimes back (clock steps, merged files).
  { arbitrary: fc.record({ op: fc.constant('time' as const), dt: fc.integer({ min: -3, max: 6 }) }), weight: 3 },
  { arbitrary: fc.constant({ op: 'clear' as const }), weight: 1 },
);

interface Entry {
  readonly value: number;
  readonly t: number;
}

class Model {
  /** Frame entries sorted by frame; equal frames in insertion order. */
  frames: { protocol: string; frame: number; entry: Entry }[] = [];
  calls = new Map<string, Entry>();
  now = -Infinity;
  full = false;

  constructor(private readonly maxFrames: number, private readonly maxCalls: number, private readonly timeout: number) {}

  setFrame(protocol: string, frame: number, entry: Entry): void {
    if (this.frames.length >= this.maxFrames) {
      this.full = true;
      this.frames.shift();
    }
    let at = this.frames.length;
    while (at > 0 && this.frames[at - 1]!.frame > frame) at--;
    this.frames.splice(at, 0, { protocol, frame, entry });
  }

  getFrame(protocol: string, frame: number): Entry | undefined {
    return this.frames.find((e) => e.protocol === protocol && e.frame === frame)?.entry;
  }

  setCall(key: string, entry: Entry): void {
    if (this.calls.size >= this.maxCalls) {
      this.full = true;
      this.calls.delete(this.calls.keys().next().value as string);
    }
    this.calls.set(key, entry);
  }

  expire(t: number): void {
    this.now = Math.max(this.now, t);
    for (const [key, e] of this.calls) {
      if (e.t >= this.now - this.timeout) break;
      this.calls.delete(key);
    }
  }
}

test('PendingCalls is the sorted frame list and the call Map with expiry (property)', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 15 }), fc.integer({ min: 0, max: 20 }), (ops, maxFrames, maxCalls, timeout) => {
      const fast = new PendingCalls(maxFrames, maxCalls, timeout);
      const model = new Model(maxFrames, maxCalls, timeout);
      let frame = 1;
      let value = 0;
      let t = 0;
      for (const o of ops) {
        switch (o.op) {
          case 'frame': {
            frame = Math.max(1, frame + o.step);
            // As stats adds a request: unless there already.
            assert.equal(fast.hasFrame(o.protocol, frame), model.getFrame(o.protocol, frame) !== undefined);
            if (model.getFrame(o.protocol, frame) === undefined) {
              value++;
              model.setFrame(o.protocol, frame, { value, t });
              fast.setFrame(o.protocol, frame, t, value);
            }
            break;
          }
          case 'call': {
            const key = `call:${o.protocol}:${o.key}`;
            assert.equal(fast.hasCall(key), model.calls.has(key));
            if (!model.calls.has(key)) {
              value++;
              model.setCall(key, { value, t });
              fast.setCall(key, t, value);
            }
            break;
          }
          case 'answerFrame': {
            const found = fast.getFrame(o.protocol, frame - o.back);
            const expected = model.getFrame(o.protocol, frame - o.back);
            assert.equal(found, expected?.value ?? -1);
            // The request's time comes with it.
            if (expected !== undefined) assert.equal(fast.foundTime, expected.t);
            break;
          }
          case 'answerCall': {
            const key = `call:${o.protocol}:${o.key}`;
            const found = fast.getCall(key);
            const expected = model.calls.get(key);
            assert.equal(found, expected?.value ?? -1);
            if (expected !== undefined) assert.equal(fast.foundTime, expected.t);
            model.calls.delete(key);
            fast.deleteCall(key);
            break;
          }
          case 'time':
            t += o.dt;
            model.expire(t);
            fast.expire(t);
            break;
          case 'clear':
            model.frames = [];
            model.calls.clear();
            model.now = -Infinity;
            fast.clear();
            frame = 1;
            break;
        }
        assert.equal(fast.size, model.frames.length + model.calls.size);
        assert.equal(fast.full, model.full);
      }
    }),
    { numRuns: 2000 },
  );
});

test('PendingCalls: many frame entries (the queue grows and moves), eviction at the bound reported', () => {
  const p = new PendingCalls(50_000, 1000, 60);
  for (let f = 1; f <= 100_000; f++) {
    p.setFrame(f % 3 === 0 ? 'msnp' : 'smb', f, f / 2, f);
    if (f % 7 === 0) p.setCall(`call:dcerpc:${f}`, f / 2, f);
  }
  assert.equal(p.full, true);
  assert.equal(p.size, 50_000 + 1000);
  assert.equal(p.getFrame('smb', 100_000), 100_000);
  assert.equal(p.getFrame('msnp', 99_999), 99_999);
  assert.equal(p.foundTime, 99_999 / 2);
  assert.equal(p.getFrame('smb', 99_999), -1);
  assert.equal(p.getCall('call:dcerpc:99995'), 99_995);
  assert.equal(p.getFrame('smb', 10), -1);
});

test('PendingCalls: an unanswered call goes after the timeout, without filling the table', () => {
  const p = new PendingCalls(1000, 1000, 60);
  // One call a second for an hour: never more than a minute's worth kept, and no bound hit.
  for (let s = 0; s < 3600; s++) {
    p.expire(s);
    p.setCall(`call:dcerpc:${s}`, s, s);
    assert.ok(p.size <= 61);
  }
  assert.equal(p.full, false);
  // Answered at 60 s: still there; at 61 s: gone.
  p.expire(3599 + 60);
  assert.equal(p.getCall('call:dcerpc:3599'), 3599);
  p.expire(3599 + 61);
  assert.equal(p.getCall('call:dcerpc:3599'), -1);
  // A request stamped before a clock step is judged by the latest time seen.
  p.setCall('call:dcerpc:late', 10, 7);
  p.expire(10);
  assert.equal(p.getCall('call:dcerpc:late'), -1);
});
