// Budgets that keep memory flat whatever the input: half-open TCP conversations (a SYN flood)
// and the bytes of unfinished application messages across connections. Each eviction is
// reported by a finding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../src/engine/engine.js';
import { DEFAULT_OPTIONS } from '../src/engine/context.js';

const MAX_HALF_OPEN = DEFAULT_OPTIONS.halfOpenLimit;
import type { Finding } from '../src/model/findings.js';
import type { Packet } from '../src/model/packet.js';
import { BufferBudget, MAX_IDLE_ROOM, spareBytes, StreamBuffer } from '../src/net/stream-buffer.js';
import { ReassemblyBudget, TcpDirection, type ReassemblySink } from '../src/net/tcp-reassembly.js';
import fc from 'fast-check';
import { defaultProtocols } from '../src/protocols/index.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { dissect } from './helpers.js';
import { ACK, bytes, nbss, PSH, sessionRequest, SYN, tcp, writePcap } from './nbt-builder.js';

/** An Ethernet/IPv4/TCP SYN from a new address and port for every `i` (the first segment of `handshake(i, …)`, numbered on its own). */
function syn(i: number) {
  return { ...handshake(i, 0), number: i + 1, tsNsec: 0 };
}

test('a SYN flood keeps at most MAX_HALF_OPEN conversations, with one finding per eviction batch', () => {
  const findings: Finding[] = [];
  const engine = new Engine({ packet: (p) => findings.push(...p.findings.filter((x) => x.id === 'tcp.half-open-limit')) }, {}, defaultProtocols());
  const total = MAX_HALF_OPEN + 10_000;
  for (let i = 0; i < total; i++) engine.frame(syn(i));
  engine.finish();
  // 4,096 are forgotten each time the table passes the limit.
  assert.equal(findings.length, Math.ceil((total - MAX_HALF_OPEN) / 4096));
  assert.match(findings[0]!.summary, /the 4096 oldest were forgotten/);
});

test('the buffer budget counts room, not bytes, and tells the owner of the largest buffer to give its bytes up', () => {
  const budget = new BufferBudget(2000);
  const evicted: string[] = [];
  const small = new StreamBuffer();
  const large = new StreamBuffer();
  small.attach(budget, () => {
    evicted.push('small');
    small.clear();
  });
  large.attach(budget, () => {
    evicted.push('large');
    large.clear();
  });
  small.append(new Uint8Array(300), 1, 0, 0);
  large.append(new Uint8Array(600), 2, 0, 0);
  // 300 bytes in 512 of room, 600 in 1024: the room is what they cost.
  assert.equal(budget.held, 512 + 1024);
  large.append(new Uint8Array(200), 3, 0, 0);
  assert.equal(budget.held, 512 + 1024, 'bytes within the room the buffer has change nothing');
  assert.equal(budget.exceeded, false);
  large.append(new Uint8Array(300), 4, 0, 0);
  assert.equal(budget.held, 512 + 2048);
  assert.equal(budget.exceeded, true);
  assert.equal(budget.largest(), large);
  budget.largest()!.evict!();
  assert.deepEqual(evicted, ['large']);
  assert.equal(budget.held, 512, 'an empty buffer counts for nothing');
  small.consume(300);
  assert.equal(budget.held, 0);
  assert.equal(budget.largest(), undefined);
  assert.equal(budget.holders, 0);
});

test('an emptied buffer keeps no room (MAX_IDLE_ROOM); a small first message gets a small room', () => {
  assert.equal(MAX_IDLE_ROOM, 0);
  const b = new StreamBuffer();
  b.append(new Uint8Array(4), 1, 0, 0);
  assert.equal(b.room, 256);
  b.consume(4);
  assert.equal(b.room, 0);
  b.append(new Uint8Array(3000), 2, 0, 0);
  assert.equal(b.room, 4096);
  b.consume(1000);
  assert.equal(b.room, 4096, 'a buffer still holding bytes keeps its room');
  b.consume(2000);
  assert.equal(b.room, 0);
});

test('the buffer budget heap always gives the buffer with the most room, and its sum (random appends and consumes)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ which: fc.nat(15), append: fc.boolean(), n: fc.integer({ min: 0, max: 9000 }) }), { maxLength: 300 }),
      (ops) => {
        const budget = new BufferBudget(Number.MAX_SAFE_INTEGER);
        const bufs = Array.from({ length: 16 }, () => {
          const b = new StreamBuffer();
          b.attach(budget, () => b.clear());
          return b;
        });
        let frame = 1;
        for (const op of ops) {
          const b = bufs[op.which]!;
          if (op.append) b.append(new Uint8Array(op.n), frame++, 0, 0);
          else b.consume(Math.min(op.n, b.length));
          const holding = bufs.filter((x) => x.length > 0);
          assert.equal(budget.held, holding.reduce((sum, x) => sum + x.room, 0));
          assert.equal(budget.holders, holding.length);
          const top = budget.largest();
          if (holding.length === 0) assert.equal(top, undefined);
          else assert.equal(top!.room, Math.max(...holding.map((x) => x.room)));
        }
      },
    ),
    { seed: 13, numRuns: 200 },
  );
});

