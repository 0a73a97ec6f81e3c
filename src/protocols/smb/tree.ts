// Presentation of an SMB1 message: the Info column text and the detail tree, built from the
// decoded records (decode.ts) only when a view asks for them.
import { f, firstValue, type FieldDef, type FieldNode } from '../../model/fields.js';
import { NEEDS_TREE, type Layer, type PeekedValue } from '../../model/packet.js';
import { messengerText, oemString } from '../oem-text.js';
import type { SmbCommand, SmbPdu } from './decode.js';
import { SMB } from './fields.js';
import { CMD, commandName, PIPE_FUNCTIONS, u16 } from './parse.js';
import { smbStatus } from './status.js';

export function smbInfo(pdu: SmbPdu, codepage: string): string {
  const h = pdu.header;
  const parts: string[] = [];
  for (const c of pdu.commands) {
    let s = `${commandName(c.command)} ${h.isResponse ? 'Response' : 'Request'}`;
    const b = c.body;
    switch (b.kind) {
      case 'session-setup-req':
        if (b.securityBlob === undefined) s += `, User: ${b.account === '' ? 'anonymous' : b.domain !== '' ? `${b.domain}\\${b.account}` : `\\${b.account}`}`;
        break;
      case 'tree-connect-req':
        s += `, Path: ${b.path}`;
        break;
      case 'create-req':
        s += `, Path: ${b.name}`;
        break;
      case 'create-resp':
      case 'close-req':
        s += `, FID: 0x${b.fid.toString(16).padStart(4, '0')}`;
        break;
      case 'write-req':
        s += `, FID: 0x${b.write.fid.toString(16).padStart(4, '0')}, ${b.write.dataLength} bytes at offset ${b.write.offset}`;
        break;
      case 'read-req':
        s += `, FID: 0x${b.fid.toString(16).padStart(4, '0')}, ${b.maxCount} bytes at offset ${b.offset}`;
        break;
      case 'write-resp':
        s += `, ${b.count} bytes`;
        break;
      case 'send-message':
      case 'start-mb':
        if (b.msg.originator !== undefined && b.msg.destination !== undefined) {
          s += `, ${oemString(b.msg.originator.value, codepage)} → ${oemString(b.msg.destination.value, codepage)}`;
        }
        break;
      case 'text-mb':
      case 'end-mb':
      case 'start-mb-resp':
        if (b.groupId !== undefined) s += `, Group ID: ${b.groupId}`;
        break;
      case 'trans-req':
        if (b.name !== '') s = b.name.toUpperCase().startsWith('\\PIPE\\') && b.trans.setup.length > 0
          ? `${PIPE_FUNCTIONS.get(b.trans.setup[0]!) ?? 'Trans'} Request, ${b.name}`
          : `Trans Request, ${b.name}`;
        break;
      default:
        break;
    }
    parts.push(s);
  }
  const st = smbStatus(h.status, h.ntStatus);
  let info = parts.join(', ');
  if (h.isResponse && !st.ok) info += `, Error: ${st.name}`;
  return info;
}

/**
 * An SMB1 message's layer: Info and the tree made when a view asks (the timeline and the audit
 * never do; the message's bytes, NBSS's copy or a datagram's, never move); its command and its link
 * to the request (`smb.response_to`, a node of `extra`) without the tree.
 */
export class SmbLayer implements Layer {
  readonly name = 'smb';
  readonly column = 'SMB';
  readonly offset = 0;
  readonly length: number;
  private infoText: string | undefined;

  /** `extra`: nodes shown among the header's (the link to the request, transaction parts). */
  constructor(readonly bytes: Uint8Array, private readonly pdu: SmbPdu, private readonly codepage: string, private readonly extra: FieldNode[]) {
    this.length = bytes.length;
  }

  get info(): string {
    return (this.infoText ??= smbInfo(this.pdu, this.codepage));
  }

  tree(): FieldNode[] {
    return smbTree(this.pdu, this.codepage, this.extra);
  }

  fieldValue(def: FieldDef): PeekedValue {
    // The tree's first node is the header, labelled with the first command; `extra` comes first among the header's children.
    if (def === SMB.cmd) return this.pdu.header.command;
    // The rest of the header and the commands never carry it.
    if (def === SMB.response_to) return firstValue(this.extra, def);
    return NEEDS_TREE;
  }
}

