// Version inference (pure) for captures that start after the VER exchange: each command form
// narrows the range of MSNP versions it can belong to (msnp-notes.md version grid and payload
// table; draft §7–§8 for the MSNP2 forms).
import { MAX_VERSION, MIN_VERSION, type Side } from './commands.js';

export interface Evidence {
  readonly min: number;
  readonly max: number;
  readonly reason: string;
}

export class VersionRange {
  min = MIN_VERSION;
  max = MAX_VERSION;
  readonly reasons: string[] = [];
  /** Evidence that contradicted the range (kept, not applied). */
  conflicts = 0;

  apply(e: Evidence): void {
    const min = Math.max(this.min, e.min);
    const max = Math.min(this.max, e.max);
    if (min > max) {
      this.conflicts++;
      return;
    }
    if (min === this.min && max === this.max) return;
    this.min = min;
    this.max = max;
    if (this.reasons.length < 16) this.reasons.push(e.reason);
  }

  /** Narrows this range by another's, keeping both sets of reasons. */
  merge(other: VersionRange): void {
    const min = Math.max(this.min, other.min);
    const max = Math.min(this.max, other.max);
    if (min > max) {
      this.conflicts++;
      return;
    }
    this.min = min;
    this.max = max;
    for (const r of other.reasons) if (!this.reasons.includes(r) && this.reasons.length < 16) this.reasons.push(r);
  }

  get known(): boolean {
    return this.min > MIN_VERSION || this.max < MAX_VERSION;
  }

  /** The best single guess: the lowest version the evidence allows. */
  get best(): number {
    return this.min;
  }

  text(): string {
    if (this.min === this.max) return `MSNP${this.min}`;
    if (this.max === MAX_VERSION) return `MSNP${this.min}+`;
    return `MSNP${this.min}–${this.max}`;
  }
}

const ev = (min: number, max: number, reason: string): Evidence => ({ min, max, reason });

/** What one command line says about the version. */
export function evidenceFor(name: string, params: readonly string[], side: Side): Evidence[] {
  const out: Evidence[] = [];
  const n = params.length;
  switch (name) {
    case 'CVR':
      out.push(ev(8, 21, 'CVR'));
      break;
    case 'INF':
      out.push(ev(2, 7, 'INF'));
      break;
    case 'USR':
      if (params[1] === 'MD5') out.push(ev(2, 7, 'USR MD5'));
      else if (params[1] === 'TWN') out.push(ev(8, 14, 'USR TWN'));
      else if (params[1] === 'SSO') out.push(ev(15, 21, 'USR SSO'));
      break;
    case 'CHL':
    case 'QRY':
      out.push(ev(6, 21, name));
      break;
    case 'NLN':
    case 'ILN': {
      const base = name === 'ILN' ? 1 : 0; // ILN has a TrID first
      const handle = params[base + 1] ?? '';
      if (/^\d+:/.test(handle)) out.push(ev(18, 21, `${name} with network-prefixed handle`));
      else if (side === 's') {
        const count = n - base;
        if (count === 3) out.push(ev(2, 7, `${name} without client ID`));
        else if (count === 4) out.push(ev(8, 8, `${name} with client ID, no MSN object`));
        else if (count === 5) out.push(ev(9, 13, `${name} with MSN object`));
        else if (count === 6 && /^\d+$/.test(params[base + 2] ?? '')) out.push(ev(14, 17, `${name} with network ID`));
      }
      break;
    }
    case 'FLN':
      if (/^\d+:/.test(params[0] ?? '')) out.push(ev(18, 21, 'FLN with network-prefixed handle'));
      break;
    case 'UBX':
      if (/^\d+:/.test(params[0] ?? '')) out.push(ev(18, 21, 'UBX with network-prefixed handle'));
      else if (n === 3) out.push(ev(14, 17, 'UBX with network ID'));
      else out.push(ev(11, 13, 'UBX'));
      break;
    case 'UUX':
    case 'GCF':
      out.push(ev(11, 21, name));
      break;
    case 'IRO':
      if (n === 5) out.push(ev(2, 11, 'IRO without client ID'));
      else if (n >= 6) out.push(ev(12, 21, 'IRO with client ID'));
      if (/;\{/.test(params[3] ?? '')) out.push(ev(16, 21, 'IRO with endpoint GUID'));
      break;
    case 'JOI':
      if (n === 2) out.push(ev(2, 11, 'JOI without client ID'));
      else if (n >= 3) out.push(ev(12, 21, 'JOI with client ID'));
      if (/;\{/.test(params[0] ?? '')) out.push(ev(16, 21, 'JOI with endpoint GUID'));
      break;
    case 'ANS':
      if (side === 'c' && /;\{/.test(params[1] ?? '')) out.push(ev(16, 21, 'ANS with endpoint GUID'));
      break;
    case 'RNG':
      if (n === 6) out.push(ev(2, 12, 'RNG without host'));
      else if (n === 8) out.push(ev(13, 13, 'RNG with host'));
      else if (n >= 9) out.push(ev(14, 21, 'RNG with host and flag'));
      break;
    case 'XFR':
      if (side === 's' && params[1] === 'SB') {
        if (n === 5) out.push(ev(2, 12, 'XFR SB without host'));
        else if (n >= 7) out.push(ev(13, 21, 'XFR SB with host'));
      }
      break;
    case 'ADL':
    case 'RML':
    case 'UUN':
    case 'UBN':
      out.push(ev(13, 21, name));
      break;
    case 'FQY':
    case 'UUM':
    case 'UBM':
      out.push(ev(14, 21, name));
      break;
    case 'LST':
    case 'SYN':
    case 'GTC':
    case 'LSG':
      out.push(ev(2, 12, name));
      if (name === 'LST' && side === 's' && n >= 1 && /^N=/.test(params[0] ?? '')) out.push(ev(10, 12, 'LST with N= form'));
      break;
    case 'ADD':
      out.push(ev(2, 10, 'ADD'));
      break;
    case 'ADC':
      out.push(ev(10, 12, 'ADC'));
      break;
    case 'REA':
      out.push(ev(2, 9, 'REA'));
      break;
    case 'SBP':
      out.push(ev(10, 12, 'SBP'));
      break;
    case 'QNG':
      if (n === 1) out.push(ev(9, 21, 'QNG with interval'));
      else if (n === 0) out.push(ev(2, 8, 'QNG without interval'));
      break;
    case 'MSG':
      if (side === 'c' && params[1] === 'D') out.push(ev(9, 21, 'MSG with D acknowledgement'));
      break;
    case 'SDG':
    case 'PUT':
    case 'NFY':
    case 'DEL':
      out.push(ev(21, 21, name));
      break;
    default:
      break;
  }
  return out;
}