test('a conversation that carried one SYN only is a compact record (a few hundred bytes, not the full conversation)', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const engine = new Engine({}, {}, defaultProtocols());
  for (let i = 0; i < 1000; i++) engine.frame(syn(i));
  gc();
  const before = process.memoryUsage().heapUsed;
  const n = 50_000;
  for (let i = 1000; i < 1000 + n; i++) engine.frame(syn(i));
  gc();
  const perConversation = (process.memoryUsage().heapUsed - before) / n;
  assert.ok(engine.framesSeen === 1000 + n);
  // A full conversation (directions, analysis, flags) cost about 1,080 bytes; the compact record about 200.
  assert.ok(perConversation < 400, `${perConversation.toFixed(0)} bytes per SYN-only conversation`);
});

test('a SYN-only record turns into the full conversation on its next segment: streams and analysis as before', async () => {
  const a = '10.0.0.1';
  const b = '10.0.0.2';
  const path = writePcap([
    tcp(a, 4000, b, 139, 1000, 0, SYN), // stream 0, compact
    tcp(a, 4000, b, 139, 1000, 0, SYN), // retransmitted: same stream
    tcp(a, 4001, b, 139, 5000, 0, SYN), // stream 1, compact
    tcp(a, 4001, b, 139, 7000, 0, SYN), // another ISN on the same ports: a new stream (2)
    tcp(b, 139, a, 4001, 9000, 7001, SYN | ACK),
    tcp(a, 4001, b, 139, 7001, 9001, ACK),
  ]);
  const d = await dissect(path);
  assert.deepEqual(d.frames.map((f) => f.fields['tcp.stream']?.[0]), [0, 0, 1, 2, 2, 2]);
  assert.deepEqual(d.frames[1]!.fields['tcp.analysis.retransmission'], [true]);
  assert.equal(d.frames[0]!.fields['tcp.analysis.retransmission'], undefined);
  assert.deepEqual(d.frames.map((f) => f.fields['tcp.seq']?.[0]), [0, 0, 0, 0, 0, 1]);
  assert.deepEqual(d.frames[5]!.fields['tcp.ack'], [1]);
});

/** Ethernet/IPv4/TCP segment `k` of connection `i`'s handshake: 0 SYN, 1 SYN/ACK, 2 ACK (a connect scan). */
function handshake(i: number, k: 0 | 1 | 2) {
  const b = new Uint8Array(58);
  const v = new DataView(b.buffer);
  v.setUint16(12, 0x0800);
  b[14] = 0x45;
  v.setUint16(16, 44);
  b[22] = 64;
  b[23] = 6;
  const client = (0x3d800001 + (i >>> 10)) >>> 0;
  const cport = 1024 + (i & 1023);
  const cseq = Math.imul(i, 2654435761) >>> 0;
  const sseq = Math.imul(i, 40503) >>> 0;
  if (k === 1) {
    v.setUint32(26, 0xc0a80a14);
    v.setUint32(30, client);
    v.setUint16(34, 139);
    v.setUint16(36, cport);
    v.setUint32(38, sseq);
    v.setUint32(42, (cseq + 1) >>> 0);
    b[47] = SYN | ACK;
  } else {
    v.setUint32(26, client);
    v.setUint32(30, 0xc0a80a14);
    v.setUint16(34, cport);
    v.setUint16(36, 139);
    v.setUint32(38, k === 0 ? cseq : (cseq + 1) >>> 0);
    if (k === 2) v.setUint32(42, (sseq + 1) >>> 0);
    b[47] = k === 0 ? SYN : ACK;
  }
  b[46] = 0x60;
  v.setUint16(48, 64240);
  b.set([2, 4, 5, 0xb4], 54);
  return { number: 3 * i + k + 1, tsSec: 1000 + Math.floor(i / 2000), tsNsec: k * 1000, caplen: 58, len: 58, linkType: 1, data: b, interfaceId: 0 };
}

