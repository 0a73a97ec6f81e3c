// The engine's capture-time timer queue: order, cancellation, and the rebuild after many cancels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimerQueue } from '../src/engine/timers.js';

const run = (fire: () => void): void => fire();

test('timers fire in time order, then scheduling order, only once time passes them', () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  q.schedule(5, () => fired.push('b'));
  q.schedule(3, () => fired.push('a'));
  q.schedule(5, () => fired.push('c'));
  q.advance(3, run);
  assert.deepEqual(fired, [], 'a timer at 3 waits for a frame past 3');
  q.advance(4, run);
  assert.deepEqual(fired, ['a']);
  q.advance(100, run);
  assert.deepEqual(fired, ['a', 'b', 'c']);
  assert.equal(q.size, 0);
  assert.equal(q.next, Infinity);
});

test('a cancelled timer never fires, and cancelling after firing is harmless', () => {
  const q = new TimerQueue();
  const fired: number[] = [];
  const t1 = q.schedule(1, () => fired.push(1));
  const t2 = q.schedule(2, () => fired.push(2));
  t1.cancel();
  q.advance(10, run);
  t2.cancel();
  assert.deepEqual(fired, [2]);
  assert.equal(q.size, 0);
});

test('many cancellations keep the heap small and the order intact', () => {
  const q = new TimerQueue();
  const fired: number[] = [];
  const timers = [];
  for (let i = 0; i < 10_000; i++) timers.push(q.schedule(i % 97, () => fired.push(i)));
  for (let i = 0; i < 10_000; i++) if (i % 10 !== 0) timers[i]!.cancel();
  assert.equal(q.size, 1000);
  q.advance(1000, run);
  const expected = [...Array(1000).keys()].map((k) => k * 10).sort((a, b) => (a % 97) - (b % 97) || a - b);
  assert.deepEqual(fired, expected);
});

test('a timer scheduled while firing runs in the same advance when it is due', () => {
  const q = new TimerQueue();
  const fired: string[] = [];
  q.schedule(1, () => {
    fired.push('first');
    q.schedule(2, () => fired.push('second'));
  });
  q.advance(5, run);
  assert.deepEqual(fired, ['first', 'second']);
});
