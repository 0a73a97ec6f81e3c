// Regressions found in review: bounds on one SMB messenger group.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissect } from './helpers.js';
import { bytes, Conversation, le16, nbss, sessionRequest, smb, writePcap } from './nbt-builder.js';
import type { MessageEvent } from '../src/model/events.js';

test('a SEND_START_MB group flooded with empty TEXT_MB blocks is cut at the PDU bound, not grown without limit', async () => {
  const c = new Conversation('10.0.0.1', 3100, '10.0.0.2', 139).send(0, sessionRequest('MSGSRV', 0x03, 'CALLER')).send(1, nbss(0x82, new Uint8Array(0)));
  c.send(0, nbss(0, smb(0xd5, [], bytes([4], 'A\0', [4], 'B\0'))));
  // 3000 zero-length blocks, one per segment (each adds a frame to the group).
  const empty = nbss(0, smb(0xd7, [1], bytes([1], le16(0))));
  for (let i = 0; i < 3000; i++) c.send(0, empty);
  c.send(0, nbss(0, smb(0xd6, [1], new Uint8Array(0)))).close();
  const d = await dissect(writePcap(c.frames));
  const msgs = d.events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.ok(msgs.length >= 2, `${msgs.length} messages`);
  for (const m of msgs) {
    assert.ok(m.frames.length <= 1100, `${m.frames.length} frames in one message`);
    assert.ok((m.details?.commands as string[]).length <= 1024);
  }
  assert.ok(msgs[0]!.findings.some((x) => x.id === 'smb.msg.group-limit'));
  assert.equal(msgs[0]!.status, 'unknown');
});

test('a group whose text passes 64 KiB carries one smb.msg.group-limit finding, not one per later block', async () => {
  const c = new Conversation('10.0.0.1', 3101, '10.0.0.2', 139).send(0, sessionRequest('MSGSRV', 0x03, 'CALLER')).send(1, nbss(0x82, new Uint8Array(0)));
  c.send(0, nbss(0, smb(0xd5, [], bytes([4], 'A\0', [4], 'B\0'))));
  c.send(1, nbss(0, smb(0xd5, [1], new Uint8Array(0), { response: true })));
  const text = 'x'.repeat(128);
  const block = nbss(0, smb(0xd7, [1], bytes([1], le16(text.length), text)));
  // 1000 blocks of 128 bytes: 125 KiB, past the 64 KiB bound after 512 of them.
  for (let i = 0; i < 1000; i++) c.send(0, block);
  c.send(0, nbss(0, smb(0xd6, [1], new Uint8Array(0)))).close();
  const d = await dissect(writePcap(c.frames));
  const msgs = d.events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]!.findings.filter((x) => x.id === 'smb.msg.group-limit').length, 1);
  const perPacket = d.frames.flatMap((p) => p.findings).filter((x) => x.id === 'smb.msg.group-limit');
  assert.equal(perPacket.length, 1);
});
