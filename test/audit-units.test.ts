// Unit tests of the audit's parts: masking, MinHash/LSH grouping (with property tests), template
// merging, distinct counting, sweeps, indicators and alert windows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mask, messageNames, nameTokens, render, tokens } from '../src/analysis/audit/normalise.js';
import { shingles, signature, similarity, SIGNATURE_SIZE } from '../src/analysis/audit/minhash.js';
import { mergePieces, templateText, TemplateStore } from '../src/analysis/audit/grouping.js';
import { Distinct, EXACT_DISTINCT, hostOf, Outcomes, portOf } from '../src/analysis/audit/tally.js';
import { ipv4Number, Senders, SenderState } from '../src/analysis/audit/senders.js';
import { ipv4Text } from '../src/net/addr.js';
import { Indicators, urlHost } from '../src/analysis/audit/indicators.js';
import { AlertMonitor, WindowCounter } from '../src/analysis/audit/alerts.js';
import type { MessageEvent } from '../src/model/events.js';

const SEED = 20261130;

function masked(text: string, from = '', to: string[] = []): string {
  const m = mask(text, messageNames(from, to));
  return render(m.pieces, m.tail);
}

test('mask: URLs, e-mail addresses, phone numbers, numbers and the message\'s own names become slots', () => {
  assert.equal(
    masked('Dear Larry, your computer is infected with 68 viruses! Get http://update-27.example.com/fix.exe or call +1-202-555-0160 now. Ticket #87132. Questions? support27@fixpc.example.net', 'Security Center', ['LARRY']),
    'Dear <name>, your computer is infected with <number> viruses! Get <url> or call <phone> now. Ticket #<number>. Questions? <email>',
  );
  // A link at the end of a sentence keeps its full stop out; bare host names and www. links count as links.
  assert.equal(masked('See www.regfix.example.com. Or regfix.example.org/x!'), 'See <url>. Or <url>!');
  // Digits inside words, dates, times.
  assert.equal(masked('on the 2nd floor, MS03-043, 2026-11-30 at 18:00'), 'on the <number>nd floor, MS<number>-<number>, <number> at <number>:<number>');
  // (555) 123-4567 is a phone; a short group of digits is not.
  assert.equal(masked('call (555) 123-4567 or 12 34'), 'call <phone> or <number> <number>');
  // MSNP handles: the local part is a name too.
  assert.equal(masked('hey bob lol', 'kevin.m@hotmail.example', ['bob@hotmail.example']), 'hey <name> lol');
});

test('mask: From/To made of role words (SYSTEM, TO, Windows Security) are not masked in the text', () => {
  assert.deepEqual(nameTokens('TO'), []);
  assert.deepEqual(nameTokens('Windows Security'), []);
  assert.deepEqual(nameTokens('ALICE<03>'), ['alice']);
  assert.equal(masked('To fix the SYSTEM errors, Windows Security says', 'SYSTEM', ['TO']), 'To fix the SYSTEM errors, Windows Security says');
  assert.equal(masked('Hello Alice Smith and Alice', 'x', ['Alice Smith', 'Alice']), 'Hello <name> and <name>');
});

test('mask: the indicators found are the masked links, e-mail addresses and phones, as written', () => {
  const m = mask('go to http://a.example/x?y=1, mail me@b.example or +44 20 7946 0018');
  assert.deepEqual(m.found, [{ kind: 'url', text: 'http://a.example/x?y=1' }, { kind: 'email', text: 'me@b.example' }, { kind: 'phone', text: '+44 20 7946 0018' }]);
  assert.deepEqual(m.slots, ['url', 'email', 'phone']);
});

test('mask: a huge text is bounded (first 8 KiB, at most 512 tokens)', () => {
  const m = mask('word '.repeat(100_000));
  assert.ok(m.pieces.length <= 512);
});

