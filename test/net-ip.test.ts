// IPv4 (options, fragments: in order, out of order, overlapping, conflicting, timed out),
// IPv6 extension headers and fragments, ICMP/ICMPv6 errors quoting UDP, TCP options and
// stream numbering, tunnels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Defragmenter } from '../src/net/defrag.js';
import { ipv6String } from '../src/net/addr.js';
import { bytes, decodeFrames, decodeOne, eth, ipv4, ipv6, tcp, u16, u32, udp, type FrameInput } from './capture-builders.js';

const E = (payload: Uint8Array) => eth(0x0800, payload);

test('IPv4 options: header length, options bytes kept, payload found after them', () => {
  const options = [0x94, 0x04, 0x00, 0x00]; // Router Alert (RFC 2113)
  const p = decodeOne(E(ipv4({ proto: 17, options }, udp(1, 2, bytes('x')))));
  assert.deepEqual(p.layers, ['eth', 'ip', 'udp']);
  assert.deepEqual(p.fields['ip.hdr_len'], [24]);
  assert.deepEqual(p.fields['ip.options'], ['94040000']);
  assert.deepEqual(p.fields['udp.srcport'], [1]);
});

test('IPv4 header errors are findings: bad version, short header length, total length below header', () => {
  const good = ipv4({ proto: 17 }, udp(1, 2, bytes('x')));
  const badVersion = good.slice();
  badVersion[0] = 0x55;
  assert.equal(decodeOne(E(badVersion)).findings[0]?.id, 'ip.malformed');
  const shortIhl = good.slice();
  shortIhl[0] = 0x44;
  assert.match(decodeOne(E(shortIhl)).findings[0]!.summary, /below the minimum 20/);
  const p = decodeOne(E(ipv4({ proto: 17, totalLength: 10 }, udp(1, 2, bytes('x')))));
  assert.equal(p.findings[0]?.id, 'ip.bad-length');
});

const DATA = bytes(Array.from({ length: 64 }, (_, i) => i));
const DGRAM = udp(1026, 1026, DATA); // 72 bytes: fragments of 24 bytes each

function frag(offset: number, length: number, more: boolean, data: Uint8Array = DGRAM, id = 7): FrameInput {
  return { data: E(ipv4({ proto: 17, id, offset, mf: more }, data.subarray(offset, offset + length))) };
}

test('IPv4 fragments in order: reassembled in the last frame, UDP decoded from the whole datagram', () => {
  const { packets } = decodeFrames([frag(0, 24, true), frag(24, 24, true), frag(48, 24, false)]);
  assert.deepEqual(packets.map((p) => p.layers), [['eth', 'ip'], ['eth', 'ip'], ['eth', 'ip', 'udp']]);
  assert.match(packets[0]!.info, /Fragmented IP protocol \(proto=UDP 17, off=0, ID=0007\)/);
  assert.deepEqual(packets[2]!.fields['ip.fragments'], ['1, 2, 3']);
  assert.deepEqual(packets[2]!.fields['ip.reassembled_in'], [3]);
  assert.deepEqual(packets[2]!.fields['udp.length'], [72]);
  assert.equal(packets[2]!.info, '1026 → 1026 Len=64');
  assert.deepEqual(packets.flatMap((p) => p.findings), []);
});

test('IPv4 fragments out of order: reassembled when the last hole fills', () => {
  const { packets } = decodeFrames([frag(48, 24, false), frag(0, 24, true), frag(24, 24, true)]);
  assert.deepEqual(packets.map((p) => p.layers.length), [2, 2, 3]);
  assert.deepEqual(packets[2]!.fields['ip.fragments'], ['1, 2, 3']);
});

test('IPv4 overlapping fragments with the same bytes: a warning; with different bytes: an error, first copy kept', () => {
  const same = decodeFrames([frag(0, 32, true), frag(24, 24, true), frag(48, 24, false)]).packets;
  assert.equal(same[2]!.layers.at(-1), 'udp');
  assert.deepEqual(same[2]!.findings.map((f) => f.id), ['ip.defrag.overlap']);
  const forged = DGRAM.slice();
  forged.fill(0xee, 30, 40);
  const conflict = decodeFrames([frag(0, 24, true), frag(24, 24, true), frag(24, 24, true, forged), frag(48, 24, false)]).packets;
  // The duplicate arrives before the datagram is complete: it is held, then compared.
  assert.equal(conflict[3]!.layers.at(-1), 'udp');
  assert.deepEqual(conflict[3]!.findings.map((f) => [f.id, f.severity]), [['ip.defrag.conflict', 'error']]);
  assert.match(conflict[3]!.findings[0]!.summary, /10 byte\(s\) differ; the first copy was kept/);
});

