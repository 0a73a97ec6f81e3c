// MS-MSRP end to end: the scapy/impacket fixtures against their sidecars (UDP, TCP, SMB1 and
// SMB2 pipes), the public spam captures (every NetrSendMessage request, its From/To/Text), and
// the strings against tshark — whose labels are swapped: its "server" is the spec's From.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dissect, exists, FIXTURES, hasTshark, publicCapture } from './helpers.js';
import type { MessageEvent, NameEvent, TimelineEvent } from '../src/model/events.js';
import { oemText } from '../src/protocols/msrp/handler.js';
import { DREP_LE } from '../src/protocols/dcerpc/ndr.js';

interface SidecarMessage {
  from: string;
  to: string[];
  text: string | null;
  status: string;
  error?: string;
  frames: number[];
  result?: { code: number; name: string; pdu?: string };
  note?: string;
  case?: string;
  opnum?: number;
}

interface SidecarName {
  operation: string;
  name?: string;
  level?: number;
  entries?: string[];
  result: { code: number; name: string };
  frames: number[];
}

function sidecar(name: string): { messages: SidecarMessage[]; names: SidecarName[] } {
  return JSON.parse(readFileSync(`${FIXTURES}/${name}.json`, 'utf8')) as { messages: SidecarMessage[]; names: SidecarName[] };
}

const msgs = (events: TimelineEvent[]) => events.filter((e): e is MessageEvent => e.kind === 'message' && e.protocol === 'msrp');
const names = (events: TimelineEvent[]) => events.filter((e): e is NameEvent => e.kind === 'name' && e.protocol === 'msrp');

function checkMessages(file: string, transport: string): void {
  test(`${file}: every message as its sidecar says`, async () => {
    const path = `${FIXTURES}/${file}.pcap`;
    if (!exists(path)) return;
    const want = sidecar(file).messages;
    const got = msgs((await dissect(path)).events).sort((a, b) => a.frames[0]! - b.frames[0]!);
    const wantMessages = want.filter((w) => w.opnum === undefined || w.opnum === 0);
    assert.equal(got.length, wantMessages.length);
    for (const [i, w] of wantMessages.entries()) {
      const g = got[i]!;
      assert.equal(g.transport, transport);
      assert.equal(g.from, w.from);
      assert.deepEqual(g.to, w.to);
      assert.deepEqual(g.frames.slice(0, 1), w.frames.slice(0, 1));
      if (w.text !== null) assert.equal(g.text, w.text);
      else assert.ok(g.findings.some((x) => x.id === 'msrp.truncated-stub'), `${file} #${i} flags the unrecoverable Text`);
      if (w.note !== undefined && /ICMP port unreachable/.test(w.note)) {
        // The sidecar calls these no-response; the rule is a bounce: error with the ICMP reason.
        assert.equal(g.status, 'error');
        assert.match(g.error ?? '', /Port unreachable/);
        continue;
      }
      assert.deepEqual(g.frames, w.frames);
      assert.equal(g.status, w.status);
      if (w.status === 'error') assert.equal(g.error, w.error);
      if (w.result !== undefined) assert.equal((g.details as { result?: { code: number } }).result?.code ?? (w.result.pdu === 'fault' ? w.result.code : undefined), w.result.code);
    }
  });
}

checkMessages('msrp-udp', 'udp/dcerpc');
checkMessages('msrp-bigendian', 'udp/dcerpc');
checkMessages('msrp-burst', 'udp/dcerpc');
checkMessages('msrp-frag', 'udp/dcerpc');
checkMessages('msrp-malformed', 'udp/dcerpc');
checkMessages('msgsvc-tcp', 'tcp/dcerpc');

test('msrp-malformed: the unknown opnum is a call with a finding, and every stub problem is flagged', async () => {
  const path = `${FIXTURES}/msrp-malformed.pcap`;
  if (!exists(path)) return;
  const d = await dissect(path);
  const call = d.events.find((e) => e.kind === 'call');
  assert.ok(call !== undefined && call.kind === 'call');
  assert.equal(call.operation, 'opnum 5');
  assert.equal(call.result?.name, 'nca_s_op_rng_error');
  assert.ok(call.findings.some((x) => x.id === 'msrp.unknown-opnum' && x.spec.startsWith('MS-MSRP')));
  const ids = msgs(d.events).map((m) => m.findings.map((x) => x.id));
  assert.ok(ids[0]!.includes('msrp.truncated-stub'));
  assert.ok(ids[1]!.includes('msrp.count-mismatch') && ids[1]!.includes('msrp.truncated-stub'));
  assert.ok(ids[2]!.includes('msrp.string-no-nul'));
});

test('msrp-frag: Text over 652 bytes is flagged with its clause', async () => {
  const path = `${FIXTURES}/msrp-frag.pcap`;
  if (!exists(path)) return;
  const m = msgs((await dissect(path)).events)[0]!;
  assert.ok(m.findings.some((x) => x.id === 'msrp.text-too-long' && x.spec === 'MS-MSRP 3.2.4.4'));
});

