// Mailslot writes (MS-MAIL 2.2.1: SMB_COM_TRANSACTION with setup words opcode 1, priority,
// class) and the messenger mailslot \MAILSLOT\MESSNGR, whose body is From NUL To NUL Text NUL
// in the OEM code page (MS-MSRP 2.1.2, 3.2.4.4). Other mailslots are labelled; the browser
// mailslot gets its command named.
import type { EngineContext } from '../../engine/context.js';
import type { DatagramPayload } from '../../engine/seams.js';
import type { MessageEvent } from '../../model/events.js';
import { f, type FieldNode } from '../../model/fields.js';
import type { Finding, FindingDef } from '../../model/findings.js';
import { NEEDS_TREE } from '../../model/packet.js';
import { MAILSLOT_FINDINGS } from './findings.js';
import { messengerText, oemString } from '../oem-text.js';
import type { SmbCommand, SmbPdu } from './decode.js';
import { BROWSER, BROWSER_COMMANDS, MAILSLOT } from './fields.js';
import type { TransRequest } from './parse.js';

/** Where a mailslot write travelled; over NBDGM also the datagram's names and fate (see DatagramPayload). */
export type MailslotContext = Omit<DatagramPayload, 'bytes'>;

export interface MessngrBody {
  readonly from: Uint8Array;
  readonly to: Uint8Array;
  readonly text: Uint8Array;
  /** Offsets of the three strings in the data. */
  readonly offsets: [number, number, number];
  /** How many of the three NUL terminators were present. */
  readonly terminators: number;
}

/** Splits a \MAILSLOT\MESSNGR body into From, To and Text (pure). */
export function parseMessngr(data: Uint8Array): MessngrBody {
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let p = 0;
  let terminators = 0;
  for (let i = 0; i < 3; i++) {
    offsets.push(p);
    // The text is the rest of the data up to its NUL: it may itself hold NULs only at the end.
    let q = p;
    while (q < data.length && data[q] !== 0) q++;
    parts.push(data.subarray(p, q));
    if (q < data.length) terminators++;
    p = Math.min(data.length, q + 1);
  }
  return { from: parts[0]!, to: parts[1]!, text: parts[2]!, offsets: offsets as [number, number, number], terminators };
}

export function isMessngr(name: string): boolean {
  return name.replace(/\0+$/, '').toUpperCase() === '\\MAILSLOT\\MESSNGR';
}

export function isBrowse(name: string): boolean {
  const n = name.replace(/\0+$/, '').toUpperCase();
  return n === '\\MAILSLOT\\BROWSE' || n === '\\MAILSLOT\\LANMAN' || n.startsWith('\\MAILSLOT\\MSBROWSE');
}