test('IPv4 fragments never completed: reported as incomplete at the end (and after the timeout)', () => {
  const { packets } = decodeFrames([frag(0, 24, true), frag(48, 24, false)]);
  assert.deepEqual(packets.map((p) => p.layers), [['eth', 'ip'], ['eth', 'ip']]);
  const d = new Defragmenter(() => assert.fail('nothing is evicted'));
  assert.equal(d.add('k', 1, 100, 0, DATA.subarray(0, 8), true).state, 'incomplete');
  assert.deepEqual(d.expire(150), []);
  assert.deepEqual(d.expire(161), [{ key: 'k', frames: [1], tsSec: 100 }]);
  assert.equal(d.size, 0);
  // After expiry, the rest of the datagram alone does not complete it.
  assert.equal(d.add('k', 2, 162, 8, DATA.subarray(8, 16), false).state, 'incomplete');
});

test('IP defragmentation is bounded: a datagram beyond 65,535 bytes is refused, past 4096 in progress the oldest is given up (once each)', () => {
  const gone: string[] = [];
  const d = new Defragmenter((e, why) => gone.push(`${e.key} ${e.frames.join(',')} ${why}`));
  const r = d.add('big', 1, 0, 65528, new Uint8Array(16), false);
  assert.equal(r.state, 'error');
  for (let i = 0; i < 4096; i++) assert.equal(d.add(`k${i}`, i, 0, 0, new Uint8Array(8), true).state, 'incomplete');
  assert.deepEqual(gone, []);
  for (let i = 0; i < 10_000; i++) assert.equal(d.add(`more${i}`, 5000 + i, 1, 0, new Uint8Array(8), true).state, 'incomplete');
  assert.equal(d.size, 4096);
  assert.equal(gone.length, 10_000);
  assert.equal(gone[0], 'k0 0 more than 4096 datagrams in reassembly');
  // The newest datagram still completes.
  const done = d.add('more9999', 20_000, 1, 8, new Uint8Array(8), false);
  assert.equal(done.state, 'complete');
});

test('IPv4 first fragments that never complete: one ip.defrag.incomplete finding per datagram given up, as a finding event too', () => {
  const frames = [];
  // 4,200 datagrams' first fragments (ids 0..4199): the 104 oldest are evicted, the rest reported at the end.
  for (let id = 0; id < 4200; id++) frames.push(frag(0, 24, true, DGRAM, id));
  const { packets, events } = decodeFrames(frames);
  const onPackets = packets.flatMap((p) => p.findings).filter((f) => f.id === 'ip.defrag.incomplete');
  assert.equal(onPackets.length, 104);
  assert.match(onPackets[0]!.summary, /IPv4 datagram never completed \(more than 4096 datagrams in reassembly\): fragments in frames 1 were/);
  const inEvents = events.filter((e) => e.kind === 'finding' && e.findings.some((f) => f.id === 'ip.defrag.incomplete'));
  assert.equal(inEvents.length, 4200);
});

test('IPv6 extension headers: hop-by-hop and destination options are walked to the upper layer', () => {
  const hopByHop = bytes([60, 0, 5, 2, 0, 0, 1, 0]); // next: destination options; router alert
  const dstOpts = bytes([17, 0, 1, 4, 0, 0, 0, 0]); // next: UDP; PadN
  const p = decodeOne(eth(0x86dd, ipv6(0, bytes(hopByHop, dstOpts, udp(547, 546, bytes('dhcp')))))); 
  assert.deepEqual(p.layers, ['eth', 'ipv6', 'udp']);
  assert.deepEqual(p.fields['ipv6.ext.type'], [0, 60]);
  assert.deepEqual(p.fields['udp.srcport'], [547]);
  assert.equal(ipv6String(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]), 0), '::ffff:192.0.2.1');
  assert.equal(decodeOne(eth(0x86dd, ipv6(0, bytes([17, 9, 0, 0])))).findings[0]?.id, 'ipv6.malformed');
});

