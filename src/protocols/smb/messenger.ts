// SMB messenger state (MS-MSRP 2.2.3, 3.2.4.4–3.2.4.5): joins SEND_START_MB → SEND_TEXT_MB…
// → SEND_END_MB groups into one message, pairs every request with its response for the
// delivery status, and checks each PDU against the spec. One tracker per SMB conversation.
import type { EngineContext, Route } from '../../engine/context.js';
import type { MessageEvent, MessageStatus } from '../../model/events.js';
import type { Finding, FindingDef } from '../../model/findings.js';
import { SMB_FINDINGS } from './findings.js';
import { hasRawLineBreaks, messengerText, oemString } from '../oem-text.js';
import type { SmbCommand, SmbPdu } from './decode.js';
import { CMD, FLAGS_REPLY, type BufferField, type SendMessageRequest } from './parse.js';
import { smbStatus } from './status.js';
import { copyBytes } from '../../util/bytes.js';

/** MS-MSRP 2.2.3.1.1 / 2.2.3.3.1: DataLength MUST NOT be greater than 128. */
const MAX_BLOCK = 128;
/** MS-MSRP 3.2.4.4: Text MUST be 652 bytes or less. */
const MAX_TEXT = 652;
/** MS-MSRP 2.2.3.1.1: names MUST NOT be more than 15 bytes without the NUL. */
const MAX_NAME = 15;
/** Bound on the bytes kept for one group: far above any legal message. */
const MAX_GROUP_BYTES = 64 * 1024;
const MAX_GROUPS = 256;
/** Bound on the PDUs of one group (a legal 652-byte text needs 7): keeps frames, commands and findings finite. */
const MAX_GROUP_PDUS = 1024;

export interface FrameInfo {
  readonly frames: number[];
  readonly frame: number;
  readonly tsSec: number;
  readonly tsNsec: number;
}

interface Pending {
  /** Frames of every request and response so far. */
  frames: number[];
  tsSec: number;
  tsNsec: number;
  from: string;
  to: string[];
  blocks: Uint8Array[];
  bytes: number;
  commands: string[];
  findings: Finding[];
  status: MessageStatus;
  error?: string;
  /** A request of the group still waiting for its response. */
  outstanding: number;
  /** The final request (D0 or D6) was sent, and whether it was answered. */
  finalSent: boolean;
  finalAnswered: boolean;
  /** START_MB response's MessageGroupId, when it had one. */
  groupId?: number;
  /** MessageGroupId values the client used in TEXT_MB/END_MB. */
  usedIds: number[];
  /** A TEXT_MB or END_MB sent while an earlier request of the group awaited its response (reported once a response shows the server's side is in the capture). */
  early?: { frame: number; spec: string; reported: boolean };
  multiblock: boolean;
  /** The text passed MAX_GROUP_BYTES (reported once per message; later blocks are dropped quietly). */
  textCut: boolean;
  done: boolean;
  headerRequest: HeaderNote;
  headerResponse: HeaderNote;
}

interface HeaderNote {
  frame: number;
  spec: string;
  fields: string[];
}

/** What a request leaves with the session so its response finds the message again. */
export interface MessengerToken {
  readonly msg: Pending;
  readonly command: number;
}

export interface MessengerOptions {
  readonly route: Route;
  readonly transport: string;
  /** The NBSS called name's text and suffix, when the conversation had a session request. */
  readonly called?: () => { name: string; suffix: number } | undefined;
  readonly calling?: () => string | undefined;
  /** Datagram delivery (NBDGM): no response exists, so a message without one is `unknown`, not `no-response`. */
  readonly unacknowledged?: boolean;
  /** SMB directly on TCP 445: no NetBIOS session names the recipient (MS-MSRP 2.1.3). */
  readonly directHosted?: boolean;
}

export const MESSENGER_COMMANDS: ReadonlySet<number> = new Set([0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7]);

function allZero(bytes: ArrayLike<number>): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function hex(cmd: number): string {
  return `0x${cmd.toString(16).toUpperCase()}`;
}

export class MessengerTracker {
  private current: Pending | undefined;
  private readonly open = new Set<Pending>();

  constructor(private readonly ctx: EngineContext, private readonly opts: MessengerOptions) {}

