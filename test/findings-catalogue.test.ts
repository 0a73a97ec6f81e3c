// The rule and finding catalogue: every finding the code emits is declared once, with its
// clause (or `bound` / `anomaly`), summary and requirement; no code path builds a finding from
// a bare id; the captures and fixtures emit nothing outside the catalogue; `fields --findings`
// lists it all; and the generated finding tables in docs/ are current.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CATALOGUE } from '../src/protocols/catalogue.js';
import { declarationProblems } from '../src/model/catalogue.js';
import type { Finding } from '../src/model/findings.js';
import { allCaptures, cli, dissect, filesUnder, ROOT } from './helpers.js';

/** The catalogue machinery: the only files allowed to spell finding ids and severities. */
function isCatalogueFile(path: string): boolean {
  const rel = relative(ROOT, path);
  return rel.endsWith('/findings.ts') || rel === join('src', 'model', 'catalogue.ts') || rel === join('src', 'protocols', 'catalogue.ts');
}

test('no code path builds a finding from a bare id string', () => {
  const sources = filesUnder(join(ROOT, 'src'), (n) => n.endsWith('.ts')).filter((p) => !isCatalogueFile(p));
  assert.ok(sources.length > 50, `${sources.length} source files scanned`);
  const ids = CATALOGUE.list().map((d) => d.id);
  const problems: string[] = [];
  for (const path of sources) {
    const text = readFileSync(path, 'utf8');
    const rel = relative(ROOT, path);
    if (/\bfinding\(\s*['"`]/.test(text)) problems.push(`${rel}: finding('…') from a literal id`);
    if (/\bid:\s*[^,\n]+,\s*severity:/.test(text)) problems.push(`${rel}: a Finding object built by hand`);
    if (/`\$\{[^}]+\}\.(truncated|malformed|limit)`/.test(text)) problems.push(`${rel}: an id built from a template`);
    for (const id of ids) {
      for (const q of ["'", '"', '`']) if (text.includes(`${q}${id}${q}`)) problems.push(`${rel}: the id ${id} as a string literal`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every declared finding has a well-formed id, a clause or bound/anomaly, a summary and a requirement', () => {
  const defs = CATALOGUE.list();
  assert.ok(defs.length >= 150, `${defs.length} findings declared`);
  const problems = defs.flatMap((d) => declarationProblems(d).map((p) => `${d.id}: ${p}`));
  assert.deepEqual(problems, []);
  assert.equal(new Set(defs.map((d) => d.id)).size, defs.length, 'ids are unique');
  for (const d of defs) assert.equal(CATALOGUE.lookup(d.id), d);
  const anomalies = defs.filter((d) => d.spec === 'anomaly').length;
  assert.ok(anomalies * 5 < defs.length, `anomaly stays rare: ${anomalies} of ${defs.length}`);
});

test('declaration problems are found: a bad id, a missing clause, a requirement without a level', () => {
  const good = CATALOGUE.lookup('smb.textmb.no-start')!;
  assert.deepEqual(declarationProblems(good), []);
  assert.ok(declarationProblems({ ...good, id: 'smb.TextMB' }).length > 0);
  assert.ok(declarationProblems({ ...good, spec: '' }).length > 0);
  assert.ok(declarationProblems({ ...good, requirement: 'a TEXT_MB follows a START_MB.' }).length > 0);
  assert.ok(declarationProblems({ ...good, spec: 'bound', requirement: 'a bound with no number' }).length > 0);
});

test('rulesApplying: the rules of the protocols seen on a conversation', () => {
  const ids = (seen: string[]) => new Set(CATALOGUE.rulesApplying(seen).map((d) => d.id));
  const smb = ids(['eth', 'ip', 'tcp', 'nbss', 'smb']);
  assert.ok(smb.has('smb.textmb.no-start') && smb.has('nbss.bad-header') && smb.has('tcp.gap') && smb.has('frame.snaplen'));
  assert.ok(![...smb].some((id) => id.startsWith('msnp.') || id.startsWith('msrp.')));
  const rpc = ids(['udp', 'dcerpc', 'msgsvcsend']);
  assert.ok(rpc.has('msrp.text-too-long') && rpc.has('dcerpc.cl.fragment-conflict') && !rpc.has('smb.malformed'));
  assert.ok(ids(['ipv6']).has('ip.defrag.incomplete'), 'IPv4 and IPv6 share the reassembly timeout rule');
  assert.deepEqual(CATALOGUE.ofProtocol('msnpgw').map((d) => d.id), ['msnpgw.chunked', 'msnpgw.limit', 'msnpgw.malformed']);
});

const captures = allCaptures();

test('every public capture, fixture and sample emits only declared findings, with allowed severities and their clause', { skip: captures.length === 0 ? 'no captures' : false }, async () => {
  const seen = new Map<string, number>();
  const problems: string[] = [];
  const checkOne = (path: string, f: Finding) => {
    seen.set(f.id, (seen.get(f.id) ?? 0) + 1);
    const def = CATALOGUE.lookup(f.id);
    if (def === undefined) problems.push(`${path} frame ${f.frame}: undeclared ${f.id}`);
    else if (!def.severities.includes(f.severity)) problems.push(`${path} frame ${f.frame}: ${f.id} as ${f.severity}, declared ${def.severities.join('/')}`);
    else if (f.spec !== def.spec && (def.specPerSite === undefined || !/^[A-Za-z][A-Za-z0-9.-]* \S/.test(f.spec))) {
      problems.push(`${path} frame ${f.frame}: ${f.id} cites '${f.spec}', declared '${def.spec}'`);
    }
  };
  for (const path of captures) {
    const d = await dissect(path);
    for (const frame of d.frames) for (const f of frame.findings) checkOne(path, f);
    for (const event of d.events) for (const f of event.findings) checkOne(path, f);
  }
  assert.deepEqual(problems, []);
  assert.ok(seen.size >= 30, `${seen.size} distinct finding ids seen over ${captures.length} captures`);
});

test('msgscope fields --findings --format json lists the whole catalogue', () => {
  const r = cli(['fields', '--findings', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const listed = JSON.parse(r.stdout) as { id: string; severity: string; severities: string[]; spec: string; summary: string; requirement: string; scope: string }[];
  assert.deepEqual(listed.map((d) => d.id), CATALOGUE.list().map((d) => d.id));
  for (const d of listed) {
    assert.ok(d.spec !== '' && d.summary !== '' && d.requirement !== '', d.id);
    assert.ok(d.severities.includes(d.severity), d.id);
    assert.ok(['frame', 'conversation', 'endpoint'].includes(d.scope), d.id);
  }
  const smb = cli(['fields', 'smb', '--findings', '--format', 'csv']);
  assert.equal(smb.status, 0, smb.stderr);
  const rows = smb.stdout.trim().split('\n');
  assert.equal(rows[0], 'id,protocol,severity,spec,summary,requirement,scope');
  assert.equal(rows.length - 1, CATALOGUE.ofProtocol('smb').length);
  assert.ok(rows.slice(1).every((row) => row.startsWith('smb.')));
  const unknown = cli(['fields', 'nosuch', '--findings']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /no findings are declared for 'nosuch'/);
});

test('the generated finding tables in docs/ are current', () => {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-findings-doc.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
