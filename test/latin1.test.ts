// latin1 (src/util/latin1.ts) takes two ways, by length: both must give one code point per byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { latin1 } from '../src/util/latin1.js';

test('latin1 (property): one code point per byte, short or long, from any view of a buffer', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, start) => {
    const from = data.length === 0 ? 0 : start % data.length;
    const view = data.subarray(from);
    let want = '';
    for (const b of view) want += String.fromCharCode(b);
    assert.equal(latin1(view), want);
  }), { numRuns: 1000 });
  const all = Uint8Array.from({ length: 100_000 }, (_, i) => i & 0xff);
  assert.equal(latin1(all).length, 100_000);
  assert.equal(latin1(all).charCodeAt(99_999), 99_999 & 0xff);
});