  /** Emits a finding; `clause` is the command's own section, for the rules stated per command. */
  private add(msg: Pending | undefined, def: FindingDef, frame: number, summary: string, clause?: string): void {
    const item = def.at(frame, summary, clause !== undefined ? { clause } : undefined);
    this.ctx.packetFinding(item);
    if (msg !== undefined) msg.findings.push(item);
    else this.ctx.standaloneFinding(item, 'smb', this.opts.route, this.ctx.packet?.frame.tsSec ?? 0, this.ctx.packet?.frame.tsNsec ?? 0);
  }

  private newMessage(at: FrameInfo, multiblock: boolean): Pending {
    const msg: Pending = {
      frames: [...at.frames], tsSec: at.tsSec, tsNsec: at.tsNsec, from: '', to: [], blocks: [], bytes: 0, commands: [], findings: [],
      status: 'no-response', outstanding: 0, finalSent: false, finalAnswered: false, usedIds: [], multiblock, textCut: false, done: false,
      headerRequest: { frame: 0, spec: '', fields: [] }, headerResponse: { frame: 0, spec: '', fields: [] },
    };
    if (this.open.size >= MAX_GROUPS) {
      const oldest = this.open.values().next().value;
      if (oldest !== undefined) {
        this.add(oldest, SMB_FINDINGS.msgTableFull, at.frame, `more than ${MAX_GROUPS} messages in progress on one conversation: the oldest is reported as it stands`);
        this.finish(oldest);
      }
    }
    this.open.add(msg);
    this.ctx.holds?.hold(msg.frames[0] ?? 0); // released by finish
    return msg;
  }

  /** Header fields other than Command (and Status in responses) MUST be zero (MS-MSRP 2.2.3.1.1 and siblings). */
  private checkHeader(pdu: SmbPdu, msg: Pending | undefined, frame: number, spec: string): void {
    const h = pdu.header;
    // Field names only (every PDU of a spam wave checks them); the values go into the text of a
    // finding made here, the note of a message keeps the names.
    const nonzero: string[] = [];
    if ((h.flags & ~FLAGS_REPLY) !== 0) nonzero.push('Flags');
    if (h.flags2 !== 0) nonzero.push('Flags2');
    if (h.pidHigh !== 0) nonzero.push('PIDHigh');
    if (!allZero(h.signature)) nonzero.push('SecurityFeatures');
    if (h.reserved !== 0) nonzero.push('Reserved');
    if (h.tid !== 0) nonzero.push('TID');
    if (h.pidLow !== 0) nonzero.push('PIDLow');
    if (h.uid !== 0) nonzero.push('UID');
    if (h.mid !== 0) nonzero.push('MID');
    if (!h.isResponse && h.status !== 0) nonzero.push('Status');
    if (nonzero.length === 0) return;
    if (msg === undefined) {
      const shown = nonzero.map((n) => (n === 'Flags' ? `Flags 0x${h.flags.toString(16)}` : n === 'Flags2' ? `Flags2 0x${h.flags2.toString(16)}` : n));
      this.add(msg, SMB_FINDINGS.msgHeaderNotZero, frame, `${h.isResponse ? 'response' : 'request'} header fields that MUST be zero are not: ${shown.join(', ')}`, spec);
      return;
    }
    // Reported once per message and side (real senders set the same fields in every PDU).
    const side = h.isResponse ? msg.headerResponse : msg.headerRequest;
    if (side.frame === 0) {
      side.frame = frame;
      side.spec = spec;
    }
    for (const n of nonzero) if (!side.fields.includes(n)) side.fields.push(n);
  }

  private checkName(msg: Pending, field: BufferField | undefined, label: string, frame: number, spec: string): string {
    if (field === undefined) return '';
    if (field.format !== 0x04) this.add(msg, SMB_FINDINGS.msgBadBufferFormat, frame, `BufferFormat before ${label} is 0x${field.format.toString(16).padStart(2, '0')}, MUST be 0x04`, spec);
    if (!field.terminated) this.add(msg, SMB_FINDINGS.msgNameUnterminated, frame, `${label} has no terminating NUL`, spec);
    if (field.value.length > MAX_NAME) this.add(msg, SMB_FINDINGS.msgNameTooLong, frame, `${label} is ${field.value.length} bytes, more than 15`, spec);
    return oemString(field.value, this.ctx.options.oemCodepage);
  }

