// Field declarations for the NetBIOS session, datagram and name services (tshark's names).
import { defineProtocol } from '../../model/fields.js';

export const NBSS_TYPES = new Map([
  [0x00, 'Session message'], [0x81, 'Session request'], [0x82, 'Positive session response'],
  [0x83, 'Negative session response'], [0x84, 'Retarget session response'], [0x85, 'Session keep-alive'],
]);

/** RFC 1002 §4.3.4 negative response error codes. */
export const NBSS_ERRORS = new Map([
  [0x80, 'Not listening on called name'], [0x81, 'Not listening for calling name'], [0x82, 'Called name not present'],
  [0x83, 'Called name present, but insufficient resources'], [0x8f, 'Unspecified error'],
]);

export const NBSS = defineProtocol('nbss', 'NetBIOS Session Service', {
  type: { type: 'uint', label: 'Message Type', base: 'hex', values: NBSS_TYPES },
  flags: { type: 'uint', label: 'Flags', base: 'hex' },
  'flags.e': { type: 'bool', label: 'Add 65536 to length' },
  length: { type: 'uint', label: 'Length' },
  called_name: { type: 'string', label: 'Called name' },
  calling_name: { type: 'string', label: 'Calling name' },
  error_code: { type: 'uint', label: 'Error code', base: 'hex', values: NBSS_ERRORS },
  retarget_ip_address: { type: 'ipv4', label: 'Retarget IP address' },
  retarget_port: { type: 'uint', label: 'Retarget port' },
  continuation_data: { type: 'bytes', label: 'Continuation data' },
});

export const NBDGM_TYPES = new Map([
  [0x10, 'Direct_unique datagram'], [0x11, 'Direct_group datagram'], [0x12, 'Broadcast datagram'],
  [0x13, 'Datagram error'], [0x14, 'Datagram query request'], [0x15, 'Datagram positive query response'],
  [0x16, 'Datagram negative query response'],
]);

/** RFC 1002 §4.4.3 error codes. */
export const NBDGM_ERRORS = new Map([
  [0x82, 'Destination name not present'], [0x83, 'Invalid source name format'], [0x84, 'Invalid destination name format'],
]);

export const NBDGM = defineProtocol('nbdgm', 'NetBIOS Datagram Service', {
  type: { type: 'uint', label: 'Message Type', base: 'hex', values: NBDGM_TYPES },
  flags: { type: 'uint', label: 'Flags', base: 'hex' },
  next: { type: 'bool', label: 'More fragments follow' },
  first: { type: 'bool', label: 'This is first fragment' },
  node_type: { type: 'uint', label: 'Node Type', values: new Map([[0, 'B node'], [1, 'P node'], [2, 'M node'], [3, 'NBDD']]) },
  dgram_id: { type: 'uint', label: 'Datagram ID', base: 'hex' },
  'src.ip': { type: 'ipv4', label: 'Source IP' },
  'src.port': { type: 'uint', label: 'Source Port' },
  dgram_len: { type: 'uint', label: 'Datagram length' },
  pkt_offset: { type: 'uint', label: 'Packet offset' },
  error_code: { type: 'uint', label: 'Error code', base: 'hex', values: NBDGM_ERRORS },
  source_name: { type: 'string', label: 'Source name' },
  destination_name: { type: 'string', label: 'Destination name' },
  fragments: { type: 'string', label: 'Fragments in frames' },
  reassembled_length: { type: 'uint', label: 'Reassembled length' },
  user_data: { type: 'bytes', label: 'User data' },
});

export const NBNS_OPCODES = new Map([
  [0, 'Name query'], [5, 'Registration'], [6, 'Release'], [7, 'Wait for acknowledgment'], [8, 'Refresh'],
  [9, 'Refresh (alternate opcode)'], [15, 'Multi-homed registration'],
]);

export const NBNS_RCODES = new Map([
  [0, 'No error'], [1, 'Format error'], [2, 'Server failure'], [3, 'Requested name does not exist'],
  [4, 'Request is not implemented'], [5, 'Request was refused'], [6, 'Name is owned by another node'],
  [7, 'Name is in conflict'],
]);

export const NBNS_TYPES = new Map([[0x20, 'NB'], [0x21, 'NBSTAT'], [0x01, 'A'], [0x02, 'NS'], [0x0a, 'NULL']]);

export const NBNS = defineProtocol('nbns', 'NetBIOS Name Service', {
  id: { type: 'uint', label: 'Transaction ID', base: 'hex' },
  flags: { type: 'uint', label: 'Flags', base: 'hex' },
  'flags.response': { type: 'bool', label: 'Response' },
  'flags.opcode': { type: 'uint', label: 'Opcode', values: NBNS_OPCODES },
  'flags.authoritative': { type: 'bool', label: 'Authoritative' },
  'flags.truncated': { type: 'bool', label: 'Truncated' },
  'flags.recdesired': { type: 'bool', label: 'Recursion desired' },
  'flags.recavail': { type: 'bool', label: 'Recursion available' },
  'flags.broadcast': { type: 'bool', label: 'Broadcast' },
  'flags.rcode': { type: 'uint', label: 'Reply code', values: NBNS_RCODES },
  'count.queries': { type: 'uint', label: 'Questions' },
  'count.answers': { type: 'uint', label: 'Answer RRs' },
  'count.auth_rr': { type: 'uint', label: 'Authority RRs' },
  'count.add_rr': { type: 'uint', label: 'Additional RRs' },
  name: { type: 'string', label: 'Name' },
  type: { type: 'uint', label: 'Type', values: NBNS_TYPES },
  class: { type: 'uint', label: 'Class', values: new Map([[1, 'IN']]) },
  ttl: { type: 'uint', label: 'Time to live' },
  data_length: { type: 'uint', label: 'Data length' },
  nb_flags: { type: 'uint', label: 'Name flags', base: 'hex' },
  'nb_flags.group': { type: 'bool', label: 'Group name' },
  'nb_flags.ont': { type: 'uint', label: 'ONT', values: new Map([[0, 'B-node'], [1, 'P-node'], [2, 'M-node'], [3, 'H-node']]) },
  addr: { type: 'ipv4', label: 'Addr' },
  number_of_names: { type: 'uint', label: 'Number of names' },
  netbios_name: { type: 'string', label: 'Name' },
  name_flags: { type: 'uint', label: 'Name flags', base: 'hex' },
  unit_id: { type: 'ether', label: 'Unit ID' },
  data: { type: 'bytes', label: 'Data' },
});
