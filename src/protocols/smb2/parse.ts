// SMB2/3 messages (MS-SMB2 2.2): the 64-byte header, the transform headers (2.2.41, 2.2.42),
// and the bodies msgscope needs to follow named pipes: NEGOTIATE, SESSION_SETUP and
// TREE_CONNECT summarised; CREATE, CLOSE, WRITE, READ and IOCTL for the pipe byte streams.
// Pure: bytes in, typed values or a reason out. Offsets are from the start of the SMB2 header.

export const SMB2_HEADER_LEN = 64;

export const COMMANDS: Record<number, string> = {
  0: 'Negotiate Protocol', 1: 'Session Setup', 2: 'Session Logoff', 3: 'Tree Connect', 4: 'Tree Disconnect', 5: 'Create', 6: 'Close', 7: 'Flush', 8: 'Read',
  9: 'Write', 10: 'Lock', 11: 'Ioctl', 12: 'Cancel', 13: 'KeepAlive', 14: 'Find', 15: 'Notify', 16: 'GetInfo', 17: 'SetInfo', 18: 'Break',
};

export const CMD = { NEGOTIATE: 0, SESSION_SETUP: 1, TREE_CONNECT: 3, TREE_DISCONNECT: 4, CREATE: 5, CLOSE: 6, READ: 8, WRITE: 9, IOCTL: 11 } as const;

// Flags (MS-SMB2 2.2.1.2)
export const FLAG_RESPONSE = 0x00000001;
export const FLAG_ASYNC = 0x00000002;
export const FLAG_RELATED = 0x00000004;
export const FLAG_SIGNED = 0x00000008;

export const FSCTL_PIPE_TRANSCEIVE = 0x0011c017;
export const STATUS_PENDING = 0x00000103;
export const STATUS_BUFFER_OVERFLOW = 0x80000005;

export const DIALECTS: Record<number, string> = {
  0x0202: 'SMB 2.0.2', 0x0210: 'SMB 2.1', 0x0222: 'SMB 2.2.2', 0x0224: 'SMB 2.2.4', 0x0300: 'SMB 3.0', 0x0302: 'SMB 3.0.2', 0x0310: 'SMB 3.1.0', 0x0311: 'SMB 3.1.1', 0x02ff: 'SMB 2.???',
};

export interface Smb2Header {
  readonly structureSize: number;
  readonly creditCharge: number;
  readonly status: number;
  readonly command: number;
  readonly credits: number;
  readonly flags: number;
  readonly nextCommand: number;
  readonly messageId: bigint;
  readonly asyncId?: bigint;
  readonly treeId?: number;
  readonly processId?: number;
  readonly sessionId: bigint;
  readonly signature: Uint8Array;
}

export function isResponse(h: Smb2Header): boolean {
  return (h.flags & FLAG_RESPONSE) !== 0;
}

export function parseHeader(d: Uint8Array): Smb2Header | string {
  if (d.length < SMB2_HEADER_LEN) return `SMB2 header needs ${SMB2_HEADER_LEN} bytes, ${d.length} present`;
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const flags = dv.getUint32(16, true);
  const async = (flags & FLAG_ASYNC) !== 0;
  return {
    structureSize: dv.getUint16(4, true),
    creditCharge: dv.getUint16(6, true),
    status: dv.getUint32(8, true),
    command: dv.getUint16(12, true),
    credits: dv.getUint16(14, true),
    flags,
    nextCommand: dv.getUint32(20, true),
    messageId: dv.getBigUint64(24, true),
    asyncId: async ? dv.getBigUint64(32, true) : undefined,
    processId: async ? undefined : dv.getUint32(32, true),
    treeId: async ? undefined : dv.getUint32(36, true),
    sessionId: dv.getBigUint64(40, true),
    signature: d.subarray(48, 64),
  };
}

export interface TransformHeader {
  readonly kind: 'encrypted' | 'compressed';
  readonly originalSize: number;
  readonly sessionId?: bigint;
  readonly algorithm: number;
  readonly length: number;
}

/** 0xFD 'SMB' (MS-SMB2 2.2.41) and 0xFC 'SMB' (2.2.42): the payload cannot be read without keys. */
export function parseTransform(d: Uint8Array): TransformHeader | string {
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (d[0] === 0xfd) {
    if (d.length < 52) return 'SMB3 transform header truncated';
    return { kind: 'encrypted', originalSize: dv.getUint32(36, true), algorithm: dv.getUint16(42, true), sessionId: dv.getBigUint64(44, true), length: d.length - 52 };
  }
  if (d.length < 16) return 'SMB3 compression transform header truncated';
  return { kind: 'compressed', originalSize: dv.getUint32(4, true), algorithm: dv.getUint16(8, true), length: d.length - 16 };
}

/** A FileId: persistent and volatile halves as one hex key. */
export function fileIdKey(d: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 16; i++) s += d[o + i]!.toString(16).padStart(2, '0');
  return s;
}

export const RELATED_FILE_ID = 'ffffffffffffffffffffffffffffffff';

