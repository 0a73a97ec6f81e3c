// Link layers: Ethernet II with 802.1Q/802.1ad tags, 802.3 with LLC, Linux cooked (SLL, SLL2),
// BSD loopback/NULL, raw IP, PPP and PPPoE sessions.
import { defineProtocol, f, type FieldNode } from '../model/fields.js';
import type { FindingDef } from '../model/findings.js';
import { ETH_FINDINGS, LLC_FINDINGS, NULL_FINDINGS, PPP_FINDINGS, PPPOES_FINDINGS, SLL_FINDINGS, VLAN_FINDINGS } from './findings.js';
import { LINKTYPE } from '../capture/frame.js';
import { FramePacket, type Layer, type Packet } from '../model/packet.js';
import { macString } from './addr.js';

export const ETHERTYPES: Record<number, string> = {
  0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: '802.1Q Virtual LAN', 0x88a8: '802.1ad Provider Bridge (Q-in-Q)',
  0x9100: 'VLAN-tagged (Q-in-Q)', 0x8863: 'PPPoE Discovery', 0x8864: 'PPPoE Session', 0x8137: 'Netware IPX/SPX', 0x888e: '802.1X Authentication',
};

export const ETH = defineProtocol('eth', 'Ethernet II', {
  dst: { type: 'ether', label: 'Destination' },
  src: { type: 'ether', label: 'Source' },
  type: { type: 'uint', label: 'Type', base: 'hex', values: ETHERTYPES },
  len: { type: 'uint', label: 'Length' },
  addr: { type: 'ether', label: 'Address', description: 'Source or destination (filters only)' },
});

export const VLAN = defineProtocol('vlan', '802.1Q Virtual LAN', {
  priority: { type: 'uint', label: 'Priority' },
  dei: { type: 'bool', label: 'DEI' },
  id: { type: 'uint', label: 'ID' },
  etype: { type: 'uint', label: 'Type', base: 'hex', values: ETHERTYPES },
  tpid: { type: 'uint', label: 'Tag protocol identifier', base: 'hex', values: ETHERTYPES },
});

const SAPS: Record<number, string> = { 0x06: 'IP', 0xaa: 'SNAP', 0xe0: 'NetWare', 0xf0: 'NetBIOS', 0x42: 'Spanning Tree BPDU', 0xfe: 'ISO Network Layer' };

export const LLC = defineProtocol('llc', 'Logical-Link Control', {
  dsap: { type: 'uint', label: 'DSAP', base: 'hex', values: SAPS },
  ssap: { type: 'uint', label: 'SSAP', base: 'hex', values: SAPS },
  control: { type: 'uint', label: 'Control field', base: 'hex' },
  oui: { type: 'uint', label: 'Organization Code', base: 'hex' },
  pid: { type: 'uint', label: 'Protocol ID', base: 'hex', values: ETHERTYPES },
});

const SLL_PKTTYPES: Record<number, string> = { 0: 'Unicast to us', 1: 'Broadcast', 2: 'Multicast', 3: 'Unicast to another host', 4: 'Sent by us' };

export const SLL = defineProtocol('sll', 'Linux cooked capture', {
  pkttype: { type: 'uint', label: 'Packet type', values: SLL_PKTTYPES },
  hatype: { type: 'uint', label: 'Link-layer address type' },
  halen: { type: 'uint', label: 'Link-layer address length' },
  src_eth: { type: 'ether', label: 'Source' },
  src_bytes: { type: 'bytes', label: 'Source' },
  ifindex: { type: 'uint', label: 'Interface index' },
  etype: { type: 'uint', label: 'Protocol', base: 'hex', values: ETHERTYPES },
});

const AF_FAMILIES: Record<number, string> = { 2: 'IP', 24: 'IPv6', 28: 'IPv6', 30: 'IPv6', 10: 'IPv6 (Linux)' };

export const NULL = defineProtocol('null', 'Null/Loopback', {
  family: { type: 'uint', label: 'Family', values: AF_FAMILIES },
});

const PPP_PROTOCOLS: Record<number, string> = { 0x0021: 'Internet Protocol version 4', 0x0057: 'Internet Protocol version 6', 0xc021: 'Link Control Protocol', 0x8021: 'Internet Protocol Control Protocol', 0xc023: 'Password Authentication Protocol', 0xc223: 'Challenge Handshake Authentication Protocol' };

