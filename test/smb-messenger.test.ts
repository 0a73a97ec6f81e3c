// SMB messenger semantics on hand-built conversations: D5/D7/D6 groups joined in order, the
// findings of MS-MSRP 2.2.3 and 3.2.4.4, statuses by name, and the named-pipe byte streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { dissect, exists, FIXTURES, protocolsWith } from './helpers.js';
import { bytes, Conversation, le16, nbss, sessionRequest, smb, writePcap, type SmbOpts } from './nbt-builder.js';
import type { MessageEvent } from '../src/model/events.js';

const C = '10.0.0.1';
const S = '10.0.0.2';

const pipeLog: { pipe: string; transport: string; dir: number; data: number[]; frames: number[] }[] = [];
let pipeEnds = 0;
/** The default protocols plus a stand-in consumer for the pipe `testpipe`. */
const withTestPipe = () => protocolsWith({
  pipeConsumers: [() => ({
    name: 'test-pipe',
    accepts: (pipe) => pipe === 'testpipe',
    open: (route) => ({
      data: (dir, data, frames) => pipeLog.push({ pipe: route.pipe, transport: route.transport, dir, data: [...data], frames }),
      end: () => void pipeEnds++,
    }),
  })],
});

const start = (from: string, to: string, o: SmbOpts = {}): Uint8Array => nbss(0, smb(0xd5, [], bytes([4], `${from}\0`, [4], `${to}\0`), o));
const startResp = (gid: number | undefined, o: SmbOpts = {}): Uint8Array => nbss(0, smb(0xd5, gid === undefined ? [] : [gid], new Uint8Array(0), { response: true, ...o }));
const text = (gid: number, t: Uint8Array | string, o: SmbOpts = {}): Uint8Array => {
  const d = typeof t === 'string' ? Uint8Array.from(Buffer.from(t, 'latin1')) : t;
  return nbss(0, smb(0xd7, [gid], bytes([1], le16(d.length), d), o));
};
const resp = (cmd: number, o: SmbOpts = {}): Uint8Array => nbss(0, smb(cmd, [], new Uint8Array(0), { response: true, ...o }));
const end = (gid: number, o: SmbOpts = {}): Uint8Array => nbss(0, smb(0xd6, [gid], new Uint8Array(0), o));
const single = (from: string, to: string, t: string, o: SmbOpts = {}): Uint8Array =>
  nbss(0, smb(0xd0, [], bytes([4], `${from}\0`, [4], `${to}\0`, [1], le16(t.length), t), o));

function session(port: number, called = 'MSGSRV', suffix = 0x03): Conversation {
  return new Conversation(C, port, S, 139).send(0, sessionRequest(called, suffix, 'CALLER')).send(1, nbss(0x82, new Uint8Array(0)));
}

async function messages(c: Conversation, cp = 'cp437'): Promise<MessageEvent[]> {
  const out = await dissect(writePcap(c.frames), { oemCodepage: cp });
  return out.events.filter((e): e is MessageEvent => e.kind === 'message');
}

const ids = (m: MessageEvent): string[] => m.findings.map((x) => x.id);

test('a spec-conformant multi-block message: 128-byte blocks joined in order, 0x14 shown as a line break', async () => {
  const block1 = `${'a'.repeat(60)}\x14${'b'.repeat(67)}`;
  const c = session(3001)
    .send(0, start('ALICE', 'BOB')).send(1, startResp(7))
    .send(0, text(7, block1)).send(1, resp(0xd7))
    .send(0, text(7, 'the end')).send(1, resp(0xd7))
    .send(0, end(7)).send(1, resp(0xd6)).close();
  const [m] = await messages(c);
  assert.ok(m !== undefined);
  assert.equal(m.from, 'ALICE');
  assert.deepEqual(m.to, ['BOB']);
  assert.equal(m.text, `${'a'.repeat(60)}\n${'b'.repeat(67)}the end`);
  assert.equal(m.status, 'ok');
  assert.deepEqual(m.frames, [6, 7, 8, 9, 10, 11, 12, 13]);
  assert.deepEqual(ids(m), [], JSON.stringify(m.findings));
  assert.equal((m.details as { groupId: number }).groupId, 7);
});

test('TEXT_MB without START_MB is a finding and its text is still shown', async () => {
  const c = session(3002).send(0, text(0, 'orphan block')).send(1, resp(0xd7)).send(0, end(0)).send(1, resp(0xd6));
  const [m] = await messages(c);
  assert.equal(m!.text, 'orphan block');
  assert.ok(m!.findings.some((x) => x.id === 'smb.textmb.no-start' && x.spec === 'MS-MSRP 3.2.4.4'));
  assert.equal(m!.status, 'ok');
});

test('a group left open when the connection ends is reported incomplete', async () => {
  const c = session(3003).send(0, start('A', 'B')).send(1, startResp(1)).send(0, text(1, 'never ended')).send(1, resp(0xd7)).close();
  const [m] = await messages(c);
  assert.equal(m!.text, 'never ended');
  assert.equal(m!.status, 'unknown');
  assert.ok(ids(m!).includes('smb.mb.incomplete'));
});

