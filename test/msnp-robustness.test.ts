// Untrusted input: mutated and random byte streams through an MSNP connection never throw,
// never hang, and leave findings rather than silence.
import { DEFAULT_OPTIONS } from '../src/engine/context.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineContext } from '../src/engine/context.js';
import type { Packet } from '../src/model/packet.js';
import type { TimelineEvent } from '../src/model/events.js';
import type { Finding } from '../src/model/findings.js';
import { MsnpConnection } from '../src/protocols/msnp/connection.js';
import type { Timer } from '../src/engine/timers.js';
import { MsnpShared } from '../src/protocols/msnp/shared.js';

class FakeContext implements EngineContext {
  readonly options = DEFAULT_OPTIONS;
  packet: Packet | undefined;
  events: TimelineEvent[] = [];
  findings: Finding[] = [];
  private n = 0;
  next(): void {
    this.n++;
    this.packet = { frame: { number: this.n, tsSec: this.n, tsNsec: 0, caplen: 0, len: 0, linkType: 1, data: new Uint8Array(0), interfaceId: 0 }, layers: [], src: '', dst: '', findings: [] };
  }
  emit(event: TimelineEvent): void {
    this.events.push(event);
  }
  packetFinding(item: Finding): void {
    this.findings.push(item);
  }
  standaloneFinding(item: Finding): void {
    this.findings.push(item);
  }
  /** Timers never fire here: pending state is flushed at the end, as when the capture ends first. */
  schedule(): Timer {
    return { cancel: () => undefined };
  }
}

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

const TRANSCRIPT = [
  'VER 1 MSNP11 CVR0\r\n', 'VER 1 MSNP11\r\n', 'USR 2 TWN I a@b.c\r\n', 'USR 2 OK a@b.c 1 0\r\n',
  'MSG 3 A 60\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhello world!!!', 'ACK 3\r\n',
  'UBX b@c.d 40\r\n<Data><PSM>x</PSM><CurrentMedia/></Data>', 'NLN NLN b@c.d B 1 0\r\n', 'JOI b@c.d B\r\n', 'OUT\r\n',
].join('');

test('random and mutated streams: no exception, bounded work, findings reported', () => {
  const random = rng(12345);
  const base = new TextEncoder().encode(TRANSCRIPT);
  for (let round = 0; round < 300; round++) {
    const ctx = new FakeContext();
    const conn = new MsnpConnection(new MsnpShared(), ctx, { transport: 'tcp/msnp', client: '1.1.1.1:1', server: '2.2.2.2:1863', clientIp: '1.1.1.1', fromStart: true });
    const bytes = Uint8Array.from(base);
    const flips = Math.floor(random() * 20);
    for (let i = 0; i < flips; i++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
    let o = 0;
    const started = Date.now();
    while (o < bytes.length) {
      const n = 1 + Math.floor(random() * 40);
      ctx.next();
      const side = random() < 0.5 ? 'c' : 's';
      if (random() < 0.05) conn.gap(side, 1 + Math.floor(random() * 30));
      else conn.feed(side, bytes.subarray(o, o + n));
      o += n;
    }
    ctx.packet = undefined;
    conn.end();
    assert.ok(Date.now() - started < 2000, 'bounded time');
  }
});

test('pure garbage yields garbage findings, and a truncated payload at the end is an error', () => {
  const ctx = new FakeContext();
  const conn = new MsnpConnection(new MsnpShared(), ctx, { transport: 'tcp/msnp', client: '1.1.1.1:1', server: '2.2.2.2:1863', clientIp: '1.1.1.1', fromStart: true });
  ctx.next();
  conn.feed('c', new Uint8Array(5000).fill(7));
  ctx.next();
  conn.feed('c', new TextEncoder().encode('\r\nMSG 1 U 100\r\nabc'));
  ctx.packet = undefined;
  conn.end();
  const ids = ctx.findings.map((x) => x.id);
  assert.ok(ids.includes('msnp.garbage'));
  assert.ok(ids.includes('msnp.payload-truncated'));
});

test('a gap inside a known payload keeps the framing', () => {
  const ctx = new FakeContext();
  const conn = new MsnpConnection(new MsnpShared(), ctx, { transport: 'tcp/msnp', client: '1.1.1.1:1', server: '2.2.2.2:1863', clientIp: '1.1.1.1', fromStart: true });
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  ctx.next();
  conn.feed('s', enc('MSG b@c.d B 60\r\nMIME-Version: 1.0\r\n'));
  conn.gap('s', 20); // 60 - 19 = 41 bytes missing; 20 lost, 21 still to come
  ctx.next();
  conn.feed('s', enc('x'.repeat(21) + 'BYE b@c.d\r\n'));
  ctx.packet = undefined;
  conn.end();
  assert.ok(ctx.events.some((e) => e.kind === 'session' && e.action === 'leave'), 'BYE after the gap was framed');
  assert.ok(!ctx.findings.some((x) => x.id === 'msnp.garbage'));
});
