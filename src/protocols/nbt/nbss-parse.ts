// NetBIOS session service framing (RFC 1002 §4.3) and the direct-hosted SMB framing of TCP
// 445 (MS-SMB2 2.1, MS-CIFS 2.1.1.2: a zero byte and a 24-bit length). Pure functions.
import { decodeName, type NetbiosName } from './names.js';

export const NBSS_HEADER = 4;
export const MAX_NBSS_139 = 0x1ffff;
export const MAX_DIRECT = 0xffffff;

export interface NbssHeader {
  readonly type: number;
  readonly flags: number;
  readonly length: number;
}

export const VALID_TYPES: ReadonlySet<number> = new Set([0x00, 0x81, 0x82, 0x83, 0x84, 0x85]);

/** Reads a header at `o`; `direct` for TCP 445 framing. Returns an error string when it cannot be one. */
export function parseNbssHeader(b: Uint8Array, o: number, direct: boolean): NbssHeader | string {
  if (o + 4 > b.length) return 'truncated';
  const type = b[o]!;
  if (direct) {
    if (type !== 0) return `direct-hosted message type 0x${type.toString(16).padStart(2, '0')} is not 0`;
    return { type, flags: b[o + 1]!, length: (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]! };
  }
  if (!VALID_TYPES.has(type)) return `unknown NBSS message type 0x${type.toString(16).padStart(2, '0')}`;
  const flags = b[o + 1]!;
  // RFC 1002 §4.3.1: only the E (length extension) bit may be set.
  if ((flags & 0xfe) !== 0) return `NBSS flags 0x${flags.toString(16).padStart(2, '0')} has reserved bits set`;
  return { type, flags, length: ((flags & 1) << 16) | (b[o + 2]! << 8) | b[o + 3]! };
}

/** Lengths the fixed-size message types must have (RFC 1002 §4.3.3–4.3.7). */
export function expectedLength(type: number): number | undefined {
  switch (type) {
    case 0x82:
    case 0x85:
      return 0;
    case 0x83:
      return 1;
    case 0x84:
      return 6;
    default:
      return undefined;
  }
}

/**
 * Whether a header at `o` looks like a real message boundary, for resynchronising after a
 * gap or a mid-stream start: a valid header whose body starts as its type requires.
 */
export function plausibleBoundary(b: Uint8Array, o: number, direct: boolean): boolean {
  const h = parseNbssHeader(b, o, direct);
  if (typeof h === 'string') return false;
  const body = o + 4;
  if (h.type === 0x00) {
    if (h.length < 4 || body + 4 > b.length) return false;
    const m = b[body]!;
    return (m === 0xff || m === 0xfe || m === 0xfd) && b[body + 1] === 0x53 && b[body + 2] === 0x4d && b[body + 3] === 0x42;
  }
  if (h.type === 0x81) return h.length >= 68 && body < b.length && b[body] === 0x20;
  const want = expectedLength(h.type);
  return want !== undefined && h.length === want;
}

export interface SessionRequest {
  readonly called: NetbiosName;
  readonly calling: NetbiosName;
  readonly calledOffset: number;
  readonly callingOffset: number;
}

/** Session request body: called then calling name, each first-level encoded with scope. */
export function parseSessionRequest(body: Uint8Array): SessionRequest | string {
  const called = decodeName(body, 0, false);
  if (typeof called === 'string') return `called name: ${called}`;
  const calling = decodeName(body, called.end, false);
  if (typeof calling === 'string') return `calling name: ${calling}`;
  return { called, calling, calledOffset: 0, callingOffset: called.end };
}
