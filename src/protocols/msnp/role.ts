// An MSNP connection's server role (DS, NS or SB) and protocol version. The first certain role
// sticks, inferred from the commands each side sends; the version comes from VER, from the
// login that referred the client here, or is inferred from version evidence pooled per client
// address. Each command is checked against its direction, the version and the role.
import type { Carried } from '../../net/stream-buffer.js';
import { commandSpec, DRAFT, type Role, type Side } from './commands.js';
import type { Reporter } from './connection.js';
import { MSNP_FINDINGS } from './findings.js';
import type { RawCommand } from './parse.js';
import type { MsnpShared } from './shared.js';
import { evidenceFor, VersionRange } from './version.js';

export class RoleAndVersion {
  role: Role | undefined;
  private roleCertain = false;
  version: number | undefined;
  private versionSource: 'VER' | 'referral' | undefined;
  readonly range = new VersionRange();

  constructor(private readonly shared: MsnpShared, private readonly clientIp: string, private readonly report: Reporter) {}

  /** The first certain role sticks (a later contradiction is a finding), except NS → DS on a login referral. */
  setRole(role: Role, certain: boolean): void {
    if (this.roleCertain) {
      if (this.role === 'NS' && role === 'DS') this.role = 'DS';
      return;
    }
    this.role = role;
    if (certain) this.roleCertain = true;
  }

  /** Infers the role from a command; `loginHandle` is set once a login succeeded on this connection. */
  infer(side: Side, cmd: RawCommand, loginHandle: string | undefined): void {
    const n = cmd.name;
    const p = cmd.params;
    if (side === 'c') {
      if (n === 'VER' && this.role === undefined) this.setRole('NS', false);
      else if (n === 'ANS' || n === 'CAL') this.setRole('SB', true);
      else if (n === 'USR' && p.length === 3 && !/^(MD5|TWN|SSO|CTP)$/.test(p[1] ?? '')) this.setRole('SB', true);
      else if (n === 'MSG' && /^[UNAD]$/.test(p[1] ?? '')) this.setRole('SB', false);
      else if (['PNG', 'CHG', 'SYN', 'ADL', 'UUX', 'QRY', 'BLP', 'LST'].includes(n)) this.setRole('NS', true);
    } else {
      if (n === 'VER') this.setRole('NS', true); // VER exists on DS/NS only (draft §8.2: none on a switchboard)
      else if (['IRO', 'JOI', 'BYE', 'ACK', 'NAK', 'CAL', 'ANS'].includes(n)) this.setRole('SB', true);
      else if (n === 'MSG' && p[0] !== 'Hotmail') this.setRole('SB', false);
      else if (['NLN', 'ILN', 'FLN', 'RNG', 'CHL', 'QNG', 'UBX', 'LST', 'NOT', 'SYN', 'ADL', 'GCF', 'SBS', 'UBN', 'NFY', 'SDG'].includes(n) || (n === 'MSG' && p[0] === 'Hotmail')) {
        if (this.role !== 'DS') this.setRole('NS', true);
      } else if (n === 'XFR' && p[1] === 'NS' && loginHandle === undefined && this.role !== 'SB') this.setRole('DS', true);
    }
  }

  /** Applies the version evidence a command carries, to this connection and to its client's pool. */
  evidence(side: Side, cmd: RawCommand): void {
    for (const e of evidenceFor(cmd.name, cmd.params, side)) {
      this.range.apply(e);
      this.shared.range(this.clientIp).apply(e);
    }
  }

  /** The version the server chose in its VER answer. */
  fromVer(version: number): void {
    this.version = version;
    this.versionSource = 'VER';
    this.range.apply({ min: this.version, max: this.version, reason: 'VER' });
  }

  /** The version of the login that referred the client here, when none is known yet. */
  fromReferral(version: number | undefined): void {
    if (this.version === undefined && version !== undefined) {
      this.version = version;
      this.versionSource = 'referral';
    }
  }

  /** The version to show: the known one, else the best of this connection's evidence. */
  get shownVersion(): number | undefined {
    return this.version ?? (this.range.known ? this.range.best : undefined);
  }

  /** The version to frame payload commands by: the known one, else the best inferred. */
  framingVersion(): number | undefined {
    if (this.version !== undefined) return this.version;
    const r = this.shared.range(this.clientIp);
    return r.known ? r.best : this.range.known ? this.range.best : undefined;
  }

  versionText(): string {
    if (this.version !== undefined) return `MSNP${this.version}${this.versionSource === 'referral' ? ' (from the referring login)' : ''}`;
    const r = this.pooledRange();
    return r.known ? `${r.text()} (inferred)` : 'unknown';
  }

  private pooledRange(): VersionRange {
    const pooled = new VersionRange();
    pooled.merge(this.shared.range(this.clientIp));
    pooled.merge(this.range);
    return pooled;
  }

  /** End of the connection: a note when the version was only inferred (`commands` seen, the first bytes `at`). */
  finish(commands: number, at: Carried | undefined): void {
    if (this.version !== undefined || commands === 0) return;
    const r = this.pooledRange();
    if (!r.known) return;
    this.report(MSNP_FINDINGS.versionInferred, at?.frames[0] ?? 0, `no VER exchange seen on this connection: version inferred as ${r.text()} from ${r.reasons.join(', ')}`, 's', at);
  }

  /** Checks a command against its direction, the version and the role. */
  validate(side: Side, cmd: RawCommand, frame: number, carried: Carried): void {
    if (/^\d{3}$/.test(cmd.name)) {
      if (side === 'c') this.report(MSNP_FINDINGS.invalidDirection, frame, `error code ${cmd.name} sent by the client`, side, carried, DRAFT + ' 7.11');
      return;
    }
    const spec = commandSpec(cmd.name);
    if (spec === undefined) {
      this.report(MSNP_FINDINGS.unknownCommand, frame, `unknown command ${cmd.name}`, side, carried);
      return;
    }
    if (!spec.senders.includes(side)) {
      this.report(MSNP_FINDINGS.invalidDirection, frame, `${cmd.name} is only sent by the ${spec.senders[0] === 'c' ? 'client' : 'server'}`, side, carried, spec.spec);
    }
    if (this.version !== undefined && (this.version < spec.since || this.version > spec.until)) {
      this.report(MSNP_FINDINGS.invalidForVersion, frame, `${cmd.name} is not part of MSNP${this.version} (MSNP${spec.since}–${spec.until})`, side, carried);
    }
    if (this.roleCertain && this.role !== undefined && !spec.roles.includes(this.role) && !(this.role === 'DS' && spec.roles.includes('NS'))) {
      this.report(MSNP_FINDINGS.invalidForRole, frame, `${cmd.name} is not valid on a ${this.role} connection`, side, carried, spec.spec);
    }
  }
}