test('minhash: identical shingle sets have similarity 1; disjoint ones about 0', () => {
  const a = signature(shingles(tokens(mask('the quick brown fox jumps over the lazy dog'))));
  const b = signature(shingles(tokens(mask('The  quick brown fox jumps over the lazy dog!'))));
  assert.equal(similarity(a, b), 1);
  const c = signature(shingles(tokens(mask('completely unrelated words in another message entirely'))));
  assert.ok(similarity(a, c) < 0.1);
});

test('minhash (property): the estimate tracks the true Jaccard similarity of the shingle sets', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 20, maxLength: 60 }), fc.integer({ min: 0, max: 100 }), (base, keepPercent) => {
      const keep = Math.floor((base.length * keepPercent) / 100);
      const other = [...base.slice(0, keep), ...base.slice(keep).map((x) => x + 2_000_000)];
      const truth = keep / (2 * base.length - keep);
      const est = similarity(signature(base), signature(other));
      // Standard error at 64 hashes is at most 1/16; allow 5 of them.
      return Math.abs(est - truth) <= 5 / Math.sqrt(SIGNATURE_SIZE);
    }),
    { seed: SEED, numRuns: 200 },
  );
});

test('grouping: a template with a changing filler word joins the campaign; unrelated one-offs stay alone', () => {
  const store = new TemplateStore({ maxTemplates: 1000, similarity: 0.5 });
  const add = (text: string, to: string, seq: number): number => store.add(text, mask(text, messageNames('kevin@x.example', [to])), seq);
  const ids = ['lol', 'haha', 'omg', 'lol'].map((w, i) => add(`hey ${['bob', 'carol', 'erin', 'frank'][i]} ${w} is this really you in this picture?? http://p-${i}.example/v?id=${i}`, `${['bob', 'carol', 'erin', 'frank'][i]}@x.example`, i));
  const cluster = store.clusterOf(ids[0]!)!;
  for (const id of ids) assert.equal(store.clusterOf(id)!.root, cluster.root);
  assert.equal(cluster.count, 4);
  assert.equal(cluster.varied, true);
  assert.equal(templateText(cluster), 'hey <name> <*> is this really you in this picture?? <url>');
  const a = add('lunch at 12?', 'bob', 10);
  const b = add('can you bring the projector remote to room B?', 'carol', 11);
  assert.notEqual(store.clusterOf(a)!.root, cluster.root);
  assert.notEqual(store.clusterOf(b)!.root, store.clusterOf(a)!.root);
  assert.equal(store.clusterOf(a)!.count, 1);
});

test('grouping (property): memory is bounded by maxTemplates, and a campaign survives a flood of one-offs', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 50, maxLength: 300 }), (noise) => {
      const store = new TemplateStore({ maxTemplates: 20, similarity: 0.5 });
      const spam = 'your mailbox is over quota verify your account at http://x.example now';
      const first = store.add(spam, mask(spam), 0);
      store.add(spam, mask(spam), 1);
      noise.forEach((text, i) => {
        store.add(`${text} ${i} zq${i}x`, mask(`${text} ${i} zq${i}x`), i + 2);
        assert.ok(store.size <= 20);
      });
      const again = store.add(spam, mask(spam), 9999);
      return again === first && store.clusterOf(first)!.count === 3;
    }),
    { seed: SEED, numRuns: 30 },
  );
});

test('grouping: texts without words have no template', () => {
  const store = new TemplateStore();
  assert.equal(store.add('  ...  ', mask('  ...  '), 0), -1);
});

test('mergePieces: shared words kept in order, each differing run becomes one <*>', () => {
  const a = mask('click here to win a big prize today').pieces;
  const b = mask('click here now to win a prize').pieces;
  assert.equal(render(mergePieces(a, b)!, ''), 'click here <*> to win a <*> prize <*>');
});

