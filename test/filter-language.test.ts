// The display-filter language: syntax errors with columns, unknown names, literal checking,
// Wireshark's relation semantics, laziness, and event filters for the timeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { EventFilter, PacketFilter } from '../src/filter/index.js';
import { parseFilter } from '../src/filter/parse.js';
import { addrLiteral, parseIpv6, parseNumber, parseBytes } from '../src/filter/values.js';
import type { Packet, Layer } from '../src/model/packet.js';
import type { TimelineEvent } from '../src/model/events.js';
import { f } from '../src/model/fields.js';
import { IP } from '../src/net/ipv4.js';
import { TCP, UDP } from '../src/net/transport.js';
import { dissect, exists, filterErrorOf, FIXTURES, publicCapture, ROOT } from './helpers.js';

test('syntax errors name the column and what was expected, on one line', () => {
  const cases: [string, number, RegExp][] = [
    ['tcp.port ==', 12, /expected .*field name or value.*found the end/],
    ['(udp', 5, /"\)"/],
    ['ip.src == 1.2.3.4 1', 19, /found '1'/],
    ['ip.ttl > 1 &&', 14, /found the end/],
    ['ip.src = 1.2.3.4', 8, /comparison operator/],
    ['', 1, /empty/],
  ];
  for (const [text, column, message] of cases) {
    const err = filterErrorOf(text);
    assert.equal(err.column, column, text);
    assert.match(err.detail, message, text);
    assert.ok(!err.message.includes('\n'), text);
  }
});

test('unknown fields are errors, with a suggestion; bad literals point at the literal', () => {
  let err = filterErrorOf('ip.scr == 1.2.3.4');
  assert.equal(err.column, 1);
  assert.match(err.detail, /unknown field 'ip.scr' \(did you mean 'ip.src'\?\)/);
  err = filterErrorOf('udp && nosuch.field');
  assert.equal(err.column, 8);
  err = filterErrorOf('ip.src == foo.example');
  assert.equal(err.column, 11);
  assert.match(err.detail, /not an IPv4 address/);
  err = filterErrorOf('tcp.port == 0x1g');
  assert.equal(err.column, 13);
  err = filterErrorOf('ip.addr == 10.0.0.0/33');
  assert.equal(err.column, 12);
  err = filterErrorOf('udp.port matches "("');
  assert.match(err.detail, /regular expression/);
  err = filterErrorOf('ip == 1');
  assert.match(err.detail, /protocol/);
  err = filterErrorOf('ip.src contains 1');
  assert.match(err.detail, /contains needs/);
  err = filterErrorOf('1 == 2');
  assert.match(err.detail, /neither side/);
});