test('a connect scan (handshakes, then nothing) is bounded by the half-open limit, with one finding per eviction batch', () => {
  const findings: Finding[] = [];
  const limit = 1024;
  const engine = new Engine({ packet: (p) => findings.push(...p.findings.filter((x) => x.id === 'tcp.half-open-limit')) }, { halfOpenLimit: limit }, defaultProtocols());
  const total = limit + 1000;
  for (let i = 0; i < total; i++) for (const k of [0, 1, 2] as const) engine.frame(handshake(i, k));
  engine.finish();
  // 64 (a sixteenth of the limit) are forgotten each time the list passes the limit.
  assert.equal(findings.length, Math.ceil((total - limit) / 64));
  assert.match(findings[0]!.summary, /the 64 oldest were forgotten/);
});

test('a handshake-only connection keeps its stream when data comes after a long silence, and leaves the half-open list with it', async () => {
  const a = '10.0.0.1';
  const b = '10.0.0.2';
  const at = (ts: number, data: Uint8Array) => ({ data, ts: 1_000_000_000 + ts });
  // Frames of an unknown EtherType in between, so that the engine sweeps its tables (every 65,536 frames).
  const filler = new Uint8Array(60);
  filler[12] = 0x88;
  filler[13] = 0xb5;
  const path = writePcap([
    at(0, tcp(a, 4000, b, 139, 1000, 0, SYN)),
    at(0, tcp(b, 139, a, 4000, 9000, 1001, SYN | ACK)),
    at(0, tcp(a, 4000, b, 139, 1001, 9001, ACK)),
    ...Array.from({ length: 70_000 }, () => at(500, filler)),
    // Past the 240 s a SYN no one answered lingers, within the hour an open connection is kept.
    at(1000, tcp(a, 4000, b, 139, 1001, 9001, ACK | PSH, new Uint8Array([0x85, 0, 0, 0]))),
  ]);
  const d = await dissect(path);
  const last = d.frames[d.frames.length - 1]!;
  assert.deepEqual(d.frames.slice(0, 3).map((f) => f.fields['tcp.stream']?.[0]), [0, 0, 0]);
  assert.deepEqual(last.fields['tcp.stream'], [0]);
  assert.deepEqual(last.fields['tcp.seq'], [1]);
});

test('a handshake-only connection is a compact record too (a few hundred bytes, not the kilobyte of a full conversation)', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const engine = new Engine({}, {}, defaultProtocols());
  const feed = (i: number) => {
    for (const k of [0, 1, 2] as const) engine.frame(handshake(i, k));
  };
  for (let i = 0; i < 1000; i++) feed(i);
  gc();
  const before = process.memoryUsage().heapUsed;
  const n = 30_000;
  for (let i = 1000; i < 1000 + n; i++) feed(i);
  gc();
  const perConversation = (process.memoryUsage().heapUsed - before) / n;
  // 1,240 bytes as a full conversation before its flags were packed and its address texts
  // dropped, about 1,060 after; the SYN-only record with the SYN/ACK and ACK it took is far less.
  // About 390 now.
  assert.ok(perConversation < 500, `${perConversation.toFixed(0)} bytes per handshake-only conversation`);
});

test('a compact handshake\'s layers are worked out when read, each as of its own segment (read after the whole handshake)', () => {
  const packets: Packet[] = [];
  const engine = new Engine({ packet: (p) => packets.push(p) }, {}, defaultProtocols());
  for (const k of [0, 1, 2] as const) engine.frame(handshake(7, k));
  // Read only now, after the ACK: the SYN/ACK's layer must still be the SYN/ACK's.
  const infos = packets.map((p) => p.layers.find((l) => l.name === 'tcp')!.info);
  assert.match(infos[1]!, /\[SYN, ACK\] Seq=0 Ack=1 /);
  assert.match(infos[2]!, /\[ACK\] Seq=1 Ack=1 /);
});

/**
 * The nbss-open pattern of scripts/adversarial.mjs, small: `n` connections to 139, each with a
 * session request and response, then an NBSS message that declares 0x1FFFF bytes of which 8 KB
 * come, left open. Then (at `resumeAt`) connection 0 sends one more segment.
 */
