// The `verify` report: the JSON contract object (docs/schema.md) and, drawn from the same
// verdicts, the text for people — failures first with their frames, what was expected and what
// was seen, then accepted failures, inconclusive verdicts, stale baseline entries, and one row
// per rule by protocol and clause — and the CSV verdict table.
import type { Cell, Report, ReportBlock } from '../../output/report.js';
import { escapeText } from '../../output/escape.js';
import type { Rule } from './rules.js';
import {
  compareVerdicts, countKey, emptyCounts, NOTICE, subjectOf, type BaselineJson, type Counts, type RuleJson, type Verdict, type VerdictJson, type VerifyJson,
} from './result.js';
import type { VerifyOutcome } from './verify.js';

/** Frames listed per verdict in the text (JSON has all that were kept). */
const TEXT_FRAMES = 12;
/** Lines of what was seen, per failure, in the text. */
const TEXT_SEEN = 3;

function ruleJson(rule: Rule, counts: Counts): RuleJson {
  const d = rule.def;
  const c = rule.check;
  return {
    id: d.id, protocol: d.protocol, spec: d.spec, level: rule.level, severity: rule.severity, scope: d.scope, role: d.role ?? null,
    requirement: d.requirement, summary: d.summary,
    check: { frames: c.frames ?? null, events: c.events ?? null, bothSides: c.bothSides === true, fromStart: c.fromStart === true },
    counts,
  };
}

function verdictJson(v: Verdict, captures: VerifyOutcome['captures']): VerdictJson {
  const d = v.rule.def;
  return {
    rule: d.id, protocol: d.protocol, spec: v.spec, level: v.rule.level, severity: v.severity, verdict: v.verdict,
    capture: captures[v.capture]?.path ?? '',
    conversation: v.conversation?.name ?? null,
    transport: v.conversation?.carrier ?? null,
    endpoint: v.endpoint ?? null,
    frames: v.frames,
    detail: v.detail,
    ...(v.expected !== undefined ? { expected: v.expected } : {}),
    ...(v.seen !== undefined ? { seen: v.seen } : {}),
    ...(v.findings !== undefined ? { findings: v.findings } : {}),
    ...(v.accepted !== undefined ? { accepted: v.accepted } : {}),
  };
}

function frameList(frames: readonly number[]): string {
  if (frames.length === 0) return 'no frame';
  const shown = frames.slice(0, TEXT_FRAMES).join(', ');
  return `frame${frames.length > 1 ? 's' : ''} ${shown}${frames.length > TEXT_FRAMES ? ', …' : ''}`;
}

function line(text: string, heading = false): ReportBlock {
  return heading ? { kind: 'line', text, heading } : { kind: 'line', text };
}

/** Where a verdict was judged, escaped for the terminal. */
function where(v: Verdict, captures: VerifyOutcome['captures'], multi: boolean): string {
  const capture = multi ? `${escapeText(captures[v.capture]?.label ?? '')}  ` : '';
  return `${capture}${escapeText(subjectOf(v))}`;
}

function failureLines(v: Verdict, captures: VerifyOutcome['captures'], multi: boolean): ReportBlock[] {
  const d = v.rule.def;
  const out = [
    line(`  ${v.accepted !== undefined ? 'ACCEPTED' : 'FAIL'}  ${d.id}  ${v.spec}  ${v.severity}`),
    line(`        ${where(v, captures, multi)}  ${frameList(v.frames)}`),
  ];
  if (v.accepted !== undefined) out.push(line(`        baseline line ${v.accepted.line}: ${escapeText(v.accepted.reason)}`));
  out.push(line(`        expected: ${v.expected ?? d.requirement}`));
  const seen = v.seen ?? [];
  seen.slice(0, TEXT_SEEN).forEach((s, i) => out.push(line(`        ${i === 0 ? 'seen:    ' : '         '} ${escapeText(s)}`)));
  if ((v.findings ?? seen.length) > TEXT_SEEN) out.push(line(`                  … ${(v.findings ?? seen.length) - TEXT_SEEN} more`));
  return out;
}

