// Twin captures (scripts/fixtures/verify_twins.py): for every rule listed, the violating
// capture fails at the rule's clause with the frames that show it, and its conforming twin —
// the same exchange without that one change, or real software's traffic — does not fail it.
// The list covers every rule of the messenger protocols that the twins can break (the test
// names those without a twin, so that none is forgotten silently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { judgedRules } from '../src/analysis/verify/rules.js';
import { CATALOGUE } from '../src/protocols/catalogue.js';
import { FIXTURES } from './helpers.js';
import { verifyJson } from './verify-helpers.js';

interface Twin {
  rule: string;
  clause: string;
  bad: string;
  good: string;
  frames: number[];
  change: string;
}

const DIR = join(FIXTURES, 'verify');
const twins = (JSON.parse(readFileSync(join(DIR, 'twins.json'), 'utf8')) as { twins: Twin[] }).twins;

/** Rules with no twin, and why: each must stay listed here until it gets one. */
export const WITHOUT_TWIN: Readonly<Record<string, string>> = {
  'smb.msg.name-unterminated': 'an unterminated name runs into the next field: the violation shows as a malformed request first',
  'smb.trans.bad-totals': 'SMB transactions: mailslot writes by NetBIOS datagram carry the whole transaction in one request',
  'smb.trans.inconsistent-total': 'multi-part transactions are not part of the messenger exchanges the twins build',
  'smb.trans.bad-displacement': 'multi-part transactions are not part of the messenger exchanges the twins build',
  'smb.trans.overlap': 'multi-part transactions are not part of the messenger exchanges the twins build',
  'smb.trans.secondary-unmatched': 'multi-part transactions are not part of the messenger exchanges the twins build',
  'smb.trans.incomplete': 'multi-part transactions are not part of the messenger exchanges the twins build',
  'smb2.malformed': 'SMB2 is followed only as far as named pipes; its framing rules are covered by test/smb2-pipes.test.ts',
  'smb2.compound': 'SMB2 is followed only as far as named pipes; its framing rules are covered by test/smb2-pipes.test.ts',
  'smb2.header-size': 'SMB2 is followed only as far as named pipes; its framing rules are covered by test/smb2-pipes.test.ts',
  'nbdgm.malformed': 'a datagram too short for its header is not recognised as NetBIOS datagram service at all',
  'nbdgm.fragment-overrun': 'NetBIOS datagram fragments: covered by test/nbt-review.test.ts with hand-built datagrams',
  'nbdgm.fragments-incomplete': 'NetBIOS datagram fragments: covered by test/nbt-review.test.ts with hand-built datagrams',
  'nbns.malformed': 'NetBIOS name service packets are not part of the messenger exchanges the twins build',
  'dcerpc.cl.malformed': 'a datagram shorter than the 80-byte header is not recognised as DCE/RPC at all',
  'dcerpc.cl.version': 'a header whose version is not 4 is not recognised as connectionless DCE/RPC at all',
  'msrp.null-ref': 'the msgsvcsend arguments have no embedded [ref] pointer; msgsvc\'s are covered by test/dcerpc-ndr.test.ts',
  'msrp.bad-level': 'msgsvc over named pipes: covered by test/msrp-fixtures.test.ts and test/dcerpc-review.test.ts',
  'msrp.forward-flag': 'msgsvc over named pipes: covered by test/dcerpc-review.test.ts',
  'msrp.forward-not-null': 'msgsvc over named pipes: covered by test/dcerpc-review.test.ts',
  'msrp.msgname-too-long': 'msgsvc over named pipes: covered by test/dcerpc-review.test.ts',
  'msrp.total-entries': 'msgsvc over named pipes: covered by test/dcerpc-review.test.ts',
  'msnp.payload-length-mismatch': 'MSNP framing: covered by test/msnp-framer.test.ts',
  'msnp.truncated-line': 'MSNP framing: covered by test/msnp-framer.test.ts',
  'msnp.malformed': 'MSNP framing: covered by test/msnp-framer.test.ts',
  'msnp.invalid-for-role': 'MSNP roles: covered by test/msnp-review.test.ts',
  'msnpgw.malformed': 'the HTTP gateway: covered by test/msnp-transcripts.test.ts',
  'dcerpc.co.truncated-pdu': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.fragments-incomplete': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.bad-header': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.bad-auth': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.version': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.malformed': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.bind-results': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.fragment-restart': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.fragment-orphan': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
  'dcerpc.co.call-id-reused': 'connection-oriented DCE/RPC: covered by test/dcerpc-co.test.ts',
};

