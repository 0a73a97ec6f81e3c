// NBSS framing edge cases on hand-built TCP conversations: messages split across segments
// and packed into one, the length extension bit, every message type, gaps, mid-stream
// starts, direct-hosted TCP 445, and dispatch to session dialects through the seam.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissect, protocolsWith } from './helpers.js';
import { bytes, Conversation, le16, nbss, sessionRequest, smb, writePcap } from './nbt-builder.js';
import type { SessionEvent, MessageEvent } from '../src/model/events.js';

// A stand-in dialect with its own magic (0xF0 'TST'): NBSS must hand it the messages it matches.
const seen: { dir: number; length: number; frames: number[] }[] = [];
const withTestDialect = () => protocolsWith({
  sessionPayloads: [() => ({
    name: 'test-smb2',
    match: (b) => b.length >= 4 && b[0] === 0xf0 && b[1] === 0x54 && b[2] === 0x53 && b[3] === 0x54,
    create: () => ({ message: (m) => seen.push({ dir: m.dir, length: m.bytes.length, frames: m.frames }), end: () => undefined }),
  })],
});

const C = '10.0.0.1';
const S = '10.0.0.2';

function d0(from: string, to: string, text: string, mid = 1): Uint8Array {
  return smb(0xd0, [], bytes([4], `${from}\0`, [4], `${to}\0`, [1], le16(text.length), text), { mid });
}

function d0resp(mid = 1, status = 0): Uint8Array {
  return smb(0xd0, [], new Uint8Array(0), { response: true, mid, status });
}

test('a session request and its positive response are one session event with both names', async () => {
  const c = new Conversation(C, 1025, S, 139).send(0, sessionRequest('MSGSRV', 0x03, 'CALLER')).send(1, nbss(0x82, new Uint8Array(0)));
  const out = await dissect(writePcap(c.frames));
  const s = out.events.filter((e): e is SessionEvent => e.kind === 'session');
  assert.equal(s.length, 1);
  assert.equal(s[0]!.action, 'accepted');
  assert.deepEqual(s[0]!.details, { called: 'MSGSRV<03>', calling: 'CALLER<00>' });
  assert.deepEqual(s[0]!.frames, [4, 5]);
  assert.equal(out.frames[3]!.info, 'Session request, to MSGSRV<03> from CALLER<00>');
  assert.equal(out.frames[3]!.fields['nbss.called_name']?.[0], 'MSGSRV<03>');
  assert.equal(out.frames[4]!.info, 'Positive session response');
});

test('a negative session response is a refused session with the error code by name', async () => {
  const c = new Conversation(C, 1026, S, 139).send(0, sessionRequest('NOBODY', 0x03, 'CALLER')).send(1, nbss(0x83, Uint8Array.of(0x82)));
  const out = await dissect(writePcap(c.frames));
  const s = out.events.find((e): e is SessionEvent => e.kind === 'session')!;
  assert.equal(s.action, 'refused');
  assert.equal((s.details as { error: string }).error, 'Called name not present');
  assert.equal(out.frames[4]!.fields['nbss.error_code']?.[0], 0x82);
});

test('retarget response and keep-alive are decoded', async () => {
  const c = new Conversation(C, 1027, S, 139)
    .send(0, sessionRequest('MSGSRV', 0x20, 'CALLER'))
    .send(1, nbss(0x84, Uint8Array.of(192, 0, 2, 7, 0x04, 0x01)))
    .send(0, nbss(0x85, new Uint8Array(0)));
  const out = await dissect(writePcap(c.frames));
  const s = out.events.find((e): e is SessionEvent => e.kind === 'session')!;
  assert.equal(s.action, 'retarget');
  assert.equal((s.details as { retarget: string }).retarget, '192.0.2.7:1025');
  assert.equal(out.frames[4]!.fields['nbss.retarget_ip_address']?.[0], '192.0.2.7');
  assert.equal(out.frames[5]!.info, 'Session keep-alive');
});

test('a message split across three segments, and two messages packed in one segment', async () => {
  const m1 = nbss(0, d0('A', 'B', 'first'));
  const m2 = nbss(0, d0('A', 'B', 'second', 2));
  const c = new Conversation(C, 1028, S, 139)
    .send(0, m1, [2, 3]) // header cut after 2 bytes, then inside the SMB header
    .send(1, bytes(nbss(0, d0resp(1)), nbss(0, d0resp(2))))
    .send(0, m2);
  const out = await dissect(writePcap(c.frames));
  const msgs = out.events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.deepEqual(msgs.map((m) => m.text), ['first', 'second']);
  assert.deepEqual(msgs[0]!.frames, [4, 5, 6, 7]);
  // Frame 7 holds both responses: two NBSS and two SMB layers.
  assert.deepEqual(out.frames[6]!.layers.slice(3), ['nbss', 'smb', 'nbss', 'smb']);
  assert.deepEqual(out.frames[6]!.fields['smb.mid'], [1, 2]);
  // The response of the second message arrived before its request: it still gets a status.
  assert.ok(msgs.every((m) => m.status === 'ok' || m.status === 'no-response'));
});