  /** From/To of D0, D1 and D5, with the name checks and the recipient rules of MS-MSRP 3.2.4.4. */
  private names(msg: Pending, m: SendMessageRequest, frame: number, spec: string): void {
    msg.from = this.checkName(msg, m.originator, 'OriginatorName', frame, spec);
    if (m.originator !== undefined && m.originator.value.length === 0) this.add(msg, SMB_FINDINGS.msgNoFrom, frame, 'OriginatorName is empty: the message names no sender');
    if (this.opts.directHosted === true) {
      this.add(msg, SMB_FINDINGS.msgTransport, frame, 'messenger PDU on direct-hosted SMB (TCP 445): no NetBIOS session names the recipient');
    }
    const to = this.checkName(msg, m.destination, 'DestinationName', frame, spec);
    msg.to = m.destination !== undefined ? [to] : [];
    if (to.startsWith('*')) this.add(msg, SMB_FINDINGS.msgToAsterisk, frame, `recipient '${to}' begins with an asterisk`);
    const called = this.opts.called?.();
    if (called !== undefined && called.suffix !== 0x03) {
      this.add(msg, SMB_FINDINGS.msgToNotMessengerName, frame,
        `message sent on a NetBIOS session to ${called.name}<${called.suffix.toString(16).padStart(2, '0')}>, not to a messenger (<03>) name`);
    }
    if (m.error !== undefined) this.add(msg, SMB_FINDINGS.msgMalformed, frame, m.error, spec);
  }

  private block(msg: Pending, data: BufferField, frame: number, spec: string): void {
    if (data.format !== 0x01) this.add(msg, SMB_FINDINGS.msgBadBufferFormat, frame, `BufferFormat before the data is 0x${data.format.toString(16).padStart(2, '0')}, MUST be 0x01`, spec);
    const declared = data.dataLength ?? data.value.length;
    if (declared > MAX_BLOCK) this.add(msg, SMB_FINDINGS.msgDataTooLong, frame, `DataLength ${declared} is greater than 128`, spec);
    if (declared !== data.value.length) {
      this.add(msg, SMB_FINDINGS.msgDatalengthMismatch, frame, `DataLength ${declared} but ${data.value.length} data bytes present; the bytes present are used`, spec);
    }
    if (hasRawLineBreaks(data.value)) this.add(msg, SMB_FINDINGS.msgRawLineBreak, frame, 'text contains CR or LF bytes; senders MUST convert them to 0x14', spec);
    if (msg.textCut) return;
    if (msg.bytes + data.value.length > MAX_GROUP_BYTES) {
      // One finding per message, not per block: a group that keeps sending text must not grow its findings.
      msg.textCut = true;
      this.add(msg, SMB_FINDINGS.msgGroupLimit, frame, `message text passed ${MAX_GROUP_BYTES} bytes: the rest is not kept`);
      return;
    }
    msg.blocks.push(copyBytes(data.value));
    msg.bytes += data.value.length;
  }

  private checkWordCount(msg: Pending | undefined, c: SmbCommand, want: number, frame: number, spec: string, what: string): void {
    if (c.block !== undefined && c.block.wordCount !== want) {
      this.add(msg, SMB_FINDINGS.msgBadWordcount, frame, `${what} WordCount is ${c.block.wordCount}, MUST be ${want}`, spec);
    }
  }

  private checkByteCount(msg: Pending | undefined, c: SmbCommand, want: number, frame: number, spec: string, what: string): void {
    if (c.block !== undefined && c.block.byteCount !== want) {
      this.add(msg, SMB_FINDINGS.msgBadBytecount, frame, `${what} ByteCount is ${c.block.byteCount}, the fields need ${want}`, spec);
    }
  }

