// Connectionless DCE/RPC (version 4) PDUs: the 80-byte header and each PDU type's body
// (C706 chapter 12, MS-RPCE 2.2.3). Pure: bytes in, typed values or a reason out.
import { parseDrep, type Drep } from './ndr.js';
import { uuidString } from './uuid.js';

export const CL_HEADER_LEN = 80;

export const CL_PTYPES: Record<number, string> = {
  0: 'Request', 1: 'Ping', 2: 'Response', 3: 'Fault', 4: 'Working', 5: 'Nocall', 6: 'Reject', 7: 'Ack', 8: 'Cl_cancel', 9: 'Fack', 10: 'Cancel_ack',
};

// flags1 (C706 12.5.3.1)
export const F1_LASTFRAG = 0x02;
export const F1_FRAG = 0x04;
export const F1_NOFACK = 0x08;
export const F1_MAYBE = 0x10;
export const F1_IDEMPOTENT = 0x20;
export const F1_BROADCAST = 0x40;
// flags2 (C706 12.5.3.2)
export const F2_CANCEL_PENDING = 0x02;

export interface ClHeader {
  readonly version: number;
  readonly ptype: number;
  readonly flags1: number;
  readonly flags2: number;
  readonly drep: Drep;
  readonly drepBytes: [number, number, number];
  readonly serialHi: number;
  readonly object: string;
  readonly ifId: string;
  readonly activity: string;
  readonly serverBoot: number;
  /** if_vers: major version in the low 16 bits, minor in the high 16 bits. */
  readonly ifVersion: number;
  readonly seq: number;
  readonly opnum: number;
  readonly ihint: number;
  readonly ahint: number;
  /** Body length (the auth verifier, if any, follows the body and is not counted). */
  readonly len: number;
  readonly fragnum: number;
  readonly authProto: number;
  readonly serialLo: number;
}

export interface ClPdu {
  readonly header: ClHeader;
  /** The body, `len` bytes after the header (fewer when the datagram is short: see `truncated`). */
  readonly body: Uint8Array;
  /** Bytes after the body: the authentication verifier when auth_proto is set. */
  readonly trailer: Uint8Array;
  readonly truncated: boolean;
}

/**
 * The header's fixed fields (C706 12.5.1): version 4, a known PDU type, a valid data
 * representation (integer and character formats 0 or 1, floating point 0-3). Needs 6 bytes.
 */
export function hasClFixedFields(d: Uint8Array): boolean {
  if (d.length < 6 || d[0] !== 4 || d[1]! > 10) return false;
  const order = d[4]! >> 4;
  const chars = d[4]! & 0x0f;
  return order <= 1 && chars <= 1 && d[5]! <= 3;
}

/**
 * A cheap test that a UDP payload is a connectionless DCE/RPC PDU, since the protocol runs on
 * any port (the endpoint mapper hands out dynamic ones): the fixed fields, and a body length
 * that fits. A header whose length runs past the bytes present is still one when the fields
 * that must be zero are (drep's reserved byte, flags2's reserved bits): the length is then
 * reported, not the datagram hidden as plain UDP.
 */
export function looksLikeCl(d: Uint8Array): boolean {
  if (d.length < CL_HEADER_LEN || !hasClFixedFields(d)) return false;
  const len = d[4]! >> 4 === 1 ? d[74]! | (d[75]! << 8) : (d[74]! << 8) | d[75]!;
  if (len <= d.length - CL_HEADER_LEN + 8) return true; // a little slack for captures cut short by a snap length
  return d[6] === 0 && (d[3]! & 0xfc) === 0;
}

/** What a header cut short still tells: a bounce's quote may stop inside the 80 bytes. */
export interface ClHeaderPrefix {
  readonly ptype: number;
  readonly drep: Drep;
  /** Header bytes present (at most 80). */
  readonly present: number;
  readonly flags1?: number;
  readonly ifId?: string;
  readonly activity?: string;
  readonly seq?: number;
  readonly opnum?: number;
}

