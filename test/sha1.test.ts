// The plain-JavaScript SHA-1 of the flow ids (src/util/sha1.ts) against node:crypto's, at every
// length around the block and padding boundaries and on random messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sha1 } from '../src/util/sha1.js';

const reference = (data: Uint8Array): string => createHash('sha1').update(data).digest('hex');
const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');

test('sha1: the FIPS 180-4 examples and every length up to 300 bytes', () => {
  assert.equal(hex(sha1(Buffer.from('abc'))), 'a9993e364706816aba3e25717850c26c9cd0d89d');
  assert.equal(hex(sha1(new Uint8Array(0))), 'da39a3ee5e6b4b0d3255bfef95601890afd80709');
  for (let n = 0; n <= 300; n++) {
    const data = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
    assert.equal(hex(sha1(data)), reference(data), `length ${n}`);
  }
});

test('sha1 (property): equals node:crypto on any message, and on a prefix given its length', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), (data, cut) => {
    assert.equal(hex(sha1(data)), reference(data));
    const length = data.length === 0 ? 0 : cut % data.length;
    assert.equal(hex(sha1(data, length)), reference(data.subarray(0, length)));
  }), { numRuns: 1000 });
});
