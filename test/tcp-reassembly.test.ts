// TCP reassembly (src/net/tcp-reassembly.ts) and the stream buffer (src/net/stream-buffer.ts):
// order, retransmissions, overlaps with conflicting bytes, gaps, mid-stream starts, FIN/RST,
// SYN reuse, sequence wrap and the bounds.
import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { MAX_PENDING_BYTES, ReassemblyBudget, TcpDirection, type ReassemblySink } from '../src/net/tcp-reassembly.js';
import { StreamBuffer } from '../src/net/stream-buffer.js';
import { dissect } from './helpers.js';
import { ACK, Conversation, FIN, nbss, PSH, RST, SYN, bytes, le16, smb, tcp, writePcap } from './nbt-builder.js';
import type { MessageEvent } from '../src/model/events.js';

class Recorder implements ReassemblySink {
  out: number[] = [];
  gaps: [number, number][] = [];
  conflicts: [number, number][] = [];
  limits: number[] = [];
  data(b: Uint8Array): void {
    this.out.push(...b);
  }
  gap(from: number, length: number): void {
    this.gaps.push([from, length]);
  }
  conflict(from: number, length: number): void {
    this.conflicts.push([from, length]);
  }
  limitHit(n: number): void {
    this.limits.push(n);
  }
}

const seqBytes = (from: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);

function setup(isn = 1000): { d: TcpDirection; r: Recorder } {
  const d = new TcpDirection();
  d.syn(isn);
  return { d, r: new Recorder() };
}

test('in order and out of order segments come out in sequence, once', () => {
  const { d, r } = setup();
  assert.equal(d.segment(1001, seqBytes(0, 10), r), 'new');
  assert.equal(d.segment(1021, seqBytes(20, 10), r), 'out-of-order');
  assert.equal(d.segment(1031, seqBytes(30, 5), r), 'out-of-order');
  assert.deepEqual(r.out, [...seqBytes(0, 10)]);
  assert.equal(d.segment(1011, seqBytes(10, 10), r), 'new');
  assert.deepEqual(r.out, [...seqBytes(0, 35)]);
  assert.deepEqual(r.gaps, []);
});

test('an exact retransmission is recognised and not delivered twice', () => {
  const { d, r } = setup();
  d.segment(1001, seqBytes(0, 10), r);
  assert.equal(d.segment(1001, seqBytes(0, 10), r), 'retransmission');
  assert.deepEqual(r.out, [...seqBytes(0, 10)]);
  assert.deepEqual(r.conflicts, []);
});

test('a retransmission with different bytes keeps the first copy and reports the conflict', () => {
  const { d, r } = setup();
  d.segment(1001, seqBytes(0, 10), r);
  const changed = seqBytes(5, 10);
  changed[2] = 0xee; // byte at relative offset 8
  assert.equal(d.segment(1006, changed, r), 'retransmission');
  assert.deepEqual(r.out, [...seqBytes(0, 10), ...seqBytes(10, 5)]);
  assert.equal(r.conflicts.length, 1);
  assert.equal(r.conflicts[0]![0], 6);
});

test('overlapping out-of-order segments with conflicting bytes: first copy kept, conflict reported', () => {
  const { d, r } = setup();
  d.segment(1011, seqBytes(10, 10), r); // queued [10,20)
  const other = seqBytes(15, 10);
  other[0] = 0x99; // offset 15 differs from the queued copy
  d.segment(1016, other, r); // overlaps [15,20), adds [20,25)
  assert.equal(r.conflicts.length, 1);
  d.segment(1001, seqBytes(0, 10), r);
  assert.deepEqual(r.out, [...seqBytes(0, 25)]);
});

test('a segment covering several queued ones fills only the holes between them', () => {
  const { d, r } = setup();
  d.segment(1006, seqBytes(5, 2), r);
  d.segment(1011, seqBytes(10, 2), r);
  d.segment(1002, seqBytes(1, 15), r);
  d.segment(1001, seqBytes(0, 1), r);
  assert.deepEqual(r.out, [...seqBytes(0, 16)]);
  assert.deepEqual(r.conflicts, []);
});

test('an acknowledged hole becomes a gap with its byte range, and delivery resumes', () => {
  const { d, r } = setup();
  d.segment(1001, seqBytes(0, 10), r);
  d.segment(1031, seqBytes(30, 10), r);
  d.acknowledged(41, r);
  assert.deepEqual(r.gaps, [[11, 20]]);
  assert.deepEqual(r.out, [...seqBytes(0, 10), ...seqBytes(30, 10)]);
});

