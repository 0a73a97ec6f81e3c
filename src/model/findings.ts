// Findings: spec violations and anomalies (Wireshark's expert info). Every finding names the
// frame that showed it and the clause of the rule it reports. Each protocol declares its
// findings once, beside its fields (`src/protocols/*/findings.ts`, Wireshark's
// ei_register_info): code emits them only through these declarations, never from a bare id,
// and `msgscope fields --findings`, docs/findings.md and `verify` read the same table.

export type Severity = 'error' | 'warning' | 'note';

export interface Finding {
  /** Stable identifier, e.g. `smb.textmb.no-start`; never depends on data. */
  readonly id: string;
  readonly severity: Severity;
  readonly summary: string;
  /** 1-based frame number, 0 when not tied to one frame (e.g. a file-level problem). */
  readonly frame: number;
  /** The clause of the rule, e.g. `MS-MSRP 2.2.3.1.1`; `bound` for a resource limit, `anomaly` where no clause applies. */
  readonly spec: string;
}

/** What a verdict on the rule is about. */
export type FindingScope =
  | 'frame' // one PDU or frame, judged alone
  | 'conversation' // the sequence of one conversation (pairing, ordering, reassembly)
  | 'endpoint'; // how one host behaves (its login method, its version)

/** The side whose behaviour the rule judges, where that is one side. */
export type FindingRole = 'client' | 'server';

/**
 * How `msgscope verify` tells that a rule was exercised, so that it can say pass and not only
 * fail. Without `frames` or `events`, a rule is exercised by every frame that has a layer of one
 * of its protocols (`appliesTo`).
 */
export interface RuleCheck {
  /**
   * A display filter (docs/filters.md) selecting the frames the rule judges, e.g.
   * `smb.cmd == 0xd5 && !smb.flags.response`. It is evaluated only on frames that have a layer of
   * one of the rule's protocols, so other frames never build a field tree for it.
   */
  readonly frames?: string;
  /** An event filter selecting the timeline events the rule judges, e.g. `message && protocol == "smb"`. */
  readonly events?: string;
  /**
   * The rule judges an exchange (a request and its answer): a conversation whose capture holds
   * frames of the rule's protocol in one direction only is `inconclusive`, never `pass`.
   */
  readonly bothSides?: boolean;
  /**
   * The rule judges the order of a TCP conversation from its start: a conversation whose
   * handshake is not in the capture is `inconclusive`, whether a finding fired or not.
   */
  readonly fromStart?: boolean;
}

/** `spec` of a resource limit of msgscope's own, not a rule of the protocol. */
export const BOUND = 'bound';
/** `spec` of something worth reporting that no written clause forbids. */
export const ANOMALY = 'anomaly';

/** One finding as a protocol declares it. */
export interface FindingDecl {
  /** `<protocol>.<name>`: lower case, digits and `-`, dot-separated. */
  readonly id: string;
  /** Severity when the site does not choose among `severities`. */
  readonly severity: Severity;
  /** Every severity the finding may have, when it has more than one. */
  readonly severities?: readonly Severity[];
  /** The rule's clause (`MS-MSRP 2.2.3.1.1`, `C706 12.5.1`, `RFC 1002 4.3.1`), or `bound` / `anomaly`. */
  readonly spec: string;
  /**
   * Set when one rule is stated in several sections (per command, per method): which
   * section each emission cites instead of `spec`.
   */
  readonly specPerSite?: string;
  /** One line: what the finding means. */
  readonly summary: string;
  /** The spec's requirement in one sentence with its level (MUST / SHOULD / MAY); for `bound`, the bound. */
  readonly requirement: string;
  readonly scope: FindingScope;
  readonly role?: FindingRole;
  /** Transport paths the rule applies on, as timeline events name them (`tcp/nbss/smb`). */
  readonly transports?: readonly string[];
  /** Protocols (layer or event names) whose presence makes the rule apply; default: the declaring protocol. */
  readonly appliesTo?: readonly string[];
  /** When `verify` judges the rule (see RuleCheck); the default is every frame of its protocols. */
  readonly check?: RuleCheck;
  /**
   * The finding reports something that happened which no rule forbids (a retransmission the
   * spec allows, a refusal given the way the spec asks): `verify` does not turn it into a verdict.
   */
  readonly observation?: true;
}

/** How one emission departs from the declaration: a severity among the allowed ones, a narrower clause. */
export interface EmitOptions<S extends Severity, PerSite extends boolean> {
  readonly severity?: S;
  readonly clause?: PerSite extends true ? string : never;
}

/** A declared finding: the declaration plus the protocol it belongs to, and the way to emit it. */
export interface FindingDef<S extends Severity = Severity, PerSite extends boolean = boolean> extends FindingDecl {
  readonly protocol: string;
  readonly severities: readonly Severity[];
  readonly appliesTo: readonly string[];
  /** The finding seen in `frame`, with its data-dependent `summary`. */
  at(frame: number, summary: string, options?: EmitOptions<S, PerSite>): Finding;
}

type SeveritiesOf<D extends FindingDecl> = D extends { readonly severities: readonly (infer S extends Severity)[] } ? S : D['severity'];
type PerSiteOf<D extends FindingDecl> = D extends { readonly specPerSite: string } ? true : false;

export type DeclaredFindings<T extends Record<string, FindingDecl>> = { readonly [K in keyof T]: FindingDef<SeveritiesOf<T[K]>, PerSiteOf<T[K]>> };

/** Table-wide defaults of one protocol's declarations. */
export interface FindingTableOptions {
  readonly protocol: string;
  readonly transports?: readonly string[];
  readonly appliesTo?: readonly string[];
}

/** One protocol's declared findings, as the catalogue takes them. */
export interface FindingTable {
  readonly protocol: string;
  readonly defs: readonly FindingDef[];
}

function declared(decl: FindingDecl, table: FindingTableOptions): FindingDef {
  const transports = decl.transports ?? table.transports;
  return {
    ...decl,
    ...(transports !== undefined ? { transports } : {}),
    protocol: table.protocol,
    severities: decl.severities ?? [decl.severity],
    appliesTo: decl.appliesTo ?? table.appliesTo ?? [table.protocol],
    at(frame: number, summary: string, options?: EmitOptions<Severity, boolean>): Finding {
      return { id: decl.id, severity: options?.severity ?? decl.severity, summary, frame, spec: options?.clause ?? decl.spec };
    },
  };
}

/**
 * Declares one protocol's findings. Keys name them in code (`SMB_FINDINGS.textMbNoStart`);
 * the returned table also goes to the catalogue (src/protocols/catalogue.ts).
 */
export function declareFindings<const T extends Record<string, FindingDecl>>(options: FindingTableOptions, decls: T): DeclaredFindings<T> & { readonly $table: FindingTable } {
  const out: Record<string, FindingDef | FindingTable> = {};
  const defs: FindingDef[] = [];
  for (const [key, decl] of Object.entries(decls)) {
    const def = declared(decl, options);
    out[key] = def;
    defs.push(def);
  }
  out.$table = { protocol: options.protocol, defs };
  return out as DeclaredFindings<T> & { readonly $table: FindingTable };
}
