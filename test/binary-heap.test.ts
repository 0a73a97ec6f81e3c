// The binary heap shared by the capture-time timers and the reorder window (fast-check against a sorted model).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BinaryHeap } from '../src/util/binary-heap.js';

interface Item {
  readonly key: number;
  readonly seq: number;
}

const before = (a: Item, b: Item): boolean => a.key < b.key || (a.key === b.key && a.seq < b.seq);

test('pops in the order of `before`, whatever the pushes, pops and retains in between', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.constant(-1), fc.constant(-2)), { maxLength: 300 }), (ops) => {
      const heap = new BinaryHeap<Item>(before);
      let model: Item[] = [];
      let seq = 0;
      for (const op of ops) {
        if (op >= 0) {
          const item = { key: op, seq: seq++ };
          heap.push(item);
          model.push(item);
        } else if (op === -1) {
          model.sort((a, b) => (before(a, b) ? -1 : 1));
          assert.equal(heap.pop(), model.shift());
        } else {
          heap.retain((x) => x.key % 2 === 0);
          model = model.filter((x) => x.key % 2 === 0);
        }
        assert.equal(heap.size, model.length);
      }
      model.sort((a, b) => (before(a, b) ? -1 : 1));
      for (const expected of model) assert.equal(heap.pop(), expected);
      assert.equal(heap.pop(), undefined);
    }),
    { seed: 42, numRuns: 200 },
  );
});
