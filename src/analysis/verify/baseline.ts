// Baselines: accepted deviations, like Samba's knownfail. A baseline is a text file, one entry
// a line:
//
//     <rule> [at <where>] because <reason>
//
// <rule> is a rule id, a glob over ids (`smb.mb.*`), a protocol (`smb`) or a clause
// (`MS-MSRP 2.2.3.2.2`); <where> narrows the entry to conversations or hosts: an endpoint
// (`10.0.0.1`, `10.0.0.1:139`, `*:139`, `[fe80::1]:139`) matching either side, or a
// conversation `<endpoint> <=> <endpoint>` (`⇄` works too), with `*` for any part. Lines
// starting with `#` and blank lines are ignored. A failure an entry matches is accepted; an
// entry whose rule now passes where it applies, and fails nowhere, is stale.
import { escapeText } from '../../output/escape.js';
import type { FindingCatalogue } from '../../model/catalogue.js';
import { hostOf } from './conversations.js';
import { selectRules, type Rule } from './rules.js';
import { subjectOf, type BaselineEntryJson, type BaselineJson, type CaptureRef, type Verdict } from './result.js';

/** A baseline that does not parse: its line and what was expected there. */
export class BaselineError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

/** Bound on the entries read (a baseline is written by people or by --write-baseline). */
const MAX_ENTRIES = 10_000;

const FORM = "'<rule, protocol or clause> [at <endpoint or conversation>] because <reason>'";

interface EndpointPattern {
  readonly host: RegExp;
  readonly port: RegExp | undefined;
}

export interface BaselineEntry {
  readonly line: number;
  readonly selector: string;
  readonly at: string | undefined;
  readonly reason: string;
  /** The rules the selector names (empty for a typo: the entry then accepts nothing). */
  readonly rules: ReadonlySet<Rule>;
  readonly where: readonly EndpointPattern[];
}

export interface Baseline {
  readonly file: string;
  readonly entries: readonly BaselineEntry[];
  readonly warnings: readonly string[];
}

function wildcard(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
}

/** `10.0.0.1`, `10.0.0.1:139`, `*:139`, `[fe80::1]:139`, `fe80::1` (a bare IPv6 address is a host). */
function endpointPattern(text: string): EndpointPattern | undefined {
  const v6 = /^\[([0-9a-fA-F:.*]+)\](?::(\d+|\*))?$/.exec(text);
  if (v6 !== null) return { host: wildcard(v6[1]!), port: v6[2] !== undefined ? wildcard(v6[2]) : undefined };
  const colons = (text.match(/:/g) ?? []).length;
  if (colons >= 2 && /^[0-9a-fA-F:.*]+$/.test(text)) return { host: wildcard(text), port: undefined };
  const m = /^([0-9.*]+|\*)(?::(\d+|\*))?$/.exec(text);
  if (m === null) return undefined;
  return { host: wildcard(m[1]!), port: m[2] !== undefined ? wildcard(m[2]) : undefined };
}

function matchesEndpoint(p: EndpointPattern, ep: string): boolean {
  const host = hostOf(ep);
  if (!p.host.test(host)) return false;
  if (p.port === undefined) return true;
  const port = ep.length > host.length ? ep.slice(ep.lastIndexOf(':') + 1) : '';
  return port !== '' && p.port.test(port);
}

function parseWhere(text: string, line: number): EndpointPattern[] {
  const parts = text.split(/\s*(?:<=>|⇄)\s*/);
  if (parts.length > 2) throw new BaselineError(line, `'at' takes one endpoint or one conversation (two endpoints joined by <=>), not '${escapeText(text)}'`);
  return parts.map((p) => {
    const pattern = endpointPattern(p.trim());
    if (pattern === undefined) throw new BaselineError(line, `expected an address after 'at' (10.0.0.1, 10.0.0.1:139, *:139, [fe80::1]:139, or two of them joined by <=>), not '${escapeText(p.trim())}'`);
    return pattern;
  });
}

