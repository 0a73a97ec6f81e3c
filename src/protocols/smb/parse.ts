// SMB1 (CIFS) parsing: pure functions from bytes to typed values, no state and no output.
// Layouts: MS-CIFS 2.2.3.1 (header), 2.2.3.2–3 (parameter and data blocks), 2.2.4.x
// (commands); messenger commands: MS-MSRP 2.2.3.
import { latin1 } from '../../util/latin1.js';

export const SMB_HEADER_LENGTH = 32;

export const FLAGS_REPLY = 0x80;
export const FLAGS2_UNICODE = 0x8000;
export const FLAGS2_NT_STATUS = 0x4000;

export const CMD = {
  CLOSE: 0x04,
  TRANSACTION: 0x25,
  TRANSACTION_SECONDARY: 0x26,
  OPEN_ANDX: 0x2d,
  READ_ANDX: 0x2e,
  WRITE_ANDX: 0x2f,
  TREE_DISCONNECT: 0x71,
  NEGOTIATE: 0x72,
  SESSION_SETUP_ANDX: 0x73,
  LOGOFF_ANDX: 0x74,
  TREE_CONNECT_ANDX: 0x75,
  NT_CREATE_ANDX: 0xa2,
  SEND_MESSAGE: 0xd0,
  SEND_BROADCAST_MESSAGE: 0xd1,
  FORWARD_USER_NAME: 0xd2,
  CANCEL_FORWARD: 0xd3,
  GET_MACHINE_NAME: 0xd4,
  SEND_START_MB_MESSAGE: 0xd5,
  SEND_END_MB_MESSAGE: 0xd6,
  SEND_TEXT_MB_MESSAGE: 0xd7,
} as const;

/** Command names as tshark shows them in the Info column. */
export const COMMAND_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, 'Create Directory'], [0x01, 'Delete Directory'], [0x02, 'Open'], [0x03, 'Create'], [0x04, 'Close'],
  [0x05, 'Flush'], [0x06, 'Delete'], [0x07, 'Rename'], [0x08, 'Query Information'], [0x09, 'Set Information'],
  [0x0a, 'Read'], [0x0b, 'Write'], [0x0c, 'Lock Byte Range'], [0x0d, 'Unlock Byte Range'], [0x0e, 'Create Temp'],
  [0x0f, 'Create New'], [0x10, 'Check Directory'], [0x11, 'Process Exit'], [0x12, 'Seek'], [0x13, 'Lock And Read'],
  [0x14, 'Write And Unlock'], [0x1a, 'Read Raw'], [0x1b, 'Read MPX'], [0x1c, 'Read MPX Secondary'], [0x1d, 'Write Raw'],
  [0x1e, 'Write MPX'], [0x1f, 'Write MPX Secondary'], [0x20, 'Write Complete'], [0x21, 'Query Server'],
  [0x22, 'Set Information2'], [0x23, 'Query Information2'], [0x24, 'Locking AndX'], [0x25, 'Trans'],
  [0x26, 'Trans Secondary'], [0x27, 'IOCTL'], [0x28, 'IOCTL Secondary'], [0x29, 'Copy'], [0x2a, 'Move'], [0x2b, 'Echo'],
  [0x2c, 'Write And Close'], [0x2d, 'Open AndX'], [0x2e, 'Read AndX'], [0x2f, 'Write AndX'], [0x30, 'New File Size'],
  [0x31, 'Close And Tree Disconnect'], [0x32, 'Trans2'], [0x33, 'Trans2 Secondary'], [0x34, 'Find Close2'],
  [0x35, 'Find Notify Close'], [0x70, 'Tree Connect'], [0x71, 'Tree Disconnect'], [0x72, 'Negotiate Protocol'],
  [0x73, 'Session Setup AndX'], [0x74, 'Logoff AndX'], [0x75, 'Tree Connect AndX'], [0x7e, 'Security Package AndX'],
  [0x80, 'Query Information Disk'], [0x81, 'Search'], [0x82, 'Find'], [0x83, 'Find Unique'], [0x84, 'Find Close'],
  [0xa0, 'NT Trans'], [0xa1, 'NT Trans Secondary'], [0xa2, 'NT Create AndX'], [0xa4, 'NT Cancel'], [0xa5, 'NT Rename'],
  [0xc0, 'Open Print File'], [0xc1, 'Write Print File'], [0xc2, 'Close Print File'], [0xc3, 'Get Print Queue'],
  [0xd0, 'Send Single Block Message'], [0xd1, 'Send Broadcast Message'], [0xd2, 'Forward User Name'],
  [0xd3, 'Cancel Forward'], [0xd4, 'Get Machine Name'], [0xd5, 'Send Start of Multi-block Message'],
  [0xd6, 'Send End of Multi-block Message'], [0xd7, 'Send Text of Multi-block Message'], [0xfe, 'Invalid'],
  [0xff, 'No further commands'],
]);