export const PPP = defineProtocol('ppp', 'Point-to-Point Protocol', {
  address: { type: 'uint', label: 'Address', base: 'hex' },
  control: { type: 'uint', label: 'Control', base: 'hex' },
  protocol: { type: 'uint', label: 'Protocol', base: 'hex', values: PPP_PROTOCOLS },
});

export const PPPOES = defineProtocol('pppoes', 'PPP-over-Ethernet Session', {
  version: { type: 'uint', label: 'Version' },
  type: { type: 'uint', label: 'Type' },
  code: { type: 'uint', label: 'Code', base: 'hex' },
  session_id: { type: 'uint', label: 'Session ID', base: 'hex' },
  payload_length: { type: 'uint', label: 'Payload Length' },
});

/** What sits above the link layer. */
export interface NetStart {
  /** Ethertype of the payload (0x0800 IPv4, 0x86dd IPv6, …), or -1 when unknown. */
  readonly ethertype: number;
  readonly offset: number;
}

const NONE: NetStart = { ethertype: -1, offset: 0 };

/**
 * The link layer's source (and destination, when `dstAt` >= 0) MAC address as the packet's
 * addresses, until a network layer sets its own. The engine's packets defer the text until
 * `settleLinkAddresses`; any other packet gets it at once.
 */
function setLinkAddresses(packet: Packet, d: Uint8Array, srcAt: number, dstAt: number): void {
  if (packet instanceof FramePacket) {
    packet.linkBytes = d;
    packet.linkSrcAt = srcAt;
    packet.linkDstAt = dstAt;
    return;
  }
  packet.src = macString(d, srcAt);
  if (dstAt >= 0) packet.dst = macString(d, dstAt);
}

/**
 * After the frame's dissection, while its bytes are valid: the deferred link-layer addresses
 * become the packet's where no network layer set its own (an IP, IPv6 or IPX address is never
 * empty, so an empty one was not set).
 */
export function settleLinkAddresses(packet: FramePacket): void {
  const d = packet.linkBytes;
  if (d === undefined) return;
  if (packet.linkSrcAt >= 0 && packet.src === '') packet.src = macString(d, packet.linkSrcAt);
  if (packet.linkDstAt >= 0 && packet.dst === '') packet.dst = macString(d, packet.linkDstAt);
  packet.linkBytes = undefined;
}

export function decodeLink(packet: Packet, data: Uint8Array, linkType: number): NetStart {
  switch (linkType) {
    case LINKTYPE.ETHERNET:
      return decodeEthernet(packet, data);
    case LINKTYPE.LINUX_SLL:
      return decodeSll(packet, data);
    case LINKTYPE.LINUX_SLL2:
      return decodeSll2(packet, data);
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP:
      return decodeNull(packet, data, linkType === LINKTYPE.LOOP);
    case LINKTYPE.PPP:
    case LINKTYPE.PPP_HDLC:
      return decodePpp(packet, data, 0);
    case LINKTYPE.RAW:
    case 12: // OpenBSD's value for raw IP
    case 14:
      return rawIp(data);
    case LINKTYPE.IPV4:
      return { ethertype: 0x0800, offset: 0 };
    case LINKTYPE.IPV6:
      return { ethertype: 0x86dd, offset: 0 };
    default:
      return NONE;
  }
}

function rawIp(data: Uint8Array): NetStart {
  if (data.length === 0) return NONE;
  const version = data[0]! >> 4;
  return version === 4 ? { ethertype: 0x0800, offset: 0 } : version === 6 ? { ethertype: 0x86dd, offset: 0 } : NONE;
}

function truncated(packet: Packet, def: FindingDef): NetStart {
  packet.findings.push(def.at(packet.frame.number, `${def.protocol} header truncated`));
  return NONE;
}

/** Cisco ISL (Inter-Switch Link): a 26-byte header before a whole inner frame, sent to 01:00:0c:00:00. */
export const ISL = defineProtocol('isl', 'Cisco ISL', {
  type: { type: 'uint', label: 'Type', values: { 0: 'Ethernet', 1: 'Token-Ring', 2: 'FDDI', 3: 'ATM' } },
  user: { type: 'uint', label: 'User' },
  hsa: { type: 'uint', label: 'HSA', base: 'hex' },
  vlan_id: { type: 'uint', label: 'VLAN ID' },
  bpdu: { type: 'bool', label: 'BPDU/CDP/VTP' },
  index: { type: 'uint', label: 'Index' },
});