function utf16(d: Uint8Array, o: number, n: number): string {
  return new TextDecoder('utf-16le').decode(d.subarray(o, o + (n & ~1)));
}

/** A buffer given by offset and length from the header start, checked against the message. */
function buffer(d: Uint8Array, offset: number, length: number, what: string): Uint8Array | string {
  if (length === 0) return d.subarray(0, 0);
  if (offset < SMB2_HEADER_LEN || offset + length > d.length) return `${what}: offset ${offset} length ${length} outside the ${d.length}-byte message`;
  return d.subarray(offset, offset + length);
}

export type Body =
  | { readonly k: 'negotiate-req'; readonly dialects: number[] }
  | { readonly k: 'negotiate-resp'; readonly dialect: number; readonly maxRead: number; readonly maxWrite: number }
  | { readonly k: 'session-req'; readonly security: Uint8Array }
  | { readonly k: 'session-resp'; readonly sessionFlags: number; readonly security: Uint8Array }
  | { readonly k: 'tree-req'; readonly path: string }
  | { readonly k: 'tree-resp'; readonly shareType: number }
  | { readonly k: 'create-req'; readonly name: string; readonly desiredAccess: number }
  | { readonly k: 'create-resp'; readonly fileId: string; readonly createAction: number }
  | { readonly k: 'close-req'; readonly fileId: string }
  | { readonly k: 'write-req'; readonly fileId: string; readonly offset: bigint; readonly data: Uint8Array }
  | { readonly k: 'write-resp'; readonly count: number }
  | { readonly k: 'read-req'; readonly fileId: string; readonly length: number; readonly offset: bigint }
  | { readonly k: 'read-resp'; readonly data: Uint8Array; readonly remaining: number }
  | { readonly k: 'ioctl-req'; readonly ctlCode: number; readonly fileId: string; readonly input: Uint8Array; readonly maxOutput: number }
  | { readonly k: 'ioctl-resp'; readonly ctlCode: number; readonly fileId: string; readonly output: Uint8Array }
  | { readonly k: 'error'; readonly byteCount: number }
  | { readonly k: 'other' };

/** Body structure sizes (MS-SMB2 2.2.x StructureSize fields), request and response. */
const SIZES: Record<number, [number, number]> = {
  0: [36, 65], 1: [25, 9], 3: [9, 16], 5: [57, 89], 6: [24, 60], 8: [49, 17], 9: [49, 17], 11: [57, 49],
};