export function commandName(cmd: number): string {
  return COMMAND_NAMES.get(cmd) ?? `Unknown (0x${cmd.toString(16).padStart(2, '0')})`;
}

/** True for the commands that carry an AndX block at the start of their parameter words. */
export const ANDX_COMMANDS: ReadonlySet<number> = new Set([0x24, 0x2d, 0x2e, 0x2f, 0x73, 0x74, 0x75, 0xa2]);

export function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}

export function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export interface SmbHeader {
  readonly command: number;
  /** The 4 status bytes read as a little-endian number (NT status, or class/reserved/code). */
  readonly status: number;
  readonly flags: number;
  readonly flags2: number;
  readonly pidHigh: number;
  readonly signature: Uint8Array;
  readonly reserved: number;
  readonly tid: number;
  readonly pidLow: number;
  readonly uid: number;
  readonly mid: number;
  readonly isResponse: boolean;
  readonly ntStatus: boolean;
  readonly unicode: boolean;
}

/** 0xFF 'SMB' at `o`. */
export function isSmb1(b: Uint8Array, o = 0): boolean {
  return b.length >= o + 4 && b[o] === 0xff && b[o + 1] === 0x53 && b[o + 2] === 0x4d && b[o + 3] === 0x42;
}

export function parseHeader(b: Uint8Array): SmbHeader | string {
  if (b.length < SMB_HEADER_LENGTH) return `SMB header truncated: ${b.length} of 32 bytes`;
  if (!isSmb1(b)) return 'not an SMB1 message (no 0xFF "SMB")';
  const flags = b[9]!;
  const flags2 = u16(b, 10);
  return {
    command: b[4]!,
    status: u32(b, 5),
    flags,
    flags2,
    pidHigh: u16(b, 12),
    signature: b.subarray(14, 22),
    reserved: u16(b, 22),
    tid: u16(b, 24),
    pidLow: u16(b, 26),
    uid: u16(b, 28),
    mid: u16(b, 30),
    isResponse: (flags & FLAGS_REPLY) !== 0,
    ntStatus: (flags2 & FLAGS2_NT_STATUS) !== 0,
    unicode: (flags2 & FLAGS2_UNICODE) !== 0,
  };
}

/** A command's parameter block (WordCount, words) and data block (ByteCount, bytes). */
export interface Block {
  /** Offset of the WordCount byte in the SMB message. */
  readonly offset: number;
  readonly wordCount: number;
  readonly wordsOffset: number;
  readonly byteCount: number;
  /** Offset of the first data byte. */
  readonly bytesOffset: number;
  /** Data bytes actually present (ByteCount clipped to the message). */
  readonly bytesPresent: number;
  /** Offset just past the block as declared. */
  readonly end: number;
}

export function parseBlock(b: Uint8Array, o: number): Block | string {
  if (o >= b.length) return 'WordCount missing';
  const wordCount = b[o]!;
  const wordsOffset = o + 1;
  const bcOffset = wordsOffset + wordCount * 2;
  if (bcOffset + 2 > b.length) return `parameter block truncated: WordCount ${wordCount} needs ${bcOffset + 2 - o} bytes, ${b.length - o} present`;
  const byteCount = u16(b, bcOffset);
  const bytesOffset = bcOffset + 2;
  const bytesPresent = Math.min(byteCount, b.length - bytesOffset);
  return { offset: o, wordCount, wordsOffset, byteCount, bytesOffset, bytesPresent, end: bytesOffset + byteCount };
}

/** Word `i` of a block's parameters. */
export function word(b: Uint8Array, block: Block, i: number): number {
  return u16(b, block.wordsOffset + 2 * i);
}

export interface AndX {
  readonly command: number;
  readonly reserved: number;
  readonly offset: number;
}

export function andx(b: Uint8Array, block: Block): AndX | undefined {
  if (block.wordCount < 2) return undefined;
  return { command: b[block.wordsOffset]!, reserved: b[block.wordsOffset + 1]!, offset: u16(b, block.wordsOffset + 2) };
}

// ---- strings ----

export interface SmbString {
  readonly value: Uint8Array;
  /** Offset of the string (after alignment padding). */
  readonly offset: number;
  /** Bytes taken including the terminator. */
  readonly length: number;
  readonly unicode: boolean;
  /** Offset just past it. */
  readonly end: number;
  readonly terminated: boolean;
}

