// Retired stream numbers: a UDP flow idle past the table's timeout keeps its udp.stream when it
// speaks again, as in tshark (which never forgets a conversation), at a few bytes per flow; a
// TCP conversation ended idle keeps its tcp.stream and relative sequence numbers, and its
// application is found again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { readCapture } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { RetiredNumbers } from '../src/engine/flow-numbers.js';
import { FlowRecord, flowHash, FlowTable } from '../src/engine/flows.js';
import { ipv4Text } from '../src/net/addr.js';
import { flatFields } from '../src/output/packet-view.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { hasTshark } from './helpers.js';
import { ACK, PSH, SYN, tcp, udp, writePcap, type RawFrame } from './nbt-builder.js';

class Rec extends FlowRecord {}

function record(a: number, pa: number, b: number, pb: number): Rec {
  return new Rec(ipv4Text(a), ipv4Text(b), pa, pb, a, b, flowHash(ipv4Text(a), pa, ipv4Text(b), pb, a, b), 0);
}

test('retired numbers: found from either direction, through growth, and all forgotten at the limit', () => {
  const flow = fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 3 }));
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), flow, fc.boolean()), { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (ops, limit) => {
    const table = new RetiredNumbers(limit);
    const model = new Map<string, number>();
    const key = (a: number, pa: number, b: number, pb: number): string => (a * 4 + pa < b * 4 + pb ? `${a}:${pa}-${b}:${pb}` : `${b}:${pb}-${a}:${pa}`);
    let next = 0;
    for (const [store, [a, pa, b, pb], reverse] of ops) {
      // Addresses past 2^31 (negative as 32-bit values) too.
      const A = (0xc0a80000 + a) >>> 0;
      const B = (0x0a000000 + b) >>> 0;
      if (store) {
        const kept = table.remember(record(A, 1000 + pa, B, 2000 + pb), next);
        if (!kept) model.clear();
        model.set(key(a, 1000 + pa, b + 100, 2000 + pb), next++);
      } else {
        const [s, sp, d, dp] = reverse ? [B, 2000 + pb, A, 1000 + pa] : [A, 1000 + pa, B, 2000 + pb];
        const found = table.find(flowHash(ipv4Text(s), sp, ipv4Text(d), dp, s, d), ipv4Text(s), sp, ipv4Text(d), dp, s, d);
        assert.equal(found, model.get(key(a, 1000 + pa, b + 100, 2000 + pb)));
      }
      assert.equal(table.size, model.size);
      assert.ok(table.size <= limit);
    }
  }), { seed: 11, numRuns: 200 });
});

test('retired numbers: extra words come back with the side the packet came from', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 0xffffffff }), fc.boolean()), { minLength: 1, maxLength: 200 }), (ops) => {
    const table = new RetiredNumbers(1000, 2);
    const model = new Map<number, number>();
    ops.forEach(([flow, word], i) => {
      table.remember(record((0xc0a80000 + flow) >>> 0, 1000 + flow, 0x0a000001, 80), i, [word, i]);
      model.set(flow, word);
    });
    for (const [flow, , reverse] of ops) {
      const A = (0xc0a80000 + flow) >>> 0;
      const [s, sp, d, dp] = reverse ? [0x0a000001, 80, A, 1000 + flow] : [A, 1000 + flow, 0x0a000001, 80];
      const found = table.recall(flowHash(ipv4Text(s), sp, ipv4Text(d), dp, s, d), ipv4Text(s), sp, ipv4Text(d), dp, s, d);
      assert.ok(found !== undefined);
      assert.equal(found.words[0], model.get(flow));
      assert.equal(found.words[1], found.index);
      assert.equal(found.fromSide0, !reverse);
    }
  }), { seed: 12, numRuns: 100 });
  const v6 = new RetiredNumbers(10, 1);
  v6.remember(new Rec('fe80::1', 'fe80::2', 5000, 1863, -1, -1, 0, 0), 3, [0xfffffffe]);
  assert.deepEqual(v6.recall(0, 'fe80::2', 1863, 'fe80::1', 5000, -1, -1), { index: 3, words: [0xfffffffe], fromSide0: false });
});

