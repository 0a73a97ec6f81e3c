// The audit's distinct counters: the same counts as the counter they replaced (a Set up to 1,024
// values, then HyperLogLog) while the budget allows, and a shared budget that bounds what all
// counters hold together — many senders × many distinct values — and says when it was hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AuditAnalysis, DEFAULT_AUDIT, type AuditOptions } from '../src/analysis/audit/audit.js';
import type { AuditResult } from '../src/analysis/audit/result.js';
import { auditReport } from '../src/analysis/audit/report.js';
import { hashString, mix } from '../src/analysis/audit/minhash.js';
import { canonicalIpv4, Distinct, DistinctBudget, EXACT_DISTINCT, Sample } from '../src/analysis/audit/tally.js';
import { ipv4Number } from '../src/analysis/audit/senders.js';
import { ipv4Text } from '../src/net/addr.js';
import type { FileInfo } from '../src/runner/analysis.js';
import type { MessageEvent } from '../src/model/events.js';

const SEED = 20261201;

/** The counter as it was before the budget (tally.ts at 134bfb7): the model. */
class UnboundedDistinct {
  private exact: Set<string> | undefined = new Set();
  private registers: Uint8Array | undefined;

  add(value: string): void {
    if (this.exact !== undefined) {
      this.exact.add(value);
      if (this.exact.size <= EXACT_DISTINCT) return;
      this.registers = new Uint8Array(4096);
      for (const v of this.exact) this.hll(v);
      this.exact = undefined;
      return;
    }
    this.hll(value);
  }

  get isExact(): boolean {
    return this.exact !== undefined;
  }

  get count(): number {
    if (this.exact !== undefined) return this.exact.size;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers!) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const raw = ((0.7213 / (1 + 1.079 / 4096)) * 4096 * 4096) / sum;
    return Math.round(raw <= 2.5 * 4096 && zeros > 0 ? 4096 * Math.log(4096 / zeros) : raw);
  }

  has(value: string): boolean | undefined {
    return this.exact?.has(value);
  }

  private hll(value: string): void {
    const h1 = mix(hashString(value));
    const h2 = mix(hashString(value, 0x2545f491));
    const rank = h2 === 0 ? 33 : Math.clz32(h2) + 1;
    if (rank > this.registers![h1 >>> 20]!) this.registers![h1 >>> 20] = rank;
  }
}

// Few values (repeats, the one-value case, addresses written other ways) or many (past 1,024,
// into the estimate), addresses and names mixed.
const values = fc.oneof(
  fc.array(fc.constantFrom('a', 'b', '', 'A', 'é', '0.0.0.0', '10.0.0.1', '10.0.0.01', '10.0.0.1 ', '255.255.255.255', '256.0.0.1', '1.2.3'), { maxLength: 20 }),
  fc.integer({ min: 0, max: 3000 }).chain((n) => fc.array(fc.integer({ min: 0, max: n }).map((i) => (i % 7 === 0 ? `name${i}` : `10.0.${i >> 8}.${i & 255}`)), { minLength: n, maxLength: n + 200 })),
);

test('canonicalIpv4: exactly the texts ipv4Text writes', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => canonicalIpv4(ipv4Text(n)) === n), { seed: SEED, numRuns: 2000 });
  const text = fc.oneof(fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', ' ', 'x'), maxLength: 17 }), fc.ipV4(), fc.ipV4Extended());
  fc.assert(fc.property(text, (t) => {
    const n = canonicalIpv4(t);
    return n === -1 ? ipv4Number(t) === undefined || ipv4Text(ipv4Number(t)!) !== t : ipv4Text(n) === t;
  }), { seed: SEED, numRuns: 5000 });
});

test('Distinct (property): within its budget, the same count, exactness and membership as the unbounded counter', () => {
  fc.assert(fc.property(values, (vs) => {
    const d = new Distinct();
    const model = new UnboundedDistinct();
    for (const v of vs) {
      d.add(v);
      model.add(v);
      assert.equal(d.has(v), model.has(v));
    }
    assert.equal(d.count, model.count);
    assert.equal(d.isExact, model.isExact);
    assert.equal(d.has('never added'), model.has('never added'));
  }), { seed: SEED, numRuns: 150 });
});