  /** A messenger request; returns what its response needs. */
  request(pdu: SmbPdu, c: SmbCommand, at: FrameInfo): MessengerToken | undefined {
    const body = c.body;
    const frame = at.frame;
    switch (c.command) {
      case CMD.SEND_MESSAGE:
      case CMD.SEND_BROADCAST_MESSAGE: {
        if (body.kind !== 'send-message') return undefined;
        const spec = c.command === CMD.SEND_MESSAGE ? 'MS-MSRP 2.2.3.1.1' : 'MS-CIFS 2.2.4.62';
        const msg = this.newMessage(at, false);
        msg.commands.push(hex(c.command));
        this.checkHeader(pdu, msg, frame, spec);
        this.checkWordCount(msg, c, 0, frame, spec, 'request');
        this.names(msg, body.msg, frame, spec);
        const m = body.msg;
        if (m.data !== undefined) {
          this.block(msg, m.data, frame, spec);
          const need = 1 + (m.originator?.length ?? 0) + 1 + (m.destination?.length ?? 0) + 3 + (m.data.dataLength ?? 0);
          this.checkByteCount(msg, c, need, frame, spec, 'request');
        }
        msg.finalSent = true;
        if (c.command === CMD.SEND_BROADCAST_MESSAGE) {
          // No response is sent to a broadcast message (MS-CIFS 2.2.4.62).
          msg.status = 'unknown';
          this.finish(msg);
          return undefined;
        }
        msg.outstanding++;
        return { msg, command: c.command };
      }
      case CMD.SEND_START_MB_MESSAGE: {
        if (body.kind !== 'start-mb') return undefined;
        const spec = 'MS-MSRP 2.2.3.2.1';
        if (this.current !== undefined && !this.current.done && !this.current.finalSent) {
          this.add(this.current, SMB_FINDINGS.mbIncomplete, frame, 'a new SEND_START_MB began before this message group was ended with SEND_END_MB');
          this.finish(this.current);
        }
        const msg = this.newMessage(at, true);
        msg.commands.push(hex(c.command));
        this.checkHeader(pdu, msg, frame, spec);
        this.checkWordCount(msg, c, 0, frame, spec, 'request');
        this.names(msg, body.msg, frame, spec);
        this.checkByteCount(msg, c, 1 + (body.msg.originator?.length ?? 0) + 1 + (body.msg.destination?.length ?? 0), frame, spec, 'request');
        this.current = msg;
        msg.outstanding++;
        return { msg, command: c.command };
      }
      case CMD.SEND_TEXT_MB_MESSAGE: {
        if (body.kind !== 'text-mb') return undefined;
        const spec = 'MS-MSRP 2.2.3.3.1';
        const msg = this.groupFor(body.groupId, at, 'SEND_TEXT_MB');
        this.noteEarly(msg, frame, spec);
        msg.commands.push(hex(c.command));
        this.checkHeader(pdu, msg, frame, spec);
        this.checkWordCount(msg, c, 1, frame, spec, 'request');
        if (body.data !== undefined) {
          this.block(msg, body.data, frame, spec);
          this.checkByteCount(msg, c, 3 + (body.data.dataLength ?? 0), frame, spec, 'request');
        } else if (body.error !== undefined) {
          this.add(msg, SMB_FINDINGS.msgMalformed, frame, body.error, spec);
        }
        msg.outstanding++;
        return { msg, command: c.command };
      }
      case CMD.SEND_END_MB_MESSAGE: {
        if (body.kind !== 'end-mb') return undefined;
        const spec = 'MS-MSRP 2.2.3.4.1';
        const msg = this.groupFor(body.groupId, at, 'SEND_END_MB');
        this.noteEarly(msg, frame, spec);
        msg.commands.push(hex(c.command));
        this.checkHeader(pdu, msg, frame, spec);
        this.checkWordCount(msg, c, 1, frame, spec, 'request');
        this.checkByteCount(msg, c, 0, frame, spec, 'request');
        msg.finalSent = true;
        msg.outstanding++;
        if (this.current === msg) this.current = undefined;
        return { msg, command: c.command };
      }
      default:
        return undefined;
    }
  }

  /** A segment sent while the group's previous request is unanswered (MS-MSRP 3.2.4.4 SHOULD wait). */
  private noteEarly(msg: Pending, frame: number, spec: string): void {
    if (msg.outstanding > 0 && msg.early === undefined && this.opts.unacknowledged !== true) msg.early = { frame, spec, reported: false };
  }

