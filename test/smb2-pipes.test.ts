// SMB2/3: compound splitting, transform headers labelled as encrypted, IOCTL
// FSCTL_PIPE_TRANSCEIVE and async responses feeding the pipe consumer — through Smb2Session
// directly — and the impacket SMB2 fixture end to end with its commands checked against tshark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { u16, u32 } from './capture-builders.js';
import { dissect, exists, FIXTURES, hasTshark } from './helpers.js';
import { splitCompound, parseTransform } from '../src/protocols/smb2/parse.js';
import { Smb2Session } from '../src/protocols/smb2/session.js';
import { DEFAULT_OPTIONS, type EngineContext, type TcpConversationInfo } from '../src/engine/context.js';
import type { PipeConsumerFactory } from '../src/engine/seams.js';
import type { Packet } from '../src/model/packet.js';

function hdr(o: { cmd: number; resp?: boolean; status?: number; msgId: number; next?: number; flags?: number; tree?: number; asyncId?: number }): number[] {
  const flags = (o.resp === true ? 1 : 0) | (o.flags ?? 0) | (o.asyncId !== undefined ? 2 : 0);
  const tail = o.asyncId !== undefined ? [...u32(o.asyncId, true), ...u32(0, true)] : [...u32(0xfeff, true), ...u32(o.tree ?? 1, true)];
  return [0xfe, 0x53, 0x4d, 0x42, ...u16(64, true), ...u16(0, true), ...u32(o.status ?? 0, true), ...u16(o.cmd, true), ...u16(1, true), ...u32(flags, true),
    ...u32(o.next ?? 0, true), ...u32(o.msgId, true), ...u32(0, true), ...tail, ...u32(1, true), ...u32(0, true), ...new Array<number>(16).fill(0)];
}

const FID = [...u32(7, true), ...u32(0, true), ...u32(9, true), ...u32(0, true)];

function treeReq(msgId: number): number[] {
  const path = [...Buffer.from('\\\\srv\\IPC$', 'utf16le')];
  return [...hdr({ cmd: 3, msgId }), ...u16(9, true), ...u16(0, true), ...u16(72, true), ...u16(path.length, true), ...path];
}
function treeResp(msgId: number): number[] {
  return [...hdr({ cmd: 3, resp: true, msgId, tree: 1 }), ...u16(16, true), 2, 0, ...u32(0, true), ...u32(0, true), ...u32(0, true)];
}
function createReq(msgId: number, next = 0): number[] {
  const name = [...Buffer.from('msgsvc', 'utf16le')];
  const body = [...u16(57, true), 0, 0, ...u32(2, true), ...new Array<number>(16).fill(0), ...u32(0x12019f, true), ...u32(0, true), ...u32(3, true), ...u32(1, true), ...u32(0, true),
    ...u16(120, true), ...u16(name.length, true), ...u32(0, true), ...u32(0, true), ...name];
  const out = [...hdr({ cmd: 5, msgId, next }), ...body];
  while (next !== 0 && out.length < next) out.push(0);
  return out;
}
function createResp(msgId: number, next = 0): number[] {
  const out = [...hdr({ cmd: 5, resp: true, msgId, next }), ...u16(89, true), 0, 0, ...u32(1, true), ...new Array<number>(56).fill(0), ...FID, ...u32(0, true), ...u32(0, true), 0];
  while (next !== 0 && out.length < next) out.push(0);
  return out;
}
function ioctlReq(msgId: number, input: number[], related = false): number[] {
  const fid = related ? new Array<number>(16).fill(0xff) : FID;
  return [...hdr({ cmd: 11, msgId, flags: related ? 4 : 0 }), ...u16(57, true), ...u16(0, true), ...u32(0x0011c017, true), ...fid, ...u32(120, true), ...u32(input.length, true),
    ...u32(0, true), ...u32(0, true), ...u32(0, true), ...u32(1024, true), ...u32(1, true), ...u32(0, true), ...input];
}
function ioctlResp(msgId: number, output: number[], asyncId?: number, status = 0): number[] {
  return [...hdr({ cmd: 11, resp: true, msgId, asyncId, status }), ...u16(49, true), ...u16(0, true), ...u32(0x0011c017, true), ...FID, ...u32(112, true), ...u32(0, true), ...u32(112, true),
    ...u32(output.length, true), ...u32(0, true), ...u32(0, true), ...output];
}

