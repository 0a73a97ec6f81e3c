// Connectionless DCE/RPC: header parsing in both byte orders, fragments in any order with
// duplicates and missing ones, request ↔ response/fault/reject/ICMP matching — on hand-built
// datagrams and on the real captures, with DCE/RPC header fields compared against tshark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { bytes, decodeFrames, eth, ipv4, udp, u16, u32 } from './capture-builders.js';
import { dissect, exists, FIXTURES, hasTshark, publicCapture } from './helpers.js';
import { looksLikeCl, parseClHeader } from '../src/protocols/dcerpc/cl-parse.js';
import type { MessageEvent, TimelineEvent } from '../src/model/events.js';

const MSGSVCSEND = [0xf8, 0x91, 0x7b, 0x5a, 0x00, 0xff, 0xd0, 0x11, 0xa9, 0xb2, 0x00, 0xc0, 0x4f, 0xb6, 0xe6, 0xfc];
const MSGSVCSEND_BE = [0x5a, 0x7b, 0x91, 0xf8, 0xff, 0x00, 0x11, 0xd0, 0xa9, 0xb2, 0x00, 0xc0, 0x4f, 0xb6, 0xe6, 0xfc];

interface Cl {
  ptype: number;
  flags1?: number;
  le?: boolean;
  act?: number;
  seq?: number;
  fragnum?: number;
  opnum?: number;
  body: Uint8Array;
}

function cl(o: Cl): Uint8Array {
  const le = o.le ?? true;
  const act = Array.from({ length: 16 }, (_, i) => (i === 0 ? o.act ?? 1 : i));
  return bytes(
    [4, o.ptype, o.flags1 ?? 0x28, 0, le ? 0x10 : 0, 0, 0, 0],
    new Array<number>(16).fill(0),
    le ? MSGSVCSEND : MSGSVCSEND_BE,
    act,
    u32(0, le), u32(1, le), u32(o.seq ?? 0, le), u16(o.opnum ?? 0, le), u16(0xffff, le), u16(0xffff, le), u16(o.body.length, le), u16(o.fragnum ?? 0, le),
    [0, 0],
    o.body,
  );
}

function ndrString(s: string, le = true): number[] {
  const chars = [...Buffer.from(s, 'latin1'), 0];
  const out = [...u32(chars.length, le), ...u32(0, le), ...u32(chars.length, le), ...chars];
  while (out.length % 4 !== 0) out.push(0);
  return out;
}

function sendStub(from: string, to: string, text: string, le = true): Uint8Array {
  return Uint8Array.from([...ndrString(from, le), ...ndrString(to, le), ...ndrString(text, le)]);
}

const CLIENT = [192, 0, 2, 1];
const SERVER = [192, 0, 2, 2];

function toServer(pdu: Uint8Array, sport = 40000, dport = 1026): Uint8Array {
  return eth(0x0800, ipv4({ proto: 17, src: CLIENT, dst: SERVER }, udp(sport, dport, pdu)));
}

function toClient(pdu: Uint8Array, sport = 1026, dport = 40000): Uint8Array {
  return eth(0x0800, ipv4({ proto: 17, src: SERVER, dst: CLIENT }, udp(sport, dport, pdu)));
}

function messages(events: TimelineEvent[]): MessageEvent[] {
  return events.filter((e): e is MessageEvent => e.kind === 'message');
}

test('header parses in both byte orders; heuristic rejects non-DCE/RPC', () => {
  for (const le of [true, false]) {
    const h = parseClHeader(cl({ ptype: 0, le, seq: 7, opnum: 0, body: sendStub('A', 'B', 'C', le) }));
    assert.ok(typeof h !== 'string');
    assert.equal(h.ifId, '5a7b91f8-ff00-11d0-a9b2-00c04fb6e6fc');
    assert.equal(h.seq, 7);
    assert.equal(h.ifVersion, 1);
    assert.equal(h.drep.little, le);
  }
  assert.equal(looksLikeCl(new Uint8Array(100)), false);
  assert.equal(looksLikeCl(bytes([5], new Array<number>(100).fill(0))), false);
});

test('fragments out of order with a duplicate join into one message; frames listed', () => {
  const stub = sendStub('NOC', 'MSGSRV', 'x'.repeat(300));
  const parts = [stub.subarray(0, 120), stub.subarray(120, 240), stub.subarray(240)];
  const frag = (n: number) => toServer(cl({ ptype: 0, flags1: 0x2c | (n === 2 ? 2 : 0), fragnum: n, body: parts[n]! }));
  const { events, packets } = decodeFrames([{ data: frag(2) }, { data: frag(0) }, { data: frag(0) }, { data: frag(1) }, { data: toClient(cl({ ptype: 2, flags1: 0, body: Uint8Array.from(u32(0, true)) })) }]);
  const m = messages(events);
  assert.equal(m.length, 1);
  assert.equal(m[0]!.text, 'x'.repeat(300));
  assert.equal(m[0]!.status, 'ok');
  assert.deepEqual(m[0]!.frames, [1, 2, 3, 4, 5]);
  assert.ok(packets[2]!.findings.some((x) => x.id === 'dcerpc.cl.duplicate-fragment'));
  assert.equal(packets[3]!.protocol, 'MSRP');
});

