// The audit's per-sender table of IPv4 destinations (typed arrays) against the Map of objects
// it replaced: the same hosts, counts, times and ports (in the order first tried, at most 64),
// the same refusal past its bound, and addresses sorted as numbers.
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
  // A few hosts around a sweep, and the extremes of the address space.
  address: fc.oneof(fc.integer({ min: 0x0a000000, max: 0x0a000040 }), fc.constantFrom(0, 0xffffffff, 0x80000000)),
  time: fc.double({ min: 0, max: 1e9, noNaN: true }),
  port: fc.option(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 200 })), { nil: undefined }),
});

test('HostHits keeps what a Map of per-host objects kept', () => {
  fc.assert(fc.property(fc.array(hit, { maxLength: 400 }), fc.integer({ min: 1, max: 80 }), (hits, max) => {
    const table = new HostHits(max);
    const model = new Map<number, Model>();
    for (const { address, time, port } of hits) {
      let m = model.get(address);
      const fits = m !== undefined || model.size < max;
      assert.equal(table.hit(address, time, port), fits);
      if (!fits) continue;
      if (m === undefined) {
        m = { messages: 0, ports: [], first: time, last: time };
        model.set(address, m);
      }
      m.messages++;
      if (port !== undefined && m.ports.length < MAX_PORTS && !m.ports.includes(port)) m.ports.push(port);
      m.first = Math.min(m.first, time);
      m.last = Math.max(m.last, time);
    }
    assert.equal(table.size, model.size);
    assert.deepEqual([...table.sortedAddresses()], [...model.keys()].sort((a, b) => a - b));
    for (const [address, m] of model) assert.deepEqual({ ...table.get(address) }, m);
  }), { numRuns: 300 });
});

test('HostHits: a sweep of 100,000 consecutive hosts, then one port too many at a host', () => {
  const table = new HostHits(65_536);
  let refused = 0;
  for (let a = 0; a < 100_000; a++) if (!table.hit(0xc0a80000 + a, a, 1026)) refused++;
  assert.equal(table.size, 65_536);
  assert.equal(refused, 100_000 - 65_536);
  const sorted = table.sortedAddresses();
  assert.equal(sorted[0], 0xc0a80000);
  assert.equal(sorted[65_535], 0xc0a80000 + 65_535);
  for (let p = 1; p <= MAX_PORTS + 5; p++) table.hit(0xc0a80000, 1, p);
  assert.equal(table.get(0xc0a80000).ports.length, MAX_PORTS);
});
