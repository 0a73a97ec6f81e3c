// SMB1 named-pipe transactions (TransactNmPipe reaching the DCE/RPC pipe consumer), multi-part
// transactions (TRANSACTION_SECONDARY joined, with findings for inconsistent parts), several
// SMB messages in one TCP segment, and the fate of \MAILSLOT\MESSNGR datagrams (unknown,
// or error when an ICMP error quotes them or an NBDGM error datagram answers them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissect, exists, publicCapture } from './helpers.js';
import { bytes, Conversation, le16, nbss, smb, writePcap } from './nbt-builder.js';
import { decodeFrames, eth, ipv4, udp } from './capture-builders.js';
import { encodeName } from '../src/protocols/nbt/names.js';
import { OffsetParts } from '../src/net/fragment-table.js';
import type { MessageEvent } from '../src/model/events.js';

const DSSETUP = publicCapture('ajbanjara__Wireshark/dssetup_DsRoleGetPrimaryDomainInformation_ad_dc.cap');

test('dssetup capture: TransactNmPipe on \\lsarpc carries DCE/RPC bind, bind_ack, request and response (as tshark shows)', { skip: !exists(DSSETUP) }, async () => {
  const out = await dissect(DSSETUP);
  const rpc = out.frames.map((fr) => fr.layers.includes('dcerpc'));
  assert.deepEqual(rpc.slice(0, 6), [false, false, true, true, true, true]);
  assert.match(out.frames[2]!.info, /^Bind: call_id: 5/);
  assert.match(out.frames[3]!.info, /^Bind_ack: call_id: 5/);
  assert.match(out.frames[4]!.info, /^Request: call_id: 6, opnum: 0/);
  assert.match(out.frames[5]!.info, /^Response: call_id: 6/);
  assert.equal(out.frames[2]!.fields['smb.pipe.function']?.[0], 0x26);
  const calls = out.events.filter((e) => e.kind === 'call');
  assert.equal(calls.length, 1);
  assert.match(calls[0]!.transport, /^tcp\/.*smb\/pipe\/dcerpc$/);
  assert.deepEqual(calls[0]!.frames.slice(0, 2), [5, 6]);
});

/** A DCE/RPC connection-oriented bind (C706 12.6.4.3) with one presentation context. */
function bind(callId: number): Uint8Array {
  const body = bytes(le16(4280), le16(4280), [0, 0, 0, 0], [1, 0, 0, 0], le16(0), [1, 0],
    new Uint8Array(16).fill(0x11), [0, 0, 0, 0], new Uint8Array(16).fill(0x22), [2, 0, 0, 0]);
  const len = 16 + body.length;
  return bytes([5, 0, 11, 3, 0x10, 0, 0, 0], le16(len), le16(0), [callId, 0, 0, 0], body);
}

function ntCreate(name: string, mid: number): Uint8Array {
  const words = [0x00ff, 0, ...new Array<number>(22).fill(0)];
  return nbss(0, smb(0xa2, words, bytes(`${name}\0`), { mid }));
}

function ntCreateResp(fid: number, fileType: number, mid: number): Uint8Array {
  const w = new Uint8Array(68);
  w.set([0xff, 0, 0, 0, 0], 0);
  w.set(le16(fid), 5);
  w.set(le16(fileType), 63);
  const words: number[] = [];
  for (let i = 0; i < 68; i += 2) words.push(w[i]! | (w[i + 1]! << 8));
  return nbss(0, smb(0xa2, words, new Uint8Array(0), { mid, response: true }));
}

/** TransactNmPipe primary request carrying the first `part` bytes of `data` (of `total`). */
function transactNmPipe(fid: number, part: Uint8Array, total: number, mid: number): Uint8Array {
  const name = bytes('\\PIPE\\\0');
  const dataOffset = 32 + 1 + 16 * 2 + 2 + name.length;
  const words = [0, total, 0, 1024, 0, 0, 0, 0, 0, 0, 0, part.length, dataOffset, 2, 0x26, fid];
  return nbss(0, smb(0x25, words, bytes(name, part), { mid }));
}

function transSecondary(part: Uint8Array, displacement: number, total: number, mid: number): Uint8Array {
  const dataOffset = 32 + 1 + 8 * 2 + 2;
  return nbss(0, smb(0x26, [0, total, 0, 0, 0, part.length, dataOffset, displacement], part, { mid }));
}