/**
 * A NUL-terminated string at `o`, ending at `limit`. Unicode strings are aligned to 2 bytes
 * from the start of the SMB header (MS-CIFS 2.2.1.1) when `align` is set.
 */
export function readString(b: Uint8Array, o: number, limit: number, unicode: boolean, align = true): SmbString {
  const end = Math.min(limit, b.length);
  if (unicode) {
    let p = o;
    if (align && p % 2 === 1) p++;
    let q = p;
    while (q + 1 < end && (b[q] !== 0 || b[q + 1] !== 0)) q += 2;
    const terminated = q + 1 < end;
    const stop = terminated ? q : Math.min(q, end);
    return { value: b.subarray(p, Math.max(p, stop)), offset: p, length: (terminated ? q + 2 : stop) - p, unicode, end: terminated ? q + 2 : end, terminated };
  }
  let q = o;
  while (q < end && b[q] !== 0) q++;
  const terminated = q < end;
  return { value: b.subarray(o, Math.min(q, end)), offset: o, length: (terminated ? q + 1 : q) - o, unicode, end: terminated ? q + 1 : end, terminated };
}

export function utf16(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) s += String.fromCharCode(bytes[i]! | (bytes[i + 1]! << 8));
  return s;
}

// ---- messenger commands (MS-MSRP 2.2.3) ----

export interface BufferField {
  /** BufferFormat byte (0x04 string, 0x01 data block) and where it is. */
  readonly format: number;
  readonly formatOffset: number;
  readonly value: Uint8Array;
  readonly offset: number;
  /** Bytes the value occupies (for strings, with the NUL when present). */
  readonly length: number;
  readonly terminated: boolean;
  /** For 0x01 data blocks: the DataLength field. */
  readonly dataLength?: number;
}

/** A BufferFormat 0x04 (or other) NUL-terminated OEM string. */
function bufferString(b: Uint8Array, o: number, limit: number): BufferField | string {
  if (o >= limit) return 'string missing';
  const s = readString(b, o + 1, limit, false);
  return { format: b[o]!, formatOffset: o, value: s.value, offset: o + 1, length: s.length, terminated: s.terminated };
}

/** A BufferFormat 0x01 block: DataLength (2 bytes) then data; data clipped to what is present. */
function bufferData(b: Uint8Array, o: number, limit: number): BufferField | string {
  if (o + 3 > limit) return 'data block header missing';
  const dataLength = u16(b, o + 1);
  const start = o + 3;
  const avail = Math.max(0, limit - start);
  const len = Math.min(dataLength, avail);
  return { format: b[o]!, formatOffset: o, value: b.subarray(start, start + len), offset: start, length: len, terminated: true, dataLength };
}

export interface SendMessageRequest {
  readonly originator?: BufferField;
  readonly destination?: BufferField;
  readonly data?: BufferField;
  readonly error?: string;
}

/** 0xD0 SEND_MESSAGE and 0xD1 SEND_BROADCAST_MESSAGE request bytes (MS-MSRP 2.2.3.1.1). */
export function parseSendMessage(b: Uint8Array, block: Block, withData: boolean): SendMessageRequest {
  const limit = block.bytesOffset + block.bytesPresent;
  const originator = bufferString(b, block.bytesOffset, limit);
  if (typeof originator === 'string') return { error: `OriginatorName: ${originator}` };
  const destination = bufferString(b, originator.offset + originator.length, limit);
  if (typeof destination === 'string') return { originator, error: `DestinationName: ${destination}` };
  if (!withData) return { originator, destination };
  const data = bufferData(b, destination.offset + destination.length, limit);
  if (typeof data === 'string') return { originator, destination, error: `Data: ${data}` };
  return { originator, destination, data };
}

/** 0xD7 SEND_TEXT_MB request: MessageGroupId word, then one 0x01 data block (MS-MSRP 2.2.3.3.1). */
export function parseTextBlock(b: Uint8Array, block: Block): { groupId?: number; data?: BufferField; error?: string } {
  const groupId = block.wordCount >= 1 ? word(b, block, 0) : undefined;
  const data = bufferData(b, block.bytesOffset, block.bytesOffset + block.bytesPresent);
  if (typeof data === 'string') return { groupId, error: `Data: ${data}` };
  return { groupId, data };
}

/** 0xD2/0xD3 request and 0xD4 response: one 0x04 string. */
export function parseOneString(b: Uint8Array, block: Block): BufferField | string {
  return bufferString(b, block.bytesOffset, block.bytesOffset + block.bytesPresent);
}

