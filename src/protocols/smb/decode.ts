// Decodes one whole SMB1 message (header and the AndX chain) into typed command records.
// Pure: bytes (and the OEM code page for non-Unicode strings) in, values out. The session
// state (session.ts) and the presentation (tree.ts) both work from these records.
import { oemString } from '../oem-text.js';
import {
  andx, ANDX_COMMANDS, CMD, parseBlock, parseDialects, parseHeader, parseOneString, parseReadAndXResponse, parseSendMessage,
  parseTextBlock, parseTransRequest, parseTransResponse, parseTransSecondary, parseWriteAndX, readString, u16, u32, utf16, word,
  type AndX, type Block, type BufferField, type ReadAndXResponse, type SendMessageRequest, type SmbHeader, type SmbString,
  type TransRequest, type TransResponse, type TransSecondaryRequest, type WriteAndX,
} from './parse.js';

export type CommandBody =
  | { kind: 'negotiate-req'; dialects: { name: string; offset: number; length: number }[] }
  | { kind: 'negotiate-resp'; dialectIndex: number; maxBuffer?: number; capabilities?: number; securityMode?: number }
  | { kind: 'session-setup-req'; account: string; domain: string; nativeOs: string; nativeLanman: string; securityBlob?: number }
  | { kind: 'session-setup-resp'; action: number; nativeOs: string; nativeLanman: string }
  | { kind: 'tree-connect-req'; path: string; service: string }
  | { kind: 'tree-connect-resp'; service: string; nativeFs: string }
  | { kind: 'create-req'; name: string; nameOffset: number; nameLength: number }
  | { kind: 'create-resp'; fid: number; fidOffset: number; fileType?: number }
  | { kind: 'write-req'; write: WriteAndX }
  | { kind: 'write-resp'; count: number }
  | { kind: 'read-req'; fid: number; offset: number; maxCount: number }
  | { kind: 'read-resp'; read: ReadAndXResponse }
  | { kind: 'close-req'; fid: number }
  | { kind: 'trans-req'; trans: TransRequest; name: string }
  | { kind: 'trans-resp'; trans: TransResponse }
  | { kind: 'trans-secondary-req'; trans: TransSecondaryRequest }
  | { kind: 'send-message'; msg: SendMessageRequest }
  | { kind: 'start-mb'; msg: SendMessageRequest }
  | { kind: 'text-mb'; groupId?: number; data?: BufferField; error?: string }
  | { kind: 'end-mb'; groupId?: number }
  | { kind: 'start-mb-resp'; groupId?: number }
  | { kind: 'name-string'; field: 'forwarded' | 'machine'; value?: BufferField; error?: string }
  | { kind: 'other' };

export interface SmbCommand {
  readonly command: number;
  /** Offset of the WordCount byte. */
  readonly offset: number;
  readonly block: Block | undefined;
  readonly andx: AndX | undefined;
  readonly body: CommandBody;
  /** Problems with this command's layout (become findings). */
  readonly problems: string[];
}

export interface SmbPdu {
  readonly bytes: Uint8Array;
  readonly header: SmbHeader;
  readonly commands: SmbCommand[];
  readonly problems: string[];
}

const MAX_CHAIN = 16;

export function decodeSmb(b: Uint8Array, codepage: string): SmbPdu | string {
  const header = parseHeader(b);
  if (typeof header === 'string') return header;
  const commands: SmbCommand[] = [];
  const problems: string[] = [];
  let command = header.command;
  let offset = 32;
  for (let n = 0; n < MAX_CHAIN; n++) {
    const parsed = parseBlock(b, offset);
    if (typeof parsed === 'string') {
      // An error response may carry no parameter block at all.
      commands.push({ command, offset, block: undefined, andx: undefined, body: { kind: 'other' }, problems: [parsed] });
      break;
    }
    let block = parsed;
    const cmdProblems: string[] = [];
    // MS-SMB 2.2.4.9.2: the extended NT_CREATE_ANDX response says WordCount 42 but carries 50
    // words (Windows behaviour); read ByteCount where it really is.
    if (command === CMD.NT_CREATE_ANDX && header.isResponse && block.wordCount === 42 && block.wordsOffset + 102 <= b.length) {
      const byteCount = u16(b, block.wordsOffset + 100);
      const bytesOffset = block.wordsOffset + 102;
      if (bytesOffset + byteCount <= b.length) {
        block = { ...block, byteCount, bytesOffset, bytesPresent: byteCount, end: bytesOffset + byteCount };
      }
    }
    if (block.byteCount > block.bytesPresent) cmdProblems.push(`ByteCount ${block.byteCount} but only ${block.bytesPresent} bytes present`);
    const link = ANDX_COMMANDS.has(command) ? andx(b, block) : undefined;
    const body = decodeBody(b, header, command, block, codepage, cmdProblems);
    commands.push({ command, offset, block, andx: link, body, problems: cmdProblems });
    if (link === undefined || link.command === 0xff) break;
    // AndX offsets must move forward, or a crafted chain could loop (MS-CIFS 2.2.3.4).
    if (link.offset <= offset || link.offset >= b.length) {
      if (block.wordCount > 0 && !(header.isResponse && block.wordCount === 0)) problems.push(`AndXOffset ${link.offset} does not point forward inside the message`);
      break;
    }
    command = link.command;
    offset = link.offset;
    if (n === MAX_CHAIN - 1) problems.push(`AndX chain longer than ${MAX_CHAIN} commands`);
  }
  return { bytes: b, header, commands, problems };
}