test('Sample (property): the first values listed and the count are unchanged within the budget', () => {
  fc.assert(fc.property(values, fc.integer({ min: 1, max: 120 }), (vs, limit) => {
    const sample = new Sample(limit);
    const listed: string[] = [];
    const model = new UnboundedDistinct();
    for (const v of vs) {
      if (listed.length < limit && !listed.includes(v)) listed.push(v);
      sample.add(v);
      model.add(v);
    }
    assert.deepEqual(sample.values, listed);
    assert.equal(sample.count, model.count);
  }), { seed: SEED, numRuns: 100 });
});

test('DistinctBudget (property): counters sharing a budget never hold more than it; exact counts are right, cut counts are lower bounds', () => {
  const op = fc.record({ counter: fc.integer({ min: 0, max: 7 }), value: fc.integer({ min: 0, max: 1500 }) });
  fc.assert(fc.property(fc.array(op, { maxLength: 3000 }), fc.integer({ min: 0, max: 40_000 }), fc.integer({ min: 0, max: 3 }), (ops, maxBytes, maxSketches) => {
    const budget = new DistinctBudget(maxBytes, maxSketches);
    const counters = Array.from({ length: 8 }, () => new Distinct(budget));
    const truth = Array.from({ length: 8 }, () => new Set<string>());
    for (const { counter, value } of ops) {
      counters[counter]!.add(`v${value}`);
      truth[counter]!.add(`v${value}`);
      assert.ok(budget.exactBytes <= maxBytes && budget.exactBytes >= 0);
      assert.ok(budget.sketches <= maxSketches);
    }
    let estimated = 0;
    for (let i = 0; i < 8; i++) {
      const c = counters[i]!;
      if (c.isExact) assert.equal(c.count, truth[i]!.size);
      else if (c.has('v0') !== undefined) assert.ok(c.count < truth[i]!.size); // cut short: a lower bound
      else estimated++;
    }
    assert.equal(budget.sketches, estimated);
    assert.ok(budget.estimatedEarly + budget.cut <= 8);
  }), { seed: SEED, numRuns: 200 });
});

test('Sample: a counter cut short by its budget lists only the values it counted', () => {
  const budget = new DistinctBudget(3 * (40 + 2 * 5), 0);
  const sample = new Sample(100, budget);
  for (const v of ['name1', 'name2', 'name3', 'name4', 'name5', 'name1']) sample.add(v);
  assert.deepEqual(sample.values, ['name1', 'name2', 'name3']);
  assert.equal(sample.count, 3);
  assert.equal(sample.isExact, false);
  assert.equal(budget.cut, 1);
});

function file(index = 0): FileInfo {
  return { path: 'adversarial.pcap', label: 'adversarial.pcap', index, multi: false, size: undefined, start: undefined };
}

function message(i: number, src: string, dst: string, to: string, from: string): MessageEvent {
  return { kind: 'message', tsSec: 1_000_000 + i, tsNsec: 0, frames: [i + 1], protocol: 'smb', transport: 'tcp', src, dst, findings: [], from, to: [to], text: `buy now ${i % 3}`, status: 'ok' };
}

async function audit(events: Iterable<MessageEvent>, options: Partial<AuditOptions>): Promise<{ result: AuditResult; analysis: AuditAnalysis }> {
  let result: AuditResult | undefined;
  const analysis = new AuditAnalysis([{ end: (r) => void (result = r) }], { ...DEFAULT_AUDIT, ...options });
  analysis.start();
  analysis.beginFile(file());
  for (const e of events) analysis.event(e, file());
  await analysis.finish();
  return { result: result!, analysis };
}