test('a new START_MB before END_MB closes the earlier group as incomplete', async () => {
  const c = session(3004)
    .send(0, start('A', 'B')).send(1, startResp(1)).send(0, text(1, 'first')).send(1, resp(0xd7))
    .send(0, start('A', 'C')).send(1, startResp(2)).send(0, text(2, 'second')).send(1, resp(0xd7)).send(0, end(2)).send(1, resp(0xd6));
  const ms = await messages(c);
  assert.deepEqual(ms.map((m) => [m.text, m.to[0], m.status]), [['first', 'B', 'unknown'], ['second', 'C', 'ok']]);
  assert.ok(ids(ms[0]!).includes('smb.mb.incomplete'));
});

test('DOS and NT error statuses are named; an unanswered request is no-response', async () => {
  // ERRSRV (2) / ERRmsgoff (82): class byte, reserved byte, code word.
  const dos = 0x02 | (82 << 16);
  const c = session(3005)
    .send(0, single('A', 'B', 'one', { mid: 1 })).send(1, resp(0xd0, { mid: 1, status: dos }))
    .send(0, single('A', 'B', 'two', { mid: 2 })).send(1, resp(0xd0, { mid: 2, status: 0xc0000022, flags2: 0x4000 }))
    .send(0, single('A', 'B', 'three', { mid: 3 })).close();
  const ms = await messages(c);
  assert.deepEqual(ms.map((m) => [m.text, m.status, m.error]), [
    ['one', 'error', 'ERRSRV/ERRmsgoff'],
    ['two', 'error', 'STATUS_ACCESS_DENIED'],
    ['three', 'no-response', undefined],
  ]);
});

test('recipient and name rules: *, names over 15 bytes, wrong BufferFormat, session not to a <03> name', async () => {
  const badFormat = nbss(0, smb(0xd0, [], bytes([2], 'A\0', [4], 'B\0', [1], le16(2), 'hi')));
  const c = session(3006, '*SMBSERVER', 0x20)
    .send(0, single('A', '*', 'to all', { mid: 1 })).send(1, resp(0xd0, { mid: 1 }))
    .send(0, single('SIXTEEN-BYTES-XX', 'B', 'long name', { mid: 2 })).send(1, resp(0xd0, { mid: 2 }))
    .send(0, badFormat).send(1, resp(0xd0));
  const ms = await messages(c);
  assert.ok(ids(ms[0]!).includes('smb.msg.to-asterisk'));
  assert.ok(ids(ms[0]!).includes('smb.msg.to-not-messenger-name'));
  assert.ok(ids(ms[1]!).includes('smb.msg.name-too-long'));
  assert.ok(ms[2]!.findings.some((x) => x.id === 'smb.msg.bad-buffer-format' && x.spec === 'MS-MSRP 2.2.3.1.1'));
});

test('wrong WordCount, DataLength over 128, text over 652 bytes, group id mismatch, non-zero header fields', async () => {
  const wc = nbss(0, smb(0xd6, [], new Uint8Array(0))); // END_MB with WordCount 0
  const c = session(3007).send(0, start('A', 'B')).send(1, startResp(5));
  for (let i = 0; i < 5; i++) c.send(0, text(5, 'x'.repeat(140))).send(1, resp(0xd7));
  c.send(0, text(6, 'y')).send(1, resp(0xd7)).send(0, wc).send(1, resp(0xd6))
    .send(0, single('A', 'B', 'hdr', { mid: 9, tid: 3, uid: 4 })).send(1, resp(0xd0, { mid: 9 }));
  const ms = await messages(c);
  const m = ms[0]!;
  assert.equal(m.text, `${'x'.repeat(700)}y`);
  for (const id of ['smb.msg.data-too-long', 'smb.msg.text-too-long', 'smb.mb.group-id-mismatch', 'smb.msg.bad-wordcount']) assert.ok(ids(m).includes(id), id);
  assert.ok(m.findings.some((x) => x.id === 'smb.msg.text-too-long' && x.spec === 'MS-MSRP 3.2.4.4'));
  const h = ms[1]!.findings.find((x) => x.id === 'smb.msg.header-not-zero')!;
  assert.match(h.summary, /TID.*UID.*MID/);
});

test('OEM code page: the same bytes read differently under cp437 and cp850', async () => {
  const c = session(3008).send(0, single('A', 'B', 'Gr\x81\xe1e \x9d')).send(1, resp(0xd0));
  assert.equal((await messages(c, 'cp850'))[0]!.text, 'Grüße Ø');
  assert.equal((await messages(c, 'cp437'))[0]!.text, 'Grüße ¥');
});