function str(s: SmbString, codepage: string): string {
  return s.unicode ? utf16(s.value) : oemString(s.value, codepage);
}

function decodeBody(b: Uint8Array, h: SmbHeader, command: number, block: Block, codepage: string, problems: string[]): CommandBody {
  const resp = h.isResponse;
  const wc = block.wordCount;
  const limit = block.bytesOffset + block.bytesPresent;
  const unicode = h.unicode;
  switch (command) {
    case CMD.NEGOTIATE:
      if (!resp) return { kind: 'negotiate-req', dialects: parseDialects(b, block) };
      if (wc === 0) return { kind: 'other' };
      if (wc === 17) {
        return { kind: 'negotiate-resp', dialectIndex: word(b, block, 0), securityMode: b[block.wordsOffset + 2]!, maxBuffer: u32(b, block.wordsOffset + 7), capabilities: u32(b, block.wordsOffset + 19) };
      }
      return { kind: 'negotiate-resp', dialectIndex: word(b, block, 0) };
    case CMD.SESSION_SETUP_ANDX: {
      if (!resp) {
        if (wc === 12) {
          const blobLen = word(b, block, 7);
          let p = block.bytesOffset + blobLen;
          const os = readString(b, p, limit, unicode);
          p = os.end;
          const lm = readString(b, p, limit, unicode);
          return { kind: 'session-setup-req', account: '', domain: '', nativeOs: str(os, codepage), nativeLanman: str(lm, codepage), securityBlob: blobLen };
        }
        if (wc === 13 || wc === 10) {
          const pwLen = wc === 13 ? word(b, block, 7) + word(b, block, 8) : word(b, block, 7);
          let p = block.bytesOffset + pwLen;
          const account = readString(b, p, limit, unicode);
          p = account.end;
          const domain = readString(b, p, limit, unicode);
          p = domain.end;
          const os = readString(b, p, limit, unicode);
          p = os.end;
          const lm = readString(b, p, limit, unicode);
          return { kind: 'session-setup-req', account: str(account, codepage), domain: str(domain, codepage), nativeOs: str(os, codepage), nativeLanman: str(lm, codepage) };
        }
        return { kind: 'other' };
      }
      if (wc === 3 || wc === 4) {
        const skip = wc === 4 ? word(b, block, 3) : 0;
        const os = readString(b, block.bytesOffset + skip, limit, unicode);
        const lm = readString(b, os.end, limit, unicode);
        return { kind: 'session-setup-resp', action: word(b, block, 2), nativeOs: str(os, codepage), nativeLanman: str(lm, codepage) };
      }
      return { kind: 'other' };
    }
    case CMD.TREE_CONNECT_ANDX: {
      if (!resp) {
        if (wc !== 4) return { kind: 'other' };
        const pw = word(b, block, 3);
        const path = readString(b, block.bytesOffset + pw, limit, unicode);
        const service = readString(b, path.end, limit, false);
        return { kind: 'tree-connect-req', path: str(path, codepage), service: oemString(service.value, codepage) };
      }
      if (wc < 2) return { kind: 'other' };
      const service = readString(b, block.bytesOffset, limit, false);
      const fs = readString(b, service.end, limit, unicode);
      return { kind: 'tree-connect-resp', service: oemString(service.value, codepage), nativeFs: str(fs, codepage) };
    }
    case CMD.NT_CREATE_ANDX: {
      if (!resp) {
        if (wc !== 24) {
          problems.push(`NT Create AndX request WordCount ${wc} is not 24`);
          return { kind: 'other' };
        }
        const name = readString(b, block.bytesOffset, limit, unicode);
        return { kind: 'create-req', name: str(name, codepage), nameOffset: name.offset, nameLength: name.length };
      }
      if (wc < 34) return { kind: 'other' };
      return { kind: 'create-resp', fid: u16(b, block.wordsOffset + 5), fidOffset: block.wordsOffset + 5, fileType: u16(b, block.wordsOffset + 63) };
    }
    case CMD.OPEN_ANDX: {
      if (!resp) {
        if (wc !== 15) return { kind: 'other' };
        const name = readString(b, block.bytesOffset, limit, unicode);
        return { kind: 'create-req', name: str(name, codepage), nameOffset: name.offset, nameLength: name.length };
      }
      if (wc < 15) return { kind: 'other' };
      return { kind: 'create-resp', fid: word(b, block, 2), fidOffset: block.wordsOffset + 4, fileType: word(b, block, 9) };
    }
    case CMD.WRITE_ANDX: {
      if (!resp) {
        const write = parseWriteAndX(b, block);
        if (typeof write === 'string') {
          problems.push(write);
          return { kind: 'other' };
        }
        problems.push(...write.problems);
        return { kind: 'write-req', write };
      }
      if (wc < 6) return { kind: 'other' };
      return { kind: 'write-resp', count: word(b, block, 2) | (word(b, block, 4) << 16) };
    }
    case CMD.READ_ANDX: {
      if (!resp) {
        if (wc !== 10 && wc !== 12) {
          problems.push(`Read AndX request WordCount ${wc} is not 10 or 12`);
          return { kind: 'other' };
        }
        return { kind: 'read-req', fid: word(b, block, 2), offset: u32(b, block.wordsOffset + 6), maxCount: word(b, block, 5) };
      }
      const read = parseReadAndXResponse(b, block);
      if (typeof read === 'string') {
        if (wc !== 0) problems.push(read);
        return { kind: 'other' };
      }
      problems.push(...read.problems);
      return { kind: 'read-resp', read };
    }
    case CMD.CLOSE:
      if (!resp && wc === 3) return { kind: 'close-req', fid: word(b, block, 0) };
      return { kind: 'other' };
    case CMD.TRANSACTION: {
      if (!resp) {
        const trans = parseTransRequest(b, block, unicode);
        if (typeof trans === 'string') {
          problems.push(trans);
          return { kind: 'other' };
        }
        problems.push(...trans.problems);
        return { kind: 'trans-req', trans, name: str(trans.name, codepage) };
      }
      if (wc === 0) return { kind: 'other' };
      const trans = parseTransResponse(b, block);
      if (typeof trans === 'string') {
        problems.push(trans);
        return { kind: 'other' };
      }
      problems.push(...trans.problems);
      return { kind: 'trans-resp', trans };
    }
    case CMD.TRANSACTION_SECONDARY: {
      // Only requests exist; the server answers the whole transaction under the primary's MID.
      if (resp) return { kind: 'other' };
      const trans = parseTransSecondary(b, block);
      if (typeof trans === 'string') {
        problems.push(trans);
        return { kind: 'other' };
      }
      problems.push(...trans.problems);
      return { kind: 'trans-secondary-req', trans };
    }
    case CMD.SEND_MESSAGE:
    case CMD.SEND_BROADCAST_MESSAGE:
    case CMD.SEND_START_MB_MESSAGE: {
      if (resp) {
        if (command === CMD.SEND_START_MB_MESSAGE) return { kind: 'start-mb-resp', groupId: wc >= 1 ? word(b, block, 0) : undefined };
        return { kind: 'other' };
      }
      const msg = parseSendMessage(b, block, command !== CMD.SEND_START_MB_MESSAGE);
      return command === CMD.SEND_START_MB_MESSAGE ? { kind: 'start-mb', msg } : { kind: 'send-message', msg };
    }
    case CMD.SEND_TEXT_MB_MESSAGE:
      if (resp) return { kind: 'other' };
      return { kind: 'text-mb', ...parseTextBlock(b, block) };
    case CMD.SEND_END_MB_MESSAGE:
      if (resp) return { kind: 'other' };
      return { kind: 'end-mb', groupId: wc >= 1 ? word(b, block, 0) : undefined };
    case CMD.FORWARD_USER_NAME:
    case CMD.CANCEL_FORWARD:
      if (resp) return { kind: 'other' };
      return oneString(b, block, 'forwarded');
    case CMD.GET_MACHINE_NAME:
      if (!resp) return { kind: 'other' };
      return oneString(b, block, 'machine');
    default:
      return { kind: 'other' };
  }
}

function oneString(b: Uint8Array, block: Block, field: 'forwarded' | 'machine'): CommandBody {
  const v = parseOneString(b, block);
  return typeof v === 'string' ? { kind: 'name-string', field, error: v } : { kind: 'name-string', field, value: v };
}