function checkNames(file: string, transport: string): void {
  test(`${file}: every msgsvc call as its sidecar says`, async () => {
    const path = `${FIXTURES}/${file}.pcap`;
    if (!exists(path)) return;
    const want = sidecar(file).names;
    const got = names((await dissect(path)).events).sort((a, b) => a.frames[0]! - b.frames[0]!);
    assert.equal(got.length, want.length);
    for (const [i, w] of want.entries()) {
      const g = got[i]!;
      assert.equal(g.transport, transport);
      assert.equal(g.operation, w.operation);
      if (w.name !== undefined) assert.equal(g.name, w.name);
      if (w.level !== undefined) assert.equal(g.level, w.level);
      if (w.entries !== undefined) assert.deepEqual(g.names, w.entries);
      assert.equal(g.result?.code, w.result.code);
      // Names follow the spec's table for each method (ERROR_SUCCESS for Add, NERR_Success for the others).
      if (w.result.code !== 0) assert.equal(g.result?.name, w.result.name);
      assert.deepEqual(g.frames, w.frames);
    }
  });
}

checkNames('msgsvc-tcp', 'tcp/dcerpc');
checkNames('msgsvc-smb1', 'tcp/nbss/smb/pipe/dcerpc');
checkNames('msgsvc-smb2', 'tcp/nbss/smb2/pipe/dcerpc');

// ---- public spam captures ----

const SPAM = [
  ['ajbanjara__Wireshark/messenger.pcap', 6],
  ['ajbanjara__Wireshark/SkypeIRC.cap', 2],
  ['ajbanjara__Wireshark/FTPv6-1.cap', 1],
  ['ajbanjara__Wireshark/MyFirstTeste.pcap', 1],
  ['ajbanjara__Wireshark/packet_capture.pcap', 1],
  ['ajbanjara__Wireshark/startmenu_Dameware.pcap', 5],
] as const;

const BOUNCED = new Set<string>(['ajbanjara__Wireshark/SkypeIRC.cap', 'ajbanjara__Wireshark/FTPv6-1.cap', 'ajbanjara__Wireshark/packet_capture.pcap']);

for (const [name, count] of SPAM) {
  test(`${name}: every NetrSendMessage request is one message, strings equal tshark's (labels per the spec)`, { skip: !hasTshark() }, async () => {
    const path = publicCapture(name);
    if (!exists(path)) return;
    const d = await dissect(path);
    const got = msgs(d.events);
    assert.equal(got.length, count);
    const r = spawnSync('tshark', ['-r', path, '-Y', 'messenger && !icmp', '-T', 'json', '-e', 'frame.number', '-e', 'messenger.server', '-e', 'messenger.client', '-e', 'messenger.message'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const rows = JSON.parse(r.stdout) as { _source: { layers: Record<string, string[]> } }[];
    assert.equal(rows.length, count);
    for (const row of rows) {
      const l = row._source.layers;
      const frame = Number(l['frame.number']![0]);
      const m = got.find((x) => x.frames[0] === frame);
      assert.ok(m !== undefined, `message at frame ${frame}`);
      // tshark's "server" field holds the first string, which MS-MSRP 3.2.4.1 calls From.
      assert.equal(m.from, l['messenger.server']![0]);
      assert.deepEqual(m.to, [l['messenger.client']![0]]);
      // tshark decodes as ASCII and keeps CR/LF; we decode cp437: the spam texts are ASCII.
      assert.equal(m.text, l['messenger.message']![0]);
      assert.equal(m.transport, 'udp/dcerpc');
    }
    // Bounced: SkypeIRC.cap's ICMP errors quote the whole request; FTPv6-1.cap's and
    // packet_capture.pcap's quote only the IP header and 8 bytes (RFC 792), matched on them.
    if (BOUNCED.has(name)) for (const m of got) {
      assert.equal(m.status, 'error');
      assert.equal(m.error, 'ICMP Port unreachable');
      assert.equal(m.frames.length, 2);
    } else for (const m of got) assert.equal(m.status, 'no-response');
  });
}

test('our field labels follow the spec: msrp.from is the first string, msrp.to the second', async () => {
  const path = `${FIXTURES}/msrp-udp.pcap`;
  if (!exists(path)) return;
  const f = (await dissect(path)).frames[0]!.fields;
  assert.deepEqual(f['msrp.from'], ['ADMIN']);
  assert.deepEqual(f['msrp.to'], ['MSGSRV']);
});

test('Text decodes in the OEM code page asked for, 0x14 as a line break', () => {
  const s = { k: 'string' as const, char: 1 as const, max: 4, offset: 0, actual: 4, bytes: Uint8Array.from([0x9b, 0x14, 0x41, 0]), terminated: true, off: 0, len: 16 };
  assert.equal(oemText(s, 'cp437', DREP_LE), '\u00a2\nA');
  assert.equal(oemText(s, 'cp850', DREP_LE), '\u00f8\nA');
});
