// The lane chooser of a capture split by flow (src/runner/parallel/lanes.ts): every frame whose
// dissection may read state another frame left lands in that frame's lane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LaneChooser } from '../src/runner/parallel/lanes.js';
import { bytes, eth, ipv4, ipv6, tcp, udp } from './capture-builders.js';

const addr = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }));
const port = fc.integer({ min: 1, max: 65535 });
const lanesArb = fc.integer({ min: 2, max: 8 });
const PAYLOAD = new Uint8Array(32).fill(4);

function icmpUnreachable(router: number[], quoted: Uint8Array, to: number[]): Uint8Array {
  return eth(0x0800, ipv4({ src: router, dst: to, proto: 1 }, bytes([3, 3, 0, 0, 0, 0, 0, 0], quoted)));
}

test('lanes: both directions of a pair-local flow land in one lane, and an ICMP error in the lane of the datagram it quotes', () => {
  fc.assert(fc.property(lanesArb, addr, addr, addr, port, port, fc.boolean(), (lanes, a, b, router, sp, dp, isTcp) => {
    fc.pre(a.join('.') !== b.join('.'));
    // Pair-local: TCP on 139/445, or UDP outside NetBIOS.
    const tcpPort = isTcp ? (sp % 2 === 0 ? 139 : 445) : dp;
    fc.pre(isTcp || (dp !== 137 && dp !== 138 && sp !== 137 && sp !== 138));
    const chooser = new LaneChooser(lanes);
    const proto = isTcp ? 6 : 17;
    const seg = (s: number, d: number): Uint8Array => (isTcp ? tcp({ sp: s, dp: d, flags: 0x18 }, PAYLOAD) : udp(s, d, PAYLOAD));
    const forward = ipv4({ src: a, dst: b, proto }, seg(sp, tcpPort));
    const backward = ipv4({ src: b, dst: a, proto }, seg(tcpPort, sp));
    const lane = chooser.lane(eth(0x0800, forward), 1);
    assert.ok(lane >= 0 && lane < lanes);
    assert.equal(chooser.lane(eth(0x0800, backward), 1), lane);
    // A host's bounce quotes the whole datagram, a router's its first 8 bytes.
    assert.equal(chooser.lane(icmpUnreachable(b, forward, a), 1), lane);
    assert.equal(chooser.lane(icmpUnreachable(router, forward.subarray(0, 28), a), 1), lane);
    // Raw IPv4 link type: the same lane.
    assert.equal(chooser.lane(forward, 101), lane);
  }));
});

test('lanes: fragments follow the first fragment seen of their datagram, whatever their order', () => {
  fc.assert(fc.property(lanesArb, addr, addr, port, port, fc.integer({ min: 1, max: 65535 }), fc.boolean(), (lanes, a, b, sp, dp, id, firstFirst) => {
    fc.pre(a.join('.') !== b.join('.') && ![137, 138].includes(sp) && ![137, 138].includes(dp));
    const chooser = new LaneChooser(lanes);
    const first = eth(0x0800, ipv4({ src: a, dst: b, proto: 17, id, mf: true }, udp(sp, dp, PAYLOAD, 2000)));
    const second = eth(0x0800, ipv4({ src: a, dst: b, proto: 17, id, offset: 1480 }, new Uint8Array(520)));
    const lanesSeen = firstFirst ? [chooser.lane(first, 1), chooser.lane(second, 1)] : [chooser.lane(second, 1), chooser.lane(first, 1)];
    assert.equal(lanesSeen[0], lanesSeen[1]);
    // In order, the datagram keeps its flow's lane.
    if (firstFirst) assert.equal(lanesSeen[0], new LaneChooser(lanes).lane(eth(0x0800, ipv4({ src: a, dst: b, proto: 17 }, udp(sp, dp, PAYLOAD))), 1));
  }));
});

test('lanes: state that crosses address pairs goes to lane 0 (MSNP and other TCP, NetBIOS names and datagrams, broadcasts, non-IP)', () => {
  fc.assert(fc.property(lanesArb, addr, addr, port, (lanes, a, b, sp) => {
    const chooser = new LaneChooser(lanes);
    for (const dp of [1863, 80, 443, 135, 5000]) assert.equal(chooser.lane(eth(0x0800, ipv4({ src: a, dst: b, proto: 6 }, tcp({ sp, dp, flags: 2 }))), 1), 0, `tcp ${dp}`);
    for (const dp of [137, 138]) assert.equal(chooser.lane(eth(0x0800, ipv4({ src: a, dst: b, proto: 17 }, udp(sp, dp, PAYLOAD))), 1), 0, `udp ${dp}`);
    assert.equal(chooser.lane(eth(0x0800, ipv4({ src: a, dst: [255, 255, 255, 255], proto: 17 }, udp(sp, 1026, PAYLOAD))), 1), 0);
    assert.equal(chooser.lane(eth(0x0800, ipv4({ src: a, dst: [239, 1, 2, 3], proto: 17 }, udp(sp, 1026, PAYLOAD))), 1), 0);
    assert.equal(chooser.lane(eth(0x0806, new Uint8Array(28)), 1), 0, 'ARP');
    assert.equal(chooser.lane(eth(0x0800, ipv4({ src: a, dst: b, proto: 47 }, PAYLOAD)), 1), 0, 'GRE');
    assert.equal(chooser.lane(new Uint8Array(0), 1), 0, 'empty frame');
  }));
});