function isIsl(d: Uint8Array, o: number): boolean {
  return (d[o] === 0x01 || d[o] === 0x03) && d[o + 1] === 0x00 && d[o + 2] === 0x0c && d[o + 3] === 0x00 && d[o + 4] === 0x00;
}

/** An Ethernet header's layer (or ISL's, shown as a second `eth`): its tree is built when an output asks (no closure per frame). */
class EthLayer implements Layer {
  readonly name = 'eth';
  readonly info = undefined;
  readonly length: number;
  readonly column: string | undefined;

  constructor(readonly bytes: Uint8Array, readonly offset: number, private readonly isLength: boolean, private readonly isl: boolean) {
    this.length = isl ? 26 : 14;
    this.column = isl ? 'ISL' : undefined;
  }

  tree(): FieldNode[] {
    const d = this.bytes;
    const o = this.offset;
    const type = (d[o + 12]! << 8) | d[o + 13]!;
    const nodes = [f(ETH.dst, macString(d, o), o, 6), f(ETH.src, macString(d, o + 6), o + 6, 6), this.isLength ? f(ETH.len, type, o + 12, 2) : f(ETH.type, type, o + 12, 2)];
    if (this.isl) {
      const vlan = (d[o + 20]! << 8) | d[o + 21]!;
      nodes.push(
        f(ISL.type, d[o + 5]! >> 4, o + 5, 1),
        f(ISL.user, d[o + 5]! & 0x0f, o + 5, 1),
        f(ISL.hsa, (d[o + 17]! << 16) | (d[o + 18]! << 8) | d[o + 19]!, o + 17, 3),
        f(ISL.vlan_id, vlan >> 1, o + 20, 2),
        f(ISL.bpdu, (vlan & 1) === 1, o + 20, 2),
        f(ISL.index, (d[o + 22]! << 8) | d[o + 23]!, o + 22, 2),
      );
    }
    return nodes;
  }
}

function decodeEthernet(packet: Packet, d: Uint8Array, o = 0, depth = 0): NetStart {
  if (d.length - o < 14) return truncated(packet, ETH_FINDINGS.truncated);
  const type = (d[o + 12]! << 8) | d[o + 13]!;
  setLinkAddresses(packet, d, o + 6, o);
  const isLength = type <= 1500;
  // ISL frames carry an 802.3 length and the inner frame after 26 bytes; tshark lists the ISL
  // header as a second `eth` layer, and so do we.
  const isl = isLength && depth === 0 && d.length - o >= 26 + 14 && isIsl(d, o) && d[o + 14] === 0xaa && d[o + 15] === 0xaa && d[o + 16] === 0x03;
  const islType = d[o + 5]! >> 4;
  packet.layers.push(new EthLayer(d, o, isLength, isl));
  if (isl) return islType === 0 ? decodeEthernet(packet, d, o + 26, depth + 1) : NONE;
  if (isLength) {
    const end = Math.min(d.length, o + 14 + type);
    // Novell "raw 802.3": IPX straight after the length, recognised by its 0xFFFF checksum.
    if (end - o >= 16 && d[o + 14] === 0xff && d[o + 15] === 0xff) return { ethertype: 0x8137, offset: o + 14 };
    return decodeLlc(packet, d, o + 14, end);
  }
  return afterEthertype(packet, d, type, o + 14);
}

/** Follows VLAN tags and PPPoE sessions after an ethertype. */
function afterEthertype(packet: Packet, d: Uint8Array, type: number, offset: number): NetStart {
  let ethertype = type;
  let pos = offset;
  for (let depth = 0; depth < 8 && (ethertype === 0x8100 || ethertype === 0x88a8 || ethertype === 0x9100); depth++) {
    if (d.length < pos + 4) return truncated(packet, VLAN_FINDINGS.truncated);
    const tci = (d[pos]! << 8) | d[pos + 1]!;
    const inner = (d[pos + 2]! << 8) | d[pos + 3]!;
    const at = pos;
    const tpid = ethertype;
    packet.layers.push({
      name: 'vlan',
      bytes: d,
      offset: at,
      length: 4,
      tree: () => [
        f(VLAN.tpid, tpid, at - 2, 2),
        f(VLAN.priority, tci >> 13, at, 2),
        f(VLAN.dei, (tci & 0x1000) !== 0, at, 2),
        f(VLAN.id, tci & 0xfff, at, 2),
        f(VLAN.etype, inner, at + 2, 2),
      ],
    });
    ethertype = inner;
    pos += 4;
  }
  if (ethertype === 0x8864) return decodePppoeSession(packet, d, pos);
  return { ethertype, offset: pos };
}