export function smbTree(pdu: SmbPdu, codepage: string, extra: FieldNode[]): FieldNode[] {
  const b = pdu.bytes;
  const h = pdu.header;
  const st = smbStatus(h.status, h.ntStatus);
  const statusNodes: FieldNode[] = h.ntStatus
    ? [f(SMB.nt_status, h.status, 5, 4)]
    : [f(SMB.error_class, b[5]!, 5, 1), f(SMB.reserved, b[6]!, 6, 1), f(SMB.error_code, u16(b, 7), 7, 2)];
  if (!st.ok) statusNodes.push(f(SMB.error, st.name, 5, 4));
  const header: FieldNode[] = [
    f(SMB.server_component, b.subarray(0, 4), 0, 4, undefined, 'Server Component: SMB'),
    ...extra,
    f(SMB.cmd, h.command, 4, 1),
    ...statusNodes,
    f(SMB.flags, h.flags, 9, 1, [f(SMB['flags.response'], h.isResponse, 9, 1)]),
    f(SMB.flags2, h.flags2, 10, 2, [
      f(SMB['flags2.string'], h.unicode, 10, 2),
      f(SMB['flags2.nt_error'], h.ntStatus, 10, 2),
      f(SMB['flags2.esn'], (h.flags2 & 0x0800) !== 0, 10, 2),
    ]),
    f(SMB['pid.high'], h.pidHigh, 12, 2),
    f(SMB.signature, h.signature, 14, 8),
    f(SMB.reserved, h.reserved, 22, 2),
    f(SMB.tid, h.tid, 24, 2),
    f(SMB.pid, h.pidLow, 26, 2),
    f(SMB.uid, h.uid, 28, 2),
    f(SMB.mid, h.mid, 30, 2),
  ];
  const nodes: FieldNode[] = [f(SMB.cmd, h.command, 0, 32, header, 'SMB Header')];
  for (const c of pdu.commands) nodes.push(commandNode(pdu, c, codepage));
  return nodes;
}