test('retired numbers: IPv6 flows by their address texts, either direction', () => {
  const table = new RetiredNumbers(10);
  const rec = new Rec('fe80::1', 'fe80::2', 5000, 53, -1, -1, flowHash('fe80::1', 5000, 'fe80::2', 53, -1, -1), 0);
  table.remember(rec, 7);
  assert.equal(table.find(0, 'fe80::2', 53, 'fe80::1', 5000, -1, -1), 7);
  assert.equal(table.find(0, 'fe80::1', 5000, 'fe80::2', 53, -1, -1), 7);
  assert.equal(table.find(0, 'fe80::1', 5001, 'fe80::2', 53, -1, -1), undefined);
});

test('a UDP flow silent for more than an hour keeps its udp.stream (as tshark numbers it)', async () => {
  // Flow A at t=0, 70,000 other flows (so the engine sweeps its table), then flow A's answer 5,000 s later.
  const frames: RawFrame[] = [{ data: udp('10.0.0.1', 5000, '10.0.0.2', 53, new Uint8Array(4)), ts: 1_000_000_000 }];
  for (let i = 0; i < 70_000; i++) {
    frames.push({ data: udp(`10.${1 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`, 6000, '10.0.0.9', 7, new Uint8Array(4)), ts: 1_000_000_001 + i * 0.06 });
  }
  frames.push({ data: udp('10.0.0.2', 53, '10.0.0.1', 5000, new Uint8Array(4)), ts: 1_000_005_000 });
  frames.push({ data: udp('10.0.0.3', 53, '10.0.0.1', 5000, new Uint8Array(4)), ts: 1_000_005_001 });
  const path = writePcap(frames);
  const streams = new Map<number, number>();
  const engine = new Engine({
    packet: (p) => {
      if (p.frame.number >= frames.length - 1) streams.set(p.frame.number, Number(flatFields(p)['udp.stream']?.[0]));
    },
  }, {}, defaultProtocols());
  await readCapture(path, { frame: (f) => engine.frame(f), warning: () => undefined });
  engine.finish();
  assert.equal(streams.get(frames.length - 1), 0, 'the answer joins flow A');
  assert.equal(streams.get(frames.length), 70_001, 'a new flow gets the next number');
  if (hasTshark()) {
    const r = spawnSync('tshark', ['-n', '-r', path, '-Y', `frame.number >= ${frames.length - 1}`, '-T', 'fields', '-e', 'udp.stream'], { encoding: 'utf8' });
    assert.deepEqual(r.stdout.trim().split('\n'), ['0', '70001']);
  }
});

test('flow hashes: no family of flows a capture can choose hashes alike (the keyed hash), and the table order is insertion order', () => {
  // Before: an address and port with the same XOR hashed alike, and an endpoint talking to itself hashed to 0.
  const sameXor = new Set<number>();
  const toItself = new Set<number>();
  for (let port = 1; port <= 20_000; port++) {
    const addr = (0x0a000001 ^ ((port << 16) ^ port)) >>> 0;
    sameXor.add(flowHash(ipv4Text(addr), port, '10.9.9.9', 139, addr, 0x0a090909));
    toItself.add(flowHash(ipv4Text(addr), port, ipv4Text(addr), port, addr, addr));
  }
  assert.ok(sameXor.size > 19_900, `${sameXor.size} distinct hashes for 20,000 flows`);
  assert.ok(toItself.size > 19_900, `${toItself.size} distinct hashes for 20,000 flows`);
  // Records that share a hash are still found, removed and listed oldest first.
  const table = new FlowTable<Rec>();
  const recs = [1, 2, 3, 4].map((i) => new Rec(ipv4Text(i), ipv4Text(100), 1000 + i, 80, i, 100, 42, 0));
  for (const r of recs) table.insert(r);
  assert.equal(table.find(42, ipv4Text(100), 80, ipv4Text(3), 1003, 100, 3), recs[2]);
  assert.equal(table.side, 1);
  table.remove(recs[1]!);
  assert.deepEqual([...table.records()], [recs[0], recs[2], recs[3]]);
  assert.deepEqual(table.oldest(2), [recs[0], recs[2]]);
  assert.equal(table.find(42, ipv4Text(2), 1002, ipv4Text(100), 80, 2, 100), undefined);
  assert.equal(table.size, 3);
});