test('lanes: IPv6 and 802.1Q frames are split by pair too, and any bytes at all give a lane in range', () => {
  const chooser = new LaneChooser(4);
  const v6 = ipv6(17, udp(1026, 40000, PAYLOAD));
  const back = ipv6(17, udp(40000, 1026, PAYLOAD), '20010db8000000000000000000000002', '20010db8000000000000000000000001');
  assert.equal(chooser.lane(eth(0x86dd, v6), 1), chooser.lane(eth(0x86dd, back), 1));
  const plain = chooser.lane(eth(0x0800, ipv4({ src: [10, 0, 0, 1], dst: [10, 0, 0, 9], proto: 17 }, udp(1026, 40000, PAYLOAD))), 1);
  const tagged = eth(0x8100, bytes([0, 5, 0x08, 0x00], ipv4({ src: [10, 0, 0, 1], dst: [10, 0, 0, 9], proto: 17 }, udp(1026, 40000, PAYLOAD))));
  assert.equal(chooser.lane(tagged, 1), plain);
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(0, 1, 12, 101, 105, 108, 113, 228, 229, 276), lanesArb, (data, linkType, lanes) => {
    const lane = new LaneChooser(lanes).lane(data, linkType);
    assert.ok(Number.isInteger(lane) && lane >= 0 && lane < lanes);
  }));
});

test('lanes: balance gives lane 0 only the share of the pairs that brings it to 1/N of the work', () => {
  const pairs = Array.from({ length: 20_000 }, (_, i) => eth(0x0800, ipv4({ src: [10, (i >> 8) & 255, i & 255, 1], dst: [24, 64, (i * 7) & 255, 2], proto: 17 }, udp(40000, 1026, PAYLOAD))));
  const shares = (chooser: LaneChooser): number[] => {
    const counts = new Array<number>(chooser.lanes).fill(0);
    for (const frame of pairs) counts[chooser.lane(frame, 1)]!++;
    return counts.map((n) => n / pairs.length);
  };
  // Before any sample: the pairs spread evenly.
  for (const share of shares(new LaneChooser(4))) assert.ok(Math.abs(share - 0.25) < 0.02, `${share}`);
  // A seventh of the frames shared, a quarter of the work (a shared frame is 2 pair frames' work),
  // two lanes: lane 0 takes (1/2 - 1/4) / (3/4) = 1/3 of the pairs.
  const two = new LaneChooser(2);
  two.balance(1 / 7);
  const [zero, one] = shares(two);
  assert.ok(Math.abs(zero! - 1 / 3) < 0.02 && Math.abs(one! - 2 / 3) < 0.02, `${zero} ${one}`);
  // Shared work at or past 1/N: lane 0 takes no pair, the others share them evenly.
  const four = new LaneChooser(4);
  four.balance(1 / 7);
  const spread = shares(four);
  assert.equal(spread[0], 0);
  for (const share of spread.slice(1)) assert.ok(Math.abs(share - 1 / 3) < 0.02, `${share}`);
});

test('lanes: each lane\'s share of the bounds follows its share of the work, none below half of 1/N, and at most 1.5 in all', () => {
  const close = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) < 1e-9);
  // Balanced: 1/N each, one engine's bounds in all.
  const two = new LaneChooser(2);
  two.balance(1 / 7);
  assert.ok(close(two.shares(), [0.5, 0.5]), `${two.shares()}`);
  // Shared work past 1/N (a quarter with four lanes): lane 0 carries it, the others the rest.
  const four = new LaneChooser(4);
  four.balance(1 / 3);
  const w = (2 / 3) / (2 / 3 + 2 / 3);
  assert.ok(close(four.shares(), [w, (1 - w) / 3, (1 - w) / 3, (1 - w) / 3]), `${four.shares()}`);
  // Nothing but shared traffic in the sample: lane 0 gets all of them, the others the floor.
  for (const lanes of [2, 3, 8]) {
    const chooser = new LaneChooser(lanes);
    chooser.balance(1);
    const shares = chooser.shares();
    assert.equal(shares[0], 1);
    for (const share of shares.slice(1)) assert.equal(share, 1 / (2 * lanes));
    assert.ok(shares.reduce((a, b) => a + b, 0) <= 1.5);
  }
  assert.deepEqual(new LaneChooser(1).shares(), [1]);
});
