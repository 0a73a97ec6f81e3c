// The generic bounded reassembly table (src/net/fragment-table.ts): parts by byte offset and
// by fragment number, in order and out of order, duplicates, overlaps and conflicts, every
// limit, expiry by age, and seeded random fragment orders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FragmentTable, NumberedParts, OffsetParts, type FragmentLimits, type LimitHit } from '../src/net/fragment-table.js';

const ROOMY: FragmentLimits = { maxEntries: 16, maxParts: 64, maxEntryBytes: 65535, maxTotalBytes: 1 << 20 };

const offsets = (limits: Partial<FragmentLimits> = {}, keepLast = false) => new FragmentTable<string, OffsetParts>({ ...ROOMY, ...limits }, () => new OffsetParts(1, keepLast));
const numbered = (limits: Partial<FragmentLimits> = {}) => new FragmentTable<string, NumberedParts>({ ...ROOMY, ...limits }, () => new NumberedParts());

function opened<E extends { kind: 'entry' }>(r: E | LimitHit): E {
  if (r.kind === 'limit') assert.fail(`unexpected limit ${r.limit}`);
  return r;
}

const bytes = (...b: number[]) => Uint8Array.from(b);

test('byte offsets in order: whole once the end is known and every byte is held', () => {
  const t = offsets();
  const e = opened(t.open('a', 'meta', 10));
  assert.equal(t.addAt(e, 0, bytes(1, 2, 3), [1], 10).kind, 'placed');
  assert.equal(e.parts.complete, false);
  assert.equal(t.addAt(e, 3, bytes(4, 5), [2], 11).kind, 'placed');
  e.parts.end = 5;
  assert.equal(e.parts.complete, true);
  assert.deepEqual([...e.parts.join()], [1, 2, 3, 4, 5]);
  assert.deepEqual(e.frames, [1, 2]);
  assert.equal(t.bytes, 5);
  t.delete(e);
  assert.equal(t.size, 0);
  assert.equal(t.bytes, 0);
});