test('a missing fragment is reported at the end of the capture, never as a message', () => {
  const stub = sendStub('NOC', 'MSGSRV', 'y'.repeat(300));
  const { events } = decodeFrames([
    { data: toServer(cl({ ptype: 0, flags1: 0x2c, fragnum: 0, body: stub.subarray(0, 100) })) },
    { data: toServer(cl({ ptype: 0, flags1: 0x2e, fragnum: 2, body: stub.subarray(200) })) },
  ]);
  assert.equal(messages(events).length, 0);
  const f = events.flatMap((e) => e.findings).find((x) => x.id === 'dcerpc.cl.fragments-incomplete');
  assert.ok(f !== undefined);
  assert.match(f.summary, /missing fragment\(s\) 1/);
  assert.equal(f.frame, 1);
});

test('fault, reject and no answer give error / error / no-response', () => {
  const req = (act: number) => toServer(cl({ ptype: 0, act, body: sendStub('A', 'B', 'hi') }));
  const { events } = decodeFrames([
    { data: req(1) },
    { data: toClient(cl({ ptype: 3, act: 1, flags1: 0, body: Uint8Array.from(u32(0x1c010002, true)) })) },
    { data: req(2) },
    { data: toClient(cl({ ptype: 6, act: 2, flags1: 0, body: Uint8Array.from(u32(0x1c010003, true)) })) },
    { data: req(3) },
  ]);
  const m = messages(events);
  assert.deepEqual(m.map((x) => [x.status, x.error]), [['error', 'nca_s_op_rng_error'], ['error', 'nca_s_unk_if'], ['no-response', undefined]]);
  assert.deepEqual(m[1]!.frames, [3, 4]);
});

test('an ICMP-quoted copy bounces the pending request and is not a second message', () => {
  const pdu = cl({ ptype: 0, body: sendStub('SPAM', 'YOU', 'buy now') });
  const req = ipv4({ proto: 17, src: CLIENT, dst: SERVER }, udp(40000, 1027, pdu));
  const icmp = bytes([3, 3, 0, 0, 0, 0, 0, 0], req);
  const { events, packets } = decodeFrames([{ data: eth(0x0800, req) }, { data: eth(0x0800, ipv4({ proto: 1, src: SERVER, dst: CLIENT }, icmp)) }]);
  const m = messages(events);
  assert.equal(m.length, 1);
  assert.equal(m[0]!.status, 'error');
  assert.match(m[0]!.error ?? '', /Port unreachable/);
  assert.deepEqual(m[0]!.frames, [1, 2]);
  assert.equal(packets[1]!.protocol, 'ICMP');
});

test('a quoted copy whose original is not in the capture is one message, marked quoted-only', () => {
  const pdu = cl({ ptype: 0, body: sendStub('SPAM', 'YOU', 'only the bounce') });
  const icmp = bytes([3, 3, 0, 0, 0, 0, 0, 0], ipv4({ proto: 17, src: CLIENT, dst: SERVER }, udp(40000, 1027, pdu)));
  const { events } = decodeFrames([{ data: eth(0x0800, ipv4({ proto: 1, src: SERVER, dst: CLIENT }, icmp)) }]);
  const m = messages(events);
  assert.equal(m.length, 1);
  assert.equal(m[0]!.text, 'only the bounce');
  assert.ok(m[0]!.findings.some((x) => x.id === 'dcerpc.cl.bounce-unmatched'));
});

test('garbage that passes the header check never crashes and yields findings', () => {
  const junk = bytes([4, 1, 1, 1, 1, 1, 1, 1], new Array<number>(72).fill(1), new Array<number>(300).fill(1));
  const { packets } = decodeFrames([{ data: toServer(junk, 1025, 1434) }]);
  assert.ok(packets[0]!.findings.some((x) => x.id === 'dcerpc.cl.unexpected-body'));
  for (let cut = 80; cut < 200; cut += 7) {
    const stub = sendStub('A', 'B', 'some text here');
    const pdu = cl({ ptype: 0, body: stub });
    decodeFrames([{ data: toServer(pdu.subarray(0, cut)) }]);
  }
});

// ---- real captures ----

