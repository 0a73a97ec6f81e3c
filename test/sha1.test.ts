// The plain-JavaScript SHA-1 of the flow ids (src/util/sha1.ts) against node:crypto's, at every
// length around the block and padding boundaries and on random messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sha1 } from '../src/util/sha1.js';
import { conversationUid } from '../src/runner/flow-ids.js';
import { uidByDefinition } from './helpers.js';

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

test('conversationUid: the SHA-1 of its text, short (scratch buffer) or long, ASCII or not', () => {
  const capture = { tsSec: 1_066_122_000, tsNsec: 5 };
  const cases = [
    { transport: 'udp/dcerpc', src: '10.0.0.1:1026', dst: '66.103.103.54:2687' },
    { transport: 'tcp/nbss/smb', src: '[fe80::1]:139', dst: '[fe80::2]:1025' },
    { transport: 'ipx', src: 'x'.repeat(300), dst: 'é'.repeat(200) },
    { transport: 'eth', src: '00:11:22:33:44:55', dst: '' },
  ];
  for (const event of cases) {
    const [a, b] = event.src <= event.dst ? [event.src, event.dst] : [event.dst, event.src];
    const proto = event.transport.split('/', 1)[0];
    assert.equal(conversationUid(capture, event), uidByDefinition(`${capture.tsSec}.${capture.tsNsec}|${proto}|${a}|${b}`));
  }
});
