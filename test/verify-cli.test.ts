// `msgscope verify` end to end, through the CLI: exit status, rule selection, baselines
// (accepted, stale, unknown rules, bad lines, --write-baseline), the JSON contract of
// docs/schema.md, JUnit XML that parses and adds up, SARIF 2.1.0 that keeps the spec's
// structure, and the Samba baseline shipped in docs/examples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sidesOf } from '../src/analysis/verify/conversations.js';
import type { VerifyJson } from '../src/analysis/verify/result.js';
import { cli, exists, FIXTURES, publicCapture, ROOT } from './helpers.js';
import { parseXml, sarifProblems, type XmlElement } from './verify-formats.js';

const TWIN = (name: string): string => join(FIXTURES, 'verify', name);
const BAD = TWIN('smb-mb-block-size.bad.pcap');
const GOOD = TWIN('smb-mb-block-size.good.pcap');
/** The captures of real Samba traffic (smbclient -M and impacket's 0xD0 requests → smbd); smb-d0-odd is malformed on purpose. */
const SAMBA = ['short', 'long', 'crlf', 'cp850', 'unmappable', 'burst', 'd0', 'd0-error'].map((n) => join(FIXTURES, `smb-${n}.pcap`));
const SAMBA_BASELINE = join(ROOT, 'docs', 'examples', 'samba.baseline');

const tmp = mkdtempSync(join(tmpdir(), 'msgscope-verify-'));
function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

function json(args: string[]): { status: number | null; report: VerifyJson; stderr: string } {
  const r = cli(['verify', '--format', 'json', ...args]);
  assert.notEqual(r.status, 2, r.stderr);
  return { status: r.status, report: JSON.parse(r.stdout) as VerifyJson, stderr: r.stderr };
}

test('exit 1 on a failure, 0 when the rules pass; the text puts failures first with their frames', () => {
  const bad = cli(['verify', '--rules', 'smb', BAD]);
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /^msgscope verify: 1 capture\(s\)/);
  assert.ok(bad.stdout.indexOf('Failures (') < bad.stdout.indexOf('Rules by protocol and clause'));
  assert.match(bad.stdout, /FAIL {2}smb\.mb\.block-size {2}MS-MSRP 3\.2\.4\.4 .*\n.*frame 1\d\b/);
  assert.match(bad.stdout, /expected: .*SHOULD be exactly 128/);
  assert.match(bad.stdout, /A clean run does not certify an implementation/);
  const good = cli(['verify', '--rules', 'smb', GOOD]);
  assert.equal(good.status, 0, good.stdout + good.stderr);
  assert.doesNotMatch(good.stdout, /Failures \(/);
});

test('captures come as positionals or with -r, as in every capture command', () => {
  const r = cli(['verify', '--rules', 'smb.mb.block-size', '--format', 'json', '-r', BAD]);
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as VerifyJson).captures, [BAD]);
  const none = cli(['verify']);
  assert.equal(none.status, 2);
});

