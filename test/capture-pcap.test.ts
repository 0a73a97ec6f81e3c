// Classic pcap: both magics, both byte orders, FCS bits in the link type, snap-length cuts,
// records split across chunks, truncation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, parseBytes, pcapFile } from './capture-builders.js';

const A = bytes('frame-one-data');
const B = bytes([1, 2, 3, 4, 5, 6, 7, 8, 9]);

for (const little of [true, false]) {
  for (const nanos of [false, true]) {
    test(`pcap ${nanos ? 'nanosecond' : 'microsecond'} ${little ? 'little' : 'big'}-endian: frames, times and lengths`, () => {
      const file = pcapFile(
        [
          { sec: 1118429190, frac: nanos ? 517770123 : 517770, data: A },
          { sec: 1118429191, frac: nanos ? 999999999 : 999999, data: B, len: 1514 },
        ],
        { nanos, little, linkType: 113 },
      );
      for (const chunk of [file.length, 7, 1]) {
        const { frames, warnings, format } = parseBytes(file, chunk);
        assert.equal(format, nanos ? 'pcap-ns' : 'pcap');
        assert.deepEqual(warnings, []);
        assert.equal(frames.length, 2);
        assert.deepEqual(frames.map((f) => f.number), [1, 2]);
        assert.equal(frames[0]!.tsSec, 1118429190);
        assert.equal(frames[0]!.tsNsec, nanos ? 517770123 : 517770000);
        assert.equal(frames[1]!.tsNsec, nanos ? 999999999 : 999999000);
        assert.equal(frames[0]!.linkType, 113);
        assert.deepEqual([...frames[0]!.data], [...A]);
        // Cut by the snap length: caplen < len, both kept as tshark shows them.
        assert.equal(frames[1]!.caplen, 9);
        assert.equal(frames[1]!.len, 1514);
      }
    });
  }
}

test('pcap link-type word: FCS flag bits are not part of the link type', () => {
  const file = pcapFile([{ sec: 1, frac: 0, data: A }], { linkType: 0x10000000 | 1 });
  assert.equal(parseBytes(file).frames[0]!.linkType, 1);
});

test('pcap truncated inside a record: every whole record, then a warning naming the byte offset', () => {
  const file = pcapFile([
    { sec: 1, frac: 0, data: A },
    { sec: 2, frac: 0, data: B },
  ]);
  const secondAt = 24 + 16 + A.length;
  for (const cut of [secondAt + 1, secondAt + 15, secondAt + 16, file.length - 1]) {
    const { frames, warnings } = parseBytes(file.subarray(0, cut), 5);
    assert.equal(frames.length, 1, `cut at ${cut}`);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`byte offset ${secondAt}\\b`));
  }
  // Cut exactly at a record boundary: nothing to warn about.
  assert.deepEqual(parseBytes(file.subarray(0, secondAt)).warnings, []);
});

test('pcap record claiming an absurd length stops with a warning, not an allocation', () => {
  const file = pcapFile([{ sec: 1, frac: 0, data: A }]);
  const bad = bytes(file, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f]);
  const { frames, warnings } = parseBytes(bad);
  assert.equal(frames.length, 1);
  assert.match(warnings[0]!, /byte offset 54 claims 2147483647 captured bytes/);
});

test('pcap header cut short is an error, not a capture', () => {
  assert.throws(() => parseBytes(pcapFile([]).subarray(0, 20)), /header is truncated/);
});
