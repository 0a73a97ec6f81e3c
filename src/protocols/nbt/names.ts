// NetBIOS names (RFC 1001 §14, RFC 1002 §4.1): 16 bytes (15 name bytes padded with spaces
// plus a suffix byte saying what the name is for), sent "first-level encoded" as 32
// letters 'A'..'P' after a 0x20 length byte, followed by the scope as DNS-style labels.
// In NBNS packets a name may be a compression pointer (RFC 1002 §4.2.1, label string
// pointer, as in DNS).
import { oemString } from '../oem-text.js';

/** Well-known 16th-byte suffixes (MS-NBTE 1.8 and common use). */
export const SUFFIXES: ReadonlyMap<number, string> = new Map([
  [0x00, 'Workstation/Redirector'],
  [0x01, 'Browser (master browser mailslot)'],
  [0x03, 'Messenger service'],
  [0x06, 'RAS Server'],
  [0x1b, 'Domain Master Browser'],
  [0x1c, 'Domain Controllers'],
  [0x1d, 'Local Master Browser'],
  [0x1e, 'Browser Election Service'],
  [0x1f, 'NetDDE'],
  [0x20, 'File Server'],
  [0x21, 'RAS Client'],
  [0xbe, 'Network Monitor Agent'],
  [0xbf, 'Network Monitor Application'],
]);

export interface NetbiosName {
  /** The 16 decoded bytes (name + suffix). */
  readonly raw: Uint8Array;
  /** Scope labels joined with dots; empty when none. */
  readonly scope: string;
  /** Offset just past the name in the packet (after a pointer, past the pointer). */
  readonly end: number;
  /** Bytes the encoded form occupied at its position (what a field highlights). */
  readonly length: number;
  /** Whether the first-level encoding was valid (only 'A'..'P' letters, 32 of them). */
  readonly wellFormed: boolean;
}

const MAX_POINTERS = 16;
const MAX_NAME_BYTES = 255; // RFC 1002 §4.1: compressed names are limited like DNS names

/**
 * Decodes an encoded NetBIOS name at `o`; `msg` is the whole NBNS message for compression
 * pointers (pass the same buffer as `b` with base 0 when pointers are not allowed).
 * Returns an error string when the bytes do not hold a name.
 */
export function decodeName(b: Uint8Array, o: number, allowPointers: boolean): NetbiosName | string {
  let pos = o;
  let end = -1;
  let hops = 0;
  let first: Uint8Array | undefined;
  let wellFormed = true;
  let labels: string[] | undefined;
  let total = 0;
  for (;;) {
    if (pos >= b.length) return 'name runs past the end of the packet';
    const len = b[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (!allowPointers) return 'compression pointer where none is allowed';
      if (pos + 1 >= b.length) return 'name pointer truncated';
      if (++hops > MAX_POINTERS) return 'name compression pointers loop';
      if (end < 0) end = pos + 2;
      pos = ((len & 0x3f) << 8) | b[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) return `bad label length byte 0x${len.toString(16)}`;
    pos++;
    if (len === 0) break;
    if (pos + len > b.length) return 'name label runs past the end of the packet';
    total += len + 1;
    if (total > MAX_NAME_BYTES) return 'name longer than 255 bytes';
    if (first === undefined) {
      // Decoded in place (every frame of the datagram service carries two names). A first label
      // not 32 letters long is ill-formed: what pairs it has fill the name, the rest stays zero.
      first = new Uint8Array(16);
      const ok = decodeHalves(b, pos, len === 32 ? 32 : Math.min(32, len & ~1), first);
      if (len !== 32 || !ok) wellFormed = false;
    } else {
      (labels ??= []).push(asciiLabel(b.subarray(pos, pos + len)));
    }
    pos += len;
  }
  if (end < 0) end = pos;
  if (first === undefined) return 'empty NetBIOS name';
  return { raw: first, scope: labels === undefined ? '' : labels.join('.'), end, length: end - o, wellFormed };
}

/** `letters` (even, at most 32) first-level letters at `b[at]` into `out`; false when one is not 'A'..'P'. */
function decodeHalves(b: Uint8Array, at: number, letters: number, out: Uint8Array): boolean {
  let ok = true;
  for (let i = 0; i + 1 < letters; i += 2) {
    const hi = b[at + i]! - 0x41;
    const lo = b[at + i + 1]! - 0x41;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) ok = false;
    out[i >> 1] = ((hi & 0x0f) << 4) | (lo & 0x0f);
  }
  return ok;
}

function asciiLabel(label: Uint8Array): string {
  let s = '';
  for (const c of label) s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return s;
}

/** Encodes a 16-byte name (first level) with an optional scope: for tests and fixtures. */
export function encodeName(name: string, suffix: number, scope = ''): Uint8Array {
  const raw = new Uint8Array(16).fill(0x20);
  for (let i = 0; i < Math.min(15, name.length); i++) raw[i] = name.charCodeAt(i) & 0xff;
  raw[15] = suffix;
  if (name === '*') raw.fill(0, 1, 15);
  const labels = scope === '' ? [] : scope.split('.');
  const out = new Uint8Array(34 + labels.reduce((n, l) => n + l.length + 1, 0));
  out[0] = 32;
  for (let i = 0; i < 16; i++) {
    out[1 + 2 * i] = 0x41 + (raw[i]! >> 4);
    out[2 + 2 * i] = 0x41 + (raw[i]! & 0x0f);
  }
  let p = 33;
  for (const l of labels) {
    out[p++] = l.length;
    for (let i = 0; i < l.length; i++) out[p++] = l.charCodeAt(i);
  }
  out[p] = 0;
  return out;
}

/** The name part (15 bytes, trailing spaces removed) decoded in the OEM code page. */
export function namePart(raw: Uint8Array, codepage: string): string {
  let n = Math.min(15, raw.length);
  while (n > 0 && (raw[n - 1] === 0x20 || raw[n - 1] === 0x00)) n--;
  // Printable ASCII (most names) is its own text: made without a view or a regular expression.
  let text = '';
  for (let i = 0; i < n; i++) {
    const c = raw[i]!;
    if (c < 0x20 || c > 0x7e) break;
    text += String.fromCharCode(c);
  }
  if (text.length === n) return text;
  // The wildcard name is '*' followed by NULs (RFC 1002 §4.1): shown as '*'. Control bytes
  // (e.g. in \x01\x02__MSBROWSE__\x02) are shown as <xx>, as tshark does.
  text = oemString(raw.subarray(0, n), codepage);
  return /[\x00-\x1f\x7f]/.test(text) ? text.replace(/[\x00-\x1f\x7f]/g, (c) => `<${c.charCodeAt(0).toString(16).padStart(2, '0')}>`) : text;
}

/** `NAME<03>`, as tshark shows NetBIOS names; with `.scope` when there is one. */
export function formatName(name: NetbiosName | Uint8Array, codepage: string, scope = ''): string {
  const raw = name instanceof Uint8Array ? name : name.raw;
  const sc = name instanceof Uint8Array ? scope : name.scope;
  const suffix = raw[15] ?? 0;
  return `${namePart(raw, codepage)}<${suffix.toString(16).padStart(2, '0')}>${sc !== '' ? `.${sc}` : ''}`;
}

export function suffixOf(name: NetbiosName): number {
  return name.raw[15] ?? 0;
}