test('byte offsets out of order: a hole keeps the entry incomplete until it is filled', () => {
  const t = offsets();
  const e = opened(t.open('a', '', 0));
  t.addAt(e, 6, bytes(7, 8), [3], 0);
  e.parts.end = 8;
  t.addAt(e, 0, bytes(1, 2, 3), [1], 0);
  assert.equal(e.parts.complete, false);
  assert.equal(e.parts.contiguous(), 3);
  t.addAt(e, 3, bytes(4, 5, 6), [2], 0);
  assert.equal(e.parts.complete, true);
  assert.deepEqual([...e.parts.join()], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(e.frames, [3, 1, 2]);
});

test('byte offsets: a duplicate adds nothing; an overlap keeps the first copy and counts differing bytes', () => {
  const t = offsets();
  const e = opened(t.open('a', '', 0));
  t.addAt(e, 0, bytes(1, 2, 3, 4), [1], 0);
  const dup = t.addAt(e, 0, bytes(1, 2, 3, 4), [2], 0);
  assert.deepEqual(dup, { kind: 'placed', added: 0, overlap: true, conflicts: 0 });
  const conflict = t.addAt(e, 2, bytes(9, 4, 5, 6), [3], 0);
  assert.deepEqual(conflict, { kind: 'placed', added: 2, overlap: true, conflicts: 1 });
  e.parts.end = 6;
  assert.deepEqual([...e.parts.join()], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(e.frames, [1, 2, 3]);
  assert.equal(e.received, 3);
  assert.equal(e.bytes, 6);
});

test('byte offsets: keep-last overwrites overlapped bytes and still counts the conflicts', () => {
  const t = offsets({}, true);
  const e = opened(t.open('a', '', 0));
  t.addAt(e, 0, bytes(1, 2, 3), [1], 0);
  assert.equal((t.addAt(e, 1, bytes(7, 3), [2], 0) as { conflicts: number }).conflicts, 1);
  assert.deepEqual([...e.parts.join(3)], [1, 7, 3]);
});

test('byte offsets: a part spanning several held chunks fills only the holes between them', () => {
  const t = offsets();
  const e = opened(t.open('a', '', 0));
  t.addAt(e, 2, bytes(3), [1], 0);
  t.addAt(e, 5, bytes(6), [2], 0);
  const r = t.addAt(e, 0, bytes(1, 2, 0, 4, 5, 0, 7), [3], 0);
  assert.deepEqual(r, { kind: 'placed', added: 5, overlap: true, conflicts: 2 });
  e.parts.end = 7;
  assert.deepEqual([...e.parts.join()], [1, 2, 3, 4, 5, 6, 7]);
});

test('several byte spaces are independent', () => {
  const t = new FragmentTable<string, OffsetParts>(ROOMY, () => new OffsetParts(2, true));
  const e = opened(t.open('a', '', 0));
  assert.equal(t.countPart(e, 0), undefined);
  t.placeAt(e, 0, bytes(1, 2), 0);
  t.placeAt(e, 1, bytes(9), 1);
  assert.equal(e.parts.held(0), 2);
  assert.equal(e.parts.held(1), 1);
  assert.equal(e.parts.contiguous(1), 0);
  assert.deepEqual([...e.parts.join(2, 1)], [0, 9]);
  assert.equal(e.received, 1);
  assert.equal(t.bytes, 3);
});

test('numbered parts: any order, duplicates reported with whether their bytes match', () => {
  const t = numbered();
  const e = opened(t.open('call', '', 0));
  assert.deepEqual(t.addNumbered(e, 2, bytes(5, 6), [3], 0), { kind: 'placed' });
  e.parts.last = 2;
  assert.deepEqual(t.addNumbered(e, 0, bytes(1, 2), [1], 0), { kind: 'placed' });
  assert.deepEqual(t.addNumbered(e, 0, bytes(1, 2), [4], 0), { kind: 'duplicate', same: true });
  assert.deepEqual(t.addNumbered(e, 0, bytes(1, 3), [5], 0), { kind: 'duplicate', same: false });
  assert.equal(e.parts.complete, false);
  t.addNumbered(e, 1, bytes(3, 4), [2], 0);
  assert.equal(e.parts.complete, true);
  assert.deepEqual([...e.parts.join()], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(e.frames, [3, 1, 2], 'a duplicate records no frames');
  assert.equal(e.received, 5);
});

test('numbered parts: parts past the last are held but not joined; a lower last makes the entry whole', () => {
  const t = numbered();
  const e = opened(t.open('call', '', 0));
  for (const n of [0, 1, 2, 3]) t.addNumbered(e, n, bytes(n), [n + 1], 0);
  e.parts.last = 3;
  assert.equal(e.parts.complete, true);
  e.parts.last = 1;
  assert.equal(e.parts.complete, true);
  assert.deepEqual([...e.parts.join()], [0, 1]);
  assert.equal(e.parts.max, 3);
});

test('entry limit: a full table refuses, even a replacement, until an entry leaves', () => {
  const t = offsets({ maxEntries: 2 });
  const a = opened(t.open('a', '', 0));
  opened(t.open('b', '', 0));
  assert.deepEqual(t.open('c', '', 0), { kind: 'limit', limit: 'entries', max: 2 });
  assert.deepEqual(t.open('a', '', 0), { kind: 'limit', limit: 'entries', max: 2 });
  assert.equal(t.oldest(), a);
  t.delete(a);
  assert.equal(opened(t.open('c', '', 0)).key, 'c');
  assert.deepEqual([...t.values()].map((e) => e.key), ['b', 'c']);
});

test('parts limit counts duplicates and empty parts; nothing changes when it is hit', () => {
  const t = offsets({ maxParts: 3 });
  const e = opened(t.open('a', '', 0));
  t.addAt(e, 0, bytes(), [1], 0);
  t.addAt(e, 0, bytes(1), [2], 0);
  t.addAt(e, 0, bytes(1), [3], 0);
  assert.deepEqual(t.addAt(e, 1, bytes(2), [4], 0), { kind: 'limit', limit: 'parts', max: 3 });
  assert.deepEqual(e.frames, [1, 2, 3]);
  assert.equal(e.bytes, 1);
  const n = numbered({ maxParts: 1 });
  const c = opened(n.open('c', '', 0));
  n.addNumbered(c, 0, bytes(1), [1], 0);
  assert.deepEqual(n.addNumbered(c, 0, bytes(1), [2], 0), { kind: 'limit', limit: 'parts', max: 1 });
});

test('entry bytes limit: by the end offset of a part, or by the sum of numbered parts', () => {
  const t = offsets({ maxEntryBytes: 10 });
  const e = opened(t.open('a', '', 0));
  assert.deepEqual(t.addAt(e, 8, bytes(1, 2, 3), [1], 0), { kind: 'limit', limit: 'entry-bytes', max: 10 });
  assert.equal(t.addAt(e, 8, bytes(1, 2), [1], 0).kind, 'placed');
  assert.deepEqual(e.frames, [1]);
  const n = numbered({ maxEntryBytes: 4 });
  const c = opened(n.open('c', '', 0));
  n.addNumbered(c, 0, bytes(1, 2, 3), [1], 0);
  assert.deepEqual(n.addNumbered(c, 1, bytes(4, 5), [2], 0), { kind: 'limit', limit: 'entry-bytes', max: 4 });
  assert.equal(c.parts.size, 1);
  assert.equal(c.received, 1);
});

test('total bytes limit: across all entries, freed when an entry leaves', () => {
  const t = offsets({ maxTotalBytes: 6 });
  const a = opened(t.open('a', '', 0));
  const b = opened(t.open('b', '', 0));
  t.addAt(a, 0, bytes(1, 2, 3, 4), [1], 0);
  assert.deepEqual(t.addAt(b, 0, bytes(1, 2, 3), [2], 0), { kind: 'limit', limit: 'total-bytes', max: 6 });
  t.delete(a);
  assert.equal(t.addAt(b, 0, bytes(1, 2, 3), [2], 0).kind, 'placed');
  assert.equal(t.bytes, 3);
  const n = numbered({ maxTotalBytes: 3 });
  const c = opened(n.open('c', '', 0));
  assert.deepEqual(n.addNumbered(c, 0, bytes(1, 2, 3, 4), [1], 0), { kind: 'limit', limit: 'total-bytes', max: 3 });
});

test('expiry by first part: entries older than the limit come back in the order they were opened', () => {
  const t = offsets({ maxAgeSeconds: 60 });
  opened(t.open('late', '', 50));
  opened(t.open('early', '', 10));
  const young = opened(t.open('young', '', 100));
  t.addAt(young, 0, bytes(1), [1], 100);
  assert.deepEqual(t.expire(70).map((e) => e.key), []);
  assert.deepEqual(t.expire(111).map((e) => e.key), ['late', 'early']);
  assert.equal(t.size, 1);
  assert.deepEqual(t.expire(0, true).map((e) => e.key), ['young']);
  assert.equal(t.size, 0);
  assert.equal(t.bytes, 0);
});

test('expiry by latest activity: a part received later keeps the entry', () => {
  const t = numbered({ maxAgeSeconds: 300, ageFrom: 'last' });
  const a = opened(t.open('a', '', 0));
  opened(t.open('b', '', 0));
  t.addNumbered(a, 0, bytes(1), [1], 250);
  assert.deepEqual(t.expire(301).map((e) => e.key), ['b']);
  assert.deepEqual(t.expire(549).map((e) => e.key), []);
  assert.deepEqual(t.expire(551).map((e) => e.key), ['a']);
});

test('expiry by latest activity follows capture time that goes back', () => {
  const t = numbered({ maxAgeSeconds: 300, ageFrom: 'last' });
  const a = opened(t.open('a', '', 100));
  t.addNumbered(a, 0, bytes(1), [1], 50);
  assert.deepEqual(t.expire(351).map((e) => e.key), ['a']);
});

test('entries that left the table never come back from expiry, however many come and go', () => {
  const t = offsets({ maxAgeSeconds: 1, maxEntries: 4 });
  for (let i = 0; i < 10_000; i++) {
    const e = opened(t.open(`k${i}`, '', i));
    t.delete(e);
  }
  const kept = opened(t.open('kept', '', 10_000));
  assert.equal(kept.live, true);
  assert.deepEqual(t.expire(20_000).map((e) => e.key), ['kept']);
});

/** Mulberry32: a small seeded generator, so a failure can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], rnd: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

test('property: any order of fragments, with duplicates and overlapping copies, joins to the original', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = random(seed);
    const length = 1 + Math.floor(rnd() * 3000);
    const original = Uint8Array.from({ length }, () => Math.floor(rnd() * 256));
    // Cut into pieces, then add copies of random (overlapping) ranges of the original.
    const pieces: [number, number][] = [];
    for (let at = 0; at < length;) {
      const n = Math.min(length - at, 1 + Math.floor(rnd() * 200));
      pieces.push([at, n]);
      at += n;
    }
    for (let k = Math.floor(rnd() * 10); k > 0; k--) {
      const at = Math.floor(rnd() * length);
      pieces.push([at, 1 + Math.floor(rnd() * Math.min(300, length - at))]);
    }
    shuffle(pieces, rnd);
    const t = offsets({ maxParts: 1000 });
    const e = opened(t.open('x', '', 0));
    e.parts.end = length;
    let done = -1;
    pieces.forEach(([at, n], i) => {
      const r = t.addAt(e, at, original.subarray(at, at + n), [i], 0);
      assert.equal(r.kind, 'placed', `seed ${seed}`);
      if (r.kind === 'placed') assert.equal(r.conflicts, 0, `seed ${seed}: copies of the same bytes never conflict`);
      if (done < 0 && e.parts.complete) done = i;
    });
    assert.ok(done >= 0, `seed ${seed}: complete`);
    assert.deepEqual(e.parts.join(), original, `seed ${seed}`);
    assert.equal(e.bytes, length, `seed ${seed}: each byte held once`);

    const m = numbered({ maxParts: 1000 });
    const c = opened(m.open('x', '', 0));
    const order = shuffle(pieces.slice(0, Math.min(pieces.length, 50)).map((_, i) => i), rnd);
    const count = order.length;
    for (const i of [...order, ...order.slice(0, 3)]) {
      if (i === count - 1) c.parts.last = i;
      m.addNumbered(c, i, Uint8Array.of(i & 0xff, (i >> 8) & 0xff), [i], 0);
    }
    assert.equal(c.parts.complete, true, `seed ${seed}`);
    assert.deepEqual([...c.parts.join()], Array.from({ length: count }, (_, i) => [i & 0xff, (i >> 8) & 0xff]).flat(), `seed ${seed}`);
  }
});
