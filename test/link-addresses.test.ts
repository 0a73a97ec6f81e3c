// The packet's Source/Destination: the link layer's addresses are only made text when no
// network layer set its own (the engine defers them), and must come out as before in every case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, decodeOne, eth, ipv4, udp } from './capture-builders.js';
import { LINKTYPE } from '../src/capture/frame.js';

test('link addresses: IPv4 replaces them; a frame without a network layer, a bad IPv4 header or an unknown ethertype keeps them', () => {
  const ip = decodeOne(eth(0x0800, ipv4({ proto: 17 }, udp(5000, 5001, bytes('x')))));
  assert.equal(ip.src, '10.0.0.1');
  assert.equal(ip.dst, '10.0.0.2');
  // IPv4 version field 5: no IP layer, the MAC addresses stay.
  const bad = decodeOne(eth(0x0800, bytes([0x55, 0, 0, 20], new Array<number>(16).fill(0))));
  assert.equal(bad.src, '00:11:22:33:44:55');
  assert.equal(bad.dst, '66:77:88:99:aa:bb');
  const other = decodeOne(eth(0x88b5, bytes('payload')));
  assert.equal(other.src, '00:11:22:33:44:55');
  assert.equal(other.dst, '66:77:88:99:aa:bb');
});

test('link addresses: Linux cooked capture (SLL) gives its source address only', () => {
  const sll = bytes([0, 0], [0, 1], [0, 6], [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0], [0x88, 0xb5], bytes('payload'));
  const p = decodeOne(sll, LINKTYPE.LINUX_SLL);
  assert.equal(p.src, '00:11:22:33:44:55');
  assert.equal(p.dst, '');
  const withIp = decodeOne(bytes([0, 0], [0, 1], [0, 6], [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0], [0x08, 0x00], ipv4({ proto: 17 }, udp(1, 2, bytes('x')))), LINKTYPE.LINUX_SLL);
  assert.equal(withIp.src, '10.0.0.1');
  assert.equal(withIp.dst, '10.0.0.2');
});
