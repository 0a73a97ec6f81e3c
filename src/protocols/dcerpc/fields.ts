// DCE/RPC fields (names as tshark's `dcerpc.*` where it has one, so differential tests and
// filters carry over) and the detail trees of connectionless and connection-oriented PDUs.
import { defineProtocol, f, type FieldNode } from '../../model/fields.js';
import type { NdrString } from './ndr.js';
import {
  CL_HEADER_LEN, CL_PTYPES, parseCancel, parseFack, type ClHeader, type ClHeaderPrefix, type ClPdu,
} from './cl-parse.js';
import {
  AUTH_LEVELS, AUTH_TYPES, BIND_NAK_REASONS, BIND_REASONS, BIND_RESULTS, CO_PTYPES, type AuthTrailer, type BindAckBody, type BindBody, type BindNakBody, type CoHeader,
} from './co-parse.js';
import { interfaceName, TRANSFER_SYNTAXES } from './uuid.js';
import { rpcStatusName } from './status.js';

const PTYPES: Record<number, string> = { ...CL_PTYPES, ...CO_PTYPES };

export const DCERPC = defineProtocol('dcerpc', 'Distributed Computing Environment / Remote Procedure Call (DCE/RPC)', {
  ver: { type: 'uint', label: 'Version' },
  ver_minor: { type: 'uint', label: 'Version (minor)' },
  pkt_type: { type: 'uint', label: 'Packet type', values: PTYPES },
  drep: { type: 'bytes', label: 'Data Representation' },
  'drep.byteorder': { type: 'uint', label: 'Byte order', values: { 0: 'Big-endian', 1: 'Little-endian' } },
  'drep.character': { type: 'uint', label: 'Character', values: { 0: 'ASCII', 1: 'EBCDIC' } },
  'drep.fp': { type: 'uint', label: 'Floating-point', values: { 0: 'IEEE', 1: 'VAX', 2: 'Cray', 3: 'IBM' } },
  // connectionless
  dg_flags1: { type: 'uint', label: 'Flags1', base: 'hex' },
  dg_flags1_last_frag: { type: 'bool', label: 'Last Fragment' },
  dg_flags1_frag: { type: 'bool', label: 'Fragment' },
  dg_flags1_nofack: { type: 'bool', label: 'No Fack' },
  dg_flags1_maybe: { type: 'bool', label: 'Maybe' },
  dg_flags1_idempotent: { type: 'bool', label: 'Idempotent' },
  dg_flags1_broadcast: { type: 'bool', label: 'Broadcast' },
  dg_flags2: { type: 'uint', label: 'Flags2', base: 'hex' },
  dg_flags2_cancel_pending: { type: 'bool', label: 'Cancel Pending' },
  dg_serial_hi: { type: 'uint', label: 'Serial High', base: 'hex' },
  obj_id: { type: 'guid', label: 'Object UUID' },
  dg_if_id: { type: 'guid', label: 'Interface' },
  dg_act_id: { type: 'guid', label: 'Activity' },
  dg_server_boot: { type: 'uint', label: 'Server boot time' },
  dg_if_ver: { type: 'uint', label: 'Interface Ver' },
  dg_seqnum: { type: 'uint', label: 'Sequence num' },
  opnum: { type: 'uint', label: 'Opnum' },
  dg_ihint: { type: 'uint', label: 'Interface Hint', base: 'hex' },
  dg_ahint: { type: 'uint', label: 'Activity Hint', base: 'hex' },
  dg_frag_len: { type: 'uint', label: 'Fragment len' },
  dg_frag_num: { type: 'uint', label: 'Fragment num' },
  dg_auth_proto: { type: 'uint', label: 'Auth proto', values: { 0: 'None' } },
  dg_serial_lo: { type: 'uint', label: 'Serial Low', base: 'hex' },
  dg_status: { type: 'uint', label: 'Status', base: 'hex' },
  'fack.vers': { type: 'uint', label: 'FACK Version' },
  'fack.window_size': { type: 'uint', label: 'Window Size' },
  'fack.max_tsdu': { type: 'uint', label: 'Max TSDU' },
  'fack.max_frag_size': { type: 'uint', label: 'Max Frag Size' },
  'fack.serial_num': { type: 'uint', label: 'Serial Num' },
  'fack.selack_len': { type: 'uint', label: 'Selective ACK Len' },
  'fack.selack': { type: 'uint', label: 'Selective ACK', base: 'hex' },
  'cancel.vers': { type: 'uint', label: 'Cancel Version' },
  'cancel.id': { type: 'uint', label: 'Cancel ID' },
  'cancel.server_accepting': { type: 'bool', label: 'Server accepting cancels' },
  // connection-oriented
  cn_flags: { type: 'uint', label: 'Packet Flags', base: 'hex' },
  'cn_flags.first_frag': { type: 'bool', label: 'First Frag' },
  'cn_flags.last_frag': { type: 'bool', label: 'Last Frag' },
  'cn_flags.cancel_pending': { type: 'bool', label: 'Cancel Pending' },
  'cn_flags.mpx': { type: 'bool', label: 'Multiplex' },
  'cn_flags.dne': { type: 'bool', label: 'Did Not Execute' },
  'cn_flags.maybe': { type: 'bool', label: 'Maybe' },
  'cn_flags.object': { type: 'bool', label: 'Object' },
  cn_frag_len: { type: 'uint', label: 'Frag Length' },
  cn_auth_len: { type: 'uint', label: 'Auth Length' },
  cn_call_id: { type: 'uint', label: 'Call ID' },
  cn_max_xmit: { type: 'uint', label: 'Max Xmit Frag' },
  cn_max_recv: { type: 'uint', label: 'Max Recv Frag' },
  cn_assoc_group: { type: 'uint', label: 'Assoc Group', base: 'hex' },
  cn_num_ctx_items: { type: 'uint', label: 'Num Ctx Items' },
  cn_ctx_item: { type: 'label', label: 'Ctx Item' },
  cn_ctx_id: { type: 'uint', label: 'Context ID' },
  cn_num_trans_items: { type: 'uint', label: 'Num Trans Items' },
  cn_bind_to_uuid: { type: 'guid', label: 'Interface UUID' },
  cn_bind_if_ver: { type: 'uint', label: 'Interface Ver' },
  cn_bind_if_ver_minor: { type: 'uint', label: 'Interface Ver Minor' },
  cn_bind_trans_id: { type: 'guid', label: 'Transfer Syntax' },
  cn_bind_trans_ver: { type: 'uint', label: 'ver' },
  cn_sec_addr: { type: 'string', label: 'Scndry Addr' },
  cn_num_results: { type: 'uint', label: 'Num results' },
  cn_ack_result: { type: 'uint', label: 'Ack result', values: BIND_RESULTS },
  cn_ack_reason: { type: 'uint', label: 'Ack reason', values: BIND_REASONS },
  cn_ack_trans_id: { type: 'guid', label: 'Transfer Syntax' },
  cn_reject_reason: { type: 'uint', label: 'Reject reason', values: BIND_NAK_REASONS },
  cn_protocol_ver: { type: 'string', label: 'Protocol version' },
  cn_alloc_hint: { type: 'uint', label: 'Alloc hint' },
  cn_cancel_count: { type: 'uint', label: 'Cancel count' },
  cn_status: { type: 'uint', label: 'Status', base: 'hex' },
  auth_type: { type: 'uint', label: 'Auth type', values: AUTH_TYPES },
  auth_level: { type: 'uint', label: 'Auth level', values: AUTH_LEVELS },
  auth_pad_len: { type: 'uint', label: 'Auth pad len' },
  auth_ctx_id: { type: 'uint', label: 'Auth Context ID' },
  auth_value: { type: 'bytes', label: 'Auth value' },
  // common
  interface: { type: 'string', label: 'Interface name' },
  status_name: { type: 'string', label: 'Status name' },
  stub_data: { type: 'bytes', label: 'Stub data' },
  fragments: { type: 'string', label: 'Fragments in frames' },
  reassembled_in: { type: 'uint', label: 'Reassembled in frame' },
  request_in: { type: 'uint', label: 'Request in frame' },
  response_in: { type: 'uint', label: 'Response in frame' },
  'array.max_count': { type: 'uint', label: 'Max Count' },
  'array.offset': { type: 'uint', label: 'Offset' },
  'array.actual_count': { type: 'uint', label: 'Actual Count' },
  referent_id: { type: 'uint', label: 'Referent ID', base: 'hex' },
});

