// Verify verdicts as JUnit XML, for CI systems: one test suite per protocol, one test case per
// rule and conversation (or host); `<failure>` for a failure, `<skipped>` for a rule that does
// not apply, an inconclusive verdict or a failure the baseline accepts; the clause, level,
// severity and frames in the test case's properties. Text from the wire is escaped twice: its
// control characters made visible, then XML's special characters.
import type { VerdictJson, VerifyJson } from '../../analysis/verify/result.js';
import { escapeText } from '../escape.js';
import type { Report } from '../report.js';
import type { Output } from '../writer.js';
import type { ReportSink } from './types.js';

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text for an XML attribute or element: control characters made visible, then entities. */
export function xml(text: string | number): string {
  return escapeText(String(text)).replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

function property(name: string, value: string | number): string {
  return `        <property name="${xml(name)}" value="${xml(value)}"/>`;
}

function testCase(v: VerdictJson, requirement: string): string[] {
  const subject = v.conversation ?? v.endpoint ?? '';
  const out = [`    <testcase classname="${xml(`msgscope.${v.protocol}.${v.rule}`)}" name="${xml(`${v.rule} ${subject} (${v.capture})`)}" file="${xml(v.capture)}">`];
  out.push('      <properties>');
  out.push(property('clause', v.spec), property('level', v.level), property('severity', v.severity), property('verdict', v.verdict));
  out.push(property('frames', v.frames.join(' ')), property('requirement', requirement));
  if (v.accepted !== undefined) out.push(property('baseline', `line ${v.accepted.line}: ${v.accepted.reason}`));
  out.push('      </properties>');
  if (v.verdict === 'fail' && v.accepted === undefined) {
    const body = [`expected: ${v.expected ?? requirement}`, ...(v.seen ?? []).map((s) => `seen: ${s}`), `frames: ${v.frames.join(', ')}`];
    out.push(`      <failure message="${xml(`${v.spec}: ${v.detail}`)}" type="${xml(v.severity)}">${body.map(xml).join('\n')}</failure>`);
  } else if (v.verdict === 'fail') {
    out.push(`      <skipped message="${xml(`accepted by baseline line ${v.accepted!.line}: ${v.accepted!.reason}`)}"/>`);
  } else if (v.verdict === 'not-applicable' || v.verdict === 'inconclusive') {
    out.push(`      <skipped message="${xml(`${v.verdict}: ${v.detail}`)}"/>`);
  } else {
    out.push(`      <system-out>${xml(v.detail)}</system-out>`);
  }
  out.push('    </testcase>');
  return out;
}

interface Tally {
  tests: number;
  failures: number;
  skipped: number;
}

function tally(list: readonly VerdictJson[]): Tally {
  return {
    tests: list.length,
    failures: list.filter((v) => v.verdict === 'fail' && v.accepted === undefined).length,
    skipped: list.filter((v) => v.verdict !== 'pass' && !(v.verdict === 'fail' && v.accepted === undefined)).length,
  };
}

function counts(t: Tally): string {
  return `tests="${t.tests}" failures="${t.failures}" errors="0" skipped="${t.skipped}"`;
}

export class VerifyJunitSink implements ReportSink<VerifyJson> {
  constructor(private readonly out: Output) {}

  write(report: Report<VerifyJson>): void {
    const r = report.json;
    const requirement = new Map(r.rules.map((rule) => [rule.id, rule.requirement]));
    const byProtocol = new Map<string, VerdictJson[]>();
    for (const v of r.verdicts) {
      const list = byProtocol.get(v.protocol) ?? [];
      list.push(v);
      byProtocol.set(v.protocol, list);
    }
    const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="msgscope verify" ${counts(tally(r.verdicts))}>`];
    for (const [protocol, list] of [...byProtocol].sort((a, b) => a[0].localeCompare(b[0]))) {
      lines.push(`  <testsuite name="${xml(`msgscope.${protocol}`)}" ${counts(tally(list))}>`);
      lines.push('    <properties>', `      <property name="notice" value="${xml(r.notice)}"/>`, '    </properties>');
      for (const v of list) lines.push(...testCase(v, requirement.get(v.rule) ?? ''));
      lines.push('  </testsuite>');
    }
    lines.push('</testsuites>');
    for (const l of lines) this.out.line(l);
  }
}
