// \MAILSLOT\MESSNGR over NetBIOS datagrams: the scapy-made fixture (compared with its
// sidecar), fragment reassembly by source and datagram id, malformed bodies, and NBNS
// <03> name events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dissect, exists, FIXTURES } from './helpers.js';
import { bytes, le16, smb, udp, writePcap } from './nbt-builder.js';
import { encodeName } from '../src/protocols/nbt/names.js';
import { parseMessngr } from '../src/protocols/smb/mailslot.js';
import type { MessageEvent, NameEvent } from '../src/model/events.js';

interface Side { messages: { from: string; to: string[]; text: string; status: string; frames: number[]; mailslot: string; nbdgm: { source_name: string; destination_name: string } }[] }

test('mailslot-messngr fixture: every datagram is a message, as the sidecar says', { skip: !exists(join(FIXTURES, 'mailslot-messngr.pcap')) }, async () => {
  const side = JSON.parse(readFileSync(join(FIXTURES, 'mailslot-messngr.json'), 'utf8')) as Side;
  const out = await dissect(join(FIXTURES, 'mailslot-messngr.pcap'), { oemCodepage: 'cp850' });
  const msgs = out.events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.equal(msgs.length, side.messages.length);
  side.messages.forEach((want, i) => {
    const got = msgs[i]!;
    assert.equal(got.protocol, 'mailslot');
    assert.equal(got.transport, 'udp/nbdgm/smb/mailslot');
    assert.equal(got.from, want.from);
    assert.deepEqual(got.to, want.to);
    assert.equal(got.text, want.text.replace(/\x14/g, '\n'));
    assert.equal(got.status, want.status);
    assert.deepEqual(got.frames, want.frames);
    assert.equal((got.details as { mailslot: string }).mailslot, want.mailslot);
    assert.equal((got.details as { destinationName: string }).destinationName, want.nbdgm.destination_name);
  });
  // The broadcast to '*' breaks MS-MSRP 3.2.4.4 (To MUST not begin with an asterisk).
  assert.ok(msgs.find((m) => m.to[0] === '*')!.findings.some((x) => x.id === 'mailslot.messngr.to-asterisk' && x.spec === 'MS-MSRP 3.2.4.4'));
  // Read view: nbdgm → smb → mailslot, with the decoded fields (tshark shows raw data here).
  const fr = out.frames[1]!;
  assert.deepEqual(fr.layers.slice(-3), ['nbdgm', 'smb', 'mailslot']);
  assert.equal(fr.protocol, 'SMB Mailslot');
  assert.equal(fr.fields['mailslot.name']?.[0], '\\mailslot\\messngr');
  assert.equal(fr.fields['mailslot.text']?.[0], 'lower-case mailslot name');
  assert.equal(fr.fields['nbdgm.source_name']?.[0], 'SENDERPC<00>');
});

function mailslotSmb(name: string, data: Uint8Array): Uint8Array {
  const nm = bytes(`${name}\0`);
  const dataOffset = 32 + 1 + 17 * 2 + 2 + nm.length;
  return smb(0x25, [0, data.length, 0, 0, 0, 0, 0, 0, 0, 0, 0, data.length, dataOffset, 3, 1, 1, 2], bytes(nm, data));
}

function datagram(type: number, flags: number, id: number, offset: number, src: string, dst: string, dstSuffix: number, user: Uint8Array, totalLength?: number): Uint8Array {
  const names = bytes(encodeName(src, 0), encodeName(dst, dstSuffix));
  const len = totalLength ?? names.length + user.length;
  return bytes([type, flags, id >> 8, id & 0xff, 10, 0, 0, 1, 0, 138, len >> 8, len & 0xff, offset >> 8, offset & 0xff], names, user);
}