test('a TCP conversation silent past the idle timeout keeps its tcp.stream and relative numbers, and its application is found again', async () => {
  const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
  const t0 = 1_000_000_000;
  const frames: RawFrame[] = [];
  // Two MSNP connections (1863) with a handshake and one command each way.
  const open = (client: string, cport: number, isn: number, sisn: number, ts: number): void => {
    frames.push({ data: tcp(client, cport, '10.0.0.2', 1863, isn, 0, SYN), ts });
    frames.push({ data: tcp('10.0.0.2', 1863, client, cport, sisn, isn + 1, SYN | ACK), ts });
    frames.push({ data: tcp(client, cport, '10.0.0.2', 1863, isn + 1, sisn + 1, ACK | PSH, enc('VER 1 MSNP8 CVR0\r\n')), ts });
    frames.push({ data: tcp('10.0.0.2', 1863, client, cport, sisn + 1, isn + 19, ACK | PSH, enc('VER 1 MSNP8\r\n')), ts });
  };
  open('10.0.0.1', 3000, 0x10000, 0x90000, t0);
  open('10.0.0.3', 3001, 0xfffffff0, 0x70000, t0);
  // Other traffic long enough for the engine's sweeps (every 65,536 frames): the first ends
  // both connections idle (past 15 minutes), the second forgets the first one (past the linger).
  const filler = (n: number, from: number): void => {
    for (let i = 0; i < n; i++) frames.push({ data: udp('10.0.9.9', 7000, '10.0.9.8', 7, new Uint8Array(1)), ts: from + i * 0.001 });
  };
  filler(65_536, t0 + 1000);
  // The second connection speaks again before it is forgotten, the first after.
  frames.push({ data: tcp('10.0.0.3', 3001, '10.0.0.2', 1863, 0xfffffff0 + 19, 0x70000 + 13, ACK | PSH, enc('CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS a@b.c\r\n')), ts: t0 + 1100 });
  // (More than an hour later: before, an hour's idle ended it and its data was no longer dissected.)
  filler(65_536, t0 + 4000);
  frames.push({ data: tcp('10.0.0.1', 3000, '10.0.0.2', 1863, 0x10000 + 19, 0x90000 + 13, ACK | PSH, enc('CVR 2 0x0409 winnt 5.1 i386 MSNMSGR 6.0.0602 MSMSGS a@b.c\r\n')), ts: t0 + 4100 });
  frames.push({ data: tcp('10.0.0.2', 1863, '10.0.0.1', 3000, 0x90000 + 13, 0x10000 + 76, ACK | PSH, enc('CVR 2 6.0.0602 6.0.0602 1.0.0000 http://x/ http://y/\r\n')), ts: t0 + 4100 });
  const resumedB = 4 * 2 + 65_536 + 1;
  const resumedA = frames.length - 1;
  const path = writePcap(frames);
  const seen = new Map<number, { stream: string; seq: string; ack: string; msnp: boolean }>();
  const engine = new Engine({
    packet: (p) => {
      const n = p.frame.number;
      if (n !== resumedB && n < resumedA) return;
      const fields = flatFields(p);
      seen.set(n, { stream: String(fields['tcp.stream']?.[0]), seq: String(fields['tcp.seq']?.[0]), ack: String(fields['tcp.ack']?.[0]), msnp: p.layers.some((l) => l.name === 'msnp') });
    },
  }, {}, defaultProtocols());
  await readCapture(path, { frame: (f) => engine.frame(f), warning: () => undefined });
  engine.finish();
  assert.deepEqual(seen.get(resumedB), { stream: '1', seq: '19', ack: '13', msnp: true }, 'taken up while it lingers');
  assert.deepEqual(seen.get(resumedA), { stream: '0', seq: '19', ack: '13', msnp: true }, 'taken up from the retired numbers');
  assert.deepEqual(seen.get(resumedA + 1), { stream: '0', seq: '13', ack: '76', msnp: true });
  if (hasTshark()) {
    const r = spawnSync('tshark', ['-n', '-r', path, '-Y', `frame.number == ${resumedB} || frame.number >= ${resumedA}`, '-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.seq', '-e', 'tcp.ack'], { encoding: 'utf8' });
    assert.deepEqual(r.stdout.trim().split('\n'), ['1\t19\t13', '0\t19\t13', '0\t13\t76']);
  }
});