export function ptypeName(ptype: number): string {
  return PTYPES[ptype] ?? `Unknown (${ptype})`;
}

function drepNodes(o: number, b: readonly number[]): FieldNode[] {
  return [
    f(DCERPC.drep, Uint8Array.from(b.slice(0, 3)), o, 3, [
      f(DCERPC['drep.byteorder'], b[0]! >> 4, o, 1),
      f(DCERPC['drep.character'], b[0]! & 0x0f, o, 1),
      f(DCERPC['drep.fp'], b[1]!, o + 1, 1),
    ]),
  ];
}

function ifNode(def: typeof DCERPC.dg_if_id, uuid: string, o: number): FieldNode {
  const name = interfaceName(uuid) ?? TRANSFER_SYNTAXES.get(uuid);
  return f(def, uuid, o, 16, undefined, name !== undefined ? `${def.label}: ${name} (${uuid})` : undefined);
}

export function clHeaderTree(pdu: ClPdu): FieldNode[] {
  const h: ClHeader = pdu.header;
  const f1 = h.flags1;
  const nodes: FieldNode[] = [
    f(DCERPC.ver, h.version, 0, 1),
    f(DCERPC.pkt_type, h.ptype, 1, 1),
    f(DCERPC.dg_flags1, f1, 2, 1, [
      f(DCERPC.dg_flags1_broadcast, (f1 & 0x40) !== 0, 2, 1),
      f(DCERPC.dg_flags1_idempotent, (f1 & 0x20) !== 0, 2, 1),
      f(DCERPC.dg_flags1_maybe, (f1 & 0x10) !== 0, 2, 1),
      f(DCERPC.dg_flags1_nofack, (f1 & 0x08) !== 0, 2, 1),
      f(DCERPC.dg_flags1_frag, (f1 & 0x04) !== 0, 2, 1),
      f(DCERPC.dg_flags1_last_frag, (f1 & 0x02) !== 0, 2, 1),
    ]),
    f(DCERPC.dg_flags2, h.flags2, 3, 1, [f(DCERPC.dg_flags2_cancel_pending, (h.flags2 & 0x02) !== 0, 3, 1)]),
    ...drepNodes(4, h.drepBytes),
    f(DCERPC.dg_serial_hi, h.serialHi, 7, 1),
    f(DCERPC.obj_id, h.object, 8, 16),
    ifNode(DCERPC.dg_if_id, h.ifId, 24),
  ];
  const name = interfaceName(h.ifId);
  if (name !== undefined) nodes.push(f(DCERPC.interface, name));
  nodes.push(
    f(DCERPC.dg_act_id, h.activity, 40, 16),
    f(DCERPC.dg_server_boot, h.serverBoot, 56, 4),
    f(DCERPC.dg_if_ver, h.ifVersion, 60, 4),
    f(DCERPC.dg_seqnum, h.seq, 64, 4),
    f(DCERPC.opnum, h.opnum, 68, 2),
    f(DCERPC.dg_ihint, h.ihint, 70, 2),
    f(DCERPC.dg_ahint, h.ahint, 72, 2),
    f(DCERPC.dg_frag_len, h.len, 74, 2),
    f(DCERPC.dg_frag_num, h.fragnum, 76, 2),
    f(DCERPC.dg_auth_proto, h.authProto, 78, 1),
    f(DCERPC.dg_serial_lo, h.serialLo, 79, 1),
  );
  return nodes;
}

