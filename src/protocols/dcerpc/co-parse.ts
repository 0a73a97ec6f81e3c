// Connection-oriented DCE/RPC (version 5) PDUs: the 16-byte common header, the auth trailer,
// and each PDU type's body (C706 chapter 12.6, MS-RPCE 2.2.2). Pure.
import { parseDrep, type Drep } from './ndr.js';
import { uuidString } from './uuid.js';

export const CO_HEADER_LEN = 16;

export const CO_PTYPES: Record<number, string> = {
  0: 'Request', 2: 'Response', 3: 'Fault', 11: 'Bind', 12: 'Bind_ack', 13: 'Bind_nak', 14: 'Alter_context', 15: 'Alter_context_resp',
  16: 'AUTH3', 17: 'Shutdown', 18: 'Co_cancel', 19: 'Orphaned',
};

// pfc_flags (C706 12.6.3.1)
export const PFC_FIRST_FRAG = 0x01;
export const PFC_LAST_FRAG = 0x02;
export const PFC_PENDING_CANCEL = 0x04;
export const PFC_CONC_MPX = 0x10;
export const PFC_DID_NOT_EXECUTE = 0x20;
export const PFC_MAYBE = 0x40;
export const PFC_OBJECT_UUID = 0x80;

export interface CoHeader {
  readonly version: number;
  readonly minor: number;
  readonly ptype: number;
  readonly flags: number;
  readonly drep: Drep;
  readonly drepBytes: [number, number, number, number];
  readonly fragLength: number;
  readonly authLength: number;
  readonly callId: number;
}

/** A plausible v5 header at `o`: used for the TCP heuristic and to resynchronise after a gap. */
export function looksLikeCo(d: Uint8Array, o = 0): boolean {
  if (d.length - o < CO_HEADER_LEN) return false;
  if (d[o] !== 5 || d[o + 1]! > 1) return false;
  const ptype = d[o + 2]!;
  if (CO_PTYPES[ptype] === undefined) return false;
  const order = d[o + 4]! >> 4;
  if (order > 1 || (d[o + 4]! & 0x0f) > 1 || d[o + 5]! > 3) return false;
  const fragLength = order === 1 ? d[o + 8]! | (d[o + 9]! << 8) : (d[o + 8]! << 8) | d[o + 9]!;
  const authLength = order === 1 ? d[o + 10]! | (d[o + 11]! << 8) : (d[o + 10]! << 8) | d[o + 11]!;
  return fragLength >= CO_HEADER_LEN && authLength + CO_HEADER_LEN <= fragLength;
}

export function parseCoHeader(d: Uint8Array, o = 0): CoHeader | string {
  if (d.length - o < CO_HEADER_LEN) return `connection-oriented DCE/RPC header needs ${CO_HEADER_LEN} bytes`;
  const drep = parseDrep(d[o + 4]!, d[o + 5]!);
  const dv = new DataView(d.buffer, d.byteOffset + o, CO_HEADER_LEN);
  const le = drep.little;
  return {
    version: d[o]!,
    minor: d[o + 1]!,
    ptype: d[o + 2]!,
    flags: d[o + 3]!,
    drep,
    drepBytes: [d[o + 4]!, d[o + 5]!, d[o + 6]!, d[o + 7]!],
    fragLength: dv.getUint16(8, le),
    authLength: dv.getUint16(10, le),
    callId: dv.getUint32(12, le),
  };
}

export interface AuthTrailer {
  readonly type: number;
  readonly level: number;
  readonly padLength: number;
  readonly contextId: number;
  /** Offset of the sec_trailer within the PDU. */
  readonly offset: number;
  readonly length: number;
}

export const AUTH_TYPES: Record<number, string> = { 0: 'None', 9: 'SPNEGO', 10: 'NTLMSSP', 14: 'SCHANNEL', 16: 'Kerberos', 68: 'Netlogon', 255: 'Default' };
export const AUTH_LEVELS: Record<number, string> = { 1: 'none', 2: 'connect', 3: 'call', 4: 'packet', 5: 'packet integrity', 6: 'packet privacy' };

/** The sec_trailer before the auth value at the end of a PDU (C706 13.2.6.1, MS-RPCE 2.2.2.11). */
export function parseAuthTrailer(pdu: Uint8Array, h: CoHeader): AuthTrailer | string | undefined {
  if (h.authLength === 0) return undefined;
  const offset = h.fragLength - h.authLength - 8;
  if (offset < CO_HEADER_LEN) return `auth_length ${h.authLength} leaves no room for the sec_trailer`;
  if (offset + 8 > pdu.length) return `sec_trailer at ${offset} lies past the ${pdu.length} bytes present`;
  const dv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  return {
    type: pdu[offset]!, level: pdu[offset + 1]!, padLength: pdu[offset + 2]!, contextId: dv.getUint32(offset + 4, h.drep.little),
    offset, length: h.authLength + 8,
  };
}

export interface Syntax {
  readonly uuid: string;
  readonly major: number;
  readonly minor: number;
}

export interface ContextElem {
  readonly id: number;
  readonly abstract: Syntax;
  readonly transfer: Syntax[];
}

export interface BindBody {
  readonly maxXmit: number;
  readonly maxRecv: number;
  readonly assocGroup: number;
  readonly contexts: ContextElem[];
}

export interface BindResult {
  readonly result: number;
  readonly reason: number;
  readonly transfer: Syntax;
}

export interface BindAckBody {
  readonly maxXmit: number;
  readonly maxRecv: number;
  readonly assocGroup: number;
  readonly secAddr: string;
  readonly results: BindResult[];
}