test('a TransactNmPipe sent in parts (TRANSACTION_SECONDARY) is joined and reaches the pipe consumer', async () => {
  const rpc = bind(7);
  const c = new Conversation('10.0.0.1', 40000, '10.0.0.2', 445)
    .send(0, ntCreate('\\lsarpc', 1)).send(1, ntCreateResp(0x4001, 2, 1))
    .send(0, transactNmPipe(0x4001, rpc.subarray(0, 40), rpc.length, 2))
    .send(1, nbss(0, smb(0x25, [], new Uint8Array(0), { mid: 2, response: true })))
    .send(0, transSecondary(rpc.subarray(40), 40, rpc.length, 2));
  const out = await dissect(writePcap(c.frames));
  const primary = out.frames[5]!;
  const secondary = out.frames[7]!;
  assert.ok(!primary.layers.includes('dcerpc'), 'nothing goes to the pipe before the last part');
  assert.equal(secondary.layers.at(-1), 'dcerpc');
  assert.match(secondary.info, /^Bind: call_id: 7/);
  assert.equal(secondary.fields['smb.trans_fragments']?.[0], '6, 8');
  assert.equal(secondary.fields['smb.trans_reassembled_length']?.[0], rpc.length);
  assert.equal(secondary.fields['smb.dd']?.[0], 40);
  assert.deepEqual(out.frames.flatMap((fr) => fr.findings.map((x) => x.id)), []);
});

test('inconsistent secondary parts give findings; an unfinished transaction is reported', async () => {
  const data = new Uint8Array(64).fill(0x41);
  const c = new Conversation('10.0.0.1', 40001, '10.0.0.2', 445)
    .send(0, ntCreate('\\PIPE\\srvsvc', 1)).send(1, ntCreateResp(0x4002, 0, 1))
    .send(0, transactNmPipe(0x4002, data.subarray(0, 16), 64, 3))
    .send(0, transSecondary(data.subarray(0, 16), 8, 100, 3)) // totals grow; overlaps bytes 8..16
    .send(0, transSecondary(data.subarray(0, 16), 60, 64, 3)) // passes the total
    .send(0, transSecondary(data.subarray(0, 4), 0, 64, 99)); // no such transaction
  const out = await dissect(writePcap(c.frames));
  const ids = (n: number): string[] => out.frames[n]!.findings.map((x) => x.id);
  assert.deepEqual(ids(6).sort(), ['smb.trans.inconsistent-total', 'smb.trans.overlap']);
  assert.deepEqual(ids(7), ['smb.trans.bad-displacement']);
  assert.deepEqual(ids(8), ['smb.trans.secondary-unmatched']);
  const left = out.events.filter((e) => e.kind === 'finding' && e.findings[0]!.id === 'smb.trans.incomplete');
  assert.equal(left.length, 1);
  assert.match(left[0]!.findings[0]!.summary, /24\/64 data bytes/);
});

test('transaction parts: ranges merge, overlaps are told, the later bytes are kept', () => {
  const parts = new OffsetParts(2, true);
  const at = (s: number, e: number, v: number) => parts.place(s, new Uint8Array(e - s).fill(v), 1);
  assert.equal(at(10, 20, 1).overlap, false);
  assert.equal(at(0, 10, 2).overlap, false);
  assert.equal(at(30, 40, 3).overlap, false);
  assert.equal(parts.held(1), 30);
  assert.equal(parts.contiguous(1), 20);
  assert.equal(at(15, 35, 4).overlap, true);
  assert.equal(parts.held(1), 40);
  assert.deepEqual([...parts.join(40, 1)].filter((_, i) => i % 5 === 0), [2, 2, 1, 4, 4, 4, 4, 3]);
  assert.equal(parts.held(0), 0);
});

test('two SMB messages in one TCP segment: the Info column joins them with " ; "', async () => {
  const c = new Conversation('10.0.0.1', 40002, '10.0.0.2', 445);
  c.send(0, bytes(ntCreate('\\PIPE\\lsarpc', 1), nbss(0, smb(0x04, [0x4003, 0, 0], new Uint8Array(0), { mid: 2 }))));
  const out = await dissect(writePcap(c.frames));
  assert.equal(out.frames[3]!.info, 'NT Create AndX Request, Path: \\PIPE\\lsarpc ; Close Request, FID: 0x4003');
  assert.equal(out.frames[3]!.layers.filter((l) => l === 'smb').length, 2);
});

// ---- \MAILSLOT\MESSNGR fate ----

