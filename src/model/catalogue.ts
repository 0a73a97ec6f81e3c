// The rule and finding catalogue: every protocol's declared findings in one place, for
// `msgscope fields --findings`, the generated docs and `verify` (which rules apply to a
// conversation, not only which were violated). The tables themselves are listed in
// src/protocols/catalogue.ts.
import { ANOMALY, BOUND, type FindingDef, type FindingTable } from './findings.js';

/** Protocols every conversation has: the frames carrying it and msgscope's own dissection. */
const ALWAYS_SEEN: readonly string[] = ['frame', 'msgscope'];

const ID_FORM = /^[a-z][a-z0-9]*(\.[a-z0-9]+(-[a-z0-9]+)*)+$/;
/** A clause: a document name, then a section (`MS-MSRP 2.2.3.1.1`, `RFC 1002 4.3.1`, `msnp-notes.md Challenge`). */
const CLAUSE_FORM = /^[A-Za-z][A-Za-z0-9.-]* \S.*$/;

export class FindingCatalogue {
  private readonly byId = new Map<string, FindingDef>();
  private readonly byProtocol = new Map<string, FindingDef[]>();

  constructor(tables: readonly FindingTable[]) {
    for (const table of tables) {
      for (const def of table.defs) {
        if (this.byId.has(def.id)) throw new Error(`finding ${def.id} declared twice`);
        this.byId.set(def.id, def);
        const list = this.byProtocol.get(def.protocol) ?? [];
        list.push(def);
        this.byProtocol.set(def.protocol, list);
      }
    }
  }

  lookup(id: string): FindingDef | undefined {
    return this.byId.get(id);
  }

  /** Every declared finding, by protocol then id. */
  list(): FindingDef[] {
    return [...this.byId.values()].sort((a, b) => a.protocol.localeCompare(b.protocol) || a.id.localeCompare(b.id));
  }

  protocols(): string[] {
    return [...this.byProtocol.keys()].sort();
  }

  ofProtocol(protocol: string): FindingDef[] {
    return [...(this.byProtocol.get(protocol) ?? [])].sort((a, b) => a.id.localeCompare(b.id));
  }

  /**
   * The rules that apply to a conversation on which `protocolsSeen` (layer or event protocol
   * names) were seen: a rule applies when one of its protocols was seen.
   */
  rulesApplying(protocolsSeen: Iterable<string>): FindingDef[] {
    const seen = new Set([...protocolsSeen, ...ALWAYS_SEEN]);
    return this.list().filter((def) => def.appliesTo.some((p) => seen.has(p)));
  }
}

/** What is wrong with one declaration, if anything (ids, clauses, sentences). */
export function declarationProblems(def: FindingDef): string[] {
  const problems: string[] = [];
  if (!ID_FORM.test(def.id)) problems.push('id is not <protocol>.<name> in lower case');
  if (!def.id.startsWith(`${def.protocol}.`)) problems.push(`id does not start with its protocol ${def.protocol}`);
  if (def.spec !== BOUND && def.spec !== ANOMALY && !CLAUSE_FORM.test(def.spec)) problems.push(`spec '${def.spec}' is neither a clause nor ${BOUND} / ${ANOMALY}`);
  if (def.summary.trim() === '') problems.push('no summary');
  if (def.spec === BOUND) {
    if (!/\d/.test(def.requirement)) problems.push('a bound requirement must state the bound');
  } else if (def.spec === ANOMALY) {
    if (def.requirement.trim() === '') problems.push('no requirement sentence');
  } else if (!/\b(MUST|SHOULD|MAY)\b/.test(def.requirement)) {
    problems.push('requirement has no MUST / SHOULD / MAY');
  }
  if (!def.severities.includes(def.severity)) problems.push('default severity is not among the allowed ones');
  return problems;
}