test('NBDGM fragments (FIRST/MORE) are joined by source and datagram id, even out of order and interleaved', async () => {
  const body = bytes('SENDER\0RECIPIENT\0', 'z'.repeat(300), '\0');
  const user = mailslotSmb('\\MAILSLOT\\MESSNGR', body);
  const a = user.subarray(0, 150);
  const b = user.subarray(150, 300);
  const c = user.subarray(300);
  const other = mailslotSmb('\\MAILSLOT\\MESSNGR', bytes('X\0Y\0lone\0'));
  const frames = [
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x10, 0x03, 77, 0, 'SENDER', 'RECIPIENT', 3, a)),
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x10, 0x02, 78, 0, 'X', 'Y', 3, other)),
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x10, 0x00, 77, 300, 'SENDER', 'RECIPIENT', 3, c)),
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x10, 0x01, 77, 150, 'SENDER', 'RECIPIENT', 3, b)),
  ];
  const out = await dissect(writePcap(frames));
  const msgs = out.events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.deepEqual(msgs.map((m) => [m.from, m.text.length, m.frames]), [['X', 4, [2]], ['SENDER', 300, [1, 3, 4]]]);
  assert.equal(out.frames[3]!.fields['nbdgm.fragments']?.[0], '1, 3, 4');
});

test('a fragment series that never completes is reported at the end', async () => {
  const user = mailslotSmb('\\MAILSLOT\\MESSNGR', bytes('A\0B\0never finished\0'));
  const out = await dissect(writePcap([udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x10, 0x03, 5, 0, 'A', 'B', 3, user.subarray(0, 40)))]));
  assert.ok(out.events.some((e) => e.kind === 'finding' && e.findings[0]!.id === 'nbdgm.fragments-incomplete'));
  assert.ok(!out.events.some((e) => e.kind === 'message'));
});

test('MESSNGR findings: a datagram to a name that is not <03>, names over 15 bytes, text over 652, no separators', async () => {
  const frames = [
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x10, 0x02, 1, 0, 'A', 'B', 0x20, mailslotSmb('\\MAILSLOT\\MESSNGR', bytes('A\0B\0to a server name\0')))),
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x10, 0x02, 2, 0, 'A', 'B', 3, mailslotSmb('\\MAILSLOT\\MESSNGR', bytes('A-VERY-LONG-SENDER\0B\0', 'w'.repeat(700), '\0')))),
    udp('10.0.0.1', 138, '10.0.0.2', 138, datagram(0x10, 0x02, 3, 0, 'A', 'B', 3, mailslotSmb('\\MAILSLOT\\MESSNGR', bytes('no separators at all')))),
  ];
  const out = await dissect(writePcap(frames));
  const msgs = out.events.filter((e): e is MessageEvent => e.kind === 'message');
  const ids = msgs.map((m) => m.findings.map((x) => x.id));
  assert.ok(ids[0]!.includes('mailslot.messngr.to-not-messenger-name'));
  assert.ok(ids[1]!.includes('mailslot.messngr.name-too-long'));
  assert.ok(ids[1]!.includes('mailslot.messngr.text-too-long'));
  assert.ok(ids[2]!.includes('mailslot.messngr.malformed'));
});

test('other mailslots are labelled; \\MAILSLOT\\BROWSE gets the browser layer and no message', async () => {
  const announce = bytes([0x01, 0x00, 0x60, 0xea, 0, 0], 'SERVERNAME\0\0\0\0\0\0', new Uint8Array(10));
  const frames = [udp('10.0.0.1', 138, '10.0.0.255', 138, datagram(0x11, 0x02, 9, 0, 'SERVERNAME', 'WORKGROUP', 0x1d, mailslotSmb('\\MAILSLOT\\BROWSE', announce)))];
  const out = await dissect(writePcap(frames));
  assert.deepEqual(out.frames[0]!.layers.slice(-4), ['nbdgm', 'smb', 'mailslot', 'browser']);
  assert.equal(out.frames[0]!.info, 'Host Announcement SERVERNAME');
  assert.ok(!out.events.some((e) => e.kind === 'message'));
});

test('parseMessngr splits From, To and Text at NULs and counts the terminators', () => {
  const p = parseMessngr(bytes('FROM\0TO\0text here\0'));
  assert.deepEqual([Buffer.from(p.from).toString(), Buffer.from(p.to).toString(), Buffer.from(p.text).toString(), p.terminators], ['FROM', 'TO', 'text here', 3]);
  assert.equal(parseMessngr(bytes('FROM\0TO\0unterminated')).terminators, 2);
  assert.equal(parseMessngr(new Uint8Array(0)).terminators, 0);
});