test('IPv6 fragments (RFC 8200 §4.5), out of order, reassembled in the last frame', () => {
  const dgram = udp(1026, 1027, DATA);
  const fragment = (offset: number, more: boolean, next = 17) => bytes([next, 0], u16(offset | (more ? 1 : 0)), u32(0xabcdef01));
  const frames: FrameInput[] = [
    { data: eth(0x86dd, ipv6(44, bytes(fragment(40, false), dgram.subarray(40)))) },
    { data: eth(0x86dd, ipv6(44, bytes(fragment(0, true), dgram.subarray(0, 40)))) },
  ];
  const { packets } = decodeFrames(frames);
  assert.deepEqual(packets.map((p) => p.layers), [['eth', 'ipv6'], ['eth', 'ipv6', 'udp']]);
  assert.deepEqual(packets[1]!.fields['ipv6.fragment.id'], [0xabcdef01]);
  assert.deepEqual(packets[1]!.fields['ipv6.reassembled_in'], [2]);
  assert.equal(packets[1]!.info, '1026 → 1027 Len=64');
});

test('ICMP port unreachable quoting a UDP datagram: the quoted layers are marked, addresses stay the outer ones', () => {
  const original = ipv4({ proto: 17, src: [192, 168, 1, 2], dst: [202, 97, 238, 204] }, udp(1026, 1028, bytes('NetrSendMessage')));
  const icmp = bytes([3, 3, 0, 0, 0, 0, 0, 0], original);
  const { packets } = decodeFrames([{ data: E(ipv4({ proto: 1, src: [202, 97, 238, 204], dst: [192, 168, 1, 2] }, icmp)) }]);
  const p = packets[0]!;
  assert.deepEqual(p.layers, ['eth', 'ip', 'icmp', 'ip', 'udp']);
  assert.deepEqual(p.quoted, [false, false, false, true, true]);
  assert.deepEqual([p.src, p.dst, p.protocol], ['202.97.238.204', '192.168.1.2', 'ICMP']);
  assert.equal(p.info, 'Destination unreachable (Port unreachable)');
  // tshark gives the quoted datagram the udp.stream of its own conversation.
  assert.deepEqual(p.fields['udp.stream'], [0]);
});

test('ICMPv6 destination unreachable quoting a UDP datagram', () => {
  const original = ipv6(17, udp(1026, 1027, bytes('x'.repeat(12))));
  const p = decodeOne(eth(0x86dd, ipv6(58, bytes([1, 4, 0, 0, 0, 0, 0, 0], original))));
  assert.deepEqual(p.layers, ['eth', 'ipv6', 'icmpv6', 'ipv6', 'udp']);
  assert.deepEqual(p.quoted, [false, false, false, true, true]);
  assert.equal(p.info, 'Destination Unreachable (Port unreachable)');
});

test('ICMP echo: identifier and sequence in Info', () => {
  const p = decodeOne(E(ipv4({ proto: 1 }, bytes([8, 0, 0, 0], u16(0x1234), u16(7), 'ping'))));
  assert.equal(p.info, 'Echo (ping) request  id=0x1234, seq=7');
});

test('TCP options: MSS, window scale, SACK permitted, timestamps, SACK blocks, unknown kinds', () => {
  const options = [2, 4, 0x05, 0xb4, 1, 3, 3, 8, 4, 2, 8, 10, ...u32(100), ...u32(200), 5, 10, ...u32(1000), ...u32(2000), 30, 4, 0, 0, 1, 1];
  const p = decodeOne(E(ipv4({ proto: 6 }, tcp({ sp: 1025, dp: 139, flags: 0x02, options }))));
  assert.deepEqual(p.layers, ['eth', 'ip', 'tcp']);
  assert.deepEqual(p.fields['tcp.options.mss_val'], [1460]);
  assert.deepEqual(p.fields['tcp.options.wscale.shift'], [8]);
  assert.deepEqual(p.fields['tcp.options.sack_perm'], [true]);
  assert.deepEqual(p.fields['tcp.options.timestamp.tsval'], [100]);
  assert.deepEqual(p.fields['tcp.options.sack'], ['1000-2000']);
  assert.deepEqual(p.fields['tcp.option_kind'], [1, 30, 1, 1]); // NOPs and the unknown kind 30
  assert.deepEqual(p.fields['tcp.hdr_len'], [20 + options.length]);
  assert.equal(p.info, '1025 → 139 [SYN] Seq=0 Win=8192 Len=0');
  // An option whose length runs past the header stops the walk, without an exception.
  const bad = decodeOne(E(ipv4({ proto: 6 }, tcp({ sp: 1, dp: 2, flags: 0x02, options: [2, 40, 0, 0] }))));
  assert.deepEqual(bad.fields['tcp.options.mss_val'], undefined);
  assert.equal(decodeOne(E(ipv4({ proto: 6 }, bytes([0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 2])))).findings[0]?.id, 'tcp.malformed');
});