// ---- negotiate, session setup, tree connect (MS-CIFS 2.2.4.52, 2.2.4.53, 2.2.4.55) ----

export function parseDialects(b: Uint8Array, block: Block): { name: string; offset: number; length: number }[] {
  const out: { name: string; offset: number; length: number }[] = [];
  let p = block.bytesOffset;
  const limit = block.bytesOffset + block.bytesPresent;
  while (p < limit && out.length < 64) {
    const s = readString(b, p + 1, limit, false);
    out.push({ name: latin1(s.value), offset: p, length: s.end - p });
    p = s.end;
  }
  return out;
}

export interface TransRequest {
  readonly totalParameterCount: number;
  readonly totalDataCount: number;
  readonly maxParameterCount: number;
  readonly maxDataCount: number;
  readonly maxSetupCount: number;
  readonly flags: number;
  readonly timeout: number;
  readonly parameterCount: number;
  readonly parameterOffset: number;
  readonly dataCount: number;
  readonly dataOffset: number;
  readonly setupCount: number;
  readonly setup: number[];
  readonly name: SmbString;
  readonly parameters: Uint8Array;
  readonly data: Uint8Array;
  /** Problems found while reading (counts or offsets outside the message). */
  readonly problems: string[];
}

/** SMB_COM_TRANSACTION request (MS-CIFS 2.2.4.33.1): WordCount 14 + SetupCount. */
export function parseTransRequest(b: Uint8Array, block: Block, unicode: boolean): TransRequest | string {
  if (block.wordCount < 14) return `Trans request WordCount ${block.wordCount} is less than 14`;
  const w = (i: number): number => word(b, block, i);
  const setupCount = b[block.wordsOffset + 26]!;
  const setup: number[] = [];
  const problems: string[] = [];
  if (14 + setupCount !== block.wordCount) problems.push(`WordCount ${block.wordCount} is not 14 + SetupCount ${setupCount}`);
  for (let i = 0; i < setupCount && 14 + i < block.wordCount; i++) setup.push(w(14 + i));
  const limit = block.bytesOffset + block.bytesPresent;
  const name = readString(b, block.bytesOffset, limit, unicode);
  const parameterCount = w(9);
  const parameterOffset = w(10);
  const dataCount = w(11);
  const dataOffset = w(12);
  const parameters = slice(b, parameterOffset, parameterCount, 'parameters', problems);
  const data = slice(b, dataOffset, dataCount, 'data', problems);
  return {
    totalParameterCount: w(0), totalDataCount: w(1), maxParameterCount: w(2), maxDataCount: w(3),
    maxSetupCount: b[block.wordsOffset + 8]!, flags: w(5), timeout: u32(b, block.wordsOffset + 12),
    parameterCount, parameterOffset, dataCount, dataOffset, setupCount, setup, name, parameters, data, problems,
  };
}

export interface TransResponse {
  readonly totalParameterCount: number;
  readonly totalDataCount: number;
  readonly parameterCount: number;
  readonly parameterOffset: number;
  readonly parameterDisplacement: number;
  readonly dataCount: number;
  readonly dataOffset: number;
  readonly dataDisplacement: number;
  readonly setupCount: number;
  readonly parameters: Uint8Array;
  readonly data: Uint8Array;
  readonly problems: string[];
}

/** SMB_COM_TRANSACTION response (MS-CIFS 2.2.4.33.2): WordCount 10 + SetupCount. */
export function parseTransResponse(b: Uint8Array, block: Block): TransResponse | string {
  if (block.wordCount < 10) return `Trans response WordCount ${block.wordCount} is less than 10`;
  const w = (i: number): number => word(b, block, i);
  const problems: string[] = [];
  const parameterCount = w(3);
  const parameterOffset = w(4);
  const dataCount = w(6);
  const dataOffset = w(7);
  return {
    totalParameterCount: w(0), totalDataCount: w(1), parameterCount, parameterOffset, parameterDisplacement: w(5),
    dataCount, dataOffset, dataDisplacement: w(8), setupCount: b[block.wordsOffset + 18]!,
    parameters: slice(b, parameterOffset, parameterCount, 'parameters', problems),
    data: slice(b, dataOffset, dataCount, 'data', problems),
    problems,
  };
}

export interface TransSecondaryRequest {
  readonly totalParameterCount: number;
  readonly totalDataCount: number;
  readonly parameterCount: number;
  readonly parameterOffset: number;
  readonly parameterDisplacement: number;
  readonly dataCount: number;
  readonly dataOffset: number;
  readonly dataDisplacement: number;
  readonly parameters: Uint8Array;
  readonly data: Uint8Array;
  readonly problems: string[];
}