function messngr(id: number, text: string): Uint8Array {
  const body = bytes(`ALICE\0BOB\0${text}\0`);
  const name = bytes('\\MAILSLOT\\MESSNGR\0');
  const dataOffset = 32 + 1 + 17 * 2 + 2 + name.length;
  const user = smb(0x25, [0, body.length, 0, 0, 0, 0, 0, 0, 0, 0, 0, body.length, dataOffset, 3, 1, 1, 2], bytes(name, body));
  const names = bytes(encodeName('ALICE', 0), encodeName('BOB', 3));
  const len = names.length + user.length;
  return bytes([0x10, 0x02, id >> 8, id & 0xff, 10, 0, 0, 1, 0, 138, len >> 8, len & 0xff, 0, 0], names, user);
}

const A = [10, 0, 0, 1];
const B = [10, 0, 0, 2];

test('MESSNGR datagrams: unknown by default; error with the ICMP reason when quoted in an ICMP error, or with the NBDGM error name', () => {
  const first = ipv4({ proto: 17, src: A, dst: B }, udp(138, 138, messngr(1, 'bounced')));
  const icmp = ipv4({ proto: 1, src: B, dst: A }, bytes([3, 3, 0, 0, 0, 0, 0, 0], first));
  const nbdgmError = bytes([0x13, 0x02, 0, 2, 10, 0, 0, 1, 0, 138, 0x82]);
  const { events, packets } = decodeFrames([
    { data: eth(0x0800, first) },
    { data: eth(0x0800, icmp) },
    { data: eth(0x0800, ipv4({ proto: 17, src: A, dst: B }, udp(138, 138, messngr(2, 'no such name')))) },
    { data: eth(0x0800, ipv4({ proto: 17, src: B, dst: A }, udp(138, 138, nbdgmError))) },
    { data: eth(0x0800, ipv4({ proto: 17, src: A, dst: B }, udp(138, 138, messngr(3, 'delivered?')))) },
  ]);
  const msgs = events.filter((e): e is MessageEvent => e.kind === 'message').sort((x, y) => x.frames[0]! - y.frames[0]!);
  assert.deepEqual(msgs.map((m) => [m.text, m.status, m.error, m.frames]), [
    ['bounced', 'error', msgs[0]!.error, [1, 2]],
    ['no such name', 'error', 'Destination name not present', [3, 4]],
    ['delivered?', 'unknown', undefined, [5]],
  ]);
  assert.match(msgs[0]!.error ?? '', /Port unreachable/);
  assert.equal(packets[1]!.protocol, 'ICMP');
  assert.ok(packets[3]!.info.includes('Destination name not present'));
});

test('a MESSNGR datagram whose quoted copy comes after the hold time stays unknown, and the copy is no message', () => {
  const dg = ipv4({ proto: 17, src: A, dst: B }, udp(138, 138, messngr(9, 'late')));
  const icmp = ipv4({ proto: 1, src: B, dst: A }, bytes([3, 3, 0, 0, 0, 0, 0, 0], dg));
  const { events } = decodeFrames([
    { data: eth(0x0800, dg), tsSec: 1000 },
    { data: eth(0x0800, ipv4({ proto: 17, src: A, dst: B }, udp(138, 138, messngr(10, 'later')))), tsSec: 1020 },
    { data: eth(0x0800, icmp), tsSec: 1021 },
  ]);
  const msgs = events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.deepEqual(msgs.map((m) => [m.text, m.status]).sort(), [['late', 'unknown'], ['later', 'unknown']]);
});

test('SEND_BROADCAST_MESSAGE (0xD1) in a datagram is unacknowledged: its message is unknown, not no-response', () => {
  // MS-MSRP 2.2.3.1.1 layout: 0x04 From\0, 0x04 To\0, 0x01 length text.
  const text = bytes('to all');
  const user = smb(0xd1, [], bytes([0x04], bytes('ALICE\0'), [0x04], bytes('*\0'), [0x01], le16(text.length), text));
  const names = bytes(encodeName('ALICE', 0), encodeName('BOB', 3));
  const len = names.length + user.length;
  const datagram = bytes([0x10, 0x02, 0, 7, 10, 0, 0, 1, 0, 138, len >> 8, len & 0xff, 0, 0], names, user);
  const { events } = decodeFrames([{ data: eth(0x0800, ipv4({ proto: 17, src: A, dst: B }, udp(138, 138, datagram))) }]);
  const msgs = events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.deepEqual(msgs.map((m) => [m.from, m.to, m.text, m.status]), [['ALICE', ['*'], 'to all', 'unknown']]);
});