/** Parses a baseline; throws BaselineError on a line that is not an entry. */
export function parseBaseline(text: string, file: string, rules: readonly Rule[], catalogue: FindingCatalogue): Baseline {
  const entries: BaselineEntry[] = [];
  const warnings: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    if (entries.length >= MAX_ENTRIES) throw new BaselineError(n, `more than ${MAX_ENTRIES} entries`);
    const because = raw.search(/\sbecause(\s|$)/);
    if (because < 0) throw new BaselineError(n, `expected ${FORM}: no 'because' and reason`);
    const head = raw.slice(0, because).trim();
    const reason = raw.slice(because).replace(/^\s*because/, '').trim();
    if (reason === '') throw new BaselineError(n, `expected a reason after 'because' in ${FORM}`);
    const at = head.search(/\sat\s/);
    const selector = (at < 0 ? head : head.slice(0, at)).trim();
    const whereText = at < 0 ? undefined : head.slice(at).replace(/^\s*at\s/, '').trim();
    if (selector === '') throw new BaselineError(n, `expected a rule id, protocol or clause first in ${FORM}`);
    if (whereText === '') throw new BaselineError(n, "expected an address after 'at'");
    const where = whereText !== undefined ? parseWhere(whereText, n) : [];
    const selected = selectRules(selector, rules, catalogue);
    if (selected.length === 0) warnings.push(`${file}: line ${n}: '${escapeText(selector)}' names no rule verify judges: the entry accepts nothing (a typo?)`);
    entries.push({ line: n, selector, at: whereText, reason, rules: new Set(selected), where });
  }
  return { file, entries, warnings };
}

/** Whether an entry covers a verdict: its rule, and its conversation or host when the entry says where. */
export function covers(entry: BaselineEntry, v: Verdict): boolean {
  if (!entry.rules.has(v.rule)) return false;
  const w = entry.where;
  if (w.length === 0) return true;
  if (v.conversation !== undefined) {
    const { client, server } = v.conversation;
    if (w.length === 1) return matchesEndpoint(w[0]!, client) || matchesEndpoint(w[0]!, server);
    return (matchesEndpoint(w[0]!, client) && matchesEndpoint(w[1]!, server)) || (matchesEndpoint(w[0]!, server) && matchesEndpoint(w[1]!, client));
  }
  const host = v.endpoint ?? '';
  return w.some((p) => p.port === undefined && p.host.test(host));
}

function entryJson(e: BaselineEntry): BaselineEntryJson {
  return { line: e.line, rule: e.selector, at: e.at ?? null, reason: e.reason };
}

/**
 * Marks the failures the baseline accepts (the first entry that covers one names it) and says
 * which entries are stale (their rule passes where they apply and fails nowhere) or unused.
 */
export function applyBaseline(baseline: Baseline, verdicts: readonly Verdict[]): BaselineJson {
  const fails = new Map<BaselineEntry, number>();
  const passes = new Map<BaselineEntry, number>();
  let accepted = 0;
  for (const v of verdicts) {
    if (v.verdict !== 'fail' && v.verdict !== 'pass') continue;
    for (const e of baseline.entries) {
      if (!covers(e, v)) continue;
      const tally = v.verdict === 'fail' ? fails : passes;
      tally.set(e, (tally.get(e) ?? 0) + 1);
      if (v.verdict === 'fail' && v.accepted === undefined) {
        v.accepted = { line: e.line, reason: e.reason };
        accepted++;
      }
    }
  }
  const stale = baseline.entries.filter((e) => !fails.has(e) && passes.has(e)).map((e) => ({ ...entryJson(e), passes: passes.get(e)! }));
  const unused = baseline.entries.filter((e) => !fails.has(e) && !passes.has(e)).map(entryJson);
  return { file: baseline.file, entries: baseline.entries.length, accepted, stale, unused };
}

/** One line of a written baseline's reason: what was seen first, and where. */
function reasonOf(v: Verdict, captures: readonly CaptureRef[]): string {
  const seen = escapeText(v.seen?.[0] ?? v.detail).replace(/\s+/g, ' ');
  const where = `${captures[v.capture]?.label ?? ''}${v.frames.length > 0 ? ` frame ${v.frames[0]}` : ''}, ${subjectOf(v)}`;
  return `${seen} (first seen in ${where})`;
}

/** A baseline accepting every current failure, one entry per failing rule. */
export function writeBaseline(verdicts: readonly Verdict[], captures: readonly CaptureRef[], when: Date): string {
  const lines = [
    `# msgscope verify baseline, written ${when.toISOString()} from ${captures.map((c) => c.label).join(', ')}`,
    '# One entry a line: <rule, protocol or clause> [at <endpoint or conversation>] because <reason>.',
    '# A failure an entry covers is accepted; an entry whose rule now passes is reported as stale: prune it.',
    '# Replace each reason with why the deviation is accepted, and narrow entries with \'at\' (e.g. at *:139).',
    '',
  ];
  const done = new Set<Rule>();
  for (const v of verdicts) {
    if (v.verdict !== 'fail' || done.has(v.rule)) continue;
    done.add(v.rule);
    lines.push(`${v.rule.def.id} because ${reasonOf(v, captures)}`);
  }
  return `${lines.join('\n')}\n`;
}
