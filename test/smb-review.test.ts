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
