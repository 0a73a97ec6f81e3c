// stats' conversation tables (src/analysis/conversations.ts) count as the plain version they
// replace: one object per row found by the text of its ends. Property test over frames made of
// IPv4 (addresses as text, or as numbers too), IPv6 and TCP/UDP layers — hosts talking to
// themselves, equal ports, tunnels, quoted headers, layers without addresses — with small
// bounds, so the tables fill up too; and a large one, so the typed-array tables grow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Conversations, type ConvKind } from '../src/analysis/conversations.js';
import type { ConversationRow, EndpointRow } from '../src/analysis/stats.js';
import type { Layer } from '../src/model/packet.js';

interface Acc { a: string; b: string; framesAB: number; bytesAB: number; framesBA: number; bytesBA: number; firstSec: number; lastSec: number }

/** The tables as stats counted them before: a Map of rows by `a\0b` text. */
class Reference {
  readonly tables: Record<ConvKind, Map<string, Acc>> = { tcp: new Map(), udp: new Map(), ip: new Map(), ipv6: new Map() };
  readonly full = new Set<ConvKind>();
  constructor(private readonly maxRows: number) {}

  private count(kind: ConvKind, src: string, dst: string, t: number, len: number): void {
    const table = this.tables[kind];
    const key = src < dst ? `${src}\u0000${dst}` : `${dst}\u0000${src}`;
    let row = table.get(key);
    if (row === undefined) {
      if (table.size >= this.maxRows) {
        this.full.add(kind);
        return;
      }
      row = { a: src, b: dst, framesAB: 0, bytesAB: 0, framesBA: 0, bytesBA: 0, firstSec: t, lastSec: t };
      table.set(key, row);
    }
    if (row.a === src && row.b === dst) {
      row.framesAB++;
      row.bytesAB += len;
    } else {
      row.framesBA++;
      row.bytesBA += len;
    }
    if (t < row.firstSec) row.firstSec = t;
    if (t > row.lastSec) row.lastSec = t;
  }

  packet(layers: readonly Layer[], t: number, len: number): void {
    let src = '';
    let dst = '';
    for (const layer of layers) {
      if (layer.quoted === true) continue;
      if (layer.name === 'ip' || layer.name === 'ipv6') {
        src = layer.srcAddress ?? '';
        dst = layer.dstAddress ?? '';
        if (src !== '' && dst !== '') this.count(layer.name, src, dst, t, len);
      } else if ((layer.name === 'tcp' || layer.name === 'udp') && src !== '' && dst !== '') {
        const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
        this.count(layer.name, ep(src, layer.srcPort!), ep(dst, layer.dstPort!), t, len);
      }
    }
  }

  rows(kind: ConvKind): ConversationRow[] {
    return [...this.tables[kind].values()]
      .map((r) => ({ a: r.a, b: r.b, framesAB: r.framesAB, bytesAB: r.bytesAB, framesBA: r.framesBA, bytesBA: r.bytesBA, frames: r.framesAB + r.framesBA, bytes: r.bytesAB + r.bytesBA, relStart: r.firstSec, duration: r.lastSec - r.firstSec }))
      .sort((x, y) => y.frames - x.frames || y.bytes - x.bytes || x.relStart - y.relStart);
  }

  endpoints(kind: 'ip' | 'ipv6'): EndpointRow[] {
    const map = new Map<string, EndpointRow>();
    const get = (address: string): EndpointRow => {
      let row = map.get(address);
      if (row === undefined) map.set(address, (row = { address, frames: 0, bytes: 0, txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0 }));
      return row;
    };
    for (const c of this.tables[kind].values()) {
      const a = get(c.a);
      const b = get(c.b);
      a.txFrames += c.framesAB; a.txBytes += c.bytesAB; a.rxFrames += c.framesBA; a.rxBytes += c.bytesBA;
      b.txFrames += c.framesBA; b.txBytes += c.bytesBA; b.rxFrames += c.framesAB; b.rxBytes += c.bytesAB;
    }
    for (const r of map.values()) {
      r.frames = r.txFrames + r.rxFrames;
      r.bytes = r.txBytes + r.rxBytes;
      const self = this.tables[kind].get(`${r.address}\u0000${r.address}`);
      if (self !== undefined) {
        r.frames -= self.framesAB + self.framesBA;
        r.bytes -= self.bytesAB + self.bytesBA;
      }
    }
    return [...map.values()].sort((x, y) => y.frames - x.frames || y.bytes - x.bytes || (x.address < y.address ? -1 : 1));
  }
}

const layer = (name: string, fields: Partial<Layer>): Layer => ({ name, bytes: new Uint8Array(0), offset: 0, length: 0, tree: () => [], ...fields });