function harness() {
  const got: { dir: number; bytes: number[]; frames: number[] }[] = [];
  let opened = '';
  const consumer: PipeConsumerFactory = {
    name: 'probe',
    accepts: () => true,
    open: (route) => {
      opened = `${route.transport}|${route.pipe}`;
      return { data: (dir, b, frames) => got.push({ dir, bytes: [...b], frames }), end: () => undefined };
    },
  };
  const packet: Packet = { frame: { number: 1, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, linkType: 1, data: new Uint8Array(0), interfaceId: 0 }, layers: [], src: '', dst: '', findings: [] };
  const ctx: EngineContext = { options: DEFAULT_OPTIONS, packet, emit: () => undefined, packetFinding: (x) => packet.findings.push(x), standaloneFinding: () => undefined, schedule: () => ({ cancel: () => undefined }) };
  const conv: TcpConversationInfo = { index: 0, addr: ['a', 'b'], port: [1, 445], endpoint: ['a:1', 'b:445'], sawHandshake: true };
  const s = new Smb2Session({ conv, transport: 'tcp/nbss' }, ctx, [consumer]);
  let frame = 0;
  const send = (dir: 0 | 1, b: number[]) => s.message({ dir, bytes: Uint8Array.from(b), frames: [++frame], tsSec: 0, tsNsec: 0 });
  return { s, send, got, packet, opened: () => opened };
}

test('compounded CREATE + related IOCTL transceive: the related FileId reaches the pipe; async response waits', () => {
  const h = harness();
  h.send(0, treeReq(1));
  h.send(1, treeResp(1));
  const first = createReq(2, 136);
  h.send(0, [...first, ...ioctlReq(3, [5, 0, 11, 3], true)]);
  h.send(1, [...createResp(2, 160), ...ioctlResp(3, [], 0x77, 0x103)]);
  h.send(1, ioctlResp(3, [5, 0, 12, 3], 0x77));
  assert.equal(h.opened(), 'tcp/nbss/smb2/pipe|msgsvc');
  assert.deepEqual(h.got.map((g) => [g.dir, g.bytes]), [[0, [5, 0, 11, 3]], [1, [5, 0, 12, 3]]]);
  assert.deepEqual(h.got[1]!.frames, [5]);
});

test('split compound checks NextCommand bounds', () => {
  const ok = splitCompound(Uint8Array.from([...createReq(1, 136), ...createReq(2)]));
  assert.equal(ok.parts.length, 2);
  assert.equal(ok.error, undefined);
  const bad = Uint8Array.from(createReq(1));
  bad[20] = 0xf0; // NextCommand past the end
  assert.ok(splitCompound(bad).error !== undefined);
});

test('0xFD transform header is labelled as encrypted, not decoded', () => {
  const h = harness();
  const t = Uint8Array.from([0xfd, 0x53, 0x4d, 0x42, ...new Array<number>(32).fill(1), ...u32(200, true), 0, 0, ...u16(1, true), ...u32(0x55, true), ...u32(0, true), ...new Array<number>(40).fill(9)]);
  const p = parseTransform(t);
  assert.ok(typeof p !== 'string' && p.kind === 'encrypted');
  h.s.message({ dir: 0, bytes: t, frames: [1], tsSec: 0, tsNsec: 0 });
  assert.match(h.packet.layers[0]!.info ?? '', /^Encrypted SMB3 \(session 0x55\), 40 bytes/);
  assert.equal(h.got.length, 0);
});

test('truncated and malformed SMB2 messages give findings, never a crash', () => {
  const h = harness();
  const full = createReq(9);
  for (let cut = 0; cut < full.length; cut += 5) h.s.message({ dir: 0, bytes: Uint8Array.from([0xfe, 0x53, 0x4d, 0x42, ...full.slice(4, cut)]), frames: [1], tsSec: 0, tsNsec: 0 });
  assert.ok(h.packet.findings.some((x) => x.id === 'smb2.malformed'));
});

test('msgsvc-smb2 fixture: SMB2 commands agree with tshark, pipe traffic decoded as DCE/RPC', { skip: !hasTshark() }, async () => {
  const path = `${FIXTURES}/msgsvc-smb2.pcap`;
  if (!exists(path)) return;
  const r = spawnSync('tshark', ['-r', path, '-Y', 'smb2', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', '-e', 'frame.number', '-e', 'smb2.cmd', '-e', 'smb2.msg_id', '-e', 'smb2.nt_status'], { encoding: 'utf8' });
  const rows = r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
  const d = await dissect(path);
  assert.ok(rows.length > 20);
  for (const row of rows) {
    const f = d.frames[Number(row[0]) - 1]!.fields;
    const status = f['smb2.nt_status'] === undefined ? '' : `0x${Number(f['smb2.nt_status'][0]).toString(16).padStart(8, '0')}`;
    assert.deepEqual([String(f['smb2.cmd']?.[0]), String(f['smb2.msg_id']?.[0]), status], row.slice(1), `frame ${row[0]}`);
  }
  assert.ok(d.frames.filter((x) => x.layers.includes('dcerpc')).length >= 20);
});