test('flush at the end turns every remaining hole into a gap', () => {
  const { d, r } = setup();
  d.segment(1001, seqBytes(0, 5), r);
  d.segment(1011, seqBytes(10, 5), r);
  d.segment(1021, seqBytes(20, 5), r);
  d.flush(r);
  assert.deepEqual(r.gaps, [[6, 5], [16, 5]]);
  assert.deepEqual(r.out, [...seqBytes(0, 5), ...seqBytes(10, 5), ...seqBytes(20, 5)]);
});

test('a capture that starts mid-stream takes the first segment as the start', () => {
  const d = new TcpDirection();
  const r = new Recorder();
  assert.equal(d.segment(777777, seqBytes(0, 4), r), 'new');
  d.segment(777781, seqBytes(4, 4), r);
  assert.deepEqual(r.out, [...seqBytes(0, 8)]);
  assert.equal(d.displayRelative(777777), 1);
});

test('sequence numbers wrap past 2^32', () => {
  const isn = 0xfffffff0;
  const { d, r } = setup(isn);
  d.segment(0xfffffff1, seqBytes(0, 10), r);
  d.segment((0xfffffff1 + 20) >>> 0, seqBytes(20, 10), r); // after the wrap, out of order
  d.segment((0xfffffff1 + 10) >>> 0, seqBytes(10, 10), r); // crosses the wrap
  assert.deepEqual(r.out, [...seqBytes(0, 30)]);
  assert.deepEqual(r.gaps, []);
  assert.equal(d.relative((0xfffffff1 + 30) >>> 0), 31);
});

test('a new SYN with another ISN starts the direction afresh', () => {
  const { d, r } = setup(1000);
  d.segment(1001, seqBytes(0, 10), r);
  d.segment(1051, seqBytes(50, 5), r); // pending
  d.syn(90000);
  d.segment(90001, seqBytes(100, 3), r);
  d.flush(r);
  assert.deepEqual(r.out, [...seqBytes(0, 10), ...seqBytes(100, 3)]);
  assert.deepEqual(r.gaps, []);
});

test('the pending-data bound is reported and the oldest hole declared a gap', () => {
  const { d, r } = setup();
  const chunk = 64 * 1024;
  let off = 100;
  while (r.limits.length === 0 && off < 4 * MAX_PENDING_BYTES) {
    d.segment(1001 + off, new Uint8Array(chunk), r);
    off += chunk;
  }
  assert.equal(r.limits.length, 1);
  assert.deepEqual(r.gaps[0], [1, 100]);
  assert.ok(r.out.length > MAX_PENDING_BYTES);
});

test('StreamBuffer: frames and first-byte time of consumed ranges, growth and limit', () => {
  const b = new StreamBuffer(64, 4);
  assert.ok(b.append(seqBytes(0, 10), 1, 100, 1));
  assert.ok(b.append(seqBytes(10, 10), 2, 101, 2));
  assert.ok(b.append(seqBytes(20, 10), 3, 102, 3));
  assert.deepEqual(b.carried(5), { frames: [1], tsSec: 100, tsNsec: 1 });
  assert.deepEqual(b.consume(15), { frames: [1, 2], tsSec: 100, tsNsec: 1 });
  assert.deepEqual(b.carried(15), { frames: [2, 3], tsSec: 101, tsNsec: 2 });
  assert.deepEqual([...b.view()], [...seqBytes(15, 15)]);
  assert.equal(b.offset, 15);
  assert.equal(b.append(new Uint8Array(50), 4, 103, 4), false, 'the limit refuses the append');
  assert.equal(b.length, 15);
  assert.deepEqual(b.consume(15).frames, [2, 3]);
  assert.equal(b.length, 0);
  assert.ok(b.append(seqBytes(0, 60), 5, 104, 5));
  assert.deepEqual(b.consume(60).frames, [5]);
});

test('StreamBuffer: a frame that continues the previous one is not listed twice; an empty consume carries nothing', () => {
  const b = new StreamBuffer();
  b.append(seqBytes(0, 3), 7, 1, 0);
  b.append(seqBytes(3, 3), 7, 1, 0);
  assert.deepEqual(b.carried(6).frames, [7]);
  assert.deepEqual(b.carried(0).frames, []);
});

test('StreamBuffer: storage is held only while bytes are, and rooms given back are never shared by two buffers', () => {
  const idle = Array.from({ length: 1000 }, () => new StreamBuffer());
  for (const [i, b] of idle.entries()) {
    b.append(seqBytes(i % 200, 100), i + 1, 0, 0);
    assert.equal(b.room, 256);
    b.consume(100);
  }
  assert.ok(idle.every((b) => b.room === 0), 'an emptied buffer keeps no storage');
  // Random appends and consumes on three buffers that trade rooms through the pool, against a model.
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.integer({ min: 0, max: 5000 })), { maxLength: 60 }),
    (ops) => {
      const bufs = [new StreamBuffer(), new StreamBuffer(), new StreamBuffer()];
      const model: number[][] = [[], [], []];
      let next = 0;
      for (const [which, add, n] of ops) {
        if (add) {
          const chunk = seqBytes(next % 256, n);
          next += n;
          assert.ok(bufs[which]!.append(chunk, 1, 0, 0));
          model[which]!.push(...chunk);
        } else {
          bufs[which]!.consume(n);
          model[which]!.splice(0, n);
        }
        for (const [k, b] of bufs.entries()) assert.deepEqual([...b.view()], model[k]);
      }
    },
  ), { seed: 7, numRuns: 60 });
});