test('the generated parser is current with the grammar', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-filter-parser.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('literals: numbers in every base, IPv6 forms, CIDR, bytes', () => {
  assert.equal(parseNumber('0x1F'), 31);
  assert.equal(parseNumber('017'), 15);
  assert.equal(parseNumber('0b101'), 5);
  assert.equal(parseNumber('-3'), -3);
  assert.equal(parseNumber('1.5'), 1.5);
  assert.equal(parseNumber('99999999999999999999'), 99999999999999999999n);
  assert.equal(parseNumber('12ab'), undefined);
  assert.equal(parseIpv6('::1'), 1n);
  assert.equal(parseIpv6('::ffff:1.2.3.4'), 0xffff01020304n);
  assert.equal(parseIpv6('fe80::1:2'), (0xfe80n << 112n) | 0x10002n);
  assert.equal(parseIpv6('1:2:3:4:5:6:7:8:9'), undefined);
  assert.equal(parseIpv6('1::2::3'), undefined);
  const net = addrLiteral('192.168.0.0/16', [4])!;
  assert.ok(net.eq({ v: 4, n: 0xc0a80102n }));
  assert.ok(!net.eq({ v: 4, n: 0xc0a90102n }));
  assert.ok(!net.eq({ v: 6, n: 0xc0a80102n }));
  assert.deepEqual([...parseBytes('de:ad:be:ef')!], [0xde, 0xad, 0xbe, 0xef]);
  assert.deepEqual([...parseBytes('0a-0b')!], [10, 11]);
  assert.equal(parseBytes('xyz'), undefined);
});

test('keywords and symbols are interchangeable; precedence is not > and > or', () => {
  const a = JSON.stringify(parseFilter('not ip.ttl eq 1 and udp or tcp'));
  const b = JSON.stringify(parseFilter('!ip.ttl == 1 && udp || tcp'));
  const strip = (s: string) => s.replace(/"(col|opCol)":\d+/g, '');
  assert.equal(strip(a), strip(b));
  const tree = parseFilter('a.b || c.d && e.f');
  assert.equal(tree.type, 'logic');
  assert.equal(tree.type === 'logic' && tree.op, 'or');
});

/** A hand-made frame: IPv4 + TCP, counting how often each layer's tree is built. */
function packet(builds: Record<string, number>, src = '10.1.2.3', dst = '192.168.1.9', sport = 1025, dport = 139): Packet {
  const layer = (name: string, tree: Layer['tree']): Layer => ({
    name, bytes: new Uint8Array(4), offset: 0, length: 4,
    tree: () => {
      builds[name] = (builds[name] ?? 0) + 1;
      return tree();
    },
  });
  return {
    frame: { number: 7, tsSec: 1000, tsNsec: 500, caplen: 60, len: 60, linkType: 1, data: new TextEncoder().encode('hello STOP world'), interfaceId: 0 },
    layers: [
      layer('ip', () => [f(IP.src, src), f(IP.dst, dst), f(IP.ttl, 64), f(IP.proto, 6)]),
      layer('tcp', () => [f(TCP.srcport, sport), f(TCP.dstport, dport), f(TCP.flags, 0x12, undefined, undefined, [f(TCP['flags.syn'], true), f(TCP['flags.ack'], true)])]),
    ],
    src, dst, findings: [{ id: 'x.test', severity: 'error', summary: 's', frame: 7, spec: '' }],
  };
}

test('relations follow Wireshark: any ==, all !=, ~=, ===, sets, ranges, masks, functions', () => {
  const p = packet({});
  const yes = (t: string) => assert.equal(new PacketFilter(t).match(p), true, t);
  const no = (t: string) => assert.equal(new PacketFilter(t).match(p), false, t);
  yes('tcp.port == 139');
  yes('tcp.port ~= 139');
  no('tcp.port != 139');
  yes('tcp.port != 80');
  no('tcp.port === 139');
  no('udp.port != 80'); // absent field: every relation is false
  yes('!(udp.port == 80)');
  yes('ip.addr == 10.0.0.0/8 and ip.addr == 192.168.1.9');
  no('ip.src == 192.168.0.0/16');
  yes('ip.src < ip.dst');
  yes('tcp.port in {80, 139}');
  yes('tcp.port in {80 1000..1100}');
  no('tcp.port not in {1025 139}');
  yes('tcp.flags & 0x02');
  no('tcp.flags & 0x04');
  yes('tcp.flags & 0x12 == 0x12');
  yes('tcp.flags.syn == 1 && tcp.flags.ack == true');
  yes('ip.proto == TCP'); // value name in place of the number
  yes('count(tcp.port) == 2');
  yes('len(frame.protocols) == 6');
  yes('frame contains "STOP"');
  yes('frame matches "(?i)stop"');
  no('frame matches "stop"');
  yes('frame.number == 7 && frame.len >= 60 && frame.protocols == "ip:tcp"');
  yes('frame.time == "1970-01-01 00:16:40.0000005"');
  yes('expert.severity == "error"');
  yes('80 < tcp.port'); // literal first: mirrored
  yes('ip.ttl eq 64 xor udp');
});

test('a filter builds only the trees of the layers it names (once the layer kinds are profiled)', () => {
  // The first trees of each layer name are built to learn which protocols' fields they hold.
  const warm = new PacketFilter('tcp.port == 139');
  for (let i = 0; i < 100; i++) warm.match(packet({}));
  const builds: Record<string, number> = {};
  const p = packet(builds);
  assert.equal(new PacketFilter('tcp.port == 139').match(p), true);
  assert.equal(builds.tcp, 1);
  assert.equal(builds.ip, undefined);
  assert.equal(new PacketFilter('frame.len > 1 && ip').match(p), true);
  assert.equal(builds.ip, undefined, 'protocol presence needs no tree');
  // One frame, several references to a protocol: its tree is built once.
  const again: Record<string, number> = {};
  assert.equal(new PacketFilter('ip.src == 10.1.2.3 && ip.dst == 192.168.1.9 && ip.ttl > 1').match(packet(again)), true);
  assert.equal(again.ip, 1);
});

const message: TimelineEvent = {
  kind: 'message', tsSec: 1066122721, tsNsec: 123456000, frames: [3, 4], protocol: 'smb', transport: 'tcp/nbss/smb',
  src: '10.0.0.5:1042', dst: '[fe80::1]:139', from: 'SYSTEM', to: ['ALERT', 'ADMIN'], text: 'visit http://example.test now', status: 'error',
  error: 'ERRSRV/ERRmsgoff', details: { groupId: 7 }, findings: [{ id: 'smb.textmb.no-start', severity: 'warning', summary: 's', frame: 3, spec: 'MS-MSRP 3.2.4.4' }],
};
const name: TimelineEvent = {
  kind: 'name', tsSec: 1, tsNsec: 0, frames: [9], protocol: 'msrp', transport: 'tcp/nbss/smb/pipe/dcerpc', src: '10.0.0.5:1043', dst: '10.0.0.6:139',
  operation: 'NetrMessageNameAdd', name: 'ALICE', result: { code: 2273, name: 'NERR_NameNotFound' }, findings: [],
};

test('event filters: common members, endpoint parts, kind members, findings', () => {
  const yes = (t: string, e: TimelineEvent = message) => assert.equal(new EventFilter(t).match(e), true, t);
  const no = (t: string, e: TimelineEvent = message) => assert.equal(new EventFilter(t).match(e), false, t);
  yes('kind == "message"');
  yes('message');
  no('name');
  yes('message.text contains "http"');
  yes('message.from == "SYSTEM"');
  yes('message.to == "ADMIN"');
  yes('message.status == error && message.error matches "msgoff$"');
  yes('message.details.groupId == 7');
  yes('frames == 4');
  yes('src.addr == 10.0.0.0/8 && src.port == 1042 && dst.addr == fe80::/10');
  yes('addr == 10.0.0.5 && port == 139');
  yes('smb && nbss');
  no('msnp');
  yes('finding.id == "smb.textmb.no-start" && finding.severity == "warning"');
  yes('time >= "2003-10-14 09:12:01" && time < "2003-10-14 09:12:02"');
  yes('name.operation == "NetrMessageNameAdd" && name.result.name == "NERR_NameNotFound" && name.result.code == 2273', name);
  no('message.text contains "x"', name);
  no('finding', name);
  yes('lower(message.from) == "system"');
});

test('event filter errors: unknown members of a kind, unknown names', () => {
  assert.match(filterErrorOf('message.txt contains "a"', (t) => new EventFilter(t)).detail, /unknown event field 'message.txt' \(did you mean 'message.text'\?\)/);
  assert.equal(filterErrorOf('kind == "message" && mesage', (t) => new EventFilter(t)).column, 22);
  assert.match(filterErrorOf('name.result.nope == 1', (t) => new EventFilter(t)).detail, /unknown event field/);
  assert.match(filterErrorOf('ip.src == 1.2.3.4', (t) => new EventFilter(t)).detail, /unknown event field/);
});

test('timeline -Y on real traffic: spam by sender', { skip: !exists(publicCapture('ajbanjara__Wireshark/messenger.pcap')) }, async () => {
  const d = await dissect(publicCapture('ajbanjara__Wireshark/messenger.pcap'));
  const messages = d.events.filter((e) => e.kind === 'message');
  assert.ok(messages.length > 0);
  const system = new EventFilter('message.from == "SYSTEM"');
  const expected = messages.filter((e) => e.kind === 'message' && e.from === 'SYSTEM').length;
  assert.ok(expected > 0);
  assert.equal(d.events.filter((e) => system.match(e)).length, expected);
  const http = new EventFilter('kind == "message" && message.text contains "http"');
  assert.equal(d.events.filter((e) => http.match(e)).length, messages.filter((e) => e.kind === 'message' && e.text.includes('http')).length);
});

test('filters over the named-pipe fixture find NDR fields that msrp layers hold', { skip: !exists(join(FIXTURES, 'msgsvc-smb1.pcap')) }, async () => {
  const d = await dissect(join(FIXTURES, 'msgsvc-smb1.pcap'));
  const withField = d.frames.filter((fr) => fr.fields['dcerpc.referent_id'] !== undefined).map((fr) => fr.number);
  const { readCapture } = await import('../src/capture/open.js');
  const { Engine } = await import('../src/engine/engine.js');
  const { defaultProtocols } = await import('../src/protocols/index.js');
  const filter = new PacketFilter('dcerpc.referent_id');
  const got: number[] = [];
  const engine = new Engine({ packet: (p) => { if (filter.match(p)) got.push(p.frame.number); } }, {}, defaultProtocols());
  await readCapture(join(FIXTURES, 'msgsvc-smb1.pcap'), { frame: (fr) => engine.frame(fr), warning: () => {} });
  engine.finish();
  assert.deepEqual(got, withField);
  assert.ok(UDP.port !== undefined);
});
