// Capture-wide tcp.stream and udp.stream numbers in a capture split by flow
// (src/runner/parallel/stream-numbers.ts): a lane's conversation gets the number one engine
// reading every frame would give it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { LaneProgress, LaneStreamNumbers, StreamMarks, TCP_NUMBERS, laneProgress, streamLog } from '../src/runner/parallel/stream-numbers.js';

/** Frames 1..n, each maybe starting a conversation in some lane: [lane, starts]. */
const capture = fc.array(fc.tuple(fc.nat(3), fc.boolean()), { minLength: 1, maxLength: 300 });

/** Every lane's progress, as each lane sees it. */
function progressOf(lanes: number): LaneProgress[] {
  const buffers = Array.from({ length: lanes }, laneProgress);
  return buffers.map((_, lane) => new LaneProgress(buffers, lane));
}

test('stream numbers: a conversation\'s number is its rank among every lane\'s conversations, by first frame', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 4 }), capture, (lanes, frames) => {
    const logs = Array.from({ length: lanes }, () => streamLog(1024));
    const progress = progressOf(lanes);
    const numbers = progress.map((p) => new LaneStreamNumbers(logs, p, TCP_NUMBERS, new StreamMarks(), () => assert.fail('no warning expected')));
    const local = new Array<number>(lanes).fill(0);
    const expected: { lane: number; index: number; number: number; frame: number }[] = [];
    frames.forEach(([which, starts], i) => {
      const lane = which % lanes;
      const frame = i + 1;
      if (!starts) return;
      numbers[lane]!.created(local[lane]!, frame);
      expected.push({ lane, index: local[lane]!, number: expected.length, frame });
      local[lane]!++;
    });
    for (const p of progress) p.done();
    for (const e of expected) assert.equal(numbers[e.lane]!.number(e.index, frames.length + 1), e.number, `lane ${e.lane} index ${e.index} (frame ${e.frame})`);
  }));
});

test('stream numbers: asked while other lanes are behind, a lane waits for them to pass the frame (here: they have, up to it)', () => {
  const logs = [streamLog(64), streamLog(64)];
  const [pa, pb] = progressOf(2);
  const a = new LaneStreamNumbers(logs, pa!, TCP_NUMBERS, new StreamMarks(), () => undefined);
  const b = new LaneStreamNumbers(logs, pb!, TCP_NUMBERS, new StreamMarks(), () => undefined);
  b.created(0, 1);
  a.created(0, 2);
  b.created(1, 3);
  // Lane 1 has read up to frame 1 only: enough for a conversation first seen in frame 2.
  pb!.progress(1);
  assert.equal(a.number(0, 5), 1);
  // Progress never goes back: a later, smaller report leaves `done` in place.
  pb!.done();
  pb!.progress(2);
  assert.equal(a.number(0, 5), 1);
});

test('stream numbers: one progress for both transports, so a lane waiting for a UDP number lets another lane\'s TCP number through', async () => {
  // Lane 0 asks a udp.stream number at frame 40 (its flow began there) while lane 1 asks a
  // tcp.stream number at frame 24 (its conversation began there): each waits for the other to
  // pass its frame. With a progress per transport, both would wait for ever. Both lanes run in
  // workers, so that a hang fails the test (the main thread never blocks).
  const shared = { tcp: [streamLog(64), streamLog(64)], udp: [streamLog(64), streamLog(64)], progress: [laneProgress(), laneProgress()], logged: new SharedArrayBuffer(4) };
  const module = new URL('../src/runner/parallel/stream-numbers.js', import.meta.url).href;
  const lane = (role: number): Promise<number> => {
    const worker = new Worker(`
      const { parentPort, workerData } = require('node:worker_threads');
      import(${JSON.stringify(module)}).then(({ LaneProgress, LaneStreamNumbers, StreamMarks, TCP_NUMBERS, UDP_NUMBERS }) => {
        const { role, tcp, udp, progress, logged } = workerData;
        const lanes = new LaneProgress(progress, role);
        const tcpNumbers = new LaneStreamNumbers(tcp, lanes, TCP_NUMBERS, new StreamMarks(), () => {});
        const udpNumbers = new LaneStreamNumbers(udp, lanes, UDP_NUMBERS, new StreamMarks(), () => {});
        const flags = new Int32Array(logged);
        if (role === 1) {
          tcpNumbers.created(0, 24);
          udpNumbers.created(0, 30);
        } else udpNumbers.created(0, 40);
        // Both lanes have logged their conversations before either asks.
        Atomics.add(flags, 0, 1);
        Atomics.notify(flags, 0);
        while (Atomics.load(flags, 0) < 2) Atomics.wait(flags, 0, Atomics.load(flags, 0), 50);
        const number = role === 1 ? tcpNumbers.number(0, 24) : udpNumbers.number(0, 40);
        lanes.done();
        parentPort.postMessage(number);
      });`, { eval: true, workerData: { role, ...shared } });
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`lane ${role} still waits after 10 s`));
      }, 10000);
      worker.once('message', (n: number) => {
        clearTimeout(timer);
        void worker.terminate();
        resolve(n);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  };
  const [udpNumber, tcpNumber] = await Promise.all([lane(0), lane(1)]);
  // Lane 0's flow of frame 40 comes after lane 1's of frame 30; lane 1's conversation of frame 24 is the first.
  assert.equal(udpNumber, 1);
  assert.equal(tcpNumber, 0);
});

test('stream numbers: past the log\'s capacity the number is approximate (at most the entries dropped too high), with one warning', () => {
  const logs = [streamLog(4), streamLog(4)];
  const [pa, pb] = progressOf(2);
  const warnings: string[] = [];
  const a = new LaneStreamNumbers(logs, pa!, TCP_NUMBERS, new StreamMarks(), (m: string) => warnings.push(m));
  const b = new LaneStreamNumbers(logs, pb!, TCP_NUMBERS, new StreamMarks(), () => undefined);
  a.created(0, 1);
  for (let i = 0; i < 10; i++) b.created(i, 2 + i);
  a.created(1, 20);
  pa!.done();
  pb!.done();
  // Lane 1's ring holds its last 4 entries (frames 8..11), all below 20: exact.
  assert.equal(a.number(1, 21), 11);
  assert.equal(warnings.length, 0);
  // Frame 1's count in lane 1 (0) is no longer in its ring: an upper bound (6 dropped entries, any of them below frame 1), and a warning.
  assert.equal(a.number(0, 21), 6);
  assert.equal(a.number(0, 21), 6);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /approximate/);
});