export const BIND_RESULTS: Record<number, string> = { 0: 'Acceptance', 1: 'User rejection', 2: 'Provider rejection', 3: 'Negotiate ack' };
export const BIND_REASONS: Record<number, string> = {
  0: 'Reason not specified', 1: 'Abstract syntax not supported', 2: 'Proposed transfer syntaxes not supported', 3: 'Local limit exceeded',
};
export const BIND_NAK_REASONS: Record<number, string> = {
  0: 'Reason not specified', 1: 'Temporary congestion', 2: 'Local limit exceeded', 3: 'Called paddr unknown', 4: 'Protocol version not supported',
  5: 'Default context not supported', 6: 'User data not readable', 7: 'No PSAP available', 8: 'Authentication type not recognized', 9: 'Invalid checksum',
};

function syntax(d: Uint8Array, o: number, le: boolean): Syntax {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return { uuid: uuidString(d, o, le), major: dv.getUint16(o + 16, le), minor: dv.getUint16(o + 18, le) };
}

/** bind and alter_context bodies (C706 12.6.4.3, 12.6.4.1); `end` excludes the auth trailer. */
export function parseBind(pdu: Uint8Array, h: CoHeader, end: number): BindBody | string {
  const le = h.drep.little;
  if (end < 28) return 'bind body truncated';
  const dv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const n = pdu[24]!;
  const contexts: ContextElem[] = [];
  let o = 28;
  for (let i = 0; i < n; i++) {
    if (o + 24 > end) return `context element ${i} of ${n} truncated`;
    const id = dv.getUint16(o, le);
    const nts = pdu[o + 2]!;
    if (o + 24 + nts * 20 > end) return `context element ${i}: ${nts} transfer syntaxes do not fit`;
    const abstract = syntax(pdu, o + 4, le);
    const transfer: Syntax[] = [];
    for (let t = 0; t < nts; t++) transfer.push(syntax(pdu, o + 24 + t * 20, le));
    contexts.push({ id, abstract, transfer });
    o += 24 + nts * 20;
  }
  return { maxXmit: dv.getUint16(16, le), maxRecv: dv.getUint16(18, le), assocGroup: dv.getUint32(20, le), contexts };
}

/** bind_ack and alter_context_resp bodies (C706 12.6.4.4, 12.6.4.2). */
export function parseBindAck(pdu: Uint8Array, h: CoHeader, end: number): BindAckBody | string {
  const le = h.drep.little;
  if (end < 26) return 'bind_ack body truncated';
  const dv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const addrLen = dv.getUint16(24, le);
  if (26 + addrLen > end) return `secondary address length ${addrLen} does not fit`;
  let secAddr = '';
  for (let i = 0; i < addrLen; i++) {
    const c = pdu[26 + i]!;
    if (c === 0) break;
    secAddr += String.fromCharCode(c);
  }
  let o = 26 + addrLen;
  o += (4 - (o % 4)) % 4; // the result list is 4-byte aligned
  if (o + 4 > end) return 'bind_ack result list truncated';
  const n = pdu[o]!;
  o += 4;
  if (o + n * 24 > end) return `${n} bind results do not fit`;
  const results: BindResult[] = [];
  for (let i = 0; i < n; i++) {
    results.push({ result: dv.getUint16(o, le), reason: dv.getUint16(o + 2, le), transfer: syntax(pdu, o + 4, le) });
    o += 24;
  }
  return { maxXmit: dv.getUint16(16, le), maxRecv: dv.getUint16(18, le), assocGroup: dv.getUint32(20, le), secAddr, results };
}

export interface BindNakBody {
  readonly reason: number;
  readonly versions: { major: number; minor: number }[];
}

export function parseBindNak(pdu: Uint8Array, h: CoHeader, end: number): BindNakBody | string {
  if (end < 18) return 'bind_nak body truncated';
  const dv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const reason = dv.getUint16(16, h.drep.little);
  const versions: { major: number; minor: number }[] = [];
  if (end >= 19) {
    const n = pdu[18]!;
    for (let i = 0; i < n && 19 + 2 * i + 1 < end; i++) versions.push({ major: pdu[19 + 2 * i]!, minor: pdu[20 + 2 * i]! });
  }
  return { reason, versions };
}

export interface RequestBody {
  readonly allocHint: number;
  readonly contextId: number;
  readonly opnum: number;
  readonly object?: string;
  readonly stubOffset: number;
}

export interface ResponseBody {
  readonly allocHint: number;
  readonly contextId: number;
  readonly cancelCount: number;
  readonly stubOffset: number;
}

export interface FaultBody extends ResponseBody {
  readonly status: number;
}

export function parseRequest(pdu: Uint8Array, h: CoHeader): RequestBody | string {
  const hasObject = (h.flags & PFC_OBJECT_UUID) !== 0;
  const need = 24 + (hasObject ? 16 : 0);
  if (pdu.length < need) return 'request header truncated';
  const dv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const le = h.drep.little;
  return {
    allocHint: dv.getUint32(16, le), contextId: dv.getUint16(20, le), opnum: dv.getUint16(22, le),
    object: hasObject ? uuidString(pdu, 24, le) : undefined, stubOffset: need,
  };
}

export function parseResponse(pdu: Uint8Array, h: CoHeader): ResponseBody | string {
  if (pdu.length < 24) return 'response header truncated';
  const dv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const le = h.drep.little;
  return { allocHint: dv.getUint32(16, le), contextId: dv.getUint16(20, le), cancelCount: pdu[22]!, stubOffset: 24 };
}

export function parseFault(pdu: Uint8Array, h: CoHeader): FaultBody | string {
  if (pdu.length < 28) return 'fault header truncated';
  const dv = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  const le = h.drep.little;
  return { allocHint: dv.getUint32(16, le), contextId: dv.getUint16(20, le), cancelCount: pdu[22]!, status: dv.getUint32(24, le), stubOffset: 32 };
}