function nbnsName(name: string, suffix: number): Uint8Array {
  return encodeName(name, suffix);
}

test('NBNS: a <03> registration, its WACK and positive response are one name event; a broadcast query without answer is no-response', async () => {
  const reg = bytes([0x12, 0x34, 0x29, 0x00, 0, 1, 0, 0, 0, 0, 0, 1], nbnsName('ALICE', 3), [0, 0x20, 0, 1], [0xc0, 12, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0, 0, 10, 0, 0, 1]);
  const wack = bytes([0x12, 0x34, 0xbc, 0x00, 0, 0, 0, 1, 0, 0, 0, 0], nbnsName('ALICE', 3), [0, 0x20, 0, 1, 0, 0, 0, 10, 0, 2, 0x29, 0x00]);
  const ok = bytes([0x12, 0x34, 0xad, 0x80, 0, 0, 0, 1, 0, 0, 0, 0], nbnsName('ALICE', 3), [0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0, 0, 10, 0, 0, 1]);
  const query = bytes([0x00, 0x07, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0], nbnsName('BOB', 3), [0, 0x20, 0, 1]);
  const out = await dissect(writePcap([
    udp('10.0.0.1', 137, '10.0.0.9', 137, reg),
    udp('10.0.0.9', 137, '10.0.0.1', 137, wack),
    udp('10.0.0.9', 137, '10.0.0.1', 137, ok),
    udp('10.0.0.1', 137, '10.0.0.255', 137, query),
  ]));
  const names = out.events.filter((e): e is NameEvent => e.kind === 'name');
  assert.deepEqual(names.map((n) => [n.operation, n.name, n.result?.name, n.frames]), [
    ['register', 'ALICE<03>', 'ok', [1, 2, 3]],
    ['query', 'BOB<03>', 'no-response', [4]],
  ]);
  assert.equal((names[0]!.details as { address: string }).address, '10.0.0.1');
  assert.equal(out.frames[0]!.info, 'Registration NB ALICE<03>');
  assert.equal(out.frames[0]!.fields['nbns.flags.opcode']?.[0], 5);
  void le16;
});

test('NBNS: unanswered broadcast registrations and releases are unknown (nobody answers them); to a name server they are no-response', async () => {
  // Opcode 5 registration, 6 release; flags 0x0010 broadcast. RR: the name, NB, TTL, 6 bytes of NB data.
  const rr = (name: string): Uint8Array => bytes(nbnsName(name, 3), [0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0, 0, 10, 0, 0, 1]);
  const req = (id: number, opcode: number, broadcast: boolean, name: string): Uint8Array =>
    bytes([id >> 8, id & 0xff, (opcode << 3) | 0x01, broadcast ? 0x10 : 0x00, 0, 1, 0, 0, 0, 0, 0, 1], nbnsName(name, 3), [0, 0x20, 0, 1], rr(name));
  const out = await dissect(writePcap([
    udp('10.0.0.1', 137, '10.0.0.255', 137, req(1, 5, true, 'CAROL')),
    udp('10.0.0.1', 137, '10.0.0.255', 137, req(2, 6, true, 'CAROL')),
    udp('10.0.0.1', 137, '10.0.0.9', 137, req(3, 5, false, 'DAVE')),
    // A B-node whose name server stays silent falls back to broadcast with the same transaction.
    udp('10.0.0.1', 137, '10.0.0.9', 137, req(4, 5, false, 'ERIN')),
    udp('10.0.0.1', 137, '10.0.0.255', 137, req(4, 5, true, 'ERIN')),
  ]));
  const names = out.events.filter((e): e is NameEvent => e.kind === 'name').sort((a, b) => a.frames[0]! - b.frames[0]!);
  assert.deepEqual(names.map((n) => [n.operation, n.name, n.result?.name]), [
    ['register', 'CAROL<03>', 'unknown'],
    ['release', 'CAROL<03>', 'unknown'],
    ['register', 'DAVE<03>', 'no-response'],
    ['register', 'ERIN<03>', 'unknown'],
  ]);
});