test('twins.json has a twin for every messenger rule, or the reason it has none', () => {
  const ids = new Set(twins.map((t) => t.rule));
  const missing = judgedRules(CATALOGUE)
    .filter((r) => r.def.transports !== undefined)
    .map((r) => r.def.id)
    .filter((id) => !ids.has(id) && WITHOUT_TWIN[id] === undefined);
  assert.deepEqual(missing, []);
  for (const id of Object.keys(WITHOUT_TWIN)) assert.ok(!ids.has(id), `${id} has a twin now: drop it from WITHOUT_TWIN`);
  assert.ok(twins.length >= 70, `${twins.length} twins`);
});

for (const t of twins) {
  test(`${t.rule}: fails at ${t.clause} with its frames (${t.change}); its twin does not fail`, async () => {
    const bad = await verifyJson(join(DIR, t.bad), [t.rule]);
    const failed = bad.verdicts.filter((v) => v.rule === t.rule && v.verdict === 'fail');
    assert.ok(failed.length > 0, `${t.bad}: ${JSON.stringify(bad.verdicts.filter((v) => v.rule === t.rule))}`);
    assert.ok(failed.some((v) => v.spec === t.clause), `${t.bad}: fails at ${failed.map((v) => v.spec).join(', ')}, expected ${t.clause}`);
    const frames = new Set(failed.flatMap((v) => v.frames));
    for (const n of t.frames) assert.ok(frames.has(n), `${t.bad}: frame ${n} not among ${[...frames].join(', ')}`);
    assert.ok(failed.every((v) => v.expected !== undefined && v.seen !== undefined && v.seen.length > 0));
    const good = await verifyJson(join(DIR, t.good), [t.rule]);
    const mine = good.verdicts.filter((v) => v.rule === t.rule);
    assert.deepEqual(mine.filter((v) => v.verdict === 'fail'), [], t.good);
    assert.ok(mine.some((v) => v.verdict === 'pass'), `${t.good}: ${JSON.stringify(mine)}`);
  });
}

// Captures that cannot show every rule: verify must say inconclusive there, never pass.
const extras = (JSON.parse(readFileSync(join(DIR, 'twins.json'), 'utf8')) as { extras: Record<string, { file: string }> }).extras;

test('one side only: every rule that judges an exchange is inconclusive, none passes', async () => {
  const json = await verifyJson(join(DIR, extras['one-sided']!.file), ['smb', 'nbss']);
  const exchange = new Set(json.rules.filter((r) => r.check.bothSides).map((r) => r.id));
  const judged = json.verdicts.filter((v) => exchange.has(v.rule) && v.verdict !== 'not-applicable');
  assert.ok(judged.length > 0);
  assert.deepEqual(judged.filter((v) => v.verdict !== 'inconclusive').map((v) => `${v.rule}: ${v.verdict}`), []);
  for (const id of ['smb.msg.response-command', 'smb.mb.no-wait']) {
    const v = json.verdicts.find((x) => x.rule === id);
    assert.equal(v?.verdict, 'inconclusive', id);
    assert.match(v.detail, /only the client side/);
  }
});

test('joined mid-way: rules that judge a conversation from its start are inconclusive, not fail', async () => {
  const json = await verifyJson(join(DIR, extras['midstream']!.file), ['smb', 'nbss']);
  const fromStart = new Set(json.rules.filter((r) => r.check.fromStart).map((r) => r.id));
  for (const id of ['smb.textmb.no-start', 'smb.endmb.no-start', 'nbss.no-session-request']) {
    assert.ok(fromStart.has(id), id);
    const v = json.verdicts.find((x) => x.rule === id);
    assert.equal(v?.verdict, 'inconclusive', id);
    assert.match(v.detail, /no TCP handshake/);
  }
  assert.deepEqual(json.verdicts.filter((v) => v.verdict === 'fail').map((v) => v.rule), []);
});