test('Distinct: exact up to its bound, then an estimate within a few percent', () => {
  const d = new Distinct();
  for (let i = 0; i < EXACT_DISTINCT; i++) d.add(`v${i}`);
  d.add('v1');
  assert.equal(d.count, EXACT_DISTINCT);
  assert.equal(d.isExact, true);
  for (let i = 0; i < 20_000; i++) d.add(`v${i}`);
  assert.equal(d.isExact, false);
  assert.ok(Math.abs(d.count - 20_000) / 20_000 < 0.05, `estimate ${d.count}`);
});

test('Outcomes: errors by name, ICMP errors counted as bounces', () => {
  const o = new Outcomes();
  o.add('ok', undefined);
  o.add('error', 'ICMP Port unreachable');
  o.add('error', 'NERR_NameNotFound');
  o.add('no-response', undefined);
  assert.deepEqual(o.json(), { ok: 1, error: 2, 'no-response': 1 });
  assert.equal(o.bounced, 1);
  assert.deepEqual(o.errorsJson(), { 'ICMP Port unreachable': 1, NERR_NameNotFound: 1 });
});

test('addresses: host and port of ip:port and [v6]:port', () => {
  assert.equal(hostOf('10.0.0.1:1026'), '10.0.0.1');
  assert.equal(portOf('10.0.0.1:1026'), 1026);
  assert.equal(hostOf('[2001:db8::1]:139'), '2001:db8::1');
  assert.equal(portOf('[2001:db8::1]:139'), 139);
  assert.equal(ipv4Number('198.51.100.1'), 0xc6336401);
  assert.equal(ipv4Text(0xc6336401), '198.51.100.1');
  assert.equal(ipv4Number('255.255.255.255'), undefined);
  assert.equal(ipv4Number('224.0.0.1'), undefined);
  assert.equal(ipv4Number('300.1.1.1'), undefined);
});

function message(src: string, dst: string, to: string[], text = 'x', extra: Partial<MessageEvent> = {}): MessageEvent {
  return { kind: 'message', tsSec: 1_000_000, tsNsec: 0, frames: [1], protocol: 'msrp', transport: 'udp/dcerpc', src, dst, findings: [], from: 'F', to, text, status: 'ok', ...extra };
}

test('sweeps: maximal runs of consecutive destination addresses, with ports and message counts', () => {
  const s = new SenderState('203.0.113.66');
  for (let i = 1; i <= 10; i++) for (const port of [1026, 1027]) s.add(message('203.0.113.66:4000', `198.51.100.${i}:${port}`, ['A']), i * 1e6);
  for (const i of [20, 21, 22, 40]) s.add(message('203.0.113.66:4000', `198.51.100.${i}:1026`, ['A']), 50e6);
  assert.deepEqual(s.sweeps(5), [{ first: '198.51.100.1', last: '198.51.100.10', hosts: 10, ports: [1026, 1027], messages: 20, first_time: 1e6, last_time: 10e6 }]);
  assert.deepEqual(s.sweeps(3).map((w) => [w.first, w.last]), [['198.51.100.1', '198.51.100.10'], ['198.51.100.20', '198.51.100.22']]);
  assert.equal(s.hosts.count, 14);
  assert.deepEqual(s.ports, [1026, 1027]);
});

test('sweeps: the IPv4 destinations kept across all senders are bounded; what is left out is counted', () => {
  const senders = new Senders(100, 10);
  for (const src of ['203.0.113.1', '203.0.113.2']) for (let i = 1; i <= 8; i++) senders.add(message(`${src}:4000`, `198.51.100.${i}:1026`, ['A']), i * 1e6);
  // The first sender keeps its 8 hosts, the second only the 2 left in the budget; its 6 other messages are counted.
  assert.equal(senders.sweepHosts.used, 10);
  assert.equal(senders.sweepHosts.refused, 6);
  assert.equal(senders.bySrc.get('203.0.113.1')!.sweeps(5)[0]!.hosts, 8);
  assert.deepEqual(senders.bySrc.get('203.0.113.2')!.sweeps(2).map((w) => w.hosts), [2]);
  // The senders' own tallies still count every message.
  assert.equal(senders.bySrc.get('203.0.113.2')!.hosts.count, 8);
});