const v4 = fc.constantFrom('10.0.0.1', '10.0.0.2', '192.168.1.9', '2.2.2.2', '255.255.255.255', '0.0.0.0');
const v6 = fc.constantFrom('fe80::1', '2001:db8::2', '::1');
const port = fc.constantFrom(0, 53, 135, 139, 1026, 1863, 65535);
const ipLayer = fc.oneof(
  fc.record({ name: fc.constant('ip'), src: v4, dst: v4, quoted: fc.boolean() }),
  fc.record({ name: fc.constant('ipv6'), src: v6, dst: v6, quoted: fc.boolean() }),
  // An address layer whose addresses are unknown: no conversation, and none for the ports after it.
  fc.record({ name: fc.constant('ip'), src: fc.constant(''), dst: v4, quoted: fc.constant(false) }),
);
const transportLayer = fc.record({ name: fc.constantFrom('tcp', 'udp'), sp: port, dp: port, quoted: fc.boolean() });
const frame = fc.record({
  layers: fc.array(fc.oneof({ arbitrary: ipLayer, weight: 1 }, { arbitrary: transportLayer, weight: 1 }), { minLength: 1, maxLength: 4 }),
  dt: fc.integer({ min: -2, max: 5 }),
  len: fc.integer({ min: 20, max: 1500 }),
});

/** An IPv4 address's text as the number an IPv4 layer gives beside it. */
const v4Number = (text: string): number => text.split('.').reduce((n, part) => n * 256 + Number(part), 0);

test('Conversations counts as the tables of rows by text (property)', () => {
  fc.assert(
    // `numbers`: IPv4 layers give their addresses as numbers too (as the engine's do), or as text only.
    fc.property(fc.array(frame, { maxLength: 120 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), (frames, maxRows, numbers) => {
      const fast = new Conversations(maxRows);
      const reference = new Reference(maxRows);
      let t = 0;
      for (const f of frames) {
        t += f.dt / 4;
        const layers = f.layers.map((l) =>
          'src' in l
            ? layer(l.name, {
              srcAddress: l.src, dstAddress: l.dst, quoted: l.quoted,
              ...(numbers && l.name === 'ip' && l.src !== '' ? { srcAddress4: v4Number(l.src), dstAddress4: v4Number(l.dst) } : {}),
            })
            : layer(l.name, { srcPort: l.sp, dstPort: l.dp, quoted: l.quoted }));
        fast.packet(layers, t, f.len);
        reference.packet(layers, t, f.len);
      }
      for (const kind of ['tcp', 'udp', 'ip', 'ipv6'] as const) assert.deepEqual(fast.rows(kind), reference.rows(kind), kind);
      for (const kind of ['ip', 'ipv6'] as const) assert.deepEqual(fast.endpoints(kind), reference.endpoints(kind), kind);
      assert.deepEqual(fast.truncated(), (['tcp', 'udp', 'ip', 'ipv6'] as const).filter((k) => reference.full.has(k)));
    }),
    { numRuns: 3000 },
  );
});

test('Conversations: thousands of rows (the typed-array tables grow, rehash and fill) count as the tables by text', () => {
  const text = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 1500, max: 5000 }), (seed, maxRows) => {
      const fast = new Conversations(maxRows);
      const reference = new Reference(maxRows);
      // A small linear congruential generator: a few hundred hosts each side, hosts talking to themselves, repeats.
      let state = seed;
      const next = (n: number): number => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return (state >>> 8) % n;
      };
      for (let i = 0; i < 6000; i++) {
        const src = (0xc0a80000 + next(300)) >>> 0;
        const dst = next(10) === 0 ? src : (0x0a000000 + next(300)) >>> 0;
        const [a, b] = next(2) === 0 ? [src, dst] : [dst, src];
        const layers = [
          layer('ip', { srcAddress: text(a), dstAddress: text(b), srcAddress4: a, dstAddress4: b }),
          layer(next(2) === 0 ? 'tcp' : 'udp', { srcPort: 1024 + next(40), dstPort: next(3) === 0 ? 135 : 1024 + next(40) }),
        ];
        const len = 60 + next(1400);
        fast.packet(layers, i / 100, len);
        reference.packet(layers, i / 100, len);
      }
      for (const kind of ['tcp', 'udp', 'ip'] as const) assert.deepEqual(fast.rows(kind), reference.rows(kind), kind);
      assert.deepEqual(fast.endpoints('ip'), reference.endpoints('ip'));
      assert.deepEqual(fast.truncated(), (['tcp', 'udp', 'ip', 'ipv6'] as const).filter((k) => reference.full.has(k)));
    }),
    { numRuns: 6 },
  );
});
