// RecentMap: a memo bounded by count and by capture-time age, against a plain model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecentMap } from '../src/util/recent-map.js';

test('recent map: holds what a model of the newest entries within the age holds, never more than its count', () => {
  const op = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 30 }), fc.boolean());
  fc.assert(fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 50 }), (ops, maxEntries, maxAge) => {
    const memo = new RecentMap<number, number>(maxEntries, maxAge);
    let model: { key: number; value: number; sec: number }[] = [];
    let now = 0;
    ops.forEach(([key, step, lookup], i) => {
      now += step;
      if (lookup) {
        const want = model.find((e) => e.key === key)?.value;
        assert.equal(memo.get(key), want);
        assert.equal(memo.has(key), want !== undefined);
        return;
      }
      memo.set(key, i, now);
      model = model.filter((e) => e.key !== key && now - e.sec <= maxAge);
      if (model.length >= maxEntries) model.shift();
      model.push({ key, value: i, sec: now });
      assert.ok(memo.size <= maxEntries);
      assert.equal(memo.size, model.length);
    });
  }), { seed: 19, numRuns: 300 });
});

test('recent map: a spam rate keeps minutes of keys, not the count bound', () => {
  const memo = new RecentMap<string, true>(65_536, 300);
  // 30 calls a second for an hour.
  for (let i = 0; i < 108_000; i++) memo.set(`call ${i}`, true, i / 30);
  assert.ok(memo.size <= 300 * 30 + 1, `${memo.size} kept`);
  assert.ok(memo.has('call 107999'));
  assert.ok(!memo.has('call 90000'));
});
