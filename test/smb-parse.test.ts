// Parser unit tests on hand-built bytes: SMB1 header, status names, 0xD7 with its
// MessageGroupId, AndX chains that loop, transactions; NetBIOS names; and random bytes
// through every parser (never a throw).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSmb } from '../src/protocols/smb/decode.js';
import { smbStatus } from '../src/protocols/smb/status.js';
import { decodeName, encodeName, formatName } from '../src/protocols/nbt/names.js';
import { parseNbns } from '../src/protocols/nbt/nbns-parse.js';
import { parseNbdgm } from '../src/protocols/nbt/nbdgm-parse.js';
import { parseNbssHeader, parseSessionRequest } from '../src/protocols/nbt/nbss-parse.js';
import { bytes, le16, smb } from './nbt-builder.js';

test('0xD7 TEXT_MB: MessageGroupId is a parameter word before ByteCount (MS-MSRP 2.2.3.3.1)', () => {
  const pdu = decodeSmb(smb(0xd7, [0x1234], bytes([1], le16(5), 'hello')), 'cp437');
  assert.ok(typeof pdu !== 'string');
  const body = pdu.commands[0]!.body;
  assert.equal(body.kind, 'text-mb');
  if (body.kind !== 'text-mb') return;
  assert.equal(body.groupId, 0x1234);
  assert.equal(Buffer.from(body.data!.value).toString(), 'hello');
  assert.equal(body.data!.dataLength, 5);
});

test('0xD0 SEND_MESSAGE fields and a DataLength longer than the bytes present', () => {
  const pdu = decodeSmb(smb(0xd0, [], bytes([4], 'FROM\0', [4], 'TO\0', [1], le16(50), 'short')), 'cp437');
  assert.ok(typeof pdu !== 'string');
  const b = pdu.commands[0]!.body;
  assert.ok(b.kind === 'send-message');
  if (b.kind !== 'send-message') return;
  assert.equal(Buffer.from(b.msg.originator!.value).toString(), 'FROM');
  assert.equal(Buffer.from(b.msg.destination!.value).toString(), 'TO');
  assert.equal(b.msg.data!.dataLength, 50);
  assert.equal(b.msg.data!.value.length, 5);
});

test('status names: NT, DOS, DOS wrapped in NT, unknown codes keep their number', () => {
  assert.deepEqual(smbStatus(0, true), { ok: true, name: 'STATUS_SUCCESS', nt: true });
  assert.equal(smbStatus(0xc0000022, true).name, 'STATUS_ACCESS_DENIED');
  assert.equal(smbStatus(0xc0000022, true).ok, false);
  assert.equal(smbStatus(0x02 | (82 << 16), false).name, 'ERRSRV/ERRmsgoff');
  assert.equal(smbStatus(0x01 | (71 << 16), false).name, 'ERRDOS/ERROR_REQ_NOT_ACCEP');
  assert.equal(smbStatus(0x02 | (0x1234 << 16), false).name, 'ERRSRV/0x1234');
  assert.equal(smbStatus(0xf1020052, true).name, 'ERRSRV/ERRmsgoff');
  assert.equal(smbStatus(0xc0001234, true).name, 'NT status 0xc0001234');
});

test('an AndX chain whose offset points backwards stops with a finding instead of looping', () => {
  const raw = smb(0x2e, [0x2e | (0 << 8), 32, 0, 0, 0, 0, 0, 0, 0, 0], new Uint8Array(0));
  const pdu = decodeSmb(raw, 'cp437');
  assert.ok(typeof pdu !== 'string');
  assert.equal(pdu.commands.length, 1);
  assert.ok(pdu.problems.some((p) => p.includes('AndXOffset')));
});

test('a transaction whose data offset lies outside the message is reported, not read', () => {
  const raw = smb(0x25, [0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 60000, 3, 1, 1, 2], bytes('\\MAILSLOT\\X\0'));
  const pdu = decodeSmb(raw, 'cp437');
  assert.ok(typeof pdu !== 'string');
  assert.ok(pdu.commands[0]!.problems.some((p) => p.includes('outside the message')));
});

test('NetBIOS names: first-level encoding, scope, suffix, compression pointer loops', () => {
  const enc = encodeName('MSGSRV', 0x03, 'corp.example');
  const n = decodeName(enc, 0, false);
  assert.ok(typeof n !== 'string');
  assert.equal(formatName(n, 'cp437'), 'MSGSRV<03>.corp.example');
  assert.equal(n.end, enc.length);
  assert.ok(n.wellFormed);
  const loop = Uint8Array.of(0xc0, 0x00);
  assert.equal(typeof decodeName(loop, 0, true), 'string');
  assert.equal(typeof decodeName(loop, 0, false), 'string');
  const bad = encodeName('X', 0);
  bad[1] = 0x5a; // 'Z' is outside 'A'..'P'
  const d = decodeName(bad, 0, false);
  assert.ok(typeof d !== 'string' && !d.wellFormed);
  const wild = decodeName(encodeName('*', 0), 0, false);
  assert.ok(typeof wild !== 'string' && formatName(wild, 'cp437') === '*<00>');
});

test('NBSS header: E bit, reserved bits, direct-hosted 24-bit length', () => {
  assert.deepEqual(parseNbssHeader(Uint8Array.of(0, 1, 0, 4), 0, false), { type: 0, flags: 1, length: 65540 });
  assert.equal(typeof parseNbssHeader(Uint8Array.of(0, 2, 0, 4), 0, false), 'string');
  assert.equal(typeof parseNbssHeader(Uint8Array.of(0x86, 0, 0, 0), 0, false), 'string');
  assert.deepEqual(parseNbssHeader(Uint8Array.of(0, 0x12, 0x34, 0x56), 0, true), { type: 0, flags: 0x12, length: 0x123456 });
  const req = parseSessionRequest(bytes(encodeName('A', 3), encodeName('B', 0)));
  assert.ok(typeof req !== 'string' && formatName(req.calling, 'cp437') === 'B<00>');
});

test('random bytes through every parser never throw', () => {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
  for (let i = 0; i < 3000; i++) {
    const len = rnd() + (i % 3) * 60;
    const b = Uint8Array.from({ length: len }, rnd);
    if (i % 2 === 0 && b.length >= 4) b.set([0xff, 0x53, 0x4d, 0x42]);
    if (i % 5 === 0 && b.length >= 5) b[4] = [0xd0, 0xd5, 0xd7, 0xd6, 0x25, 0xa2, 0x2f, 0x2e, 0x73, 0x75, 0x72][i % 11]!;
    decodeSmb(b, 'cp850');
    parseNbns(b);
    parseNbdgm(b);
    decodeName(b, 0, true);
    parseSessionRequest(b);
  }
});