/** SMB_COM_TRANSACTION_SECONDARY request (MS-CIFS 2.2.4.34.1): WordCount 8, no setup, no name. */
export function parseTransSecondary(b: Uint8Array, block: Block): TransSecondaryRequest | string {
  if (block.wordCount !== 8) return `Trans Secondary request WordCount ${block.wordCount} is not 8`;
  const w = (i: number): number => word(b, block, i);
  const problems: string[] = [];
  const parameterCount = w(2);
  const parameterOffset = w(3);
  const dataCount = w(5);
  const dataOffset = w(6);
  return {
    totalParameterCount: w(0), totalDataCount: w(1), parameterCount, parameterOffset, parameterDisplacement: w(4),
    dataCount, dataOffset, dataDisplacement: w(7),
    parameters: slice(b, parameterOffset, parameterCount, 'parameters', problems),
    data: slice(b, dataOffset, dataCount, 'data', problems),
    problems,
  };
}

function slice(b: Uint8Array, offset: number, count: number, what: string, problems: string[]): Uint8Array {
  if (count === 0) return b.subarray(0, 0);
  if (offset < SMB_HEADER_LENGTH || offset > b.length) {
    problems.push(`${what} offset ${offset} is outside the message`);
    return b.subarray(0, 0);
  }
  if (offset + count > b.length) {
    problems.push(`${what}: ${count} bytes declared at offset ${offset}, ${b.length - offset} present`);
    return b.subarray(offset);
  }
  return b.subarray(offset, offset + count);
}

/** Named-pipe transaction subcommands (MS-CIFS 2.2.5). */
export const PIPE_FUNCTIONS: ReadonlyMap<number, string> = new Map([
  [0x0001, 'SetNmPHandState'], [0x0011, 'RawReadNmPipe'], [0x0021, 'QNmPHandState'], [0x0022, 'QNmPipeInfo'],
  [0x0023, 'PeekNmPipe'], [0x0026, 'TransactNmPipe'], [0x0031, 'RawWriteNmPipe'], [0x0036, 'ReadNmPipe'],
  [0x0037, 'WriteNmPipe'], [0x0053, 'WaitNmPipe'], [0x0054, 'CallNmPipe'],
]);

export interface WriteAndX {
  readonly fid: number;
  readonly offset: number;
  readonly writeMode: number;
  readonly remaining: number;
  readonly dataLength: number;
  readonly dataOffset: number;
  readonly data: Uint8Array;
  readonly problems: string[];
}

/** WRITE_ANDX request (MS-CIFS 2.2.4.43.1): WordCount 12 or 14. */
export function parseWriteAndX(b: Uint8Array, block: Block): WriteAndX | string {
  if (block.wordCount !== 12 && block.wordCount !== 14) return `Write AndX request WordCount ${block.wordCount} is not 12 or 14`;
  const w = (i: number): number => word(b, block, i);
  const problems: string[] = [];
  const dataOffset = w(11);
  // DataLengthHigh (MS-SMB 2.2.4.3.1) sits in the former Reserved word; only trust it when
  // the bytes are there, since older clients leave garbage in it.
  const high = w(10) | (w(9) << 16);
  const dataLength = w(9) !== 0 && dataOffset + high <= b.length ? high : w(10);
  const data = slice(b, dataOffset, dataLength, 'data', problems);
  return { fid: w(2), offset: u32(b, block.wordsOffset + 6), writeMode: w(7), remaining: w(8), dataLength, dataOffset, data, problems };
}

export interface ReadAndXResponse {
  readonly available: number;
  readonly dataLength: number;
  readonly dataOffset: number;
  readonly data: Uint8Array;
  readonly problems: string[];
}

/** READ_ANDX response (MS-CIFS 2.2.4.42.2): WordCount 12. */
export function parseReadAndXResponse(b: Uint8Array, block: Block): ReadAndXResponse | string {
  if (block.wordCount !== 12) return `Read AndX response WordCount ${block.wordCount} is not 12`;
  const w = (i: number): number => word(b, block, i);
  const problems: string[] = [];
  const dataOffset = w(6);
  const high = w(5) | (w(7) << 16);
  const dataLength = w(7) !== 0 && dataOffset + high <= b.length ? high : w(5);
  return { available: w(2), dataLength, dataOffset, data: slice(b, dataOffset, dataLength, 'data', problems), problems };
}
