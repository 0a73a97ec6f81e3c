// MSNP framing (pure): a command is a three-letter name or a three-digit error code, parameters
// separated by spaces, CRLF (draft §5.2; a bare LF is accepted and reported). Payload commands
// carry their byte length as a parameter and the payload follows the line with no terminator;
// which parameter that is comes from the command table (commands.ts), keyed on the command,
// version and direction.
import { commandSpec, payloadIndex, type Side } from './commands.js';

/** Longest command line accepted (NLN lines with an MSN object run to ~1 KB). */
export const MAX_LINE = 16 * 1024;
/** Largest payload accepted (GCF/ADL XML documents are tens of KB; MSG is limited to ~1.6 KB). */
export const MAX_PAYLOAD = 1024 * 1024;

export interface RawCommand {
  readonly name: string;
  readonly params: string[];
  /** The line as text, without its terminator. */
  readonly line: string;
  /** Bytes of the line including the terminator. */
  readonly lineLength: number;
  readonly bareLf: boolean;
  /** Index of the payload-length parameter, or -1. */
  readonly payloadIndex: number;
  readonly payloadLength: number;
  /** lineLength + payloadLength */
  readonly total: number;
  /** Not in the command table (and not an error code). */
  readonly unknown: boolean;
  /** A payload-length parameter that is not a decimal number. */
  readonly badLength?: string;
}

export type FrameResult =
  | { readonly kind: 'command'; readonly cmd: RawCommand }
  /** More bytes are needed; `cmd` is set when the line is complete and only payload is missing. */
  | { readonly kind: 'need'; readonly cmd?: RawCommand }
  /** These bytes do not start a command: skip them (to just after the next line feed). */
  | { readonly kind: 'garbage'; readonly skip: number; readonly reason: string };

const decoder = new TextDecoder('utf-8', { fatal: false });

function isUpper(b: number): boolean {
  return b >= 0x41 && b <= 0x5a;
}
function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** Whether bytes at `o` look like the start of a command name (used for resynchronisation). */
export function looksLikeCommandStart(buf: Uint8Array, o: number, known: boolean): boolean {
  if (buf.length - o < 4) return false;
  const a = buf[o]!, b = buf[o + 1]!, c = buf[o + 2]!, sep = buf[o + 3]!;
  if (sep !== 0x20 && sep !== 0x0d && sep !== 0x0a) return false;
  if (isDigit(a) && isDigit(b) && isDigit(c)) return true;
  if (!(isUpper(a) && isUpper(b) && isUpper(c))) return false;
  return !known || commandSpec(String.fromCharCode(a, b, c)) !== undefined;
}

function skipToNextLine(buf: Uint8Array, from: number): number {
  const lf = buf.indexOf(0x0a, from);
  return lf < 0 ? buf.length : lf + 1;
}

/**
 * Frames the command at the start of `buf`. `strict` is false while resynchronising: then only
 * known commands and error codes are accepted as a line start.
 */
export function frameCommand(buf: Uint8Array, side: Side, version: number | undefined, strict: boolean): FrameResult {
  if (buf.length === 0) return { kind: 'need' };
  // Check the name as soon as its bytes are there, so garbage is skipped without waiting for a line feed.
  const head = Math.min(buf.length, 4);
  for (let i = 0; i < head; i++) {
    const b = buf[i]!;
    const ok = i < 3 ? isUpper(b) || isDigit(b) : b === 0x20 || b === 0x0d || b === 0x0a;
    if (!ok) return { kind: 'garbage', skip: skipToNextLine(buf, 0), reason: 'not a command line' };
  }
  if (buf.length >= 3) {
    const allDigits = isDigit(buf[0]!) && isDigit(buf[1]!) && isDigit(buf[2]!);
    const allUpper = isUpper(buf[0]!) && isUpper(buf[1]!) && isUpper(buf[2]!);
    if (!allDigits && !allUpper) return { kind: 'garbage', skip: skipToNextLine(buf, 0), reason: 'not a command name' };
    if (!strict && allUpper && commandSpec(String.fromCharCode(buf[0]!, buf[1]!, buf[2]!)) === undefined) {
      return { kind: 'garbage', skip: skipToNextLine(buf, 0), reason: 'unknown command while resynchronising' };
    }
  }
  const limit = Math.min(buf.length, MAX_LINE);
  const lf = buf.subarray(0, limit).indexOf(0x0a);
  if (lf < 0) {
    if (buf.length >= MAX_LINE) return { kind: 'garbage', skip: skipToNextLine(buf, 0), reason: `no line end within ${MAX_LINE} bytes` };
    return { kind: 'need' };
  }
  const bareLf = lf === 0 || buf[lf - 1] !== 0x0d;
  const textEnd = bareLf ? lf : lf - 1;
  for (let i = 0; i < textEnd; i++) {
    const b = buf[i]!;
    // Parameters are URL-encoded (draft §5.2); control bytes mean this is not a command line.
    if (b < 0x20 && b !== 0x09) return { kind: 'garbage', skip: lf + 1, reason: 'control byte in a command line' };
  }
  const line = decoder.decode(buf.subarray(0, textEnd));
  const parts = line.split(/[ \t]+/);
  if (parts[parts.length - 1] === '') parts.pop();
  const name = parts.shift() ?? '';
  const isError = /^\d{3}$/.test(name);
  const unknown = !isError && commandSpec(name) === undefined;
  const idx = unknown ? -1 : payloadIndex(name, side, parts, version);
  let payloadLength = 0;
  let badLength: string | undefined;
  if (idx >= 0) {
    const text = parts[idx]!;
    if (!/^\d{1,9}$/.test(text)) badLength = text;
    else {
      payloadLength = Number(text);
      if (payloadLength > MAX_PAYLOAD) return { kind: 'garbage', skip: lf + 1, reason: `payload length ${payloadLength} exceeds the ${MAX_PAYLOAD}-byte limit` };
    }
  }
  const cmd: RawCommand = {
    name,
    params: parts,
    line,
    lineLength: lf + 1,
    bareLf,
    payloadIndex: badLength === undefined ? idx : -1,
    payloadLength,
    total: lf + 1 + payloadLength,
    unknown,
    badLength,
  };
  if (buf.length < cmd.total) return { kind: 'need', cmd };
  return { kind: 'command', cmd };
}