/** The fields of a connectionless header cut short (a bounce's quote) that are present. */
export function clHeaderPrefixTree(d: Uint8Array, prefix: ClHeaderPrefix): FieldNode[] {
  const nodes: FieldNode[] = [f(DCERPC.ver, d[0]!, 0, 1), f(DCERPC.pkt_type, prefix.ptype, 1, 1)];
  if (prefix.flags1 !== undefined) nodes.push(f(DCERPC.dg_flags1, prefix.flags1, 2, 1));
  if (d.length >= 7) nodes.push(...drepNodes(4, [d[4]!, d[5]!, d[6]!]));
  if (prefix.ifId !== undefined) nodes.push(ifNode(DCERPC.dg_if_id, prefix.ifId, 24));
  if (prefix.activity !== undefined) nodes.push(f(DCERPC.dg_act_id, prefix.activity, 40, 16));
  if (prefix.seq !== undefined) nodes.push(f(DCERPC.dg_seqnum, prefix.seq, 64, 4));
  if (prefix.opnum !== undefined) nodes.push(f(DCERPC.opnum, prefix.opnum, 68, 2));
  return nodes;
}

/** Body fields of the CL PDU types that have a fixed body (fault, reject, fack, nocall, quit, cack). */
export function clBodyTree(pdu: ClPdu): FieldNode[] {
  const h = pdu.header;
  const o = CL_HEADER_LEN;
  switch (h.ptype) {
    case 3:
    case 6: {
      if (pdu.body.length < 4) return [];
      const status = new DataView(pdu.body.buffer, pdu.body.byteOffset, 4).getUint32(0, h.drep.little);
      return [f(DCERPC.dg_status, status, o, 4, undefined, `Status: ${rpcStatusName(status)} (0x${status.toString(16).padStart(8, '0')})`), f(DCERPC.status_name, rpcStatusName(status))];
    }
    case 5:
    case 9: {
      const fack = parseFack(pdu.body, h.drep);
      if (fack === undefined) return [];
      return [
        f(DCERPC['fack.vers'], fack.version, o, 1),
        f(DCERPC['fack.window_size'], fack.windowSize, o + 2, 2),
        f(DCERPC['fack.max_tsdu'], fack.maxTsdu, o + 4, 4),
        f(DCERPC['fack.max_frag_size'], fack.maxFragSize, o + 8, 4),
        f(DCERPC['fack.serial_num'], fack.serialNum, o + 12, 2),
        f(DCERPC['fack.selack_len'], fack.selackLen, o + 14, 2),
        ...fack.selack.map((mask, i) => f(DCERPC['fack.selack'], mask, o + 16 + 4 * i, 4)),
      ];
    }
    case 8:
    case 10: {
      const c = parseCancel(pdu.body, h.drep, h.ptype === 10);
      if (c === undefined) return [];
      const nodes = [f(DCERPC['cancel.vers'], c.version, o, 4), f(DCERPC['cancel.id'], c.cancelId, o + 4, 4)];
      if (c.serverIsAccepting !== undefined) nodes.push(f(DCERPC['cancel.server_accepting'], c.serverIsAccepting !== 0, o + 8, 4));
      return nodes;
    }
    default:
      return [];
  }
}

