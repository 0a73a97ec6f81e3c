// Regressions found in review: connection-oriented DCE/RPC fragment bounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissect } from './helpers.js';
import { bytes, Conversation, writePcap } from './nbt-builder.js';

function request(flags: number, stub: Uint8Array, callId = 7): Uint8Array {
  const len = 24 + stub.length;
  return bytes([5, 0, 0, flags, 0x10, 0, 0, 0, len & 0xff, len >> 8, 0, 0, callId & 0xff, (callId >> 8) & 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], stub);
}

test('DCE/RPC over TCP: a call of endless empty fragments hits the fragment bound with a finding', async () => {
  const c = new Conversation('10.0.0.1', 40135, '10.0.0.2', 135);
  c.send(0, request(0x01, new Uint8Array(4)));
  const empty = request(0x00, new Uint8Array(0));
  const run = new Uint8Array(empty.length * 50);
  for (let i = 0; i < 50; i++) run.set(empty, i * empty.length);
  for (let i = 0; i < 100; i++) c.send(0, run);
  c.send(0, request(0x02, new Uint8Array(4))).close();
  const d = await dissect(writePcap(c.frames));
  const ids = d.frames.flatMap((f) => f.findings.map((x) => x.id));
  assert.ok(ids.includes('dcerpc.co.fragment-limit'), [...new Set(ids)].join(' '));
});

test('DCE/RPC over TCP: more unfinished fragmented calls than the table holds is a finding, not silence', async () => {
  const c = new Conversation('10.0.0.1', 40136, '10.0.0.2', 135);
  const pdus: Uint8Array[] = [];
  for (let id = 1; id <= 4097; id++) pdus.push(request(0x01, new Uint8Array(4), id));
  for (let i = 0; i < pdus.length; i += 40) c.send(0, bytes(...pdus.slice(i, i + 40)));
  c.close();
  const d = await dissect(writePcap(c.frames));
  const hits = d.frames.flatMap((f) => f.findings).filter((x) => x.id === 'dcerpc.co.fragment-limit');
  assert.equal(hits.length, 1);
  assert.match(hits[0]!.summary, /more than 4096 fragmented calls/);
});
