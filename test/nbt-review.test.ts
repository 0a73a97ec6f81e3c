// Regressions found in review: NBDGM fragment reassembly on hostile offsets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissect } from './helpers.js';
import { bytes, udp, writePcap } from './nbt-builder.js';
import { encodeName } from '../src/protocols/nbt/names.js';

function datagram(flags: number, id: number, offset: number, user: Uint8Array): Uint8Array {
  const names = bytes(encodeName('A', 0), encodeName('B', 3));
  const len = names.length + user.length;
  return bytes([0x10, flags, id >> 8, id & 0xff, 10, 0, 0, 1, 0, 138, len >> 8, len & 0xff, offset >> 8, offset & 0xff], names, user);
}

test('NBDGM: a fragment lying past the last fragment\'s end is an overrun finding, not a crash', async () => {
  const piece = new Uint8Array(10).fill(0x41);
  const frames = [
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x03, 9, 0, piece)),
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x01, 9, 10, piece)),
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x00, 9, 5, piece.subarray(0, 2))),
  ];
  const out = await dissect(writePcap(frames));
  const ids = out.frames.flatMap((f) => f.findings.map((x) => x.id));
  assert.ok(ids.includes('nbdgm.fragment-overrun'), ids.join(' '));
  assert.equal(out.frames[2]!.fields['nbdgm.fragments']?.[0], '1, 2, 3');
});

test('NBDGM: zero-length fragments at ever new offsets are bounded per datagram', async () => {
  const frames = [udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x03, 4, 0, new Uint8Array(1)))];
  for (let i = 1; i <= 400; i++) frames.push(udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x01, 4, i * 2, new Uint8Array(0))));
  const out = await dissect(writePcap(frames));
  const bound = out.events.flatMap((e) => e.findings).find((x) => x.id === 'nbdgm.fragments-incomplete');
  assert.match(bound?.summary ?? '', /more than 256 fragments/);
});

test('NBDGM: first fragments that never complete are bounded at 256 datagrams, the oldest given up with one finding each', async () => {
  const frames = [];
  for (let id = 0; id < 300; id++) frames.push(udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x03, id, 0, new Uint8Array(40).fill(0x42))));
  const out = await dissect(writePcap(frames));
  const given = out.events.flatMap((e) => e.findings).filter((x) => x.id === 'nbdgm.fragments-incomplete');
  // 44 evicted while the capture runs, 256 at its end: one finding per datagram, never more.
  assert.equal(given.length, 300);
  assert.equal(given.filter((x) => /more than 256 datagrams waiting/.test(x.summary)).length, 44);
  assert.equal(given.filter((x) => /end of capture/.test(x.summary)).length, 256);
  assert.deepEqual(given.slice(0, 44).map((x) => x.frame), Array.from({ length: 44 }, (_, i) => i + 1));
});
