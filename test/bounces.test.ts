// Bounces quoted short (issue 13): routers quote the IP header and 8 bytes (RFC 792) up to 576
// bytes in all (RFC 1812), so the quote may hold the whole request, a header cut short or no
// application byte at all. Each must still fail its message, matched on the quoted IP header
// and ports when the DCE/RPC activity and sequence number are not there; and a request whose
// header length lies is decoded, with the length reported, not hidden as plain UDP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dissect, exists, FIXTURES, hasTshark, publicCapture } from './helpers.js';
import type { MessageEvent } from '../src/model/events.js';
import { CL_HEADER_LEN, looksLikeCl, parseClHeaderPrefix } from '../src/protocols/dcerpc/cl-parse.js';

interface Want {
  protocol: string;
  transport: string;
  case: string;
  from: string;
  to: string[];
  text: string;
  status: string;
  error?: string;
  frames: number[];
  icmp_type?: number;
  icmp_code?: number;
  quoted_udp_payload_bytes?: number;
}

const PCAP = `${FIXTURES}/bounce-quotes.pcap`;
const want = (): Want[] => (JSON.parse(readFileSync(`${FIXTURES}/bounce-quotes.json`, 'utf8')) as { messages: Want[] }).messages;

test('bounce-quotes: every message has the fate its sidecar says, whatever the length of the quote', { skip: !exists(PCAP) }, async () => {
  const { events } = await dissect(PCAP);
  const messages = events.filter((e): e is MessageEvent => e.kind === 'message').sort((a, b) => a.frames[0]! - b.frames[0]!);
  const expected = want();
  assert.equal(messages.length, expected.length);
  for (const [i, w] of expected.entries()) {
    const g = messages[i]!;
    const where = `${w.case} (frame ${w.frames[0]})`;
    assert.equal(g.protocol, w.protocol, where);
    assert.equal(g.transport, w.transport, where);
    assert.equal(g.from, w.from, where);
    assert.deepEqual(g.to, w.to, where);
    assert.equal(g.text, w.text, where);
    assert.equal(g.status, w.status, where);
    assert.equal(g.error, w.error, where);
    assert.deepEqual(g.frames, w.frames, where);
    if (w.icmp_type !== undefined) {
      assert.equal(g.details?.['icmpType'], w.icmp_type, where);
      assert.equal(g.details?.['icmpCode'], w.icmp_code, where);
    }
  }
  const quotes = new Set(expected.filter((w) => w.quoted_udp_payload_bytes !== undefined).map((w) => w.quoted_udp_payload_bytes));
  for (const q of [0, 64, 520]) assert.ok(quotes.has(q), `a quote of ${q} UDP payload bytes`);
});

test('bounce-quotes: the request whose header length lies is decoded, and the length reported', { skip: !exists(PCAP) }, async () => {
  const { events, frames } = await dissect(PCAP);
  const liar = events.find((e): e is MessageEvent => e.kind === 'message' && e.from === 'LIAR');
  assert.ok(liar !== undefined, 'the request is a message, not plain UDP');
  assert.ok(liar.findings.some((x) => x.id === 'dcerpc.cl.truncated' && /16384/.test(x.summary)), 'the lying length is a finding');
  const frame = frames.find((p) => p.number === liar.frames[0]);
  assert.ok(frame?.findings.some((x) => x.id === 'dcerpc.cl.truncated'));
  if (hasTshark()) {
    const r = spawnSync('tshark', ['-r', PCAP, '-Y', `frame.number == ${liar.frames[0]}`, '-T', 'fields', '-e', '_ws.col.Protocol'], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), 'Messenger', 'tshark decodes it as Messenger too');
  }
});

test('the read view shows what a cut-short quote holds of the CL header', { skip: !exists(PCAP) }, async () => {
  const { frames } = await dissect(PCAP);
  const partial = frames.find((p) => p.number === 4)!;
  assert.deepEqual(partial.layers, ['eth', 'ip', 'icmp', 'ip', 'udp', 'dcerpc']);
  assert.equal(partial.fields['dcerpc.dg_act_id']?.length, 1, 'the activity is in the quote');
  assert.equal(partial.fields['dcerpc.dg_seqnum'], undefined, 'the sequence number is not');
  const short = frames.find((p) => p.number === 2)!;
  assert.deepEqual(short.layers, ['eth', 'ip', 'icmp', 'ip', 'udp'], 'an 8-byte quote has no DCE/RPC byte');
});

test('SkypeIRC.cap: the two real bounces fail their NetrSendMessage with the ICMP frame', { skip: !exists(publicCapture('ajbanjara__Wireshark/SkypeIRC.cap')) }, async () => {
  const { events } = await dissect(publicCapture('ajbanjara__Wireshark/SkypeIRC.cap'));
  const m = events.filter((e): e is MessageEvent => e.kind === 'message');
  assert.deepEqual(m.map((e) => [e.frames, e.status, e.error, e.details?.['icmpType'], e.details?.['icmpCode']]), [
    [[1605, 1606], 'error', 'ICMP Port unreachable', 3, 3],
    [[1607, 1608], 'error', 'ICMP Port unreachable', 3, 3],
  ]);
});

for (const [name, request, icmp] of [['FTPv6-1.cap', 301, 302], ['packet_capture.pcap', 3088, 3089]] as const) {
  const path = publicCapture(`ajbanjara__Wireshark/${name}`);
  test(`${name}: the real bounce quoting 8 UDP bytes fails its NetrSendMessage`, { skip: !exists(path) }, async () => {
    const { events } = await dissect(path);
    const m = events.filter((e): e is MessageEvent => e.kind === 'message' && e.protocol === 'msrp');
    assert.deepEqual(m.map((e) => [e.frames, e.status, e.error, e.details?.['icmpType'], e.details?.['icmpCode']]), [[[request, icmp], 'error', 'ICMP Port unreachable', 3, 3]]);
  });
}

test('connectionless header recognition: fixed fields, a lying length, a header cut short', () => {
  const h = new Uint8Array(CL_HEADER_LEN + 10);
  h[0] = 4; h[1] = 0; h[4] = 0x10; h[5] = 0;
  h[74] = 10; // body length 10, little-endian
  assert.equal(looksLikeCl(h), true);
  h[74] = 0; h[75] = 0x40; // 16384: lies
  assert.equal(looksLikeCl(h), true, 'recognised by its fixed fields, the length reported later');
  h[6] = 7; // the reserved drep byte set as well: not enough evidence with a lying length
  assert.equal(looksLikeCl(h), false);
  h[6] = 0; h[1] = 11; // unknown PDU type
  assert.equal(looksLikeCl(h), false);
  h[1] = 0;
  for (let i = 40; i < 56; i++) h[i] = i;
  h[64] = 9;
  const cut = parseClHeaderPrefix(h.subarray(0, 64));
  assert.equal(cut?.present, 64);
  assert.ok(cut?.activity !== undefined);
  assert.equal(cut?.seq, undefined, 'the sequence number starts at byte 64');
  assert.equal(parseClHeaderPrefix(h.subarray(0, 68))?.seq, 9);
  assert.equal(parseClHeaderPrefix(h.subarray(0, 5)), undefined, 'the drep byte is a fixed field');
});