export function coHeaderTree(h: CoHeader): FieldNode[] {
  const fl = h.flags;
  return [
    f(DCERPC.ver, h.version, 0, 1),
    f(DCERPC.ver_minor, h.minor, 1, 1),
    f(DCERPC.pkt_type, h.ptype, 2, 1),
    f(DCERPC.cn_flags, fl, 3, 1, [
      f(DCERPC['cn_flags.object'], (fl & 0x80) !== 0, 3, 1),
      f(DCERPC['cn_flags.maybe'], (fl & 0x40) !== 0, 3, 1),
      f(DCERPC['cn_flags.dne'], (fl & 0x20) !== 0, 3, 1),
      f(DCERPC['cn_flags.mpx'], (fl & 0x10) !== 0, 3, 1),
      f(DCERPC['cn_flags.cancel_pending'], (fl & 0x04) !== 0, 3, 1),
      f(DCERPC['cn_flags.last_frag'], (fl & 0x02) !== 0, 3, 1),
      f(DCERPC['cn_flags.first_frag'], (fl & 0x01) !== 0, 3, 1),
    ]),
    ...drepNodes(4, h.drepBytes),
    f(DCERPC.cn_frag_len, h.fragLength, 8, 2),
    f(DCERPC.cn_auth_len, h.authLength, 10, 2),
    f(DCERPC.cn_call_id, h.callId, 12, 4),
  ];
}