function decodeLlc(packet: Packet, d: Uint8Array, pos: number, end: number): NetStart {
  if (end - pos < 3) return truncated(packet, LLC_FINDINGS.truncated);
  const dsap = d[pos]!;
  const ssap = d[pos + 1]!;
  let control = d[pos + 2]!;
  // I and S frames carry a two-byte control field (ISO/IEC 8802-2 §5.2).
  const controlLength = (control & 0x03) === 0x03 ? 1 : 2;
  if (controlLength === 2 && end - pos >= 4) control = control | (d[pos + 3]! << 8);
  let length = 2 + controlLength;
  const snap = dsap === 0xaa && ssap === 0xaa && end - pos >= 8;
  let pid = -1;
  if (snap) {
    pid = (d[pos + 6]! << 8) | d[pos + 7]!;
    length = 8;
  }
  const at = pos;
  packet.layers.push({
    name: 'llc',
    bytes: d,
    offset: at,
    length,
    info: snap ? undefined : `${SAPS[dsap] ?? `DSAP 0x${dsap.toString(16)}`} ${controlLength === 1 && (control & 0xef) === 0x03 ? 'U, func=UI' : ''}`.trim(),
    tree: () => {
      const nodes: FieldNode[] = [f(LLC.dsap, dsap, at, 1), f(LLC.ssap, ssap, at + 1, 1), f(LLC.control, control, at + 2, controlLength)];
      if (snap) nodes.push(f(LLC.oui, (d[at + 3]! << 16) | (d[at + 4]! << 8) | d[at + 5]!, at + 3, 3), f(LLC.pid, pid, at + 6, 2));
      return nodes;
    },
  });
  if (snap) return afterEthertype(packet, d, pid, pos + 8);
  if (dsap === 0xe0 && ssap === 0xe0 && controlLength === 1) return { ethertype: 0x8137, offset: pos + 3 }; // IPX over 802.2
  if (dsap === 0x06 && ssap === 0x06 && controlLength === 1) return { ethertype: 0x0800, offset: pos + 3 }; // IP over 802.2 (RFC 1042 allows it)
  return NONE;
}

function decodeSll(packet: Packet, d: Uint8Array): NetStart {
  if (d.length < 16) return truncated(packet, SLL_FINDINGS.truncated);
  const pkttype = (d[0]! << 8) | d[1]!;
  const hatype = (d[2]! << 8) | d[3]!;
  const halen = (d[4]! << 8) | d[5]!;
  const etype = (d[14]! << 8) | d[15]!;
  if (halen === 6) setLinkAddresses(packet, d, 6, -1);
  packet.layers.push({
    name: 'sll',
    bytes: d,
    offset: 0,
    length: 16,
    tree: () => [
      f(SLL.pkttype, pkttype, 0, 2),
      f(SLL.hatype, hatype, 2, 2),
      f(SLL.halen, halen, 4, 2),
      halen === 6 ? f(SLL.src_eth, macString(d, 6), 6, 6) : f(SLL.src_bytes, d.subarray(6, 6 + Math.min(halen, 8)), 6, Math.min(halen, 8)),
      f(SLL.etype, etype, 14, 2),
    ],
  });
  return sllPayload(packet, d, hatype, etype, 16);
}

function decodeSll2(packet: Packet, d: Uint8Array): NetStart {
  if (d.length < 20) return truncated(packet, SLL_FINDINGS.truncated);
  const etype = (d[0]! << 8) | d[1]!;
  const ifindex = ((d[4]! << 24) | (d[5]! << 16) | (d[6]! << 8) | d[7]!) >>> 0;
  const hatype = (d[8]! << 8) | d[9]!;
  const pkttype = d[10]!;
  const halen = d[11]!;
  if (halen === 6) setLinkAddresses(packet, d, 12, -1);
  packet.layers.push({
    name: 'sll',
    bytes: d,
    offset: 0,
    length: 20,
    tree: () => [
      f(SLL.etype, etype, 0, 2),
      f(SLL.ifindex, ifindex, 4, 4),
      f(SLL.hatype, hatype, 8, 2),
      f(SLL.pkttype, pkttype, 10, 1),
      f(SLL.halen, halen, 11, 1),
      halen === 6 ? f(SLL.src_eth, macString(d, 12), 12, 6) : f(SLL.src_bytes, d.subarray(12, 12 + Math.min(halen, 8)), 12, Math.min(halen, 8)),
    ],
  });
  return sllPayload(packet, d, hatype, etype, 20);
}

