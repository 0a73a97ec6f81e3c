// stats' response times (src/analysis/stats.ts with src/analysis/pending-calls.ts): a DCE/RPC
// datagram call unanswered after the engine's response timeout is not matched later; the
// pending requests' bounds, when hit, are reported like the other tables' (`truncated`, and the
// report's warning).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatsCollector } from '../src/analysis/stats.js';
import { statsReport } from '../src/analysis/stats-report.js';
import type { Frame } from '../src/capture/frame.js';
import type { Layer, Packet } from '../src/model/packet.js';
import type { FieldDef, FieldValue } from '../src/model/fields.js';
import '../src/protocols/index.js';

const frameAt = (number: number, seconds: number): Frame => ({ number, tsSec: Math.floor(seconds), tsNsec: Math.round((seconds % 1) * 1e9), len: 90, caplen: 90, linkType: 1, data: new Uint8Array(0), interfaceId: 0 });

/** A layer that gives the command table's fields by name (undefined for the others). */
const layer = (name: string, fields: Record<string, FieldValue>): Layer => ({
  name, bytes: new Uint8Array(0), offset: 0, length: 0, tree: () => [],
  fieldValue: (def: FieldDef) => fields[def.name],
});

const packet = (number: number, seconds: number, layers: Layer[]): Packet => ({ frame: frameAt(number, seconds), layers, src: '', dst: '', findings: [] });

const ACTIVITY = '6b2d0c3e-1f0a-4c1e-9d55-0a1b2c3d4e5f';
/** A DCE/RPC datagram request (pkt_type 0) or response (2) of call `seq`. */
const cl = (ptype: number, seq: number): Layer => layer('dcerpc', { 'dcerpc.pkt_type': ptype, 'dcerpc.dg_act_id': ACTIVITY, 'dcerpc.dg_seqnum': seq, 'dcerpc.opnum': 0 });
/** An SMB request, or its response naming the request's frame. */
const smb = (responseTo?: number): Layer => layer('smb', { 'smb.cmd': 0x25, ...(responseTo !== undefined ? { 'smb.response_to': responseTo } : {}) });

const dcerpcRow = (c: StatsCollector): { requests: number; responses: number; matched: number } => {
  const row = c.report().commands.find((r) => r.protocol === 'dcerpc');
  assert.ok(row !== undefined);
  return { requests: row.requests, responses: row.responses, matched: row.matched };
};

test('stats: a DCE/RPC datagram call answered after the response timeout (60 s) is not matched; one answered within it is', () => {
  const c = new StatsCollector();
  c.packet(packet(1, 1000, [cl(0, 1)]));
  c.packet(packet(2, 1061, [cl(2, 1)])); // 61 s later: the engine finished the call unanswered at 60 s
  c.packet(packet(3, 1100, [cl(0, 2)]));
  c.packet(packet(4, 1159.5, [cl(2, 2)])); // 59.5 s: matched
  assert.deepEqual(dcerpcRow(c), { requests: 2, responses: 2, matched: 1 });
  const report = c.report();
  assert.ok(Math.abs(report.commands.find((r) => r.protocol === 'dcerpc')!.maxRt! - 59.5) < 1e-9);
  assert.deepEqual(report.truncated, []);
});

test('stats: an hour of unanswered datagram calls keeps no more than a minute of them, and hits no bound', () => {
  const c = new StatsCollector({ pendingCalls: 100 });
  // One call a second: at most ~61 pending at once, under the bound of 100.
  for (let s = 0; s < 3600; s++) c.packet(packet(s + 1, s, [cl(0, s)]));
  c.packet(packet(3601, 3600, [cl(2, 3599)]));
  assert.deepEqual(dcerpcRow(c), { requests: 3600, responses: 1, matched: 1 });
  assert.deepEqual(c.report().truncated, []);
});

test('stats: pending datagram calls beyond their bound go oldest first, and the report says the table was cut', () => {
  const c = new StatsCollector({ pendingCalls: 4 });
  for (let seq = 1; seq <= 10; seq++) c.packet(packet(seq, 1, [cl(0, seq)]));
  for (let seq = 1; seq <= 10; seq++) c.packet(packet(10 + seq, 2, [cl(2, seq)]));
  // Only the four latest requests were still there to be answered.
  assert.deepEqual(dcerpcRow(c), { requests: 10, responses: 10, matched: 4 });
  const collected = c.report();
  assert.deepEqual(collected.truncated, ['commands.pendingRequests']);
  assert.deepEqual(statsReport(collected, new Set(['commands'])).warnings, ['tables cut at their size limit: commands.pendingRequests']);
});

test('stats: frame-linked requests beyond their bound go lowest frame first, and the report says so', () => {
  const c = new StatsCollector({ pendingFrames: 3 });
  for (let f = 1; f <= 5; f++) c.packet(packet(f, f / 10, [smb()]));
  for (let f = 1; f <= 5; f++) c.packet(packet(5 + f, 1 + f / 10, [smb(f)]));
  const row = c.report().commands.find((r) => r.protocol === 'smb')!;
  assert.equal(row.requests, 5);
  assert.equal(row.responses, 5);
  assert.equal(row.matched, 3);
  assert.deepEqual(c.report().truncated, ['commands.pendingRequests']);
  // Within the bound: nothing said.
  const within = new StatsCollector({ pendingFrames: 5 });
  for (let f = 1; f <= 5; f++) within.packet(packet(f, f / 10, [smb()]));
  for (let f = 1; f <= 5; f++) within.packet(packet(5 + f, 1 + f / 10, [smb(f)]));
  assert.equal(within.report().commands.find((r) => r.protocol === 'smb')!.matched, 5);
  assert.deepEqual(within.report().truncated, []);
});
