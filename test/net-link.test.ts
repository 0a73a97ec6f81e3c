// Link layers from hand-built frames: VLAN/QinQ, 802.3 + LLC/SNAP, SLL/SLL2, NULL in both
// byte orders, PPP with and without address/control and with a compressed protocol, PPPoE,
// ISL, IPX.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LINKTYPE } from '../src/capture/frame.js';
import { bytes, decodeOne, eth, ipv4, ipv6, MAC_A, MAC_B, u16, u32, udp } from './capture-builders.js';

const IP_UDP = ipv4({ proto: 17 }, udp(1234, 5678, bytes('hi')));

test('Ethernet II → IPv4 → UDP: layers, columns, addresses', () => {
  const p = decodeOne(eth(0x0800, IP_UDP));
  assert.deepEqual(p.layers, ['eth', 'ip', 'udp']);
  assert.deepEqual([p.src, p.dst, p.protocol, p.info], ['10.0.0.1', '10.0.0.2', 'UDP', '1234 → 5678 Len=2']);
  assert.deepEqual(p.fields['eth.src'], ['00:11:22:33:44:55']);
  assert.deepEqual(p.fields['eth.type'], [0x0800]);
});

test('802.1Q tag and 802.1ad Q-in-Q: one vlan layer per tag, ids and priorities', () => {
  const single = decodeOne(eth(0x8100, bytes(u16((5 << 13) | 100), u16(0x0800), IP_UDP)));
  assert.deepEqual(single.layers, ['eth', 'vlan', 'ip', 'udp']);
  assert.deepEqual(single.fields['vlan.id'], [100]);
  assert.deepEqual(single.fields['vlan.priority'], [5]);
  const qinq = decodeOne(eth(0x88a8, bytes(u16(200), u16(0x8100), u16(0x1000 | 300), u16(0x86dd), ipv6(17, udp(1, 2, bytes('x'))))));
  assert.deepEqual(qinq.layers, ['eth', 'vlan', 'vlan', 'ipv6', 'udp']);
  assert.deepEqual(qinq.fields['vlan.id'], [200, 300]);
  assert.deepEqual(qinq.fields['vlan.dei'], [false, true]);
  assert.deepEqual(qinq.fields['vlan.tpid'], [0x88a8, 0x8100]);
  assert.equal(qinq.src, '2001:db8::1');
});

test('a truncated VLAN tag is a finding, not an exception', () => {
  const p = decodeOne(eth(0x8100, bytes([0x00])));
  assert.deepEqual(p.layers, ['eth']);
  assert.equal(p.findings[0]?.id, 'vlan.truncated');
});

test('802.3 length + LLC: NetBIOS SAP labelled; SNAP carries an ethertype on to IP', () => {
  const llc = bytes([0xf0, 0xf0, 0x03], 'netbios-ish');
  const p = decodeOne(eth(llc.length, llc));
  assert.deepEqual(p.layers, ['eth', 'llc']);
  assert.deepEqual(p.fields['eth.len'], [llc.length]);
  assert.deepEqual(p.fields['llc.dsap'], [0xf0]);
  assert.equal(p.info, 'NetBIOS U, func=UI');
  const snap = bytes([0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00], u16(0x0800), IP_UDP);
  const s = decodeOne(eth(snap.length, snap));
  assert.deepEqual(s.layers, ['eth', 'llc', 'ip', 'udp']);
  assert.deepEqual(s.fields['llc.pid'], [0x0800]);
  // An I-frame has a two-byte control field (ISO/IEC 8802-2 §5.2).
  const iframe = decodeOne(eth(6, bytes([0xf0, 0xf0, 0x02, 0x04, 0xaa, 0xbb])));
  assert.deepEqual(iframe.fields['llc.control'], [0x0402]);
});