test('audit: many senders × many distinct recipients, hosts and names stay within the distinct budget, and the result says so', async () => {
  // 200 senders, each to 300 hosts with a new recipient and From name every message: 60,000
  // exact values per counter kind, far past a 256 KB budget and 4 sketches.
  const maxExactBytes = 256 << 10;
  const maxSketches = 4;
  function* flood(): Generator<MessageEvent> {
    let i = 0;
    for (let h = 0; h < 300; h++) for (let s = 0; s < 200; s++, i++) yield message(i, `192.0.${s >> 8}.${s & 255}:1025`, `10.${s}.${h >> 8}.${h & 255}:139`, `victim${i}`, `spam${i}`);
  }
  const { result, analysis } = await audit(flood(), { maxExactBytes, maxSketches });
  const budget = (analysis as unknown as { senders: { distinct: DistinctBudget } }).senders.distinct;
  assert.ok(budget.exactBytes <= maxExactBytes);
  assert.equal(budget.sketches, maxSketches);
  // 4 counters became estimates early (a sketch each) and 596 more stopped counting; the campaign's
  // counters have a budget of their own, so they still estimate 60,000 recipients and hosts.
  assert.equal(result.limits.distinct_estimated_early, 4);
  assert.equal(result.limits.distinct_cut, 596);
  assert.equal(result.summary.senders, 200);
  for (const s of result.senders) assert.ok(s.hosts >= 1 && s.hosts <= 300 * 1.05 && s.recipients <= 300 * 1.05);
  const campaign = result.campaigns[0]!;
  assert.equal(campaign.recipients_exact, false);
  assert.ok(Math.abs(campaign.recipients - 60_000) / 60_000 < 0.05, `campaign recipients ${campaign.recipients}`);
  assert.ok(Math.abs(campaign.hosts - 60_000) / 60_000 < 0.05, `campaign hosts ${campaign.hosts}`);
  const warnings = auditReport(result).warnings ?? [];
  assert.ok(warnings.some((w) => w.includes('4 count(s)') && w.includes('estimated before 1,024 values')), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('596 count(s)') && w.includes('lower bounds')), warnings.join('\n'));
});

test('audit: within the default budget the result has no distinct limits (as before the budget)', async () => {
  function* few(): Generator<MessageEvent> {
    for (let i = 0; i < 2000; i++) yield message(i, `192.0.2.${i % 5}:1025`, `10.0.${i >> 8}.${i & 255}:139`, `victim${i}`, 'SPAM');
  }
  const { result } = await audit(few(), {});
  assert.equal('distinct_estimated_early' in result.limits, false);
  assert.equal('distinct_cut' in result.limits, false);
  assert.equal(result.senders[0]!.hosts, 400);
});

test('audit: campaign members are kept only when an output lists them (JSON, --report), not for the terminal summary', async () => {
  function* wave(): Generator<MessageEvent> {
    for (let i = 0; i < 50; i++) yield message(i, '192.0.2.1:1025', `10.0.0.${i}:139`, 'victim', 'SPAM');
  }
  const listed = await audit(wave(), {});
  assert.equal(listed.result.campaigns[0]!.messages.length, 50);
  assert.equal(listed.result.campaigns[0]!.messages_truncated, false);
  const unlisted = await audit(wave(), { listMembers: false });
  assert.equal(unlisted.result.campaigns[0]!.messages.length, 0);
  assert.equal(unlisted.result.campaigns[0]!.messages_truncated, true);
  assert.equal(unlisted.result.campaigns[0]!.size, 50);
});

test('Sample: listed values are charged to the budget; past it a value is counted but not listed', () => {
  // Room for two 10-character names (40 + 2 × 10 bytes each), not three.
  const budget = new DistinctBudget(1 << 20, 16, 2 * 60 + 59);
  const a = new Sample(100, budget);
  const b = new Sample(100, budget);
  for (const v of ['aaaaaaaaa1', 'aaaaaaaaa2', 'aaaaaaaaa1']) a.add(v);
  for (const v of ['bbbbbbbbb1', 'bbbbbbbbb2']) b.add(v);
  assert.deepEqual(a.values, ['aaaaaaaaa1', 'aaaaaaaaa2']);
  assert.deepEqual(b.values, []);
  assert.equal(b.count, 2);
  assert.equal(b.isExact, true);
  assert.equal(budget.listedBytes, 120);
  assert.equal(budget.unlisted, 2);
});