test('TCP relative sequence numbers and streams: handshake, port reuse, retransmitted SYN', () => {
  const C = [10, 0, 0, 1];
  const S = [10, 0, 0, 2];
  const seg = (from: 'c' | 's', flags: number, seq: number, ack: number, payload = '') =>
    ({ data: E(ipv4({ proto: 6, src: from === 'c' ? C : S, dst: from === 'c' ? S : C }, tcp(from === 'c' ? { sp: 1025, dp: 139, seq, ack, flags } : { sp: 139, dp: 1025, seq, ack, flags }, bytes(payload)))) });
  const { packets } = decodeFrames([
    seg('c', 0x02, 5000, 0),
    seg('s', 0x12, 9000, 5001),
    seg('c', 0x18, 5001, 9001, 'hello'),
    seg('c', 0x04, 5006, 0), // RST
    seg('c', 0x02, 5000, 0), // same ISN: a retransmitted SYN stays in stream 0
    seg('c', 0x02, 7000, 0), // new ISN on the same ports: stream 1
  ]);
  assert.deepEqual(packets.map((p) => p.fields['tcp.stream']![0]), [0, 0, 0, 0, 0, 1]);
  assert.equal(packets[1]!.info, '139 → 1025 [SYN, ACK] Seq=0 Ack=1 Win=8192 Len=0');
  assert.equal(packets[2]!.info, '1025 → 139 [PSH, ACK] Seq=1 Ack=1 Win=8192 Len=5');
  assert.deepEqual(packets[2]!.fields['tcp.nxtseq'], [6]);
});

test('UDP streams are numbered per address/port pair in both directions; bad UDP lengths are findings', () => {
  const a = { data: E(ipv4({ proto: 17, src: [1, 1, 1, 1], dst: [2, 2, 2, 2] }, udp(1000, 53, bytes('q')))) };
  const b = { data: E(ipv4({ proto: 17, src: [2, 2, 2, 2], dst: [1, 1, 1, 1] }, udp(53, 1000, bytes('r')))) };
  const c = { data: E(ipv4({ proto: 17, src: [1, 1, 1, 1], dst: [2, 2, 2, 2] }, udp(1001, 53, bytes('q')))) };
  assert.deepEqual(decodeFrames([a, b, c, a]).packets.map((p) => p.fields['udp.stream']![0]), [0, 0, 1, 0]);
  assert.equal(decodeOne(E(ipv4({ proto: 17 }, udp(1, 2, bytes('abc'), 200)))).findings[0]?.id, 'udp.bad-length');
});

test('IPv6 in IPv4 (6in4, protocol 41) and IP in IP (protocol 4) are decoded through, with a depth limit', () => {
  const inner6 = ipv6(17, udp(1, 2, bytes('x')));
  const p = decodeOne(E(ipv4({ proto: 41 }, inner6)));
  assert.deepEqual(p.layers, ['eth', 'ip', 'ipv6', 'udp']);
  assert.equal(p.src, '2001:db8::1');
  let nested = ipv4({ proto: 17 }, udp(1, 2, bytes('deep')));
  for (let i = 0; i < 6; i++) nested = ipv4({ proto: 4 }, nested);
  const deep = decodeOne(E(nested));
  assert.equal(deep.layers.filter((l) => l === 'ip').length, 4);
  assert.equal(deep.findings[0]?.id, 'ip.tunnel-depth');
});

test('a frame cut by the snap length gets a note', () => {
  const data = E(ipv4({ proto: 17 }, udp(1, 2, bytes('abcdef'))));
  const { packets } = decodeFrames([{ data, len: data.length + 100 }]);
  assert.equal(packets[0]!.findings.at(-1)?.id, 'frame.snaplen');
});