test('--help says what the exit status means and that a clean run certifies nothing', () => {
  const r = cli(['verify', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout.replace(/\s+/g, ' '), /0 no unaccepted failure, 1 at least one .* 2 usage or input error\. A clean run does not certify an implementation/);
});

test('--rules selects by protocol, id glob and clause; one naming nothing is exit 2', () => {
  const ids = (sel: string[]) => json([...sel.flatMap((s) => ['--rules', s]), BAD]).report.rules.map((r) => r.id);
  assert.ok(ids(['smb']).every((id) => id.startsWith('smb')));
  assert.deepEqual(ids(['smb.mb.*']).sort(), ['smb.mb.block-size', 'smb.mb.group-id-mismatch', 'smb.mb.incomplete', 'smb.mb.no-wait', 'smb.mb.short-message']);
  const clause = json(['--rules', 'MS-MSRP 3.2.4.4', BAD]).report.rules;
  // A rule citing a list of sections (`MS-MSRP 3.1.4, 3.2.4`) is selected by a clause inside one of them.
  assert.ok(clause.length > 3 && clause.every((r) => /^MS-MSRP (.*, )?3\.2\.4/.test(r.spec)), clause.map((r) => r.spec).join());
  assert.deepEqual(ids(['smb.mb.block-size,nbss.bad-name']), ['nbss.bad-name', 'smb.mb.block-size']);
  for (const sel of ['smb.nosuch.*', 'MS-NOSUCH 1.2']) {
    const r = cli(['verify', '--rules', sel, BAD]);
    assert.equal(r.status, 2, sel);
    assert.match(r.stderr, /names no rule/);
    assert.equal(r.stdout, '');
  }
});

test('--severity is a floor: error keeps the rules that can be errors only', () => {
  const { report } = json(['--rules', 'smb', '--severity', 'error', BAD]);
  assert.ok(report.rules.length > 0 && report.rules.every((r) => r.severity === 'error'));
  assert.ok(!report.rules.some((r) => r.id === 'smb.mb.block-size'));
  assert.equal(cli(['verify', '--rules', 'smb.mb.block-size', '--severity', 'error', BAD]).status, 2);
});

test('the JSON contract: verdicts with rule, spec, verdict, conversation, frames, detail; the rules evaluated; totals', () => {
  const { status, report } = json(['--rules', 'smb', BAD, GOOD]);
  assert.equal(status, 1);
  assert.deepEqual(report.captures, [BAD, GOOD]);
  const fail = report.verdicts.find((v) => v.rule === 'smb.mb.block-size' && v.verdict === 'fail')!;
  assert.equal(fail.spec, 'MS-MSRP 3.2.4.4');
  assert.equal(fail.capture, BAD);
  assert.match(fail.conversation!, /^\d+\.\d+\.\d+\.\d+:\d+ ⇄ \d+\.\d+\.\d+\.\d+:139$/);
  assert.equal(fail.transport, 'tcp');
  assert.ok(fail.frames.length > 0 && fail.expected !== undefined && fail.seen!.length > 0 && fail.detail !== '');
  const pass = report.verdicts.find((v) => v.rule === 'smb.mb.block-size' && v.verdict === 'pass')!;
  assert.equal(pass.capture, GOOD);
  assert.ok(pass.frames.length > 0, 'a pass names the frames it was checked on');
  const kinds = new Set(report.verdicts.map((v) => v.verdict));
  assert.ok(kinds.has('not-applicable'));
  for (const v of report.verdicts) assert.ok(['pass', 'fail', 'not-applicable', 'inconclusive'].includes(v.verdict));
  const counted = report.rules.reduce((n, r) => n + r.counts.pass + r.counts.fail + r.counts.accepted + r.counts.inconclusive + r.counts['not-applicable'], 0);
  assert.equal(counted, report.verdicts.length);
  assert.equal(report.totals.verdicts, report.verdicts.length);
  assert.equal(report.totals.fail, report.verdicts.filter((v) => v.verdict === 'fail').length);
  assert.equal(report.totals.unaccepted, report.totals.fail);
  assert.equal(report.baseline, null);
  assert.match(report.notice, /does not certify/);
  const rule = report.rules.find((r) => r.id === 'smb.mb.block-size')!;
  assert.equal(rule.level, 'SHOULD');
  assert.equal(rule.role, 'client');
  assert.match(rule.requirement, /SHOULD/);
});

test('a baselined failure is accepted and does not fail the run; a line at another conversation accepts nothing', () => {
  const base = file('accept.baseline', '# comment\n\nsmb.mb.block-size at *:139 because our client cuts at 127\n');
  const { status, report } = json(['--rules', 'smb', '--baseline', base, BAD]);
  assert.equal(status, 0);
  const v = report.verdicts.find((x) => x.rule === 'smb.mb.block-size')!;
  assert.equal(v.verdict, 'fail');
  assert.deepEqual(v.accepted, { line: 3, reason: 'our client cuts at 127' });
  assert.equal(report.totals.accepted, 1);
  assert.equal(report.totals.unaccepted, 0);
  assert.equal(report.baseline!.accepted, 1);
  const text = cli(['verify', '--rules', 'smb', '--baseline', base, BAD]);
  assert.equal(text.status, 0);
  assert.match(text.stdout, /ACCEPTED {2}smb\.mb\.block-size[\s\S]*baseline line 3: our client cuts at 127/);
  const elsewhere = file('elsewhere.baseline', 'smb.mb.block-size at 192.0.2.1 <=> *:139 because another host\n');
  const other = json(['--rules', 'smb', '--baseline', elsewhere, BAD]);
  assert.equal(other.status, 1);
  assert.deepEqual(other.report.baseline!.unused.map((e) => e.line), [1], 'an entry that covers no conversation of the run is unused');
  assert.equal(other.report.totals.accepted, 0);
});

test('a baselined rule that passes now is stale: reported and warned, and exit 1 with --fail-on-stale', () => {
  const base = file('stale.baseline', 'smb.mb.block-size because fixed since\n');
  const r = json(['--rules', 'smb', '--baseline', base, GOOD]);
  assert.equal(r.status, 0);
  assert.equal(r.report.baseline!.stale.length, 1);
  assert.equal(r.report.baseline!.stale[0]!.line, 1);
  assert.ok(r.report.baseline!.stale[0]!.passes > 0);
  assert.match(r.stderr, /1 stale baseline entry .*remove it from/);
  assert.equal(cli(['verify', '--rules', 'smb', '--baseline', base, '--fail-on-stale', GOOD]).status, 1);
  // A rule that fails somewhere is not stale even where it passes elsewhere.
  const mixed = json(['--rules', 'smb', '--baseline', base, BAD, GOOD]);
  assert.equal(mixed.status, 0);
  assert.deepEqual(mixed.report.baseline!.stale, []);
});

test('a baseline entry naming no rule is a warning, not an acceptance; a line that does not parse is exit 2 with its number', () => {
  const typo = file('typo.baseline', 'smb.mb.blok-size because typo\n');
  const r = json(['--rules', 'smb', '--baseline', typo, BAD]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /line 1: 'smb\.mb\.blok-size' names no rule verify judges/);
  assert.deepEqual(r.report.warnings.filter((w) => /blok-size/.test(w)).length, 1);
  const cases: [string, RegExp][] = [
    ['# ok\nsmb.mb.block-size\n', /line 2: expected .*no 'because'/],
    ['smb.mb.block-size because\n', /line 1: expected a reason after 'because'/],
    ['smb.mb.block-size at somewhere because x\n', /line 1: expected an address after 'at'/],
    ['smb.mb.block-size at 1.2.3.4 <=> 5.6.7.8 <=> 9.9.9.9 because x\n', /line 1: 'at' takes one endpoint or one conversation/],
  ];
  for (const [text, message] of cases) {
    const bad = cli(['verify', '--rules', 'smb', '--baseline', file('bad.baseline', text), BAD]);
    assert.equal(bad.status, 2, text);
    assert.match(bad.stderr, message);
    assert.equal(bad.stdout, '');
  }
  const missing = cli(['verify', '--baseline', join(tmp, 'none.baseline'), BAD]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no such file/);
});

test('--write-baseline writes the current failures; running with it accepts them all and leaves nothing stale', () => {
  const out = join(tmp, 'written.baseline');
  const w = cli(['verify', '--rules', 'smb', '--write-baseline', out, ...SAMBA]);
  assert.equal(w.status, 0, w.stderr);
  const text = readFileSync(out, 'utf8');
  const entries = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.deepEqual(entries.map((l) => l.split(' ')[0]).sort(), ['smb.mb.block-size', 'smb.mb.short-message', 'smb.msg.header-not-zero', 'smb.msg.raw-line-break', 'smb.startmb.no-group-id']);
  const again = json(['--rules', 'smb', '--baseline', out, ...SAMBA]);
  assert.equal(again.status, 0);
  assert.equal(again.report.totals.unaccepted, 0);
  assert.ok(again.report.totals.accepted > 0);
  assert.deepEqual(again.report.baseline!.stale, []);
  assert.equal(cli(['verify', '--write-baseline', join(tmp, 'no-dir', 'x'), BAD]).status, 2);
});

test('docs/examples/samba.baseline accepts every deviation of the real Samba runs, each entry used, none stale', () => {
  const without = json(SAMBA);
  assert.equal(without.status, 1);
  const r = json(['--baseline', SAMBA_BASELINE, ...SAMBA]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.report.totals.unaccepted, 0);
  assert.equal(r.report.totals.accepted, without.report.totals.fail);
  assert.deepEqual(r.report.baseline!.stale, []);
  assert.deepEqual(r.report.baseline!.unused, []);
  assert.deepEqual(r.report.warnings, []);
  // The deliberately malformed 0xD0 run is not covered: the baseline accepts Samba's deviations, not any.
  assert.equal(cli(['verify', '--baseline', SAMBA_BASELINE, join(FIXTURES, 'smb-d0-odd.pcap')]).status, 1);
});

function children(e: XmlElement, name: string): XmlElement[] {
  return e.children.filter((c) => c.name === name);
}

test('JUnit XML parses and adds up: a test case per verdict, <failure> for fail, <skipped> otherwise, the clause in its properties', () => {
  const base = file('junit.baseline', 'smb.msg.header-not-zero because accepted here\n');
  const r = cli(['verify', '--format', 'junit', '--baseline', base, ...SAMBA.slice(0, 2), BAD, TWIN('one-sided.pcap')]);
  assert.equal(r.status, 1, r.stderr);
  const root = parseXml(r.stdout);
  assert.equal(root.name, 'testsuites');
  const { report } = json(['--baseline', base, ...SAMBA.slice(0, 2), BAD, TWIN('one-sided.pcap')]);
  const suites = children(root, 'testsuite');
  const cases = suites.flatMap((s) => children(s, 'testcase'));
  assert.equal(cases.length, report.verdicts.length);
  assert.equal(Number(root.attrs['tests']), cases.length);
  const failures = cases.filter((c) => children(c, 'failure').length > 0);
  const skipped = cases.filter((c) => children(c, 'skipped').length > 0);
  assert.equal(failures.length, report.totals.unaccepted);
  assert.equal(Number(root.attrs['failures']), failures.length);
  assert.equal(skipped.length, report.totals['not-applicable'] + report.totals.inconclusive + report.totals.accepted);
  assert.equal(Number(root.attrs['skipped']), skipped.length);
  for (const s of suites) {
    const mine = children(s, 'testcase');
    assert.equal(Number(s.attrs['tests']), mine.length);
    assert.equal(Number(s.attrs['failures']), mine.filter((c) => children(c, 'failure').length > 0).length);
  }
  for (const c of cases) {
    const props = new Map(children(children(c, 'properties')[0]!, 'property').map((p) => [p.attrs['name'], p.attrs['value']]));
    assert.ok(props.get('clause') !== undefined && props.get('requirement') !== undefined && props.get('verdict') !== undefined);
  }
  const fail = failures.find((c) => c.attrs['classname'] === 'msgscope.smb.smb.mb.block-size')!;
  assert.match(fail.attrs['name']!, /smb\.mb\.block-size .* ⇄ .*:139/);
  assert.match(children(fail, 'failure')[0]!.attrs['message']!, /^MS-MSRP 3\.2\.4\.4: /);
  assert.match(children(fail, 'failure')[0]!.text, /expected: [\s\S]*seen: [\s\S]*frames: \d/);
  assert.ok(skipped.some((c) => /^accepted by baseline line 1/.test(children(c, 'skipped')[0]!.attrs['message']!)));
  assert.ok(skipped.some((c) => /^inconclusive: /.test(children(c, 'skipped')[0]!.attrs['message']!)));
});

test('JUnit escapes what comes from the wire and from the baseline', () => {
  const base = file('xml.baseline', 'smb.mb.block-size because a <b>&"quoted"\' reason\n');
  const r = cli(['verify', '--format', 'junit', '--rules', 'smb', '--baseline', base, BAD]);
  assert.equal(r.status, 0, r.stderr);
  const root = parseXml(r.stdout);
  const all = children(root, 'testsuite').flatMap((s) => children(s, 'testcase'));
  const accepted = all.find((c) => (children(c, 'skipped')[0]?.attrs['message'] ?? '').includes('accepted'))!;
  assert.equal(children(accepted, 'skipped')[0]!.attrs['message'], 'accepted by baseline line 1: a <b>&"quoted"\' reason');
});

test('SARIF 2.1.0: the log keeps the spec\'s structure; kinds pass, fail, notApplicable, review; frames as logical locations; accepted failures suppressed', () => {
  const base = file('sarif.baseline', 'smb.msg.header-not-zero because accepted here\n');
  const args = ['--baseline', base, SAMBA[0]!, BAD, TWIN('one-sided.pcap')];
  const r = cli(['verify', '--format', 'sarif', ...args]);
  assert.equal(r.status, 1, r.stderr);
  const log = JSON.parse(r.stdout) as unknown;
  assert.deepEqual(sarifProblems(log), []);
  const { report } = json(args);
  const run = (log as { runs: { results: Record<string, unknown>[]; tool: { driver: { rules: { id: string; properties: Record<string, unknown> }[] } } }[] }).runs[0]!;
  assert.equal(run.results.length, report.verdicts.length);
  const kinds = new Map<string, number>();
  for (const res of run.results) kinds.set(res['kind'] as string, (kinds.get(res['kind'] as string) ?? 0) + 1);
  assert.equal(kinds.get('fail'), report.totals.fail + report.totals.accepted);
  assert.equal(kinds.get('pass'), report.totals.pass);
  assert.equal(kinds.get('notApplicable'), report.totals['not-applicable']);
  assert.equal(kinds.get('review'), report.totals.inconclusive);
  const rule = run.tool.driver.rules.find((x) => x.id === 'smb.mb.block-size')!;
  assert.equal(rule.properties['clause'], 'MS-MSRP 3.2.4.4');
  assert.match(String(rule.properties['requirement']), /SHOULD be exactly 128/);
  const fail = run.results.find((x) => x['ruleId'] === 'smb.mb.block-size' && x['kind'] === 'fail') as { level: string; locations: { physicalLocation: { artifactLocation: { uri: string } }; logicalLocations: { name: string }[] }[] };
  assert.equal(fail.level, 'note');
  assert.equal(fail.locations[0]!.physicalLocation.artifactLocation.uri, BAD);
  assert.match(fail.locations[0]!.logicalLocations[0]!.name, /^frame \d+$/);
  const suppressed = run.results.filter((x) => x['suppressions'] !== undefined);
  assert.equal(suppressed.length, report.totals.accepted);
  assert.ok(suppressed.length > 0);
});

test('the structural SARIF check catches what the spec forbids', () => {
  const log = { version: '2.1.0', runs: [{ tool: { driver: { name: 'x', rules: [{ id: 'a' }] } }, results: [
    { ruleId: 'a', ruleIndex: 0, kind: 'pass', level: 'error', message: { text: 'm' } },
    { ruleId: 'b', ruleIndex: 0, kind: 'passed', message: { text: 'm' } },
    { ruleId: 'a', ruleIndex: 0, kind: 'fail', level: 'warning', message: {}, bogus: 1 },
  ] }] };
  const problems = sarifProblems(log);
  assert.ok(problems.some((p) => /results\[0\].*level/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /results\[1\].*ruleId/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /results\[1\].*kind/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /results\[2\].*message/.test(p)), problems.join('\n'));
  assert.ok(problems.some((p) => /results\[2\].*bogus/.test(p)), problems.join('\n'));
});

test('the XML parser rejects what is not well-formed', () => {
  for (const bad of ['<a><b></a></b>', '<a x="1" x="2"/>', '<a>&nope;</a>', '<a x="<"/>', '<a>', '<a/><b/>', '<a>\u0001</a>']) {
    assert.throws(() => parseXml(bad), bad);
  }
  const ok = parseXml('<?xml version="1.0" encoding="UTF-8"?>\n<a k="&lt;&amp;&#65;"><b>t&gt;</b><c/></a>');
  assert.equal(ok.attrs['k'], '<&A');
  assert.equal(ok.children[0]!.text, 't>');
});

test('without the TCP handshake the side on a messenger service port is the server, even above the other port', () => {
  const flow = (src: string, dst: string) => ({ carrier: 'tcp', stream: 0, src, dst, opening: undefined });
  assert.deepEqual(sidesOf(flow('65.54.172.81:1863', '10.0.0.5:1055'), undefined), { client: '10.0.0.5:1055', server: '65.54.172.81:1863', startSeen: false });
  assert.deepEqual(sidesOf(flow('10.0.0.5:1055', '10.0.0.6:139'), undefined), { client: '10.0.0.5:1055', server: '10.0.0.6:139', startSeen: false });
  assert.deepEqual(sidesOf(flow('10.0.0.5:40000', '10.0.0.6:8080'), undefined), { client: '10.0.0.5:40000', server: '10.0.0.6:8080', startSeen: false });
  assert.deepEqual(sidesOf(flow('10.0.0.5:1055', '10.0.0.6:1863'), { client: '10.0.0.6:1863', server: '10.0.0.5:1055' }), { client: '10.0.0.6:1863', server: '10.0.0.5:1055', startSeen: true });
});

test('a real capture holding one direction of MSNP (Sanaullah.pcap): the VER rule is inconclusive for the client, not failed', { skip: !exists(publicCapture('ajbanjara__Wireshark/Sanaullah.pcap')) }, () => {
  const { report } = json(['--rules', 'msnp.version-inferred', publicCapture('ajbanjara__Wireshark/Sanaullah.pcap')]);
  assert.ok(report.verdicts.length > 0);
  for (const v of report.verdicts) {
    assert.equal(v.verdict, 'inconclusive', JSON.stringify(v));
    assert.equal(v.endpoint, '165.246.166.180');
  }
});

/** The keys docs/schema.md lists in the first column of each table of its verify section. */
function documentedKeys(): string[][] {
  const doc = readFileSync(join(ROOT, 'docs', 'schema.md'), 'utf8');
  const start = doc.indexOf('## `msgscope verify --format json`');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  const tables: string[][] = [];
  let current: string[] | undefined;
  for (const line of section.split('\n')) {
    if (!line.startsWith('|')) {
      current = undefined;
      continue;
    }
    if (current === undefined) tables.push((current = []));
    const first = line.split('|')[1]!;
    for (const m of first.matchAll(/`([^`]+)`/g)) current.push(m[1]!);
  }
  return tables;
}

test('docs/schema.md documents exactly the keys verify writes', () => {
  const base = file('schema.baseline', 'smb.mb.block-size because documented\n');
  const { report } = json(['--baseline', base, BAD, TWIN('one-sided.pcap')]);
  const [top, rule, verdict] = documentedKeys();
  assert.deepEqual(Object.keys(report).sort(), [...top!].sort());
  assert.deepEqual(Object.keys(report.rules[0]!).sort(), [...rule!].sort());
  const seen = new Set(report.verdicts.flatMap((v) => Object.keys(v)));
  assert.deepEqual([...seen].sort(), [...verdict!].sort());
});