export function bindTree(b: BindBody): FieldNode[] {
  const nodes: FieldNode[] = [
    f(DCERPC.cn_max_xmit, b.maxXmit, 16, 2),
    f(DCERPC.cn_max_recv, b.maxRecv, 18, 2),
    f(DCERPC.cn_assoc_group, b.assocGroup, 20, 4),
    f(DCERPC.cn_num_ctx_items, b.contexts.length, 24, 1),
  ];
  for (const c of b.contexts) {
    const name = interfaceName(c.abstract.uuid);
    nodes.push(f(DCERPC.cn_ctx_item, null, undefined, undefined, [
      f(DCERPC.cn_ctx_id, c.id),
      f(DCERPC.cn_num_trans_items, c.transfer.length),
      f(DCERPC.cn_bind_to_uuid, c.abstract.uuid, undefined, undefined, undefined, `Interface UUID: ${name !== undefined ? `${name} (${c.abstract.uuid})` : c.abstract.uuid}`),
      f(DCERPC.cn_bind_if_ver, c.abstract.major),
      f(DCERPC.cn_bind_if_ver_minor, c.abstract.minor),
      ...c.transfer.flatMap((t) => [
        f(DCERPC.cn_bind_trans_id, t.uuid, undefined, undefined, undefined, `Transfer Syntax: ${TRANSFER_SYNTAXES.get(t.uuid) ?? t.uuid}`),
        f(DCERPC.cn_bind_trans_ver, t.major),
      ]),
    ], `Ctx Item[${c.id}]: ${name ?? c.abstract.uuid} V${c.abstract.major}.${c.abstract.minor}`));
  }
  return nodes;
}

export function bindAckTree(b: BindAckBody): FieldNode[] {
  return [
    f(DCERPC.cn_max_xmit, b.maxXmit, 16, 2),
    f(DCERPC.cn_max_recv, b.maxRecv, 18, 2),
    f(DCERPC.cn_assoc_group, b.assocGroup, 20, 4),
    f(DCERPC.cn_sec_addr, b.secAddr),
    f(DCERPC.cn_num_results, b.results.length),
    ...b.results.flatMap((r) => [
      f(DCERPC.cn_ack_result, r.result),
      f(DCERPC.cn_ack_reason, r.reason),
      f(DCERPC.cn_ack_trans_id, r.transfer.uuid, undefined, undefined, undefined, `Transfer Syntax: ${TRANSFER_SYNTAXES.get(r.transfer.uuid) ?? r.transfer.uuid}`),
    ]),
  ];
}

export function bindNakTree(b: BindNakBody): FieldNode[] {
  return [f(DCERPC.cn_reject_reason, b.reason, 16, 2), ...b.versions.map((v) => f(DCERPC.cn_protocol_ver, `${v.major}.${v.minor}`))];
}

export function authTree(a: AuthTrailer, pdu: Uint8Array): FieldNode[] {
  return [
    f(DCERPC.auth_type, a.type, a.offset, 1),
    f(DCERPC.auth_level, a.level, a.offset + 1, 1),
    f(DCERPC.auth_pad_len, a.padLength, a.offset + 2, 1),
    f(DCERPC.auth_ctx_id, a.contextId, a.offset + 4, 4),
    f(DCERPC.auth_value, pdu.subarray(a.offset + 8, a.offset + a.length), a.offset + 8, a.length - 8),
  ];
}

/** max_count / offset / actual_count of a conformant varying string, as tshark shows them. */
export function ndrStringCounts(s: NdrString): FieldNode[] {
  return [
    f(DCERPC['array.max_count'], s.max, s.off, 4),
    f(DCERPC['array.offset'], s.offset, s.off + 4, 4),
    f(DCERPC['array.actual_count'], s.actual, s.off + 8, 4),
  ];
}