function openInsideMessage(n: number): string {
  const frames: { data: Uint8Array; ts: number }[] = [];
  const server = '192.168.10.20';
  const part = bytes([0x00, 0x01, 0xff, 0xff], new Uint8Array(8192).fill(0x41));
  const request = sessionRequest('VICTIM', 0x20, 'SPAMMER');
  for (let i = 0; i < n; i++) {
    const client = `61.128.${i >>> 8}.${(i & 255) + 1}`;
    const sp = 1024 + i;
    const ts = 1_000_000_000 + i * 0.1;
    frames.push({ data: tcp(client, sp, server, 139, 1000, 0, SYN), ts });
    frames.push({ data: tcp(server, 139, client, sp, 5000, 1001, SYN | ACK), ts });
    frames.push({ data: tcp(client, sp, server, 139, 1001, 5001, ACK), ts });
    frames.push({ data: tcp(client, sp, server, 139, 1001, 5001, ACK | PSH, request), ts });
    frames.push({ data: tcp(server, 139, client, sp, 5001, 1001 + request.length, ACK | PSH, nbss(0x82, new Uint8Array(0))), ts });
    frames.push({ data: tcp(client, sp, server, 139, 1001 + request.length, 5005, ACK | PSH, part), ts });
  }
  // Connection 0 again, 8,192 bytes further into its message.
  frames.push({ data: tcp('61.128.0.1', 1024, server, 139, 1001 + request.length + part.length, 5005, ACK | PSH, new Uint8Array(100).fill(0x41)), ts: 1_000_000_000 + n * 0.1 });
  return writePcap(frames);
}

test('connections left inside a message the buffer budget gave up are bounded by the stalled limit, one finding per batch', async () => {
  const n = 300;
  // 64 KiB of buffers: four of the 16 KiB rooms an 8 KB partial message takes.
  const options = { bufferedBytes: 64 * 1024, stalledLimit: 32 };
  const d = await dissect(openInsideMessage(n), options);
  const budget = d.frames.flatMap((f) => f.findings).filter((x) => x.id === 'tcp.buffer-budget');
  const stalled = d.frames.flatMap((f) => f.findings).filter((x) => x.id === 'tcp.stalled-limit');
  // Every message but the last four is given up; past 32 stalled, two (a sixteenth) go at a time.
  assert.equal(budget.length, n - 3, "all but the last four, and one more for the bytes connection 0 sends at the end");
  assert.equal(stalled.length, Math.floor((budget.length - 32 + 1) / 2));
  assert.match(stalled[0]!.summary, /the 2 stalled longest were ended and forgotten/);
  // Connection 0 was forgotten: its next segment starts a new stream.
  const last = d.frames[d.frames.length - 1]!;
  assert.deepEqual(last.fields['tcp.stream'], [n]);
  // Without the limit (or with room for all), it keeps its stream.
  const kept = await dissect(openInsideMessage(n), { bufferedBytes: 64 * 1024, stalledLimit: n });
  assert.deepEqual(kept.frames[kept.frames.length - 1]!.fields['tcp.stream'], [0]);
  assert.equal(kept.frames.flatMap((f) => f.findings).filter((x) => x.id === 'tcp.stalled-limit').length, 0);
});

test('MSNP connections count in the buffer budget too: unfinished payloads across connections are given up past it', async () => {
  // n connections to 1863, each announcing a 100,000-byte MSG payload of which 8 KB come, then silence.
  const n = 40;
  const frames: { data: Uint8Array; ts: number }[] = [];
  const server = '207.46.0.10';
  const head = bytes('MSG 2 N 100000\r\n');
  const part = bytes(head, new Uint8Array(8192).fill(0x41));
  for (let i = 0; i < n; i++) {
    const client = `10.1.${i >>> 8}.${(i & 255) + 1}`;
    const sp = 2000 + i;
    const ts = 1_000_000_000 + i * 0.1;
    frames.push({ data: tcp(client, sp, server, 1863, 1000, 0, SYN), ts });
    frames.push({ data: tcp(server, 1863, client, sp, 5000, 1001, SYN | ACK), ts });
    frames.push({ data: tcp(client, sp, server, 1863, 1001, 5001, ACK), ts });
    frames.push({ data: tcp(client, sp, server, 1863, 1001, 5001, ACK | PSH, part), ts });
  }
  const findings = async (bufferedBytes: number) =>
    (await dissect(writePcap(frames), { bufferedBytes })).frames.flatMap((f) => f.findings).filter((x) => x.id === 'tcp.buffer-budget');
  assert.equal((await findings(64 * 1024 * 1024)).length, 0);
  // 64 KiB: four of the 16 KiB rooms an 8 KB partial payload takes; every later connection makes the budget give one up.
  assert.equal((await findings(64 * 1024)).length, n - 4);
});

test('a stalled connection that sends again leaves the stalled list (only connections making no progress are evicted)', async () => {
  const n = 40;
  const d = await dissect(openInsideMessage(n), { bufferedBytes: 64 * 1024, stalledLimit: n - 4 });
  // n - 4 given up, exactly the limit: nothing evicted; connection 0 resumes in its stream.
  assert.equal(d.frames.flatMap((f) => f.findings).filter((x) => x.id === 'tcp.stalled-limit').length, 0);
  assert.deepEqual(d.frames[d.frames.length - 1]!.fields['tcp.stream'], [0]);
});