function sllPayload(packet: Packet, d: Uint8Array, hatype: number, etype: number, pos: number): NetStart {
  // ARPHRD_PPP frames and "protocol 4" (802.2 LLC) per the SLL spec at tcpdump.org.
  if (etype === 0x0004) return decodeLlc(packet, d, pos, d.length);
  if (hatype === 512 && etype === 0x0021) return { ethertype: 0x0800, offset: pos };
  return afterEthertype(packet, d, etype, pos);
}

function decodeNull(packet: Packet, d: Uint8Array, networkOrder: boolean): NetStart {
  if (d.length < 4) return truncated(packet, NULL_FINDINGS.truncated);
  const le = d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24);
  const be = (d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!;
  // NULL uses the writer's byte order: whichever reading gives a small value is the right one.
  const family = networkOrder ? be : (le & 0xffff0000) === 0 ? le : be;
  packet.layers.push({ name: 'null', bytes: d, offset: 0, length: 4, tree: () => [f(NULL.family, family, 0, 4)] });
  if (family === 2) return { ethertype: 0x0800, offset: 4 };
  if (family === 24 || family === 28 || family === 30 || family === 10) return { ethertype: 0x86dd, offset: 4 };
  return NONE;
}

function decodePpp(packet: Packet, d: Uint8Array, pos: number): NetStart {
  let at = pos;
  let hasAddress = false;
  if (d.length >= at + 2 && d[at] === 0xff && d[at + 1] === 0x03) {
    hasAddress = true;
    at += 2;
  }
  if (d.length < at + 1) return truncated(packet, PPP_FINDINGS.truncated);
  // Protocol-field compression (RFC 1661 §6.5): an odd first byte is a one-byte protocol.
  let protocol: number;
  let protoLength: number;
  if ((d[at]! & 1) === 1) {
    protocol = d[at]!;
    protoLength = 1;
  } else {
    if (d.length < at + 2) return truncated(packet, PPP_FINDINGS.truncated);
    protocol = (d[at]! << 8) | d[at + 1]!;
    protoLength = 2;
  }
  const start = pos;
  const protoAt = at;
  packet.layers.push({
    name: 'ppp',
    bytes: d,
    offset: start,
    length: protoAt - start + protoLength,
    info: protocol === 0x0021 || protocol === 0x0057 ? undefined : PPP_PROTOCOLS[protocol] ?? `Protocol 0x${protocol.toString(16)}`,
    tree: () => {
      const nodes: FieldNode[] = [];
      if (hasAddress) nodes.push(f(PPP.address, 0xff, start, 1), f(PPP.control, 0x03, start + 1, 1));
      nodes.push(f(PPP.protocol, protocol, protoAt, protoLength));
      return nodes;
    },
  });
  const next = protoAt + protoLength;
  if (protocol === 0x0021) return { ethertype: 0x0800, offset: next };
  if (protocol === 0x0057) return { ethertype: 0x86dd, offset: next };
  return NONE;
}

function decodePppoeSession(packet: Packet, d: Uint8Array, pos: number): NetStart {
  if (d.length < pos + 6) return truncated(packet, PPPOES_FINDINGS.truncated);
  const vt = d[pos]!;
  const code = d[pos + 1]!;
  const session = (d[pos + 2]! << 8) | d[pos + 3]!;
  const length = (d[pos + 4]! << 8) | d[pos + 5]!;
  const at = pos;
  packet.layers.push({
    name: 'pppoes',
    bytes: d,
    offset: at,
    length: 6,
    column: 'PPPoES',
    tree: () => [
      f(PPPOES.version, vt >> 4, at, 1),
      f(PPPOES.type, vt & 0xf, at, 1),
      f(PPPOES.code, code, at + 1, 1),
      f(PPPOES.session_id, session, at + 2, 2),
      f(PPPOES.payload_length, length, at + 4, 2),
    ],
  });
  return decodePpp(packet, d, pos + 6);
}
