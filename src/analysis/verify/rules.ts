// The rules `verify` judges: the catalogue's findings that state a requirement of a spec — not
// a bound of msgscope's own, not an anomaly, not an observation of something the spec allows —
// with their level, severity and check, and their selection by protocol, id pattern or clause
// (`--rules`, baseline entries) and by severity (`--severity`).
import { ANOMALY, BOUND, type FindingDef, type RuleCheck, type Severity } from '../../model/findings.js';
import type { FindingCatalogue } from '../../model/catalogue.js';

/** The strongest keyword of a rule's requirement sentence. */
export type Level = 'MUST' | 'SHOULD' | 'MAY';

export interface Rule {
  readonly def: FindingDef;
  readonly level: Level;
  /** The highest severity the rule's finding can have: what `--severity` compares. */
  readonly severity: Severity;
  readonly check: RuleCheck;
  /** `tcp` and/or `udp`: the conversations the rule can apply to (from its transports); undefined for any. */
  readonly carriers: ReadonlySet<string> | undefined;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { note: 0, warning: 1, error: 2 };

export function severityRank(s: Severity): number {
  return SEVERITY_RANK[s];
}

export function isSeverity(s: string): s is Severity {
  return s === 'note' || s === 'warning' || s === 'error';
}

function levelOf(requirement: string): Level {
  if (/\bMUST\b/.test(requirement)) return 'MUST';
  if (/\bSHOULD\b/.test(requirement)) return 'SHOULD';
  return 'MAY';
}

/** Whether a declared finding is a rule `verify` judges. */
export function isJudged(def: FindingDef): boolean {
  return def.spec !== BOUND && def.spec !== ANOMALY && def.observation !== true;
}

function ruleOf(def: FindingDef): Rule {
  const severity = def.severities.reduce((a, b) => (SEVERITY_RANK[b] > SEVERITY_RANK[a] ? b : a), def.severity);
  const carriers = def.transports !== undefined ? new Set(def.transports.map((t) => t.split('/')[0]!)) : undefined;
  return { def, level: levelOf(def.requirement), severity, check: def.check ?? {}, carriers };
}

/** Every judged rule of the catalogue, by protocol, clause and id. */
export function judgedRules(catalogue: FindingCatalogue): Rule[] {
  return catalogue.list().filter(isJudged).map(ruleOf).sort((a, b) =>
    a.def.protocol.localeCompare(b.def.protocol) || a.def.spec.localeCompare(b.def.spec) || a.def.id.localeCompare(b.def.id));
}

/**
 * The rules `verify` evaluates when --rules names none: those of the protocols carried on TCP
 * and UDP (the ones that declare transports), not the link, IP and transport layers.
 */
export function defaultRules(rules: readonly Rule[]): Rule[] {
  return rules.filter((r) => r.def.transports !== undefined);
}

// ---- selection: protocol, id pattern or clause ----

function globRegex(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** The clauses a rule can cite: its own and, for a list (`MS-MSRP 3.1.4.1–3.1.4.4, 3.2.4.1`), each section of it. */
function clausesOf(def: FindingDef): string[] {
  const out = [def.spec];
  const m = /^(\S+)\s+(.*)$/.exec(def.spec);
  if (m !== null && /[,–]/.test(m[2]!)) {
    for (const part of m[2]!.split(/\s*[,–]\s*/)) if (part !== '') out.push(`${m[1]} ${part}`);
  }
  return out;
}

/** `outer` equals `inner` or contains it as a section (`MS-MSRP 2.2` contains `MS-MSRP 2.2.3.1`). */
function containsClause(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  if (!inner.startsWith(outer)) return false;
  const next = inner[outer.length];
  return next === '.' || next === ' ' || next === ',';
}

/** What a selector names: a protocol, an id or id pattern, or a clause. */
export type SelectorKind = 'all' | 'protocol' | 'id' | 'clause';

export function selectorKind(selector: string, catalogue: FindingCatalogue): SelectorKind {
  if (selector === 'all') return 'all';
  if (catalogue.protocols().includes(selector)) return 'protocol';
  if (/^[a-z0-9*?][a-z0-9.*?-]*$/.test(selector) && /[.*?]/.test(selector)) return 'id';
  return 'clause';
}

/**
 * The rules among `pool` that `selector` names: `all`; a protocol (`smb`); an id or a glob over
 * ids (`smb.msg.*`); or a clause (`MS-MSRP 2.2.3`, `C706 12.6`, `MS-MSRP`), which selects the
 * rules citing that section or one inside it, and the rules stated for a whole section that
 * contains it (they cite the narrower section when they fire).
 */
export function selectRules(selector: string, pool: readonly Rule[], catalogue: FindingCatalogue): Rule[] {
  const text = selector.trim();
  switch (selectorKind(text, catalogue)) {
    case 'all':
      return [...pool];
    case 'protocol':
      return pool.filter((r) => r.def.protocol === text);
    case 'id': {
      const re = globRegex(text);
      return pool.filter((r) => re.test(r.def.id));
    }
    case 'clause':
      return pool.filter((r) => clausesOf(r.def).some((c) => containsClause(text, c) || containsClause(c, text)));
  }
}
