// Regressions found in review: MSNP message bookkeeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Conversation, writePcap } from './nbt-builder.js';
import { dissect } from './helpers.js';

function msg(trid: number, mode: string, text: string): Uint8Array {
  const payload = `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n${text}`;
  return new TextEncoder().encode(`MSG ${trid} ${mode} ${Buffer.byteLength(payload)}\r\n${payload}`);
}

test('MSNP: two chat messages under one TrID awaiting an ACK are both reported', async () => {
  const c = new Conversation('10.0.0.1', 40000, '10.0.0.2', 1863);
  c.send(0, new TextEncoder().encode('USR 1 alice@hotmail.com 1234.5678\r\n'));
  c.send(1, new TextEncoder().encode('USR 1 OK alice@hotmail.com Alice\r\n'));
  c.send(0, msg(2, 'A', 'first'));
  c.send(0, msg(2, 'A', 'second'));
  c.send(1, new TextEncoder().encode('ACK 2\r\n'));
  c.close();
  const d = await dissect(writePcap(c.frames));
  const texts = d.events.flatMap((e) => (e.kind === 'message' ? [[e.text, e.status]] : []));
  assert.equal(texts.length, 2, JSON.stringify(texts));
  assert.deepEqual(texts.map((t) => t[0]).sort(), ['first', 'second']);
  assert.ok(d.events.some((e) => e.findings.some((x) => x.id === 'msnp.trid-reused')));
});