export function verifyReport(outcome: VerifyOutcome, baseline: BaselineJson | null, warnings: readonly string[]): Report<VerifyJson> {
  const verdicts = [...outcome.verdicts].sort(compareVerdicts);
  const captures = outcome.captures;
  const multi = captures.length > 1;
  const perRule = new Map<Rule, Counts>(outcome.rules.map((r) => [r, emptyCounts()]));
  const totals = emptyCounts();
  for (const v of verdicts) {
    const k = countKey(v);
    perRule.get(v.rule)![k]++;
    totals[k]++;
  }
  const json: VerifyJson = {
    captures: captures.map((c) => c.path),
    rules: outcome.rules.map((r) => ruleJson(r, perRule.get(r)!)),
    verdicts: verdicts.map((v) => verdictJson(v, captures)),
    totals: { ...totals, rules: outcome.rules.length, conversations: outcome.conversations, verdicts: verdicts.length, unaccepted: totals.fail },
    baseline,
    warnings: [...warnings, ...outcome.warnings],
    notice: NOTICE,
  };

  const exercised = outcome.rules.filter((r) => { const c = perRule.get(r)!; return c.pass + c.fail + c.accepted + c.inconclusive > 0; }).length;
  const blocks: ReportBlock[] = [
    line(`msgscope verify: ${captures.length} capture(s), ${outcome.conversations} conversation(s), ${outcome.rules.length} rule(s) selected, ${exercised} exercised`),
    line(''),
  ];
  const section = (title: string, list: Verdict[], render: (v: Verdict) => ReportBlock[]): void => {
    if (list.length === 0) return;
    blocks.push(line(`${title} (${list.length})`, true));
    for (const v of list) blocks.push(...render(v));
    blocks.push(line(''));
  };
  section('Failures', verdicts.filter((v) => countKey(v) === 'fail'), (v) => failureLines(v, captures, multi));
  section('Accepted by the baseline', verdicts.filter((v) => countKey(v) === 'accepted'), (v) => failureLines(v, captures, multi));
  section('Inconclusive', verdicts.filter((v) => v.verdict === 'inconclusive'), (v) => [
    line(`  ${v.rule.def.id}  ${v.spec}  ${where(v, captures, multi)}`),
    line(`        ${escapeText(v.detail)}`),
  ]);
  if (baseline !== null && baseline.stale.length > 0) {
    blocks.push(line(`Stale baseline entries (${baseline.stale.length}): the rule now passes, remove the line`, true));
    for (const s of baseline.stale) blocks.push(line(`  ${escapeText(baseline.file)}:${s.line}  ${escapeText(s.rule)}${s.at !== null ? ` at ${escapeText(s.at)}` : ''}  (passes ${s.passes} time(s))`));
    blocks.push(line(''));
  }

  const verdictsOf = (r: Rule): number => { const c = perRule.get(r)!; return c.pass + c.fail + c.accepted + c.inconclusive + c['not-applicable']; };
  const rows: Cell[][] = outcome.rules.filter((r) => verdictsOf(r) > 0).map((r) => {
    const c = perRule.get(r)!;
    return [r.def.protocol, r.def.spec, r.def.id, r.level, c.pass, c.fail, c.accepted, c.inconclusive, c['not-applicable']];
  });
  const idle = outcome.rules.filter((r) => verdictsOf(r) === 0);
  blocks.push({
    kind: 'table',
    table: {
      title: 'Rules by protocol and clause',
      name: 'rules',
      headers: ['Protocol', 'Clause', 'Rule', 'Level', 'Pass', 'Fail', 'Accepted', 'Inconclusive', 'N/A'],
      csvHeaders: ['protocol', 'clause', 'rule', 'level', 'pass', 'fail', 'accepted', 'inconclusive', 'not_applicable'],
      align: ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'r'],
      rows,
    },
  });
  blocks.push({
    kind: 'table',
    table: {
      title: 'Verdicts',
      name: 'verdicts',
      headers: ['Rule', 'Clause', 'Verdict', 'Capture', 'Conversation or host', 'Frames', 'Detail'],
      csvHeaders: ['rule', 'clause', 'verdict', 'capture', 'subject', 'frames', 'detail'],
      align: ['l', 'l', 'l', 'l', 'l', 'l', 'l'],
      rows: [],
      csvRows: verdicts.map((v) => [v.rule.def.id, v.spec, countKey(v), captures[v.capture]?.path, subjectOf(v), v.frames.join(' '), v.detail]),
      optional: true,
    },
  });
  if (idle.length > 0) {
    const protocols = [...new Set(idle.map((r) => r.def.protocol))].join(', ');
    blocks.push(line(`${idle.length} more rule(s) of ${protocols} had nothing to judge: their protocol never appeared on a conversation (--format json lists every rule).`), line(''));
  }
  blocks.push(
    line(`Totals: ${totals.fail} failed, ${totals.accepted} accepted, ${totals.inconclusive} inconclusive, ${totals.pass} passed, ${totals['not-applicable']} not applicable`),
    line(NOTICE),
  );
  return { json, blocks, warnings: json.warnings };
}