/** Decodes a command's body; `d` is one message (header included) of a compound chain. */
export function parseBody(d: Uint8Array, h: Smb2Header): Body | string {
  const resp = isResponse(h);
  const o = SMB2_HEADER_LEN;
  if (d.length < o + 2) return 'SMB2 body truncated';
  const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const size = dv.getUint16(o, true);
  // An error response (MS-SMB2 2.2.2) has StructureSize 9 whatever the command.
  if (resp && h.status !== 0 && h.status !== STATUS_BUFFER_OVERFLOW && size === 9 && !(h.command === CMD.SESSION_SETUP && h.status === 0xc0000016)) {
    return { k: 'error', byteCount: d.length >= o + 8 ? dv.getUint32(o + 4, true) : 0 };
  }
  const expected = SIZES[h.command]?.[resp ? 1 : 0];
  if (expected === undefined) return { k: 'other' };
  if (size !== expected) return `${COMMANDS[h.command]} ${resp ? 'response' : 'request'} StructureSize ${size}, expected ${expected}`;
  const need = (n: number): string | undefined => (d.length < o + n ? `${COMMANDS[h.command]} ${resp ? 'response' : 'request'} body truncated` : undefined);
  switch (h.command) {
    case CMD.NEGOTIATE: {
      if (!resp) {
        const e = need(36);
        if (e !== undefined) return e;
        const count = dv.getUint16(o + 2, true);
        const dialects: number[] = [];
        for (let i = 0; i < count && o + 36 + 2 * i + 2 <= d.length && i < 64; i++) dialects.push(dv.getUint16(o + 36 + 2 * i, true));
        return { k: 'negotiate-req', dialects };
      }
      const e = need(64);
      if (e !== undefined) return e;
      return { k: 'negotiate-resp', dialect: dv.getUint16(o + 4, true), maxRead: dv.getUint32(o + 32, true), maxWrite: dv.getUint32(o + 36, true) };
    }
    case CMD.SESSION_SETUP: {
      if (!resp) {
        const e = need(24);
        if (e !== undefined) return e;
        const sec = buffer(d, dv.getUint16(o + 12, true), dv.getUint16(o + 14, true), 'security buffer');
        return typeof sec === 'string' ? sec : { k: 'session-req', security: sec };
      }
      const e = need(8);
      if (e !== undefined) return e;
      const sec = buffer(d, dv.getUint16(o + 4, true), dv.getUint16(o + 6, true), 'security buffer');
      return typeof sec === 'string' ? sec : { k: 'session-resp', sessionFlags: dv.getUint16(o + 2, true), security: sec };
    }
    case CMD.TREE_CONNECT: {
      if (!resp) {
        const e = need(8);
        if (e !== undefined) return e;
        const path = buffer(d, dv.getUint16(o + 4, true), dv.getUint16(o + 6, true), 'path');
        return typeof path === 'string' ? path : { k: 'tree-req', path: utf16(path, 0, path.length) };
      }
      const e = need(16);
      return e ?? { k: 'tree-resp', shareType: d[o + 2]! };
    }
    case CMD.CREATE: {
      if (!resp) {
        const e = need(56);
        if (e !== undefined) return e;
        const name = buffer(d, dv.getUint16(o + 44, true), dv.getUint16(o + 46, true), 'file name');
        return typeof name === 'string' ? name : { k: 'create-req', name: utf16(name, 0, name.length), desiredAccess: dv.getUint32(o + 24, true) };
      }
      const e = need(88);
      return e ?? { k: 'create-resp', fileId: fileIdKey(d, o + 64), createAction: dv.getUint32(o + 4, true) };
    }
    case CMD.CLOSE: {
      if (resp) return { k: 'other' };
      const e = need(24);
      return e ?? { k: 'close-req', fileId: fileIdKey(d, o + 8) };
    }
    case CMD.WRITE: {
      if (resp) {
        const e = need(16);
        return e ?? { k: 'write-resp', count: dv.getUint32(o + 4, true) };
      }
      const e = need(48);
      if (e !== undefined) return e;
      const data = buffer(d, dv.getUint16(o + 2, true), dv.getUint32(o + 4, true), 'write data');
      return typeof data === 'string' ? data : { k: 'write-req', fileId: fileIdKey(d, o + 16), offset: dv.getBigUint64(o + 8, true), data };
    }
    case CMD.READ: {
      if (!resp) {
        const e = need(48);
        return e ?? { k: 'read-req', fileId: fileIdKey(d, o + 16), length: dv.getUint32(o + 4, true), offset: dv.getBigUint64(o + 8, true) };
      }
      const e = need(16);
      if (e !== undefined) return e;
      const data = buffer(d, d[o + 2]!, dv.getUint32(o + 4, true), 'read data');
      return typeof data === 'string' ? data : { k: 'read-resp', data, remaining: dv.getUint32(o + 8, true) };
    }
    case CMD.IOCTL: {
      if (!resp) {
        const e = need(56);
        if (e !== undefined) return e;
        const input = buffer(d, dv.getUint32(o + 24, true), dv.getUint32(o + 28, true), 'ioctl input');
        return typeof input === 'string' ? input : { k: 'ioctl-req', ctlCode: dv.getUint32(o + 4, true), fileId: fileIdKey(d, o + 8), input, maxOutput: dv.getUint32(o + 44, true) };
      }
      const e = need(48);
      if (e !== undefined) return e;
      const output = buffer(d, dv.getUint32(o + 32, true), dv.getUint32(o + 36, true), 'ioctl output');
      return typeof output === 'string' ? output : { k: 'ioctl-resp', ctlCode: dv.getUint32(o + 4, true), fileId: fileIdKey(d, o + 8), output };
    }
    default:
      return { k: 'other' };
  }
}

/** Splits a compounded message (MS-SMB2 3.2.4.1.4) into its commands by NextCommand. */
export function splitCompound(d: Uint8Array): { parts: Uint8Array[]; error?: string } {
  const parts: Uint8Array[] = [];
  let o = 0;
  for (let i = 0; i < 128; i++) {
    if (d.length - o < SMB2_HEADER_LEN) return { parts, error: `compounded command at offset ${o} has no room for a header` };
    if (d[o] !== 0xfe || d[o + 1] !== 0x53 || d[o + 2] !== 0x4d || d[o + 3] !== 0x42) return { parts, error: `compounded command at offset ${o} does not start with 0xFE 'SMB'` };
    const next = new DataView(d.buffer, d.byteOffset + o + 20, 4).getUint32(0, true);
    if (next === 0) {
      parts.push(d.subarray(o));
      return { parts };
    }
    if (next < SMB2_HEADER_LEN || o + next > d.length || next % 8 !== 0) {
      parts.push(d.subarray(o));
      return { parts, error: `NextCommand ${next} at offset ${o} is not an 8-byte aligned offset inside the message` };
    }
    parts.push(d.subarray(o, o + next));
    o += next;
  }
  return { parts, error: 'more than 128 compounded commands' };
}

/** The NTLMSSP message type inside a security buffer, for the summary (MS-NLMP 2.2.1). */
export function ntlmsspType(sec: Uint8Array): number | undefined {
  for (let i = 0; i + 12 <= sec.length; i++) {
    if (sec[i] === 0x4e && sec[i + 1] === 0x54 && sec[i + 2] === 0x4c && sec[i + 3] === 0x4d && sec[i + 4] === 0x53 && sec[i + 5] === 0x53 && sec[i + 6] === 0x50 && sec[i + 7] === 0) {
      return new DataView(sec.buffer, sec.byteOffset + i + 8, 4).getUint32(0, true);
    }
  }
  return undefined;
}
