// SMB2 fields (names as tshark's `smb2.*`) and the detail tree of one command.
import { defineProtocol, f, type FieldNode } from '../../model/fields.js';
import { COMMANDS, DIALECTS, type Body, type Smb2Header, type TransformHeader } from './parse.js';

export const SMB2 = defineProtocol('smb2', 'SMB2 (Server Message Block Protocol version 2)', {
  header_len: { type: 'uint', label: 'Header Length' },
  credit_charge: { type: 'uint', label: 'Credit Charge' },
  nt_status: { type: 'uint', label: 'NT Status', base: 'hex' },
  cmd: { type: 'uint', label: 'Command', values: COMMANDS },
  credits: { type: 'uint', label: 'Credits' },
  flags: { type: 'uint', label: 'Flags', base: 'hex' },
  'flags.response': { type: 'bool', label: 'Response' },
  'flags.async': { type: 'bool', label: 'Async command' },
  'flags.chained': { type: 'bool', label: 'Chained' },
  'flags.signature': { type: 'bool', label: 'Signing' },
  chain_offset: { type: 'uint', label: 'Chain Offset', base: 'hex' },
  msg_id: { type: 'uint', label: 'Message ID' },
  async_id: { type: 'uint', label: 'Async Id', base: 'hex' },
  pid: { type: 'uint', label: 'Process Id', base: 'hex' },
  tid: { type: 'uint', label: 'Tree Id', base: 'hex' },
  sesid: { type: 'uint', label: 'Session Id', base: 'hex' },
  signature: { type: 'bytes', label: 'Signature' },
  dialect: { type: 'uint', label: 'Dialect', base: 'hex', values: DIALECTS },
  max_read_size: { type: 'uint', label: 'Max Read Size' },
  max_write_size: { type: 'uint', label: 'Max Write Size' },
  session_flags: { type: 'uint', label: 'Session Flags', base: 'hex' },
  ntlmssp_type: { type: 'uint', label: 'NTLMSSP Message Type', values: { 1: 'NTLMSSP_NEGOTIATE', 2: 'NTLMSSP_CHALLENGE', 3: 'NTLMSSP_AUTH' } },
  tree: { type: 'string', label: 'Tree' },
  share_type: { type: 'uint', label: 'Share Type', values: { 1: 'Physical disk', 2: 'Named pipe', 3: 'Printer' } },
  filename: { type: 'string', label: 'Filename' },
  fid: { type: 'string', label: 'File Id' },
  create_action: { type: 'uint', label: 'Create Action' },
  access_mask: { type: 'uint', label: 'Access Mask', base: 'hex' },
  write_length: { type: 'uint', label: 'Write Length' },
  read_length: { type: 'uint', label: 'Read Length' },
  file_offset: { type: 'uint', label: 'File Offset' },
  data_remaining: { type: 'uint', label: 'Remaining Bytes' },
  'ioctl.function': { type: 'uint', label: 'Function', base: 'hex', values: { 0x0011c017: 'FSCTL_PIPE_TRANSCEIVE', 0x00110018: 'FSCTL_PIPE_WAIT', 0x0011400c: 'FSCTL_PIPE_PEEK', 0x00140204: 'FSCTL_VALIDATE_NEGOTIATE_INFO', 0x00060194: 'FSCTL_DFS_GET_REFERRALS' } },
  'ioctl.in_len': { type: 'uint', label: 'Input Count' },
  'ioctl.out_len': { type: 'uint', label: 'Output Count' },
  'ioctl.max_out': { type: 'uint', label: 'Max Output Response' },
  error_byte_count: { type: 'uint', label: 'Error Byte Count' },
  'transform.kind': { type: 'string', label: 'Transform' },
  'transform.original_size': { type: 'uint', label: 'Original Message Size' },
  'transform.algorithm': { type: 'uint', label: 'Algorithm', base: 'hex' },
  'transform.sesid': { type: 'uint', label: 'Session Id', base: 'hex' },
  'transform.payload_len': { type: 'uint', label: 'Payload length' },
  pipe: { type: 'string', label: 'Named pipe' },
});