test('raw 802.3 IPX (0xFFFF checksum) and IPX over 802.2: IPX addresses as tshark writes them', () => {
  const ipxHeader = bytes(u16(0xffff), u16(30 + 4), [0, 0x14], u32(0), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], u16(0x0455), u32(0xa8f87967), [0, 0, 0, 0, 0, 1], u16(0x0455), 'data');
  const raw = decodeOne(eth(ipxHeader.length, ipxHeader));
  assert.deepEqual(raw.layers, ['eth', 'ipx']);
  assert.deepEqual([raw.src, raw.dst], ['a8f87967.000000000001', '00000000.ffffffffffff']);
  const llc = bytes([0xe0, 0xe0, 0x03], ipxHeader);
  assert.deepEqual(decodeOne(eth(llc.length, llc)).layers, ['eth', 'llc', 'ipx']);
  assert.deepEqual(decodeOne(eth(0x8137, ipxHeader)).layers, ['eth', 'ipx']);
  assert.equal(decodeOne(eth(0x8137, ipxHeader.subarray(0, 20))).findings[0]?.id, 'ipx.truncated');
});

test('Cisco ISL: the encapsulated frame is decoded, as tshark shows it (eth:eth)', () => {
  const inner = eth(0x0800, IP_UDP, [0x01, 0x00, 0x5e, 0, 0, 1]);
  const islHeader = bytes([0x01, 0x00, 0x0c, 0x00, 0x00], MAC_A, u16(inner.length + 12), [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c], u16((7 << 1) | 0), u16(0), u16(0));
  const frame = bytes(islHeader.subarray(0, 5), [0x00], islHeader.subarray(5), inner);
  const p = decodeOne(frame);
  assert.deepEqual(p.layers, ['eth', 'eth', 'ip', 'udp']);
  assert.deepEqual(p.fields['isl.vlan_id'], [7]);
  assert.equal(p.src, '10.0.0.1');
});

test('Linux cooked capture v1 and v2', () => {
  const sll = bytes(u16(4), u16(1), u16(6), MAC_A, [0, 0], u16(0x0800), IP_UDP);
  const p = decodeOne(sll, LINKTYPE.LINUX_SLL);
  assert.deepEqual(p.layers, ['sll', 'ip', 'udp']);
  assert.deepEqual(p.fields['sll.pkttype'], [4]);
  assert.deepEqual(p.fields['sll.src_eth'], ['00:11:22:33:44:55']);
  const sll2 = bytes(u16(0x86dd), u16(0), u32(3), u16(1), [0, 6], MAC_B, [0, 0], ipv6(17, udp(1, 2, bytes('v6'))));
  const q = decodeOne(sll2, LINKTYPE.LINUX_SLL2);
  assert.deepEqual(q.layers, ['sll', 'ipv6', 'udp']);
  assert.deepEqual(q.fields['sll.ifindex'], [3]);
  // SLL protocol 4 is 802.2 LLC.
  const llc = decodeOne(bytes(u16(0), u16(1), u16(6), MAC_A, [0, 0], u16(4), [0xf0, 0xf0, 0x03, 1, 2]), LINKTYPE.LINUX_SLL);
  assert.deepEqual(llc.layers, ['sll', 'llc']);
  assert.equal(decodeOne(bytes([0, 1, 2]), LINKTYPE.LINUX_SLL).findings[0]?.id, 'sll.truncated');
});

test('BSD loopback (NULL) in either byte order, and LOOP in network order', () => {
  const le = decodeOne(bytes(u32(2, true), IP_UDP), LINKTYPE.NULL);
  assert.deepEqual(le.layers, ['null', 'ip', 'udp']);
  const be = decodeOne(bytes(u32(2, false), IP_UDP), LINKTYPE.NULL);
  assert.deepEqual(be.layers, ['null', 'ip', 'udp']);
  assert.deepEqual(be.fields['null.family'], [2]);
  for (const family of [24, 28, 30]) assert.deepEqual(decodeOne(bytes(u32(family, true), ipv6(17, udp(1, 2, bytes('x')))), LINKTYPE.NULL).layers, ['null', 'ipv6', 'udp']);
  assert.deepEqual(decodeOne(bytes(u32(2, false), IP_UDP), LINKTYPE.LOOP).layers, ['null', 'ip', 'udp']);
});

