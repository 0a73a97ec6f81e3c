import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissect, publicCapture } from './helpers.js';

test('reads a NetMon 2.x capture with the frame count tshark reports', async () => {
  const d = await dissect(publicCapture('ajbanjara__Wireshark/FTPv6-1.cap'));
  assert.equal(d.frames.length, 566);
  assert.deepEqual(d.warnings, []);
});