test('named pipe I/O: NT Create AndX, Write AndX, Read AndX, TransactNmPipe and Close feed the pipe consumer', async () => {
  pipeLog.length = 0;
  pipeEnds = 0;
  const name = bytes('\\PIPE\\testpipe\0');
  const create = nbss(0, smb(0xa2, [0x00ff, 0, 0, name.length - 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], name, { mid: 1, tid: 1 }));
  const createResp = (() => {
    const words = new Array<number>(34).fill(0);
    words[0] = 0x00ff;
    const raw = smb(0xa2, words, new Uint8Array(0), { response: true, mid: 1, tid: 1 });
    raw[32 + 1 + 5] = 0x34; // FID 0x4034 after AndX (4) and OpLockLevel (1)
    raw[32 + 1 + 6] = 0x40;
    return nbss(0, raw);
  })();
  const payload = bytes([5, 0, 11, 3], new Uint8Array(12));
  const dataOffset = 32 + 1 + 24 + 2;
  const write = nbss(0, smb(0x2f, [0x00ff, 0, 0x4034, 0, 0, 0, 0, 0x0008, payload.length, 0, payload.length, dataOffset], payload, { mid: 2, tid: 1 }));
  const writeResp = nbss(0, smb(0x2f, [0x00ff, 0, payload.length, 0xffff, 0, 0], new Uint8Array(0), { response: true, mid: 2, tid: 1 }));
  const read = nbss(0, smb(0x2e, [0x00ff, 0, 0x4034, 0, 0, 1024, 1024, 0, 0, 0], new Uint8Array(0), { mid: 3, tid: 1 }));
  const back = bytes([5, 0, 12, 3], new Uint8Array(8));
  const readResp = nbss(0, smb(0x2e, [0x00ff, 0, 0, 0, 0, back.length, 32 + 1 + 24 + 2, 0, 0, 0, 0, 0], back, { response: true, mid: 3, tid: 1 }));
  const tname = bytes('\\PIPE\\\0');
  const tdata = bytes([5, 0, 0, 3, 1, 2, 3, 4]);
  const tOffset = 32 + 1 + 16 * 2 + 2 + tname.length;
  const trans = nbss(0, smb(0x25, [0, tdata.length, 0, 1024, 0, 0, 0, 0, 0, 0, 0, tdata.length, tOffset, 2, 0x26, 0x4034], bytes(tname, tdata), { mid: 4, tid: 1 }));
  const rdata = bytes([5, 0, 2, 3, 9, 9]);
  const rOffset = 32 + 1 + 10 * 2 + 2;
  const transResp = nbss(0, smb(0x25, [0, rdata.length, 0, 0, 0, 0, rdata.length, rOffset, 0, 0], rdata, { response: true, mid: 4, tid: 1 }));
  const close = nbss(0, smb(0x04, [0x4034, 0, 0], new Uint8Array(0), { mid: 5, tid: 1 }));
  const c = session(3009).send(0, create).send(1, createResp).send(0, write).send(1, writeResp).send(0, read).send(1, readResp)
    .send(0, trans).send(1, transResp).send(0, close).send(1, resp(0x04, { mid: 5, tid: 1 }));
  const out = await dissect(writePcap(c.frames), {}, withTestPipe());
  assert.deepEqual(pipeLog.map((p) => [p.pipe, p.dir, p.data.length]), [['testpipe', 0, 16], ['testpipe', 1, 12], ['testpipe', 0, 8], ['testpipe', 1, 6]]);
  assert.equal(pipeLog[0]!.transport, 'tcp/nbss/smb/pipe');
  assert.deepEqual(pipeLog[3]!.data, [...rdata]);
  assert.equal(pipeEnds, 1);
  const infos = out.frames.filter((fr) => fr.layers.includes('smb')).map((fr) => fr.info);
  assert.ok(infos.includes('NT Create AndX Request, Path: \\PIPE\\testpipe'));
  assert.ok(infos.includes('NT Create AndX Response, FID: 0x4034'));
  assert.ok(infos.includes('TransactNmPipe Request, \\PIPE\\'));
});

test('msgsvc-smb1 fixture (impacket over SMB1): pipe open, writes and reads carry the DCE/RPC stream', { skip: !exists(join(FIXTURES, 'msgsvc-smb1.pcap')) }, async () => {
  const out = await dissect(join(FIXTURES, 'msgsvc-smb1.pcap'));
  const create = out.frames.find((fr) => fr.info.startsWith('NT Create AndX Request'))!;
  assert.equal(create.fields['smb.file']?.[0], '\\msgsvc');
  assert.ok(out.frames.some((fr) => fr.info.startsWith('NT Create AndX Response, FID: 0x')));
  const writes = out.frames.filter((fr) => fr.fields['smb.cmd']?.[0] === 0x2f && fr.fields['smb.flags.response']?.[0] === false);
  assert.ok(writes.length >= 10);
  // DCE/RPC connection-oriented: version 5.0, first PDU a bind (type 11), answered by a bind_ack (12).
  assert.match(String(writes[0]!.fields['smb.file_data']?.[0]), /^05000b03/);
  const reads = out.frames.filter((fr) => fr.fields['smb.cmd']?.[0] === 0x2e && fr.fields['smb.flags.response']?.[0] === true);
  assert.match(String(reads[0]!.fields['smb.file_data']?.[0]), /^05000c03/);
  // Whatever consumer is registered for \PIPE\msgsvc (the DCE/RPC one) got the bytes: the
  // pipe frames carry its layer on top of SMB.
  if (writes.some((fr) => fr.layers.length > 5)) assert.ok(writes.every((fr) => fr.layers.indexOf('smb') < fr.layers.length - 1));
});
