// FifoMap: a Map whose oldest entry goes in constant time. It must behave exactly as the
// pattern it replaced (a Map and `delete(keys().next().value)`), which decides which calls and
// datagrams a bounce can still be matched with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FifoMap } from '../src/util/fifo-map.js';

type Op = { kind: 'set'; key: number; value: number } | { kind: 'delete'; key: number } | { kind: 'evict' } | { kind: 'bounded'; key: number; value: number };

const LIMIT = 8;

test('FifoMap: re-set keeps its place, delete and re-insert moves to the newest', () => {
  const m = new FifoMap<string, number>();
  m.set('a', 1).set('b', 2).set('c', 3);
  m.set('a', 10);
  assert.equal(m.oldestKey(), 'a');
  assert.equal(m.get('a'), 10);
  m.delete('a');
  m.set('a', 11);
  assert.equal(m.oldestKey(), 'b');
  m.deleteOldest();
  m.deleteOldest();
  assert.equal(m.oldestKey(), 'a');
  assert.equal(m.size, 1);
  m.deleteOldest();
  assert.equal(m.oldestKey(), undefined);
  assert.equal(m.size, 0);
});

test('FifoMap: the same as a Map evicting its first key, over random operations (and its queue stays bounded)', () => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 20 }), value: fc.integer() }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 20 }) }),
    fc.record({ kind: fc.constant('evict' as const) }),
    fc.record({ kind: fc.constant('bounded' as const), key: fc.integer({ min: 0, max: 40 }), value: fc.integer() }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
    const model = new Map<number, number>();
    const fifo = new FifoMap<number, number>();
    for (const o of ops) {
      switch (o.kind) {
        case 'set':
          model.set(o.key, o.value);
          fifo.set(o.key, o.value);
          break;
        case 'delete':
          assert.equal(fifo.delete(o.key), model.delete(o.key));
          break;
        case 'evict': {
          const first = model.keys().next();
          if (!first.done) model.delete(first.value);
          fifo.deleteOldest();
          break;
        }
        case 'bounded':
          // What the protocol tables do: forget the key, make room, insert as the newest.
          model.delete(o.key);
          if (model.size >= LIMIT) model.delete(model.keys().next().value!);
          model.set(o.key, o.value);
          fifo.delete(o.key);
          if (fifo.size >= LIMIT) fifo.deleteOldest();
          fifo.set(o.key, o.value);
          break;
      }
      assert.equal(fifo.size, model.size);
      assert.equal(fifo.oldestKey(), model.keys().next().value);
    }
    for (const [k, v] of model) assert.equal(fifo.get(k), v);
  }), { numRuns: 200 });
});

test('FifoMap: evicting from a full table costs no scan (100,000 evictions from 65,536 entries)', () => {
  const m = new FifoMap<string, number>();
  for (let i = 0; i < 65536; i++) m.set(`k${i}`, i);
  for (let i = 65536; i < 165536; i++) {
    m.deleteOldest();
    m.set(`k${i}`, i);
  }
  assert.equal(m.size, 65536);
  assert.equal(m.oldestKey(), 'k100000');
});
