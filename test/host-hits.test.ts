// The audit's table of IPv4 destinations of every sender (typed arrays) against a Map of
// per-host objects per sender, the structure it replaced: the same hosts, counts, times and ports
// (in the order first tried, at most 64), the same refusals past the per-sender and total
// bounds, and each sender's addresses sorted as numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HostHits, MAX_PORTS } from '../src/analysis/audit/host-hits.js';

interface Model {
  messages: number;
  ports: number[];
  first: number;
  last: number;
}

const hit = fc.record({
  owner: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom(40, 1000)),
  // A few hosts around a sweep, and the extremes of the address space.
  address: fc.oneof(fc.integer({ min: 0x0a000000, max: 0x0a000040 }), fc.constantFrom(0, 0xffffffff, 0x80000000)),
  time: fc.double({ min: 0, max: 1e9, noNaN: true }),
  port: fc.option(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 200 })), { nil: undefined }),
});

test('HostHits keeps what a Map of per-host objects per sender kept, within both bounds', () => {
  fc.assert(fc.property(fc.array(hit, { maxLength: 600 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 200 }), (hits, perOwner, max) => {
    const table = new HostHits(perOwner, max);
    const model = new Map<number, Map<number, Model>>();
    let rows = 0;
    let refused = 0;
    for (const { owner, address, time, port } of hits) {
      let hosts = model.get(owner);
      if (hosts === undefined) model.set(owner, (hosts = new Map()));
      let m = hosts.get(address);
      const fits = m !== undefined || (hosts.size < perOwner && rows < max);
      assert.equal(table.hit(owner, address, time, port), fits);
      if (!fits) {
        refused++;
        continue;
      }
      if (m === undefined) {
        m = { messages: 0, ports: [], first: time, last: time };
        hosts.set(address, m);
        rows++;
      }
      m.messages++;
      if (port !== undefined && m.ports.length < MAX_PORTS && !m.ports.includes(port)) m.ports.push(port);
      m.first = Math.min(m.first, time);
      m.last = Math.max(m.last, time);
    }
    assert.equal(table.used, rows);
    assert.equal(table.refused, refused);
    for (const owner of [0, 1, 2, 3, 40, 1000, 7]) {
      const hosts = model.get(owner) ?? new Map<number, Model>();
      assert.equal(table.sizeOf(owner), hosts.size);
      assert.deepEqual([...table.sortedAddresses(owner)], [...hosts.keys()].sort((a, b) => a - b));
      for (const [address, m] of hosts) assert.deepEqual({ ...table.get(owner, address) }, m);
    }
  }), { numRuns: 300 });
});

test('HostHits: a sweep of 100,000 consecutive hosts, then one port too many at a host; another sender is not held back', () => {
  const table = new HostHits(65_536, 70_000);
  let refused = 0;
  for (let a = 0; a < 100_000; a++) if (!table.hit(5, 0xc0a80000 + a, a, 1026)) refused++;
  assert.equal(table.sizeOf(5), 65_536);
  assert.equal(refused, 100_000 - 65_536);
  const sorted = table.sortedAddresses(5);
  assert.equal(sorted[0], 0xc0a80000);
  assert.equal(sorted[65_535], 0xc0a80000 + 65_535);
  for (let p = 1; p <= MAX_PORTS + 5; p++) table.hit(5, 0xc0a80000, 1, p);
  assert.equal(table.get(5, 0xc0a80000).ports.length, MAX_PORTS);
  // The same addresses from another sender are other rows, up to the table's bound.
  for (let a = 0; a < 10_000; a++) table.hit(0, 0xc0a80000 + a, a, undefined);
  assert.equal(table.sizeOf(0), 70_000 - 65_536);
  assert.equal(table.used, 70_000);
  assert.deepEqual({ ...table.get(0, 0xc0a80000) }, { messages: 1, ports: [], first: 0, last: 0 });
});