function tsharkFields(path: string, filter: string, fields: string[]): string[][] {
  const r = spawnSync('tshark', ['-r', path, '-Y', filter, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((x) => ['-e', x])], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

const HEADER_FIELDS = ['dcerpc.ver', 'dcerpc.pkt_type', 'dcerpc.dg_seqnum', 'dcerpc.opnum', 'dcerpc.dg_frag_len', 'dcerpc.dg_frag_num', 'dcerpc.dg_act_id', 'dcerpc.dg_if_id', 'dcerpc.dg_if_ver'];

const CL_CAPTURES = [
  publicCapture('ajbanjara__Wireshark/messenger.pcap'),
  publicCapture('ajbanjara__Wireshark/SkypeIRC.cap'),
  publicCapture('ajbanjara__Wireshark/FTPv6-1.cap'),
  publicCapture('ajbanjara__Wireshark/packet_capture.pcap'),
  publicCapture('ntop__nDPI/dcerpc.pcap'),
  `${FIXTURES}/msrp-frag.pcap`,
  `${FIXTURES}/msrp-bigendian.pcap`,
];

test('connectionless header fields agree with tshark on real captures', { skip: !hasTshark() }, async () => {
  for (const path of CL_CAPTURES) {
    if (!exists(path)) continue;
    const theirs = tsharkFields(path, 'dcerpc.ver == 4 && !icmp', ['frame.number', ...HEADER_FIELDS]);
    const ours = await dissect(path);
    assert.ok(theirs.length > 0, path);
    for (const row of theirs) {
      const frame = ours.frames[Number(row[0]) - 1]!;
      const f = frame.fields;
      const got = [f['dcerpc.ver']?.[0], f['dcerpc.pkt_type']?.[0], f['dcerpc.dg_seqnum']?.[0], f['dcerpc.opnum']?.[0], f['dcerpc.dg_frag_len']?.[0], f['dcerpc.dg_frag_num']?.[0], f['dcerpc.dg_act_id']?.[0], f['dcerpc.dg_if_id']?.[0], f['dcerpc.dg_if_ver']?.[0]].map(String);
      assert.deepEqual(got, row.slice(1), `${path} frame ${row[0]}`);
    }
  }
});

test('nDPI PROFINET capture: duplicated requests are one call each, all answered', async () => {
  const path = publicCapture('ntop__nDPI/dcerpc.pcap');
  if (!exists(path)) return;
  const d = await dissect(path);
  const calls = d.events.filter((e) => e.kind === 'call');
  assert.equal(calls.length, 4);
  for (const c of calls) assert.equal((c.details as { outcome: string }).outcome, 'response');
  assert.ok(d.frames[1]!.findings.some((x) => x.id === 'dcerpc.cl.retransmission'));
});

test('packet_capture.pcap: the Reject PDU is decoded with its status name', async () => {
  const path = publicCapture('ajbanjara__Wireshark/packet_capture.pcap');
  if (!exists(path)) return;
  const d = await dissect(path);
  const frame = d.frames[7302]!;
  assert.match(frame.info, /Reject: seq: 0: status: nca_s_unk_if/);
  assert.deepEqual(frame.fields['dcerpc.status_name'], ['nca_s_unk_if']);
});

test('MyFirstTeste.pcap: the malformed Ping is flagged, not a message', async () => {
  const path = publicCapture('ajbanjara__Wireshark/MyFirstTeste.pcap');
  if (!exists(path)) return;
  const d = await dissect(path);
  const ping = d.frames[9]!;
  assert.match(ping.info, /^Ping/);
  assert.ok(ping.findings.some((x) => x.id === 'dcerpc.cl.unexpected-body'));
  assert.equal(messages(d.events).length, 1);
});

test('a response from another port matches its own victim\'s request when another victim\'s request shares the activity', () => {
  // Spam tools and replayed captures reuse one activity for every victim. The second victim's
  // request must not hide the first's: the answer from the first server's other port is the first's.
  const VICTIM2 = [192, 0, 2, 9];
  const req = cl({ ptype: 0, act: 7, body: sendStub('A', 'B', 'hi') });
  const { events } = decodeFrames([
    { data: toServer(req) },
    { data: eth(0x0800, ipv4({ proto: 17, src: CLIENT, dst: VICTIM2 }, udp(40000, 1026, req))) },
    { data: toClient(cl({ ptype: 2, act: 7, flags1: 0, body: Uint8Array.from(u32(0, true)) }), 1030) },
  ]);
  const m = messages(events);
  assert.deepEqual(m.map((x) => [x.dst, x.status, x.frames]), [['192.0.2.2:1026', 'ok', [1, 3]], ['192.0.2.9:1026', 'no-response', [2]]]);
});
