// What `verify` produces: verdicts as the analysis holds them, and the JSON contract object
// (documented in docs/schema.md) that the JSON, JUnit and SARIF outputs are drawn from.
import type { Severity } from '../../model/findings.js';
import type { Conversation } from './conversations.js';
import type { Level, Rule } from './rules.js';

export type VerdictKind = 'pass' | 'fail' | 'not-applicable' | 'inconclusive';

export interface CaptureRef {
  readonly index: number;
  readonly path: string;
  readonly label: string;
}

/** A baseline entry that accepted a failure. */
export interface Acceptance {
  readonly line: number;
  readonly reason: string;
}

export interface Verdict {
  readonly rule: Rule;
  readonly verdict: VerdictKind;
  /** The clause: the one the findings cite for a fail (a command's own section), else the rule's. */
  readonly spec: string;
  readonly severity: Severity;
  readonly capture: number;
  /** The conversation judged, for rules about frames and conversations. */
  readonly conversation?: Conversation;
  /** The host judged, for rules about a host. */
  readonly endpoint?: string;
  /** Fail: the frames that show the violation; pass: the frames the rule was checked on (the first few). */
  readonly frames: number[];
  readonly detail: string;
  /** Fail: the requirement. */
  readonly expected?: string;
  /** Fail (and inconclusive with findings): what was seen, one line per finding kept. */
  readonly seen?: string[];
  /** How many findings there were in all. */
  readonly findings?: number;
  /** Set when a baseline entry accepts this failure. */
  accepted?: Acceptance;
}

export interface Counts {
  pass: number;
  fail: number;
  accepted: number;
  inconclusive: number;
  'not-applicable': number;
}

export interface RuleJson {
  readonly id: string;
  readonly protocol: string;
  readonly spec: string;
  readonly level: Level;
  readonly severity: Severity;
  readonly scope: string;
  readonly role: string | null;
  readonly requirement: string;
  readonly summary: string;
  readonly check: { frames: string | null; events: string | null; bothSides: boolean; fromStart: boolean };
  readonly counts: Counts;
}

export interface VerdictJson {
  readonly rule: string;
  readonly protocol: string;
  readonly spec: string;
  readonly level: Level;
  readonly severity: Severity;
  readonly verdict: VerdictKind;
  readonly capture: string;
  readonly conversation: string | null;
  readonly transport: string | null;
  readonly endpoint: string | null;
  readonly frames: number[];
  readonly detail: string;
  readonly expected?: string;
  readonly seen?: string[];
  readonly findings?: number;
  readonly accepted?: Acceptance;
}

export interface BaselineEntryJson {
  readonly line: number;
  readonly rule: string;
  readonly at: string | null;
  readonly reason: string;
}

export interface BaselineJson {
  readonly file: string;
  readonly entries: number;
  /** Failures the baseline accepted. */
  readonly accepted: number;
  /** Entries whose rule now passes where they apply, and fails nowhere: prune them. */
  readonly stale: (BaselineEntryJson & { passes: number })[];
  /** Entries that matched no verdict of this run (their rule was not exercised). */
  readonly unused: BaselineEntryJson[];
}

export interface VerifyJson {
  readonly captures: string[];
  readonly rules: RuleJson[];
  readonly verdicts: VerdictJson[];
  readonly totals: Counts & { rules: number; conversations: number; verdicts: number; unaccepted: number };
  readonly baseline: BaselineJson | null;
  readonly warnings: string[];
  readonly notice: string;
}

export const NOTICE = 'A clean run does not certify an implementation: it covers the rules listed, on the traffic captured.';

export function emptyCounts(): Counts {
  return { pass: 0, fail: 0, accepted: 0, inconclusive: 0, 'not-applicable': 0 };
}

/** The count a verdict adds to: accepted failures apart from the others. */
export function countKey(v: Verdict): keyof Counts {
  return v.verdict === 'fail' && v.accepted !== undefined ? 'accepted' : v.verdict;
}

const ORDER: Readonly<Record<keyof Counts, number>> = { fail: 0, accepted: 1, inconclusive: 2, pass: 3, 'not-applicable': 4 };

/** Failures first, then accepted failures, inconclusive, pass, not applicable; by protocol, clause, rule, capture, subject. */
export function compareVerdicts(a: Verdict, b: Verdict): number {
  return ORDER[countKey(a)] - ORDER[countKey(b)]
    || a.rule.def.protocol.localeCompare(b.rule.def.protocol)
    || a.spec.localeCompare(b.spec)
    || a.rule.def.id.localeCompare(b.rule.def.id)
    || a.capture - b.capture
    || subjectOf(a).localeCompare(subjectOf(b));
}

/** What a verdict is about: `client ⇄ server`, or the host. */
export function subjectOf(v: Verdict): string {
  return v.conversation?.name ?? v.endpoint ?? '';
}