test('the length extension bit adds 65536 to the length (RFC 1002 4.3.1)', async () => {
  const big = new Uint8Array(70000);
  big.set(smb(0x2b, [1], new Uint8Array(0)), 0); // an Echo request followed by padding
  const c = new Conversation(C, 1029, S, 139).send(0, nbss(0, big), [1460, 1460 * 20]);
  const out = await dissect(writePcap(c.frames));
  const fr = out.frames.find((x) => x.layers.includes('smb'))!;
  assert.equal(fr.fields['nbss.length']?.[0], 70000);
  assert.equal(fr.fields['nbss.flags.e']?.[0], true);
});

test('after a gap the stream resynchronises at the next message boundary', async () => {
  const m1 = nbss(0, d0('A', 'B', 'lost in the gap'));
  const m2 = nbss(0, d0('A', 'B', 'after the gap', 2));
  const c = new Conversation(C, 1030, S, 139);
  c.frames.push(c.segment(0, m1.subarray(0, 10)));
  c.skip(0, 20);
  c.frames.push(c.segment(0, m1.subarray(30)));
  c.send(0, m2).send(1, nbss(0, d0resp(2))).close();
  const out = await dissect(writePcap(c.frames));
  const msgs = out.events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.deepEqual(msgs.map((m) => [m.text, m.status]), [['after the gap', 'ok']]);
  assert.ok(out.events.some((e) => e.kind === 'finding' && e.findings[0]!.id === 'tcp.gap'));
  assert.ok(out.events.some((e) => e.kind === 'finding' && e.findings[0]!.id === 'nbss.incomplete'));
});

test('a capture that starts mid-message skips to the first real boundary', async () => {
  const m1 = nbss(0, d0('A', 'B', 'half seen'));
  const m2 = nbss(0, d0('A', 'B', 'whole', 2));
  const c = new Conversation(C, 1031, S, 139, [7000, 9000], false);
  c.send(0, bytes(m1.subarray(17), m2)).send(1, nbss(0, d0resp(2)));
  const out = await dissect(writePcap(c.frames));
  const msgs = out.events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.deepEqual(msgs.map((m) => m.text), ['whole']);
  // The skipped bytes are labelled as continuation data, as tshark does.
  assert.deepEqual(out.frames[0]!.layers.slice(3), ['nbss', 'nbss', 'smb']);
  assert.equal((out.frames[0]!.fields['nbss.continuation_data']?.[0] as string).length, (m1.length - 17) * 2);
});

test('direct-hosted TCP 445 uses a 24-bit length; each message goes to the dialect that matches it', async () => {
  const smb2 = bytes([0xf0, 0x54, 0x53, 0x54], new Uint8Array(60));
  const one = d0('X', 'Y', 'hi');
  const c = new Conversation(C, 1032, S, 445).send(0, bytes([0, 0, 0, smb2.length], smb2)).send(0, bytes([0, 0, 0, one.length], one));
  seen.length = 0;
  const out = await dissect(writePcap(c.frames), {}, withTestDialect());
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.length, 64);
  assert.deepEqual(seen[0]!.frames, [4]);
  assert.equal(out.frames[3]!.fields['nbss.length']?.[0], 64);
  assert.ok(out.frames[4]!.layers.includes('smb'));
  assert.ok(out.events.some((e) => e.kind === 'message' && e.text === 'hi' && e.dst === '10.0.0.2:445'));
});

test('garbage on port 139 is never a crash: random bytes give findings or continuation, nothing else', async () => {
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let round = 0; round < 20; round++) {
    const junk = Uint8Array.from({ length: 3000 }, rnd);
    // Plant plausible headers with absurd contents.
    junk.set([0, 0, 0, 40, 0xff, 0x53, 0x4d, 0x42, 0xd7], 100);
    junk.set([0x81, 0, 0, 80, 0x20], 700);
    const c = new Conversation(C, 2000 + round, S, 139).send(0, junk, [500, 700, 1000]).send(1, junk.subarray(1000), [333]);
    const out = await dissect(writePcap(c.frames));
    for (const fr of out.frames) assert.ok(!fr.findings.some((x) => x.id === 'msgscope.internal-error'), JSON.stringify(fr.findings));
  }
});