test('delivered-bytes histories share -o tcp.history_limit across conversations: past it, one finding per direction refused', async () => {
  const n = 40;
  const findings = async (options: { historyBytes?: number }) =>
    (await dissect(openInsideMessage(n), { bufferedBytes: 64 * 1024 * 1024, ...options })).frames.flatMap((f) => f.findings).filter((x) => x.id === 'tcp.history-limit');
  // Each client direction delivers ~8 KB: a 16 KiB ring, of which all but the first 512 bytes count.
  assert.equal((await findings({})).length, 0);
  const capped = await findings({ historyBytes: 64 * 1024 });
  // Four rings of 16 KiB fit; the rest of the connections are refused once each.
  assert.equal(capped.length, n - 4);
  assert.match(capped[0]!.summary, /65536 bytes of delivered data are kept across conversations/);
});

test('of buffers with equal room, the budget gives up the one holding bytes longest (it holds the reorder window back)', () => {
  const budget = new BufferBudget(Number.MAX_SAFE_INTEGER);
  const bufs = Array.from({ length: 40 }, () => {
    const b = new StreamBuffer();
    b.attach(budget, () => b.clear());
    return b;
  });
  // Filled in a shuffled order; all end with the same room.
  const order = Array.from({ length: 40 }, (_, i) => (i * 17) % 40);
  for (const [frame, i] of order.entries()) bufs[i]!.append(new Uint8Array(3000), frame + 1, 0, 0);
  const given: number[] = [];
  for (let top = budget.largest(); top !== undefined; top = budget.largest()) {
    given.push(bufs.indexOf(top));
    top.clear();
  }
  assert.deepEqual(given, order);
});

test('rooms of large unfinished messages and of delivered-bytes histories are reused, not left as garbage', () => {
  // A buffer grown by doubling to 128 KiB, then given up: its room becomes a spare…
  const buf = new StreamBuffer();
  buf.append(new Uint8Array(100_000), 1, 0, 0);
  assert.equal(buf.room, 128 * 1024);
  const before = spareBytes();
  buf.clear();
  assert.equal(spareBytes() - before, 128 * 1024);
  // …which the next buffer that grows that far takes (the spares shrink back).
  const next = new StreamBuffer();
  next.append(new Uint8Array(100_000), 2, 0, 0);
  assert.equal(spareBytes(), before);
  next.clear();
  // A direction's history ring (64 KiB after 64 KiB delivered) goes to the spares when the connection ends.
  const sink: ReassemblySink = { data: () => {}, gap: () => {}, conflict: () => {}, limitHit: () => {} };
  const dir = new TcpDirection(new ReassemblyBudget(1 << 20, 1 << 20));
  dir.syn(1000);
  dir.segment(1001, new Uint8Array(70_000).fill(7), sink);
  assert.equal(dir.historyRoom, 64 * 1024);
  const held = spareBytes();
  dir.release();
  assert.equal(spareBytes() - held, 64 * 1024);
});

test('a compact handshake made full keeps its place: conversations end in the order their SYN/ACKs came', async () => {
  const server = '192.168.10.20';
  const request = sessionRequest('VICTIM', 0x20, 'SPAMMER');
  const frames: { data: Uint8Array; ts: number }[] = [];
  const handshake3 = (client: string, sp: number) => {
    frames.push({ data: tcp(client, sp, server, 139, 1000, 0, SYN), ts: 1_000_000_000 });
    frames.push({ data: tcp(server, 139, client, sp, 5000, 1001, SYN | ACK), ts: 1_000_000_000 });
    frames.push({ data: tcp(client, sp, server, 139, 1001, 5001, ACK), ts: 1_000_000_000 });
  };
  handshake3('10.0.0.1', 2001);
  handshake3('10.0.0.2', 2002);
  // B speaks first, then A: neither request is answered, so each session is reported when its connection ends (at the end of the capture).
  frames.push({ data: tcp('10.0.0.2', 2002, server, 139, 1001, 5001, ACK | PSH, request), ts: 1_000_000_001 });
  frames.push({ data: tcp('10.0.0.1', 2001, server, 139, 1001, 5001, ACK | PSH, request), ts: 1_000_000_001 });
  const d = await dissect(writePcap(frames));
  const opened = d.events.filter((e) => e.kind === 'session').map((e) => e.src);
  // As when the SYN/ACK made the full conversation: A's handshake came first, so A ends first.
  assert.deepEqual(opened, ['10.0.0.1:2001', '10.0.0.2:2002']);
});