  /** The open group a TEXT_MB or END_MB belongs to; one without a START_MB is a finding. */
  private groupFor(groupId: number | undefined, at: FrameInfo, what: string): Pending {
    let msg = this.current;
    if (msg === undefined || msg.done || msg.finalSent) {
      msg = this.newMessage(at, true);
      this.add(msg, what === 'SEND_TEXT_MB' ? SMB_FINDINGS.textMbNoStart : SMB_FINDINGS.endMbNoStart, at.frame,
        `${what} without a preceding SEND_START_MB on this conversation (capture may have started mid-message)`);
      if (groupId !== undefined) msg.usedIds.push(groupId);
      this.current = msg;
      return msg;
    }
    if (msg.commands.length >= MAX_GROUP_PDUS) {
      this.add(msg, SMB_FINDINGS.msgGroupLimit, at.frame, `message group passed ${MAX_GROUP_PDUS} PDUs: reported as it stands, the rest starts a new message`);
      this.finish(msg);
      const next = this.newMessage(at, true);
      if (groupId !== undefined) next.usedIds.push(groupId);
      this.current = next;
      return next;
    }
    for (const n of at.frames) if (!msg.frames.includes(n)) msg.frames.push(n);
    if (groupId !== undefined) {
      if (msg.groupId !== undefined && groupId !== msg.groupId) {
        this.add(msg, SMB_FINDINGS.mbGroupIdMismatch, at.frame, `${what} MessageGroupId ${groupId} differs from the ${msg.groupId} the SEND_START_MB response gave`);
      }
      msg.usedIds.push(groupId);
    }
    return msg;
  }

  response(pdu: SmbPdu, c: SmbCommand, token: MessengerToken, at: FrameInfo): void {
    const msg = token.msg;
    for (const n of at.frames) if (!msg.frames.includes(n)) msg.frames.push(n);
    msg.outstanding = Math.max(0, msg.outstanding - 1);
    if (msg.early !== undefined && !msg.early.reported) {
      // A response came: the server's side is in the capture, so the segment did go out early.
      msg.early.reported = true;
      this.add(msg, SMB_FINDINGS.mbNoWait, msg.early.frame, 'segment sent before the response to the group\'s previous request; the sender SHOULD wait for it');
    }
    const h = pdu.header;
    const st = smbStatus(h.status, h.ntStatus);
    const frame = at.frame;
    const spec = token.command === CMD.SEND_MESSAGE ? 'MS-MSRP 2.2.3.1.2'
      : token.command === CMD.SEND_START_MB_MESSAGE ? 'MS-MSRP 2.2.3.2.2'
        : token.command === CMD.SEND_TEXT_MB_MESSAGE ? 'MS-MSRP 2.2.3.3.2' : 'MS-MSRP 2.2.3.4.2';
    if (c.command !== token.command) {
      this.add(msg, SMB_FINDINGS.msgResponseCommand, frame, `response command ${hex(c.command)} does not match the request's ${hex(token.command)}`, spec);
    }
    this.checkHeader(pdu, msg, frame, spec);
    if (!st.ok) {
      if (msg.status !== 'error') {
        msg.status = 'error';
        msg.error = st.name;
      }
    } else if (token.command === CMD.SEND_START_MB_MESSAGE) {
      if (c.block !== undefined && c.block.wordCount >= 1 && c.body.kind === 'start-mb-resp' && c.body.groupId !== undefined) {
        msg.groupId = c.body.groupId;
        for (const used of msg.usedIds) {
          if (used !== msg.groupId) this.add(msg, SMB_FINDINGS.mbGroupIdMismatch, frame, `MessageGroupId ${used} was used before the response gave ${msg.groupId}`);
        }
      } else {
        this.add(msg, SMB_FINDINGS.startMbNoGroupId, frame, `SEND_START_MB response has WordCount ${c.block?.wordCount ?? 0} and no MessageGroupId (MUST be 1)`);
      }
      this.checkByteCount(msg, c, 0, frame, spec, 'response');
    } else {
      this.checkWordCount(msg, c, 0, frame, spec, 'response');
      this.checkByteCount(msg, c, 0, frame, spec, 'response');
    }
    const isFinal = token.command === CMD.SEND_MESSAGE || token.command === CMD.SEND_END_MB_MESSAGE;
    if (isFinal) {
      msg.finalAnswered = true;
      if (msg.status !== 'error') msg.status = 'ok';
      if (msg.outstanding === 0) this.finish(msg);
    } else if (msg.finalAnswered && msg.outstanding === 0) {
      this.finish(msg);
    }
  }