test('sweeps (property): every sweep is a run of consecutive addresses of at least the minimum, and runs are maximal', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 200 }), { maxLength: 150 }), fc.integer({ min: 2, max: 8 }), (hosts, min) => {
      const s = new SenderState('192.0.2.1');
      for (const h of hosts) s.add(message('192.0.2.1:1', `10.0.${h >> 8}.${h & 255}:1026`, ['A']), 0);
      const set = new Set(hosts);
      for (const w of s.sweeps(min)) {
        const a = ipv4Number(w.first)! & 0xffff;
        const b = ipv4Number(w.last)! & 0xffff;
        if (b - a + 1 !== w.hosts || w.hosts < min) return false;
        for (let x = a; x <= b; x++) if (!set.has(x)) return false;
        if (set.has(a - 1) || set.has(b + 1)) return false;
      }
      return true;
    }),
    { seed: SEED, numRuns: 200 },
  );
});

test('indicators: links with their domains, e-mail domains, phones counted once per message by their digits', () => {
  const ind = new Indicators();
  ind.add(mask('visit http://User@Bad.example:8080/x and http://bad.example/y, call +1 202-555-0160'), 1, 0);
  ind.add(mask('call +1-202-555-0160 or write a@bad.example'), 2, 1);
  const rows = Object.fromEntries([...ind.byKey.values()].map((i) => [`${i.kind} ${i.value}`, i.messages]));
  assert.deepEqual(rows, {
    'url http://User@Bad.example:8080/x': 1,
    'domain bad.example': 2,
    'url http://bad.example/y': 1,
    'phone +1 202-555-0160': 2,
    'email a@bad.example': 1,
  });
  assert.equal(urlHost('www.x.example/path'), 'www.x.example');
});

test('alerts: a source crossing the host threshold within the interval fires once; slower sources do not', () => {
  const m = new AlertMonitor({ hosts: 5, recipients: 100, text: 100, interval: 60 });
  const fired = [];
  for (let i = 1; i <= 12; i++) fired.push(...m.observe(message('192.0.2.9:1', `198.51.100.${i}:1026`, ['A']), i * 1e6, 0, -1));
  assert.deepEqual(fired.map((a) => [a.kind, a.count, a.src]), [['hosts', 5, '192.0.2.9']]);
  // One host every 30 s: never 5 in 60 s.
  const slow = [];
  for (let i = 1; i <= 12; i++) slow.push(...m.observe(message('192.0.2.10:1', `198.51.100.${i}:1026`, ['A']), i * 30e6, 0, -1));
  assert.deepEqual(slow, []);
});

test('alerts: one text to many recipients fires across sources (a botnet)', () => {
  const m = new AlertMonitor({ hosts: 100, recipients: 100, text: 6, interval: 60 });
  const fired = [];
  for (let i = 0; i < 12; i++) fired.push(...m.observe(message(`192.0.2.${i % 4}:1`, '198.51.100.1:1026', [`USER${i}`]), i * 1e6, 0, 7));
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.kind, 'text');
  assert.equal(fired[0]!.sources, 4);
  assert.equal(fired[0]!.template, 7);
});

test('alerts: the windows of sources gone quiet are forgotten once their interval has passed; the counts are unchanged', () => {
  const counter = new WindowCounter(3, 10);
  // 1,000 sources once each, one time unit apart: only the last interval's windows are held.
  for (let t = 0; t < 1000; t++) assert.equal(counter.observe(`s${t}`, ['a'], t), undefined);
  assert.equal(counter.size, 10);
  // A source seen again within its interval still counts toward the threshold.
  assert.equal(counter.observe('s999', ['b'], 1000), undefined);
  assert.deepEqual(counter.observe('s999', ['c'], 1001), { count: 3, sources: 0 });
  // Past the interval it starts again.
  assert.equal(counter.observe('s999', ['d', 'e'], 1010), undefined);
});
