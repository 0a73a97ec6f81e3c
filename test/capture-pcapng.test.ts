// pcapng: byte orders, sections, interfaces with their own link types and clocks, every
// packet block kind, comments, skipped blocks, and corrupt blocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, ng, parseBytes, pcapngBlock, u32 } from './capture-builders.js';

const P1 = bytes('first packet');
const P2 = bytes('second');
const P3 = bytes('third packet!');

for (const little of [true, false]) {
  test(`pcapng ${little ? 'little' : 'big'}-endian: interfaces with different link types, tsresol, comments, unknown blocks`, () => {
    const file = bytes(
      ng.shb(little, [[1, 'section comment']]),
      ng.idb(little, 1), // Ethernet, default µs
      ng.idb(little, 113, [ng.tsresol(9)]), // SLL, ns
      ng.idb(little, 101, [ng.tsresol(0x80 | 10)]), // raw IP, 2^-10 s
      pcapngBlock(0x00000004, bytes(u32(0, little)), little), // name resolution block: skipped
      ng.epb(little, 0, 1_118_429_190_517_770n, P1, [[1, 'a comment'], [1, 'another']]),
      pcapngBlock(0x0bad0bad, bytes([1, 2, 3, 4, 5, 6, 7, 8]), little), // unknown type: skipped by its length
      ng.epb(little, 1, 1_118_429_190_123_456_789n, P2, [], 1500),
      pcapngBlock(0x00000005, bytes(u32(0, little), u32(0, little), u32(0, little)), little), // interface statistics: skipped
      ng.epb(little, 2, (5n << 10n) + 512n, P3),
    );
    for (const chunk of [file.length, 13, 1]) {
      const { frames, warnings, format } = parseBytes(file, chunk);
      assert.equal(format, 'pcapng');
      assert.deepEqual(warnings, []);
      assert.equal(frames.length, 3);
      assert.deepEqual(frames.map((f) => f.number), [1, 2, 3]);
      assert.deepEqual(frames.map((f) => f.linkType), [1, 113, 101]);
      assert.deepEqual(frames.map((f) => f.interfaceId), [0, 1, 2]);
      assert.deepEqual([frames[0]!.tsSec, frames[0]!.tsNsec], [1118429190, 517770000]);
      assert.deepEqual([frames[1]!.tsSec, frames[1]!.tsNsec], [1118429190, 123456789]);
      assert.deepEqual([frames[2]!.tsSec, frames[2]!.tsNsec], [5, 500000000]);
      assert.deepEqual(frames[0]!.comments, ['a comment', 'another']);
      assert.equal(frames[1]!.comments, undefined);
      assert.deepEqual([frames[1]!.caplen, frames[1]!.len], [P2.length, 1500]);
      assert.deepEqual([...frames[2]!.data], [...P3]);
    }
  });
}

test('pcapng: several sections in different byte orders, interface ids restart per section', () => {
  const file = bytes(
    ng.shb(true),
    ng.idb(true, 1),
    ng.epb(true, 0, 1_000_000n, P1),
    ng.shb(false),
    ng.idb(false, 0), // NULL in the second section
    ng.idb(false, 9), // PPP
    ng.epb(false, 1, 2_000_000n, P2),
    ng.epb(false, 0, 3_000_000n, P3),
  );
  const { frames, warnings } = parseBytes(file, 11);
  assert.deepEqual(warnings, []);
  assert.deepEqual(frames.map((f) => [f.number, f.linkType, f.tsSec]), [[1, 1, 1], [2, 9, 2], [3, 0, 3]]);
});

test('pcapng: if_tsoffset adds seconds; decimal and binary resolutions', () => {
  const file = bytes(
    ng.shb(true),
    ng.idb(true, 1, [ng.tsoffset(1_000_000_000n, true)]),
    ng.idb(true, 1, [ng.tsresol(3), ng.tsoffset(-10n, true)]),
    ng.idb(true, 1, [ng.tsresol(0x80 | 20)]),
    ng.epb(true, 0, 2_500_000n, P1), // 2.5 s + 1e9
    ng.epb(true, 1, 12_345n, P1), // 12.345 s − 10
    ng.epb(true, 2, 3n * 1048576n + 262144n, P1), // 3.25 s
  );
  const { frames } = parseBytes(file);
  assert.deepEqual(frames.map((f) => [f.tsSec, f.tsNsec]), [[1_000_000_002, 500_000_000], [2, 345_000_000], [3, 250_000_000]]);
});

test('pcapng: simple packet block (interface 0, snaplen cut, no timestamp) and obsolete packet block', () => {
  const file = bytes(ng.shb(true), ng.idb(true, 1, [], 8), ng.idb(true, 105), ng.spb(true, P1.subarray(0, 8), 60), ng.pb(true, 1, 7_000_000n, P2, [[1, 'old']]));
  const { frames, warnings } = parseBytes(file);
  assert.deepEqual(warnings, []);
  assert.equal(frames.length, 2);
  assert.deepEqual([frames[0]!.caplen, frames[0]!.len, frames[0]!.interfaceId, frames[0]!.tsSec], [8, 60, 0, 0]);
  assert.deepEqual([...frames[0]!.data], [...P1.subarray(0, 8)]);
  assert.deepEqual([frames[1]!.linkType, frames[1]!.tsSec, frames[1]!.interfaceId], [105, 7, 1]);
  assert.deepEqual(frames[1]!.comments, ['old']);
});

test('pcapng: packet block naming an undescribed interface is counted and reported', () => {
  const file = bytes(ng.shb(true), ng.idb(true, 1), ng.epb(true, 3, 0n, P1), ng.epb(true, 0, 0n, P2));
  const { frames, warnings } = parseBytes(file);
  assert.deepEqual(frames.map((f) => f.number), [2]);
  assert.match(warnings[0]!, /names interface 3/);
});

test('pcapng: a block shorter than its fixed part is skipped with a warning (no out-of-bounds read)', () => {
  const short = bytes(u32(6, true), u32(16, true), u32(0, true), u32(16, true)); // an EPB of 16 bytes
  const file = bytes(ng.shb(true), ng.idb(true, 1), short, ng.epb(true, 0, 0n, P1));
  const { frames, warnings } = parseBytes(file);
  assert.equal(frames.length, 1);
  assert.match(warnings[0]!, /shorter than its fixed part/);
});

test('pcapng: trailing length differing from the leading one stops with a warning naming the offset', () => {
  const good = ng.epb(true, 0, 0n, P1);
  const bad = good.slice();
  bad[bad.length - 4] ^= 0x40;
  const head = bytes(ng.shb(true), ng.idb(true, 1));
  const { frames, warnings } = parseBytes(bytes(head, good, bad, good));
  assert.equal(frames.length, 1);
  assert.match(warnings[0]!, new RegExp(`byte offset ${head.length + good.length}\\b`));
});

test('pcapng truncated mid-block: every whole block, then a warning with the offset', () => {
  const head = bytes(ng.shb(true), ng.idb(true, 1));
  const one = ng.epb(true, 0, 0n, P1);
  const file = bytes(head, one, ng.epb(true, 0, 0n, P2));
  const { frames, warnings } = parseBytes(file.subarray(0, file.length - 3), 9);
  assert.equal(frames.length, 1);
  assert.match(warnings[0]!, new RegExp(`incomplete pcapng block at byte offset ${head.length + one.length}\\b`));
});

test('pcapng without a section header first is not a capture', () => {
  assert.throws(() => parseBytes(bytes([0x0a, 0x0d, 0x0d, 0x0a], u32(28, true), u32(0x12345678, true), new Array<number>(16).fill(0))), /bad byte-order magic/);
});
