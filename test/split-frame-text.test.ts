// read -V and JSON split by flow: a lane packs each frame's text as UTF-8 and leaves the stream
// numbers it cannot know yet to the main thread (src/output/sinks/summary-rows.ts,
// src/runner/parallel/stream-numbers.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Packet } from '../src/model/packet.js';
import type { FileInfo } from '../src/runner/analysis.js';
import type { FrameTextSink } from '../src/output/sinks/types.js';
import { FrameTextRowSink, rowBytes } from '../src/output/sinks/summary-rows.js';
import { LaneProgress, StreamCounts, StreamMarks, TCP_NUMBERS, laneProgress, streamLog } from '../src/runner/parallel/stream-numbers.js';

const FILE: FileInfo = { path: 'x.pcap', label: 'x.pcap', index: 0, multi: false, size: undefined, start: undefined };

function packet(number: number): Packet {
  return { frame: { number, tsSec: number, tsNsec: 0, caplen: 60, len: 60, linkType: 1, data: new Uint8Array(60), interfaceId: 0 }, layers: [], src: '', dst: '', findings: [] };
}

/**
 * A sink whose frame text shows one stream number (from the lane's marks while they defer, as
 * LaneStreamNumbers does, else the exact number 42) among text from the wire.
 */
function sink(marks: StreamMarks, wire: (frame: number) => string): FrameTextSink {
  return {
    begin: () => undefined,
    packet: () => undefined,
    end: () => undefined,
    frameText: (p) => `Frame ${p.frame.number} «é»\n    Stream index: ${marks.deferring ? marks.mark(TCP_NUMBERS, 1, p.frame.number) : 42}\n    Data: ${wire(p.frame.number)}\n`,
    writeFrameBytes: () => undefined,
  };
}

/** The main thread's numbers for two lanes, lane 1 having logged conversations first seen in frames 2 and 5. */
function counts(): StreamCounts {
  const tcp = [streamLog(16), streamLog(16)];
  const udp = [streamLog(16), streamLog(16)];
  const other = new Int32Array(tcp[1]!);
  other[1] = 2;
  other[2] = 5;
  other[0] = 2;
  return new StreamCounts({ tcp, udp }, () => assert.fail('no warning expected'));
}

test('frame text rows: a deferred stream number is left out of the bytes and put in by the main thread', () => {
  const marks = new StreamMarks();
  const rows = new FrameTextRowSink(sink(marks, () => 'hello'), 0, marks);
  rows.packet(packet(3), FILE);
  rows.packet(packet(7), FILE);
  const part = rows.take(0);
  assert.equal(part.rows, 2);
  assert.equal(part.patchEnds[1], 2);
  const numbers = counts();
  // Lane 0's conversation 1 first seen in frame 3: lane 1 has one conversation before it; in frame 7, two.
  assert.equal(Buffer.from(rowBytes(part, 0, numbers)).toString(), 'Frame 3 «é»\n    Stream index: 2\n    Data: hello\n');
  assert.equal(Buffer.from(rowBytes(part, 1, numbers)).toString(), 'Frame 7 «é»\n    Stream index: 3\n    Data: hello\n');
});

test('frame text rows: when the wire shows a marker\'s digits, the text is made again with the exact number (no patch)', () => {
  const marks = new StreamMarks();
  const rows = new FrameTextRowSink(sink(marks, (frame) => (frame === 4 ? `id ${StreamMarks.text(0)}` : 'plain')), 0, marks);
  rows.packet(packet(4), FILE);
  rows.packet(packet(6), FILE);
  const part = rows.take(0);
  assert.equal(part.patchEnds[0], 0, 'no patch on the frame whose wire text holds the marker');
  assert.equal(part.patchEnds[1], 1);
  const numbers = counts();
  assert.equal(Buffer.from(rowBytes(part, 0, numbers)).toString(), `Frame 4 «é»\n    Stream index: 42\n    Data: id ${StreamMarks.text(0)}\n`);
  assert.equal(Buffer.from(rowBytes(part, 1, numbers)).toString(), 'Frame 6 «é»\n    Stream index: 3\n    Data: plain\n');
});

test('frame text rows: any wire text round-trips through the packed bytes, with the numbers in place', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.boolean()), { minLength: 1, maxLength: 20 }), (frames) => {
    const marks = new StreamMarks();
    const rows = new FrameTextRowSink(sink(marks, (frame) => frames[frame - 1]![0]), 1, marks);
    frames.forEach((_, i) => rows.packet(packet(i + 1), FILE));
    const part = rows.take(0);
    const numbers = counts();
    frames.forEach(([wire], i) => {
      const text = Buffer.from(rowBytes(part, i, numbers)).toString();
      // Lane 1's conversation 1, first seen in frame i + 1: lane 0 logged none, so its number is 1 — or 42 made again.
      const shown = wire.includes(StreamMarks.text(0)) ? 42 : 1;
      assert.equal(text, `Frame ${i + 1} «é»\n    Stream index: ${shown}\n    Data: ${wire}\n`);
    });
  }));
});

test('lane progress: passed says whether every other lane has read up to a frame, without waiting', () => {
  const buffers = [laneProgress(), laneProgress(), laneProgress()];
  const [a, b, c] = buffers.map((_, lane) => new LaneProgress(buffers, lane));
  b!.progress(10);
  assert.equal(a!.passed(5), false);
  c!.progress(4);
  assert.equal(a!.passed(4), true);
  assert.equal(a!.passed(5), false);
  c!.done();
  assert.equal(a!.passed(10), true);
  assert.equal(a!.passed(11), false);
});
