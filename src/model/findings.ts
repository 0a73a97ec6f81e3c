// Findings: spec violations and anomalies (Wireshark's expert info). Every finding names the
// frame that showed it and, where a rule comes from a spec, the clause.

export type Severity = 'error' | 'warning' | 'note';

export interface Finding {
  /** Stable identifier, e.g. `smb.textmb.no-start`; never depends on data. */
  readonly id: string;
  readonly severity: Severity;
  readonly summary: string;
  /** 1-based frame number, 0 when not tied to one frame (e.g. a file-level problem). */
  readonly frame: number;
  /** Spec clause, e.g. `MS-MSRP 2.2.3.1.1`; empty when the finding is an anomaly, not a rule. */
  readonly spec: string;
}

export function finding(id: string, severity: Severity, frame: number, summary: string, spec = ''): Finding {
  return { id, severity, summary, frame, spec };
}
