// stats' pending requests (src/analysis/pending-calls.ts) behave as the FifoMap of string keys
// they replace: `frame:P:N` and `call:P:K` entries in one insertion order, the oldest evicted first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PendingCalls } from '../src/analysis/pending-calls.js';
import { FifoMap } from '../src/util/fifo-map.js';

type Op =
  | { readonly op: 'frame'; readonly protocol: string; readonly step: number }
  | { readonly op: 'call'; readonly protocol: string; readonly key: number }
  | { readonly op: 'answerFrame'; readonly protocol: string; readonly back: number }
  | { readonly op: 'answerCall'; readonly protocol: string; readonly key: number }
  | { readonly op: 'oldest' }
  | { readonly op: 'clear' };

const protocol = fc.constantFrom('smb', 'msnp', 'dcerpc');
const op: fc.Arbitrary<Op> = fc.oneof(
  // Frames mostly go forward; a negative step is a frame out of order (the spill path).
  { arbitrary: fc.record({ op: fc.constant('frame' as const), protocol, step: fc.integer({ min: -3, max: 4 }) }), weight: 5 },
  { arbitrary: fc.record({ op: fc.constant('call' as const), protocol, key: fc.nat(20) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('answerFrame' as const), protocol, back: fc.integer({ min: -1, max: 30 }) }), weight: 4 },
  { arbitrary: fc.record({ op: fc.constant('answerCall' as const), protocol, key: fc.nat(20) }), weight: 3 },
  { arbitrary: fc.constant({ op: 'oldest' as const }), weight: 2 },
  { arbitrary: fc.constant({ op: 'clear' as const }), weight: 1 },
);

test('PendingCalls is the FifoMap of frame: and call: keys (property)', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 40 }), (ops, bound) => {
      const fast = new PendingCalls<number>();
      const model = new FifoMap<string, number>();
      let frame = 1;
      let value = 0;
      for (const o of ops) {
        switch (o.op) {
          case 'frame': {
            frame = Math.max(1, frame + o.step);
            // As stats adds a request: evict at the bound first, then add unless there.
            if (model.size >= bound) {
              model.deleteOldest();
              fast.deleteOldest();
            }
            const key = `frame:${o.protocol}:${frame}`;
            assert.equal(fast.hasFrame(o.protocol, frame), model.has(key));
            if (!model.has(key)) {
              model.set(key, ++value);
              fast.setFrame(o.protocol, frame, value / 8, value);
            }
            break;
          }
          case 'call': {
            if (model.size >= bound) {
              model.deleteOldest();
              fast.deleteOldest();
            }
            const key = `call:${o.protocol}:${o.key}`;
            assert.equal(fast.hasCall(key), model.has(key));
            if (!model.has(key)) {
              model.set(key, ++value);
              fast.setCall(key, value / 8, value);
            }
            break;
          }
          case 'answerFrame': {
            const found = fast.getFrame(o.protocol, frame - o.back);
            assert.equal(found, model.get(`frame:${o.protocol}:${frame - o.back}`));
            // The request's time comes with it.
            if (found !== undefined) assert.equal(fast.foundTime, found / 8);
            break;
          }
          case 'answerCall': {
            const key = `call:${o.protocol}:${o.key}`;
            const found = fast.getCall(key);
            assert.equal(found, model.get(key));
            if (found !== undefined) assert.equal(fast.foundTime, found / 8);
            model.delete(key);
            fast.deleteCall(key);
            break;
          }
          case 'oldest':
            model.deleteOldest();
            fast.deleteOldest();
            break;
          case 'clear':
            model.clear();
            fast.clear();
            frame = 1;
            break;
        }
        assert.equal(fast.size, model.size);
      }
    }),
    { numRuns: 2000 },
  );
});

test('PendingCalls: many frame entries (the queue grows and moves) and eviction from the front', () => {
  const p = new PendingCalls<number>();
  for (let f = 1; f <= 100_000; f++) {
    if (p.size >= 50_000) p.deleteOldest();
    p.setFrame(f % 3 === 0 ? 'msnp' : 'smb', f, f / 2, f);
    if (f % 7 === 0) {
      if (p.size >= 50_000) p.deleteOldest();
      p.setCall(`call:dcerpc:${f}`, f / 2, -f);
    }
  }
  assert.equal(p.size, 50_000);
  assert.equal(p.getFrame('smb', 100_000), 100_000);
  assert.equal(p.getFrame('msnp', 99_999), 99_999);
  assert.equal(p.foundTime, 99_999 / 2);
  assert.equal(p.getFrame('smb', 99_999), undefined);
  assert.equal(p.getCall('call:dcerpc:99995'), -99_995);
  assert.equal(p.getFrame('smb', 10), undefined);
});