test('Sample (property): samples sharing a budget list at most its bytes; each lists distinct values in first-seen order, and lists fewer only when a bound was hit', () => {
  const op = fc.record({ sample: fc.integer({ min: 0, max: 5 }), value: fc.integer({ min: 0, max: 60 }), length: fc.integer({ min: 1, max: 300 }) });
  fc.assert(fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 1, max: 12 }), (ops, maxListedBytes, limit) => {
    // Exact values and sketches never run out here: only the listed bytes and the limit bound the lists.
    const budget = new DistinctBudget(1 << 30, 64, maxListedBytes);
    const samples = Array.from({ length: 6 }, () => new Sample(limit, budget));
    const firstSeen = Array.from({ length: 6 }, () => [] as string[]);
    for (const { sample, value, length } of ops) {
      // The same value number is always the same text (its length comes with its first use).
      const text = `${value}:`.padEnd(Math.max(length, 8), String.fromCharCode(0x61 + (value % 26)));
      const known = firstSeen[sample]!.find((t) => t.startsWith(`${value}:`));
      const v = known ?? text;
      if (known === undefined) firstSeen[sample]!.push(v);
      samples[sample]!.add(v);
    }
    let charged = 0;
    for (let i = 0; i < 6; i++) {
      const listed = samples[i]!.values;
      for (const v of listed) charged += 40 + 2 * v.length;
      assert.equal(new Set(listed).size, listed.length);
      // In first-seen order: a subsequence of the values as they first came.
      let at = 0;
      for (const v of listed) {
        at = firstSeen[i]!.indexOf(v, at);
        assert.ok(at >= 0, `${v} listed out of order`);
        at++;
      }
      assert.ok(listed.length <= limit);
      assert.equal(samples[i]!.count, firstSeen[i]!.length);
      if (listed.length < Math.min(limit, firstSeen[i]!.length)) assert.ok(budget.unlisted > 0);
    }
    assert.equal(budget.listedBytes, charged);
    assert.ok(budget.listedBytes <= maxListedBytes);
  }), { seed: SEED, numRuns: 300 });
});

test('audit: long From names from the wire stay within the listed values\' budget, and the result says so', async () => {
  // 50 senders × 20 names of 5,000 characters: 10 MB of names listed without a bound; 64 KB with one.
  const maxListedBytes = 64 << 10;
  function* longNames(): Generator<MessageEvent> {
    for (let i = 0; i < 1000; i++) yield message(i, `192.0.2.${i % 50}:1025`, '10.0.0.1:139', 'victim', `${'N'.repeat(4995)}${String(i).padStart(5, '0')}`);
  }
  const { result, analysis } = await audit(longNames(), { maxListedBytes });
  const budget = (analysis as unknown as { senders: { distinct: DistinctBudget } }).senders.distinct;
  assert.ok(budget.listedBytes <= maxListedBytes);
  // Each listed name is charged 40 + 2 × 5,000 bytes (and each sender's recipient 'victim' 52).
  const listed = result.senders.reduce((n, s) => n + s.names.length, 0);
  assert.equal(listed, Math.floor(maxListedBytes / (40 + 2 * 5000)));
  // The campaigns' name lists have a budget of their own, spent the same way.
  assert.equal(result.limits.values_unlisted, 2 * (1000 - listed));
  assert.equal(result.campaigns.reduce((n, c) => n + c.from_names.length, 0), listed);
  for (const s of result.senders) assert.equal(s.name_count, 20); // still counted
  const warnings = auditReport(result).warnings ?? [];
  assert.ok(warnings.some((w) => w.includes('counted but not listed')), warnings.join('\n'));
});