export function headerTree(h: Smb2Header): FieldNode[] {
  const nodes: FieldNode[] = [f(SMB2.header_len, 64, 4, 2), f(SMB2.credit_charge, h.creditCharge, 6, 2)];
  // In a request these 4 bytes are ChannelSequence/Reserved, not a status (MS-SMB2 2.2.1.2).
  if ((h.flags & 1) !== 0) nodes.push(f(SMB2.nt_status, h.status, 8, 4));
  nodes.push(
    f(SMB2.cmd, h.command, 12, 2),
    f(SMB2.credits, h.credits, 14, 2),
    f(SMB2.flags, h.flags, 16, 4, [
      f(SMB2['flags.response'], (h.flags & 1) !== 0, 16, 4),
      f(SMB2['flags.async'], (h.flags & 2) !== 0, 16, 4),
      f(SMB2['flags.chained'], (h.flags & 4) !== 0, 16, 4),
      f(SMB2['flags.signature'], (h.flags & 8) !== 0, 16, 4),
    ]),
    f(SMB2.chain_offset, h.nextCommand, 20, 4),
    f(SMB2.msg_id, h.messageId, 24, 8),
  );
  if (h.asyncId !== undefined) nodes.push(f(SMB2.async_id, h.asyncId, 32, 8));
  if (h.processId !== undefined) nodes.push(f(SMB2.pid, h.processId, 32, 4));
  if (h.treeId !== undefined) nodes.push(f(SMB2.tid, h.treeId, 36, 4));
  nodes.push(f(SMB2.sesid, h.sessionId, 40, 8), f(SMB2.signature, h.signature, 48, 16));
  return nodes;
}

export function bodyTree(b: Body, pipe: string | undefined, ntlm: number | undefined): FieldNode[] {
  const nodes: FieldNode[] = [];
  switch (b.k) {
    case 'negotiate-req':
      for (const d of b.dialects) nodes.push(f(SMB2.dialect, d));
      break;
    case 'negotiate-resp':
      nodes.push(f(SMB2.dialect, b.dialect), f(SMB2.max_read_size, b.maxRead), f(SMB2.max_write_size, b.maxWrite));
      break;
    case 'session-req':
    case 'session-resp':
      if (b.k === 'session-resp') nodes.push(f(SMB2.session_flags, b.sessionFlags));
      if (ntlm !== undefined) nodes.push(f(SMB2.ntlmssp_type, ntlm));
      break;
    case 'tree-req':
      nodes.push(f(SMB2.tree, b.path));
      break;
    case 'tree-resp':
      nodes.push(f(SMB2.share_type, b.shareType));
      break;
    case 'create-req':
      nodes.push(f(SMB2.access_mask, b.desiredAccess), f(SMB2.filename, b.name));
      break;
    case 'create-resp':
      nodes.push(f(SMB2.create_action, b.createAction), f(SMB2.fid, b.fileId));
      break;
    case 'close-req':
      nodes.push(f(SMB2.fid, b.fileId));
      break;
    case 'write-req':
      nodes.push(f(SMB2.write_length, b.data.length), f(SMB2.file_offset, b.offset), f(SMB2.fid, b.fileId));
      break;
    case 'write-resp':
      nodes.push(f(SMB2.write_length, b.count));
      break;
    case 'read-req':
      nodes.push(f(SMB2.read_length, b.length), f(SMB2.file_offset, b.offset), f(SMB2.fid, b.fileId));
      break;
    case 'read-resp':
      nodes.push(f(SMB2.read_length, b.data.length), f(SMB2.data_remaining, b.remaining));
      break;
    case 'ioctl-req':
      nodes.push(f(SMB2['ioctl.function'], b.ctlCode), f(SMB2.fid, b.fileId), f(SMB2['ioctl.in_len'], b.input.length), f(SMB2['ioctl.max_out'], b.maxOutput));
      break;
    case 'ioctl-resp':
      nodes.push(f(SMB2['ioctl.function'], b.ctlCode), f(SMB2.fid, b.fileId), f(SMB2['ioctl.out_len'], b.output.length));
      break;
    case 'error':
      nodes.push(f(SMB2.error_byte_count, b.byteCount));
      break;
    case 'other':
      break;
  }
  if (pipe !== undefined) nodes.push(f(SMB2.pipe, pipe));
  return nodes;
}

export function transformTree(t: TransformHeader): FieldNode[] {
  const nodes = [f(SMB2['transform.kind'], t.kind), f(SMB2['transform.original_size'], t.originalSize), f(SMB2['transform.algorithm'], t.algorithm)];
  if (t.sessionId !== undefined) nodes.push(f(SMB2['transform.sesid'], t.sessionId));
  nodes.push(f(SMB2['transform.payload_len'], t.length));
  return nodes;
}