/** The fields of a connectionless header present in `d`; undefined when its fixed fields are not those of one. */
export function parseClHeaderPrefix(d: Uint8Array): ClHeaderPrefix | undefined {
  if (!hasClFixedFields(d)) return undefined;
  const drep = parseDrep(d[4]!, d[5]!);
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const le = drep.little;
  return {
    ptype: d[1]!,
    drep,
    present: Math.min(d.length, CL_HEADER_LEN),
    flags1: d[2],
    ifId: d.length >= 40 ? uuidString(d, 24, le) : undefined,
    activity: d.length >= 56 ? uuidString(d, 40, le) : undefined,
    seq: d.length >= 68 ? dv.getUint32(64, le) : undefined,
    opnum: d.length >= 70 ? dv.getUint16(68, le) : undefined,
  };
}

export function parseClHeader(d: Uint8Array): ClHeader | string {
  if (d.length < CL_HEADER_LEN) return `connectionless DCE/RPC header needs ${CL_HEADER_LEN} bytes, ${d.length} present`;
  const drep = parseDrep(d[4]!, d[5]!);
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const le = drep.little;
  return {
    version: d[0]!,
    ptype: d[1]!,
    flags1: d[2]!,
    flags2: d[3]!,
    drep,
    drepBytes: [d[4]!, d[5]!, d[6]!],
    serialHi: d[7]!,
    object: uuidString(d, 8, le),
    ifId: uuidString(d, 24, le),
    activity: uuidString(d, 40, le),
    serverBoot: dv.getUint32(56, le),
    ifVersion: dv.getUint32(60, le),
    seq: dv.getUint32(64, le),
    opnum: dv.getUint16(68, le),
    ihint: dv.getUint16(70, le),
    ahint: dv.getUint16(72, le),
    len: dv.getUint16(74, le),
    fragnum: dv.getUint16(76, le),
    authProto: d[78]!,
    serialLo: d[79]!,
  };
}

export function parseClPdu(d: Uint8Array): ClPdu | string {
  const header = parseClHeader(d);
  if (typeof header === 'string') return header;
  const end = CL_HEADER_LEN + header.len;
  const truncated = end > d.length;
  return { header, body: d.subarray(CL_HEADER_LEN, Math.min(end, d.length)), trailer: d.subarray(Math.min(end, d.length)), truncated };
}

/** Fault and reject bodies: one status code (C706 12.5.3.5, 12.5.3.9). */
export function clStatus(body: Uint8Array, drep: Drep): number | undefined {
  if (body.length < 4) return undefined;
  return new DataView(body.buffer, body.byteOffset, 4).getUint32(0, drep.little);
}

export interface FackBody {
  readonly version: number;
  readonly windowSize: number;
  readonly maxTsdu: number;
  readonly maxFragSize: number;
  readonly serialNum: number;
  readonly selackLen: number;
  readonly selack: number[];
}

/** fack body (C706 12.5.3.4); a nocall may carry one too. */
export function parseFack(body: Uint8Array, drep: Drep): FackBody | undefined {
  if (body.length < 16) return undefined;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const le = drep.little;
  const selackLen = dv.getUint16(14, le);
  const selack: number[] = [];
  // Each selective-ack mask is a 32-bit word; only those present are read.
  const have = Math.min(selackLen, Math.floor((body.length - 16) / 4), 64);
  for (let i = 0; i < have; i++) selack.push(dv.getUint32(16 + 4 * i, le));
  return {
    version: body[0]!, windowSize: dv.getUint16(2, le), maxTsdu: dv.getUint32(4, le), maxFragSize: dv.getUint32(8, le),
    serialNum: dv.getUint16(12, le), selackLen, selack,
  };
}

export interface CancelBody {
  readonly version: number;
  readonly cancelId: number;
  /** cancel_ack only. */
  readonly serverIsAccepting?: number;
}

/** quit (cl_cancel) and cack (cancel_ack) bodies (C706 12.5.3.2, 12.5.3.3). */
export function parseCancel(body: Uint8Array, drep: Drep, ack: boolean): CancelBody | undefined {
  if (body.length < 8) return undefined;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const le = drep.little;
  return { version: dv.getUint32(0, le), cancelId: dv.getUint32(4, le), serverIsAccepting: ack && body.length >= 12 ? dv.getUint32(8, le) : undefined };
}