  /** Emits the message with everything learned about it. */
  private finish(msg: Pending): void {
    if (msg.done) return;
    msg.done = true;
    this.open.delete(msg);
    this.ctx.holds?.release(msg.frames[0] ?? 0);
    if (this.current === msg) this.current = undefined;
    const frame = msg.frames[msg.frames.length - 1] ?? 0;
    for (const [side, note] of [['request', msg.headerRequest], ['response', msg.headerResponse]] as const) {
      if (note.fields.length === 0) continue;
      msg.findings.push(SMB_FINDINGS.msgHeaderNotZero.at(note.frame, `${side} header fields that MUST be zero are not: ${note.fields.join(', ')}`, { clause: note.spec }));
    }
    const data = concat(msg.blocks, msg.bytes);
    if (msg.multiblock && !msg.finalSent && msg.status !== 'error') {
      this.add(msg, SMB_FINDINGS.mbIncomplete, frame, 'message group never ended with SEND_END_MB: the text may be incomplete');
    }
    if (msg.finalSent && !msg.finalAnswered && msg.status !== 'error') msg.status = this.opts.unacknowledged === true ? 'unknown' : 'no-response';
    if (msg.multiblock && !msg.finalSent && msg.status !== 'error') msg.status = 'unknown';
    if (data.length > MAX_TEXT) this.add(msg, SMB_FINDINGS.msgTextTooLong, frame, `message text is ${data.length} bytes, more than 652`);
    if (msg.multiblock && msg.finalSent) {
      if (data.length <= MAX_BLOCK && msg.commands[0] === '0xD5') {
        this.add(msg, SMB_FINDINGS.mbShortMessage, frame, `a ${data.length}-byte text was sent as a multi-block group; SEND_MESSAGE (0xD0) SHOULD be used up to 128 bytes`);
      }
      const short = msg.blocks.slice(0, -1).findIndex((blk) => blk.length !== MAX_BLOCK);
      if (short >= 0) {
        this.add(msg, SMB_FINDINGS.mbBlockSize, frame, `text block ${short + 1} is ${msg.blocks[short]!.length} bytes; every block but the last SHOULD be exactly 128`);
      }
    }
    // The findings above are the frame's too; the rest is the event's.
    if (this.ctx.wantsEvents === false) return;
    const details: Record<string, unknown> = { commands: msg.commands, blocks: msg.blocks.length };
    if (msg.groupId !== undefined) details.groupId = msg.groupId;
    else if (msg.usedIds.length > 0) details.groupId = msg.usedIds[0];
    const called = this.opts.called?.();
    if (called !== undefined) details.calledName = `${called.name}<${called.suffix.toString(16).padStart(2, '0')}>`;
    const calling = this.opts.calling?.();
    if (calling !== undefined) details.callingName = calling;
    const event: MessageEvent = {
      kind: 'message', tsSec: msg.tsSec, tsNsec: msg.tsNsec, frames: msg.frames, protocol: 'smb', transport: this.opts.transport,
      src: this.opts.route.src, dst: this.opts.route.dst, findings: msg.findings, from: msg.from, to: msg.to,
      text: messengerText(data, this.ctx.options.oemCodepage), status: msg.status, details,
    };
    if (msg.error !== undefined) event.error = msg.error;
    this.ctx.emit(event);
  }

  /** The other messenger commands: checked and labelled, no message. */
  other(pdu: SmbPdu, c: SmbCommand, at: FrameInfo): void {
    if (c.command === CMD.FORWARD_USER_NAME || c.command === CMD.CANCEL_FORWARD || c.command === CMD.GET_MACHINE_NAME) {
      const spec = c.command === CMD.FORWARD_USER_NAME ? 'MS-CIFS 2.2.4.63' : c.command === CMD.CANCEL_FORWARD ? 'MS-CIFS 2.2.4.64' : 'MS-CIFS 2.2.4.65';
      if (!pdu.header.isResponse) this.checkWordCount(undefined, c, 0, at.frame, spec, 'request');
      if (c.body.kind === 'name-string' && c.body.value !== undefined && c.body.value.format !== 0x04) {
        this.add(undefined, SMB_FINDINGS.msgBadBufferFormat, at.frame, `BufferFormat is 0x${c.body.value.format.toString(16)}, MUST be 0x04`, spec);
      }
    }
  }

  /** End of the conversation: every message still open is reported as it stands. */
  end(): void {
    for (const msg of [...this.open]) this.finish(msg);
  }
}

function concat(blocks: Uint8Array[], total: number): Uint8Array {
  if (blocks.length === 1) return blocks[0]!;
  const out = new Uint8Array(total);
  let p = 0;
  for (const blk of blocks) {
    out.set(blk, p);
    p += blk.length;
  }
  return out;
}