function commandNode(pdu: SmbPdu, c: SmbCommand, codepage: string): FieldNode {
  const b = pdu.bytes;
  const children: FieldNode[] = [];
  const blk = c.block;
  const title = `${commandName(c.command)} ${pdu.header.isResponse ? 'Response' : 'Request'} (0x${c.command.toString(16).padStart(2, '0')})`;
  if (blk === undefined) return f(SMB.cmd, c.command, c.offset, b.length - c.offset, children, title);
  children.push(f(SMB.wct, blk.wordCount, blk.offset, 1));
  if (c.andx !== undefined) {
    children.push(f(SMB.cmd, c.andx.command, blk.wordsOffset, 1, undefined, `AndXCommand: ${commandName(c.andx.command)} (0x${c.andx.command.toString(16).padStart(2, '0')})`));
    children.push(f(SMB.andxoffset, c.andx.offset, blk.wordsOffset + 2, 2));
  }
  const body = c.body;
  const w = blk.wordsOffset;
  switch (body.kind) {
    case 'negotiate-resp':
      children.push(f(SMB['dialect.index'], body.dialectIndex, w, 2));
      if (body.securityMode !== undefined) children.push(f(SMB.security_mode, body.securityMode, w + 2, 1));
      if (body.maxBuffer !== undefined) children.push(f(SMB.max_buf, body.maxBuffer, w + 7, 4));
      if (body.capabilities !== undefined) children.push(f(SMB.capabilities, body.capabilities, w + 19, 4));
      break;
    case 'session-setup-resp':
      children.push(f(SMB['setup.action'], body.action, w + 4, 2));
      break;
    case 'create-resp':
      children.push(f(SMB.fid, body.fid, body.fidOffset, 2));
      if (body.fileType !== undefined) children.push(f(SMB.file_type, body.fileType));
      break;
    case 'write-req':
      children.push(f(SMB.fid, body.write.fid, w + 4, 2), f(SMB.offset, body.write.offset, w + 6, 4), f(SMB.write_mode, body.write.writeMode, w + 14, 2),
        f(SMB.remaining, body.write.remaining, w + 16, 2), f(SMB.data_len, body.write.dataLength, w + 20, 2), f(SMB.data_offset, body.write.dataOffset, w + 22, 2));
      break;
    case 'write-resp':
      children.push(f(SMB.count, body.count, w + 4, 2));
      break;
    case 'read-req':
      children.push(f(SMB.fid, body.fid, w + 4, 2), f(SMB.offset, body.offset, w + 6, 4), f(SMB.maxcount, body.maxCount, w + 10, 2));
      break;
    case 'read-resp':
      children.push(f(SMB.available, body.read.available, w + 4, 2), f(SMB.data_len, body.read.dataLength, w + 10, 2), f(SMB.data_offset, body.read.dataOffset, w + 12, 2));
      break;
    case 'close-req':
      children.push(f(SMB.fid, body.fid, w, 2));
      break;
    case 'trans-req': {
      const t = body.trans;
      children.push(f(SMB.tpc, t.totalParameterCount, w, 2), f(SMB.tdc, t.totalDataCount, w + 2, 2), f(SMB.mpc, t.maxParameterCount, w + 4, 2),
        f(SMB.mdc, t.maxDataCount, w + 6, 2), f(SMB.msc, t.maxSetupCount, w + 8, 1), f(SMB.transaction_flags, t.flags, w + 10, 2),
        f(SMB.timeout, t.timeout, w + 12, 4), f(SMB.pc, t.parameterCount, w + 18, 2), f(SMB.po, t.parameterOffset, w + 20, 2),
        f(SMB.dc, t.dataCount, w + 22, 2), f(SMB.do, t.dataOffset, w + 24, 2), f(SMB.sc, t.setupCount, w + 26, 1));
      t.setup.forEach((s, i) => children.push(f(SMB.setup, s, w + 28 + 2 * i, 2)));
      if (body.name.toUpperCase().startsWith('\\PIPE\\') && t.setup.length > 0) children.push(f(SMB['pipe.function'], t.setup[0]!, w + 28, 2));
      break;
    }
    case 'trans-resp': {
      const t = body.trans;
      children.push(f(SMB.tpc, t.totalParameterCount, w, 2), f(SMB.tdc, t.totalDataCount, w + 2, 2), f(SMB.pc, t.parameterCount, w + 6, 2),
        f(SMB.po, t.parameterOffset, w + 8, 2), f(SMB.pd, t.parameterDisplacement, w + 10, 2), f(SMB.dc, t.dataCount, w + 12, 2),
        f(SMB.do, t.dataOffset, w + 14, 2), f(SMB.dd, t.dataDisplacement, w + 16, 2), f(SMB.sc, t.setupCount, w + 18, 1));
      break;
    }
    case 'trans-secondary-req': {
      const t = body.trans;
      children.push(f(SMB.tpc, t.totalParameterCount, w, 2), f(SMB.tdc, t.totalDataCount, w + 2, 2), f(SMB.pc, t.parameterCount, w + 4, 2),
        f(SMB.po, t.parameterOffset, w + 6, 2), f(SMB.pd, t.parameterDisplacement, w + 8, 2), f(SMB.dc, t.dataCount, w + 10, 2),
        f(SMB.do, t.dataOffset, w + 12, 2), f(SMB.dd, t.dataDisplacement, w + 14, 2));
      break;
    }
    case 'text-mb':
    case 'end-mb':
    case 'start-mb-resp':
      if (body.groupId !== undefined) children.push(f(SMB.mgid, body.groupId, w, 2));
      break;
    default:
      if (blk.wordCount > 0 && c.andx === undefined) children.push(f(SMB.word_parameters, b.subarray(w, w + blk.wordCount * 2), w, blk.wordCount * 2));
  }
  const bcOffset = blk.bytesOffset - 2;
  children.push(f(SMB.bcc, blk.byteCount, bcOffset, 2));
  switch (body.kind) {
    case 'negotiate-req':
      for (const d of body.dialects) children.push(f(SMB.buffer_format, b[d.offset]!, d.offset, 1), f(SMB['dialect.name'], d.name, d.offset + 1, d.length - 1));
      break;
    case 'session-setup-req':
      if (body.securityBlob !== undefined) children.push(f(SMB.security_blob_len, body.securityBlob));
      else children.push(f(SMB.account, body.account), f(SMB.primary_domain, body.domain));
      children.push(f(SMB.native_os, body.nativeOs), f(SMB.native_lanman, body.nativeLanman));
      break;
    case 'session-setup-resp':
      children.push(f(SMB.native_os, body.nativeOs), f(SMB.native_lanman, body.nativeLanman));
      break;
    case 'tree-connect-req':
      children.push(f(SMB.path, body.path), f(SMB.service, body.service));
      break;
    case 'tree-connect-resp':
      children.push(f(SMB.service, body.service), f(SMB.native_fs, body.nativeFs));
      break;
    case 'create-req':
      children.push(f(SMB.file, body.name, body.nameOffset, body.nameLength));
      break;
    case 'write-req':
      children.push(f(SMB.file_data, body.write.data, body.write.dataOffset, body.write.data.length));
      break;
    case 'read-resp':
      children.push(f(SMB.file_data, body.read.data, body.read.dataOffset, body.read.data.length));
      break;
    case 'trans-req': {
      const t = body.trans;
      children.push(f(SMB.trans_name, body.name, t.name.offset, t.name.length));
      if (t.parameters.length > 0) children.push(f(SMB.trans_params, t.parameters, t.parameterOffset, t.parameters.length));
      if (t.data.length > 0) children.push(f(SMB.trans_data, t.data, t.dataOffset, t.data.length));
      break;
    }
    case 'trans-secondary-req': {
      const t = body.trans;
      if (t.parameters.length > 0) children.push(f(SMB.trans_params, t.parameters, t.parameterOffset, t.parameters.length));
      if (t.data.length > 0) children.push(f(SMB.trans_data, t.data, t.dataOffset, t.data.length));
      break;
    }
    case 'trans-resp': {
      const t = body.trans;
      if (t.parameters.length > 0) children.push(f(SMB.trans_params, t.parameters, t.parameterOffset, t.parameters.length));
      if (t.data.length > 0) children.push(f(SMB.trans_data, t.data, t.dataOffset, t.data.length));
      break;
    }
    case 'send-message':
    case 'start-mb': {
      const m = body.msg;
      for (const [def, v] of [[SMB.originator_name, m.originator], [SMB.destination_name, m.destination]] as const) {
        if (v === undefined) continue;
        children.push(f(SMB.buffer_format, v.format, v.formatOffset, 1), f(def, oemString(v.value, codepage), v.offset, v.length));
      }
      if (m.data !== undefined) {
        children.push(f(SMB.buffer_format, m.data.format, m.data.formatOffset, 1), f(SMB['message.len'], m.data.dataLength ?? 0, m.data.formatOffset + 1, 2),
          f(SMB.message, messengerText(m.data.value, codepage), m.data.offset, m.data.length));
      }
      break;
    }
    case 'text-mb':
      if (body.data !== undefined) {
        children.push(f(SMB.buffer_format, body.data.format, body.data.formatOffset, 1), f(SMB['message.len'], body.data.dataLength ?? 0, body.data.formatOffset + 1, 2),
          f(SMB.message, messengerText(body.data.value, codepage), body.data.offset, body.data.length));
      }
      break;
    case 'name-string':
      if (body.value !== undefined) {
        children.push(f(SMB.buffer_format, body.value.format, body.value.formatOffset, 1),
          f(body.field === 'forwarded' ? SMB.forwarded_name : SMB.machine_name, oemString(body.value.value, codepage), body.value.offset, body.value.length));
      }
      break;
    default:
      if (blk.bytesPresent > 0 && c.command !== CMD.SEND_MESSAGE) children.push(f(SMB.byte_parameters, b.subarray(blk.bytesOffset, blk.bytesOffset + blk.bytesPresent), blk.bytesOffset, blk.bytesPresent));
  }
  return f(SMB.cmd, c.command, blk.offset, Math.max(0, Math.min(b.length, blk.end) - blk.offset), children, title);
}