// End to end through the engine: an NBSS conversation with reordered, duplicated and
// conflicting segments still yields the message, whole, and the anomalies as findings.
test('engine: reordering, duplicates and a conflicting retransmission on an SMB conversation', async () => {
  const msg = nbss(0, smb(0xd0, [], bytes([4], 'A\0', [4], 'B\0', [1], le16(26), 'abcdefghijklmnopqrstuvwxyz')));
  const c = new Conversation('10.0.0.1', 4000, '10.0.0.2', 139);
  const base = 1001;
  const seg = (from: number, to: number, payload = msg.subarray(from, to)): Uint8Array => tcp('10.0.0.1', 4000, '10.0.0.2', 139, base + from, 5001, ACK | PSH, payload);
  const bad = msg.slice(40, 60);
  bad[5] ^= 0xff;
  c.frames.push(seg(20, 40), seg(0, 20), seg(0, 20), seg(40, 60), seg(40, 60, bad), seg(60, msg.length));
  c.frames.push(tcp('10.0.0.2', 139, '10.0.0.1', 4000, 5001, base + msg.length, ACK | PSH, nbss(0, smb(0xd0, [], new Uint8Array(0), { response: true }))));
  c.frames.push(tcp('10.0.0.1', 4000, '10.0.0.2', 139, base + msg.length, 5001 + 39, RST));
  const out = await dissect(writePcap(c.frames));
  const m = out.events.find((e): e is MessageEvent => e.kind === 'message')!;
  assert.equal(m.text, 'abcdefghijklmnopqrstuvwxyz');
  assert.equal(m.status, 'ok');
  assert.ok(out.events.some((e) => e.kind === 'finding' && e.findings[0]!.id === 'tcp.overlap-conflict'));
  assert.ok(out.frames[3]!.info.includes('Out-Of-Order') || out.frames[3]!.layers.includes('tcp'));
  assert.ok(out.frames[5]!.info.startsWith('[TCP Retransmission]'));
});

test('engine: a SYN reusing a finished port pair starts a new conversation', async () => {
  const one = new Conversation('10.0.0.1', 4001, '10.0.0.2', 139, [100, 200]);
  one.send(0, nbss(0, smb(0xd0, [], bytes([4], 'A\0', [4], 'B\0', [1], le16(3), 'one')))).close();
  const two = new Conversation('10.0.0.1', 4001, '10.0.0.2', 139, [900000, 700000]);
  two.send(0, nbss(0, smb(0xd0, [], bytes([4], 'A\0', [4], 'B\0', [1], le16(3), 'two')))).close();
  const out = await dissect(writePcap([...one.frames, ...two.frames]));
  const texts = out.events.filter((e): e is MessageEvent => e.kind === 'message').map((m) => m.text);
  assert.deepEqual(texts, ['one', 'two']);
  assert.ok(!out.events.some((e) => e.kind === 'finding' && e.findings[0]!.id === 'tcp.gap'));
  void SYN;
  void FIN;
});

test('delivered-bytes histories past their first 512 bytes share one budget: a direction refused keeps its size, once', () => {
  const budget = new ReassemblyBudget(1 << 20, 64 * 1024);
  const sink = { data() {}, gap() {}, conflict() {}, limitHit() {} };
  const dirs = Array.from({ length: 4 }, () => new TcpDirection(budget));
  const refused: number[] = [];
  dirs.forEach((d, i) => {
    d.syn(1000);
    for (let k = 0; k < 40; k++) d.segment((1001 + k * 1000) >>> 0, new Uint8Array(1000), sink);
    if (budget.historyRefused) refused.push(i);
    budget.historyRefused = false;
  });
  // 64 KiB of budget: the first direction grows to 64 KiB (63.5 KiB counted), the second to the
  // 1 KiB that still fits, the others keep the 512 bytes every direction has.
  assert.deepEqual(refused, [1, 2, 3]);
  assert.equal(budget.historyBytes, 64 * 1024);
  assert.deepEqual(dirs.map((d) => d.historyRoom), [65536, 1024, 512, 512]);
  // Released with its conversation, its share of the budget is free again.
  dirs[0]!.release();
  assert.equal(budget.historyBytes, 512);
});