export function dissectMailslot(ctx: EngineContext, pdu: SmbPdu, c: SmbCommand, trans: TransRequest, name: string, mc: MailslotContext): void {
  const packet = ctx.packet;
  const frame = packet?.frame.number ?? mc.frames[0] ?? 0;
  const cp = ctx.options.oemCodepage;
  const b = pdu.bytes;
  const w = c.block?.wordsOffset ?? 0;
  const setup = trans.setup;
  const findings: Finding[] = [];
  const add = (def: FindingDef, summary: string): void => {
    const item = def.at(frame, summary);
    ctx.packetFinding(item);
    findings.push(item);
  };
  if (setup.length !== 3) add(MAILSLOT_FINDINGS.badSetupCount, `mailslot write has ${setup.length} setup words, MUST be 3`);
  else if (setup[0] !== 1) add(MAILSLOT_FINDINGS.badOpcode, `mailslot opcode ${setup[0]}, MUST be 1 (write)`);
  const data = trans.data;
  const messngr = isMessngr(name);
  const body = messngr ? parseMessngr(data) : undefined;
  const info = body !== undefined
    ? `Write Mail Slot ${name}: ${oemString(body.from, cp)} → ${oemString(body.to, cp)}`
    : `Write Mail Slot ${name}`;
  if (packet !== undefined) {
    packet.layers.push({
      name: 'mailslot', bytes: b, offset: w + 28, length: Math.max(0, b.length - (w + 28)), info, column: 'SMB Mailslot',
      // The tree's first node, when there is a setup word.
      fieldValue: (def) => (def === MAILSLOT.opcode ? setup[0] : NEEDS_TREE),
      tree: () => {
        const nodes: FieldNode[] = [];
        if (setup.length > 0) nodes.push(f(MAILSLOT.opcode, setup[0]!, w + 28, 2));
        if (setup.length > 1) nodes.push(f(MAILSLOT.priority, setup[1]!, w + 30, 2));
        if (setup.length > 2) nodes.push(f(MAILSLOT.class, setup[2]!, w + 32, 2));
        if (c.block !== undefined) nodes.push(f(MAILSLOT.size, c.block.byteCount, c.block.bytesOffset - 2, 2));
        nodes.push(f(MAILSLOT.name, name, trans.name.offset, trans.name.length));
        if (body !== undefined) {
          const o = trans.dataOffset;
          nodes.push(
            f(MAILSLOT.from, oemString(body.from, cp), o + body.offsets[0], body.from.length),
            f(MAILSLOT.to, oemString(body.to, cp), o + body.offsets[1], body.to.length),
            f(MAILSLOT.text, messengerText(body.text, cp), o + body.offsets[2], body.text.length),
          );
        } else if (!isBrowse(name) && data.length > 0) {
          nodes.push(f(MAILSLOT.data, data, trans.dataOffset, data.length));
        }
        return nodes;
      },
    });
    if (isBrowse(name) && data.length > 0) {
      const cmd = data[0]!;
      // Announcements carry the 16-byte server name after command, update count and periodicity.
      const announce = cmd === 0x01 || cmd === 0x0c || cmd === 0x0f;
      const server = announce && data.length >= 22 ? oemString(trimName(data.subarray(6, 22)), cp) : undefined;
      packet.layers.push({
        name: 'browser', bytes: data, offset: 0, length: data.length, column: 'BROWSER',
        info: `${BROWSER_COMMANDS.get(cmd) ?? `Unknown command 0x${cmd.toString(16).padStart(2, '0')}`}${server !== undefined ? ` ${server}` : ''}`,
        fieldValue: (def) => (def === BROWSER.command ? cmd : NEEDS_TREE),
        tree: () => [f(BROWSER.command, cmd, 0, 1), ...(server !== undefined ? [f(BROWSER.server, server, 6, 16)] : [])],
      });
    }
  }
  if (body === undefined) return;
  // MS-MSRP 3.2.4.4 rules on the recipient and the text.
  const to = oemString(body.to, cp);
  const from = oemString(body.from, cp);
  if (body.terminators < 2) add(MAILSLOT_FINDINGS.messngrMalformed, `messenger mailslot body has ${body.terminators} NUL separator(s): From NUL To NUL Text NUL expected`);
  else if (body.terminators < 3) add(MAILSLOT_FINDINGS.messngrTextUnterminated, 'messenger mailslot text has no terminating NUL');
  if (body.from.length > 15) add(MAILSLOT_FINDINGS.messngrNameTooLong, `From is ${body.from.length} bytes, more than a NetBIOS name's 15`);
  if (body.to.length > 15) add(MAILSLOT_FINDINGS.messngrNameTooLong, `To is ${body.to.length} bytes, more than a NetBIOS name's 15`);
  if (body.terminators >= 2 && body.from.length === 0) add(MAILSLOT_FINDINGS.messngrNoFrom, 'the MESSNGR body\'s From is empty: the message names no sender');
  if (to.startsWith('*')) add(MAILSLOT_FINDINGS.messngrToAsterisk, `recipient '${to}' begins with an asterisk`);
  if (body.text.length > 652) add(MAILSLOT_FINDINGS.messngrTextTooLong, `message text is ${body.text.length} bytes, more than 652`);
  const dest = mc.destination;
  if (dest !== undefined && dest.suffix !== 0x03) {
    add(MAILSLOT_FINDINGS.messngrToNotMessengerName, `datagram sent to ${dest.name}<${dest.suffix.toString(16).padStart(2, '0')}>, not to a messenger (<03>) name`);
  } else if (dest !== undefined && !dest.group && !to.startsWith('*') && dest.name.toUpperCase() !== to.toUpperCase()) {
    add(MAILSLOT_FINDINGS.messngrToMismatch, `To '${to}' differs from the datagram's destination name ${dest.name}<03>`);
  }
  // The findings above are the frame's too; the rest is the message's event.
  if (ctx.wantsEvents === false) return;
  const details: Record<string, unknown> = { mailslot: name.replace(/\0+$/, '') };
  if (dest !== undefined) details.destinationName = `${dest.name}<${dest.suffix.toString(16).padStart(2, '0')}>`;
  if (mc.source !== undefined) details.sourceName = mc.source;
  const event: MessageEvent = {
    kind: 'message', tsSec: mc.tsSec, tsNsec: mc.tsNsec, frames: mc.frames, protocol: 'mailslot', transport: mc.transport,
    src: mc.route.src, dst: mc.route.dst, findings, from, to: [to], text: messengerText(body.text, cp),
    // Mailslot delivery is unacknowledged (MS-MAIL; MS-MSRP 3.2.4.4, 3.2.4.5): nothing answers a
    // write, so its fate is unknown unless an error comes back (see nbdgm.ts).
    status: 'unknown', details,
  };
  if (mc.deliver !== undefined) mc.deliver(event);
  else ctx.emit(event);
}

function trimName(b: Uint8Array): Uint8Array {
  let n = b.indexOf(0);
  if (n < 0) n = b.length;
  while (n > 0 && b[n - 1] === 0x20) n--;
  return b.subarray(0, n);
}