test('raw IP link types pick IPv4 or IPv6 by the version nibble', () => {
  assert.deepEqual(decodeOne(IP_UDP, LINKTYPE.RAW).layers, ['ip', 'udp']);
  assert.deepEqual(decodeOne(ipv6(17, udp(1, 2, bytes('x'))), LINKTYPE.RAW).layers, ['ipv6', 'udp']);
  assert.deepEqual(decodeOne(IP_UDP, LINKTYPE.IPV4).layers, ['ip', 'udp']);
  assert.deepEqual(decodeOne(bytes([0x50, 1, 2]), LINKTYPE.RAW).layers, []);
});

test('PPP: with and without address/control, compressed one-byte protocol, non-IP protocols labelled', () => {
  const full = decodeOne(bytes([0xff, 0x03], u16(0x0021), IP_UDP), LINKTYPE.PPP);
  assert.deepEqual(full.layers, ['ppp', 'ip', 'udp']);
  assert.deepEqual(full.fields['ppp.address'], [0xff]);
  const bare = decodeOne(bytes(u16(0x0021), IP_UDP), LINKTYPE.PPP);
  assert.deepEqual(bare.layers, ['ppp', 'ip', 'udp']);
  assert.equal(bare.fields['ppp.address'], undefined);
  // RFC 1661 §6.5 protocol-field compression: 0x21 alone means IPv4.
  const compressed = decodeOne(bytes([0x21], IP_UDP), LINKTYPE.PPP);
  assert.deepEqual(compressed.layers, ['ppp', 'ip', 'udp']);
  assert.deepEqual(compressed.fields['ppp.protocol'], [0x21]);
  assert.deepEqual(decodeOne(bytes([0xff, 0x03, 0x57], ipv6(17, udp(1, 2, bytes('x')))), LINKTYPE.PPP).layers, ['ppp', 'ipv6', 'udp']);
  const lcp = decodeOne(bytes([0xff, 0x03], u16(0xc021), [1, 1, 0, 4]), LINKTYPE.PPP);
  assert.deepEqual([lcp.layers, lcp.info], [['ppp'], 'Link Control Protocol']);
});

test('PPPoE session → PPP → IPv4, as in the messenger.pcap spam capture', () => {
  const ppp = bytes(u16(0x0021), IP_UDP);
  const p = decodeOne(eth(0x8864, bytes([0x11, 0x00], u16(0x1234), u16(ppp.length), ppp)));
  assert.deepEqual(p.layers, ['eth', 'pppoes', 'ppp', 'ip', 'udp']);
  assert.deepEqual(p.fields['pppoes.session_id'], [0x1234]);
  assert.deepEqual(p.fields['pppoes.payload_length'], [ppp.length]);
  assert.equal(decodeOne(eth(0x8864, bytes([0x11, 0]))).findings[0]?.id, 'pppoes.truncated');
});

test('ARP request and reply get tshark-style Info', () => {
  const arp = (op: number) => eth(0x0806, bytes(u16(1), u16(0x0800), [6, 4], u16(op), MAC_A, [10, 0, 0, 1], MAC_B, [10, 0, 0, 2]));
  assert.equal(decodeOne(arp(1)).info, 'Who has 10.0.0.2? Tell 10.0.0.1');
  assert.equal(decodeOne(arp(2)).info, '10.0.0.1 is at 00:11:22:33:44:55');
});

test('a frame shorter than an Ethernet header is a finding', () => {
  const p = decodeOne(bytes([1, 2, 3]));
  assert.deepEqual(p.layers, []);
  assert.equal(p.findings[0]?.id, 'eth.truncated');
});
