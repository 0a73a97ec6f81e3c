// MSNP found by content off port 1863: several lines in both directions with a TrID answered,
// never on a port another protocol owns (scripts/fixtures/msnp/make_msnp_fixtures.py detection()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dissect, FIXTURES } from './helpers.js';
import { MsnpEvidence } from '../src/protocols/msnp/evidence.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('evidence: one error-shaped line is not MSNP; lines both ways with an echoed TrID are', () => {
  const ftp = new MsnpEvidence<number>();
  assert.equal(ftp.add(1, enc('213 1379369\r\n'), 1), 'undecided');
  assert.equal(ftp.add(0, enc('QUIT\r\n'), 2), 'not-msnp');

  const ns = new MsnpEvidence<number>();
  assert.equal(ns.add(0, enc('VER 1 MSNP8 CVR0\r\n'), 1), 'undecided');
  assert.equal(ns.add(1, enc('VER 1 MSNP8 CVR0\r\n'), 2), 'undecided', 'two lines are not enough');
  assert.equal(ns.add(0, enc('CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.2 MSMSGS a@b.c\r\n'), 3), 'msnp');
  assert.equal(ns.serverDir, 1);
  assert.deepEqual(ns.segments().map((s) => s.tag), [1, 2], 'the segments before the verdict are held');
});

test('evidence: a server that only sends, and TrIDs nobody asked for, stay undecided', () => {
  const e = new MsnpEvidence<number>();
  e.add(1, enc('NLN NLN bob@example.com Bob 0\r\n'), 1);
  e.add(1, enc('NLN NLN carol@example.com Carol 0\r\n'), 2);
  assert.equal(e.add(0, enc('PNG\r\n'), 3), 'undecided');
  assert.equal(e.add(1, enc('CHG 7 NLN 0\r\n'), 4), 'undecided', 'TrID 7 was never sent by the client');
});

test('evidence: bytes held while undecided are bounded', () => {
  const e = new MsnpEvidence<number>();
  const line = enc(`NLN NLN ${'x'.repeat(1000)}@example.com Bob 0\r\n`);
  let v = 'undecided';
  for (let i = 0; i < 20 && v === 'undecided'; i++) v = e.add(1, line, i);
  assert.equal(v, 'not-msnp');
});

test('msnp-detection.pcap: FTP on 21 and a line protocol on 7777 stay TCP; MSNP on 7001 is dissected from its first line', async () => {
  const d = await dissect(join(FIXTURES, 'msnp', 'msnp-detection.pcap'));
  const top = (n: number): string | undefined => d.frames[n - 1]?.layers.at(-1);
  for (let n = 1; n <= 24; n++) assert.notEqual(top(n), 'msnp', `frame ${n} is not MSNP`);
  assert.equal(top(30), 'msnp');
  assert.ok(d.events.every((e) => !e.src.endsWith(':21') && !e.dst.endsWith(':21') && !e.dst.endsWith(':7777') && !e.src.endsWith(':7777')),
    'no event or finding on the FTP and 7777 connections');
  const login = d.events.find((e) => e.kind === 'session' && e.action === 'login');
  assert.ok(login !== undefined && login.kind === 'session');
  assert.equal(login.details?.version, 'MSNP8', 'VER, held before the verdict, was dissected');
  assert.equal(login.details?.handle, 'carol@hotmail.com');
  assert.ok(d.events.every((e) => e.findings.every((f) => f.id !== 'tcp.gap' && !/not captured/.test(f.summary))), 'no spurious gap');
});
