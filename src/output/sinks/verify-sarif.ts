// Verify verdicts as SARIF 2.1.0, for code-scanning dashboards: one run, the rules as the
// driver's rule descriptors (clause, level and requirement text), one result per verdict with
// `kind` pass, fail, notApplicable or review (inconclusive), located in the capture file (the
// artifact) at the frames that show it (logical locations `frame N`). A failure the baseline
// accepts carries an external suppression with the baseline's reason.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RuleJson, VerdictJson, VerifyJson } from '../../analysis/verify/result.js';
import { escapeText } from '../escape.js';
import type { Report } from '../report.js';
import type { Output } from '../writer.js';
import type { ReportSink } from './types.js';

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

type SarifKind = 'pass' | 'fail' | 'notApplicable' | 'review';
type SarifLevel = 'error' | 'warning' | 'note' | 'none';

/** msgscope's version from its package.json, found upwards from this module (dist/src/… or the bundle in dist/bundle/). */
function toolVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'msgscope' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: one folder up
    }
  }
  return '0.0.0';
}

function kindOf(v: VerdictJson): SarifKind {
  switch (v.verdict) {
    case 'pass':
      return 'pass';
    case 'fail':
      return 'fail';
    case 'not-applicable':
      return 'notApplicable';
    case 'inconclusive':
      return 'review';
  }
}

/** A capture path as a URI reference relative to the working directory (or absolute, as given). */
function artifactUri(path: string): string {
  return path.split('/').map((part) => encodeURIComponent(part)).join('/');
}

function descriptor(r: RuleJson) {
  return {
    id: r.id,
    shortDescription: { text: r.summary },
    fullDescription: { text: `${r.spec}: ${r.requirement}` },
    help: { text: `${r.requirement} (${r.spec}; ${r.level}, scope ${r.scope}${r.role !== null ? `, ${r.role} side` : ''})` },
    defaultConfiguration: { level: r.severity },
    properties: {
      clause: r.spec,
      requirement: r.requirement,
      level: r.level,
      protocol: r.protocol,
      scope: r.scope,
      role: r.role,
      tags: [r.protocol, r.level, r.spec],
    },
  };
}

function message(v: VerdictJson): string {
  const subject = v.conversation ?? v.endpoint ?? '';
  const frames = v.frames.length > 0 ? ` (frames ${v.frames.join(', ')})` : '';
  const seen = v.seen !== undefined && v.seen.length > 0 ? ` Seen: ${v.seen.map(escapeText).join('; ')}.` : '';
  const expected = v.expected !== undefined ? ` Expected: ${v.expected}` : '';
  return `${v.rule} ${v.verdict} on ${subject}${frames}, ${v.spec}: ${escapeText(v.detail)}.${seen}${expected}`;
}

export class VerifySarifSink implements ReportSink<VerifyJson> {
  constructor(private readonly out: Output) {}

  write(report: Report<VerifyJson>): void {
    const r = report.json;
    const ruleIndex = new Map(r.rules.map((rule, i) => [rule.id, i]));
    // One artifact per file, even when a capture is named twice (SARIF's artifacts are unique).
    const files = [...new Set(r.captures)];
    const artifactIndex = new Map(files.map((c, i) => [c, i]));
    const results = r.verdicts.map((v) => {
      const kind = kindOf(v);
      const level: SarifLevel = kind === 'fail' ? v.severity : 'none';
      const artifactLocation = { uri: artifactUri(v.capture), index: artifactIndex.get(v.capture) ?? 0 };
      const frames = v.frames.length > 0 ? v.frames : [];
      const location = (frame: number | undefined, id: number) => ({
        id,
        physicalLocation: { artifactLocation },
        ...(frame !== undefined ? { logicalLocations: [{ name: `frame ${frame}`, fullyQualifiedName: `${v.capture}#frame=${frame}`, kind: 'object' }] } : {}),
        message: { text: frame !== undefined ? `frame ${frame} of ${v.capture}` : v.capture },
      });
      return {
        ruleId: v.rule,
        ruleIndex: ruleIndex.get(v.rule) ?? -1,
        kind,
        level,
        message: { text: message(v) },
        locations: [location(frames[0], 0)],
        ...(frames.length > 1 ? { relatedLocations: frames.slice(1).map((n, i) => location(n, i + 1)) } : {}),
        partialFingerprints: { 'msgscopeRuleSubject/v1': `${v.rule}|${v.conversation ?? v.endpoint ?? ''}` },
        ...(v.accepted !== undefined ? { suppressions: [{ kind: 'external', status: 'accepted', justification: `baseline line ${v.accepted.line}: ${v.accepted.reason}` }] } : {}),
        properties: {
          verdict: v.verdict,
          clause: v.spec,
          level: v.level,
          conversation: v.conversation,
          transport: v.transport,
          endpoint: v.endpoint,
          frames: v.frames,
          ...(v.expected !== undefined ? { expected: v.expected } : {}),
          ...(v.seen !== undefined ? { seen: v.seen } : {}),
        },
      };
    });
    const sarif = {
      $schema: SCHEMA,
      version: '2.1.0',
      runs: [{
        tool: { driver: { name: 'msgscope', version: toolVersion(), rules: r.rules.map(descriptor) } },
        artifacts: files.map((c) => ({ location: { uri: artifactUri(c) }, roles: ['analysisTarget'] })),
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: r.warnings.map((w) => ({ level: 'warning', message: { text: escapeText(w) } })) }],
        results,
        properties: { notice: r.notice, totals: r.totals, baseline: r.baseline },
      }],
    };
    this.out.line(JSON.stringify(sarif, null, 2));
  }
}
