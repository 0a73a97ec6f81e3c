// Novell IPX (the NetWare network layer): decoded for its addresses, so frames that carry
// NetBIOS over IPX show the Source/Destination columns tshark shows (`network.node`).
import { defineProtocol, f } from '../model/fields.js';
import { IPX_FINDINGS } from './findings.js';
import type { Packet } from '../model/packet.js';
import { macString } from './addr.js';

const PACKET_TYPES: Record<number, string> = { 0: 'Unknown', 1: 'RIP', 4: 'PEP', 5: 'SPX', 17: 'NCP', 20: 'NetBIOS Broadcast' };
const SOCKETS: Record<number, string> = { 0x0451: 'NCP', 0x0452: 'SAP', 0x0453: 'RIP', 0x0455: 'NetBIOS', 0x0456: 'Diagnostic', 0x0457: 'Serialization', 0x0553: 'NWLink SMB Name Query', 0x0550: 'NWLink SMB Server', 0x0552: 'NWLink SMB Messenger', 0x0551: 'NWLink SMB Redirector', 0x0554: 'NWLink SMB Browse' };

export const IPX = defineProtocol('ipx', 'Internetwork Packet eXchange', {
  checksum: { type: 'uint', label: 'Checksum', base: 'hex' },
  len: { type: 'uint', label: 'Length' },
  hops: { type: 'uint', label: 'Transport Control (hops)' },
  packet_type: { type: 'uint', label: 'Packet Type', base: 'hex', values: PACKET_TYPES },
  dst: { type: 'string', label: 'Destination Address' },
  'dst.net': { type: 'uint', label: 'Destination Network', base: 'hex' },
  'dst.node': { type: 'ether', label: 'Destination Node' },
  dstsocket: { type: 'uint', label: 'Destination Socket', base: 'hex', values: SOCKETS },
  src: { type: 'string', label: 'Source Address' },
  'src.net': { type: 'uint', label: 'Source Network', base: 'hex' },
  'src.node': { type: 'ether', label: 'Source Node' },
  srcsocket: { type: 'uint', label: 'Source Socket', base: 'hex', values: SOCKETS },
});

const HEADER = 30;

function u32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}

/** `network.node` as tshark writes IPX addresses: 8 and 12 hex digits. */
export function ipxAddress(d: Uint8Array, o: number): string {
  return `${u32(d, o).toString(16).padStart(8, '0')}.${macString(d, o + 4).replace(/:/g, '')}`;
}

export function decodeIpx(packet: Packet, d: Uint8Array, o: number): void {
  if (d.length - o < HEADER) {
    packet.findings.push(IPX_FINDINGS.truncated.at(packet.frame.number, 'IPX header truncated'));
    return;
  }
  const length = (d[o + 2]! << 8) | d[o + 3]!;
  const type = d[o + 5]!;
  const dst = ipxAddress(d, o + 6);
  const src = ipxAddress(d, o + 18);
  const dstSocket = (d[o + 16]! << 8) | d[o + 17]!;
  const srcSocket = (d[o + 28]! << 8) | d[o + 29]!;
  packet.src = src;
  packet.dst = dst;
  if (length < HEADER || length > d.length - o) {
    packet.findings.push(IPX_FINDINGS.badLength.at(packet.frame.number, `IPX length ${length} disagrees with the ${d.length - o} bytes present`));
  }
  packet.layers.push({
    name: 'ipx',
    bytes: d,
    offset: o,
    length: HEADER,
    column: 'IPX',
    info: `${PACKET_TYPES[type] ?? `Type 0x${type.toString(16).padStart(2, '0')}`}, socket 0x${srcSocket.toString(16).padStart(4, '0')} → 0x${dstSocket.toString(16).padStart(4, '0')}`,
    tree: () => [
      f(IPX.checksum, (d[o]! << 8) | d[o + 1]!, o, 2),
      f(IPX.len, length, o + 2, 2),
      f(IPX.hops, d[o + 4]! & 0x0f, o + 4, 1),
      f(IPX.packet_type, type, o + 5, 1),
      f(IPX.dst, dst, o + 6, 10, [f(IPX['dst.net'], u32(d, o + 6), o + 6, 4), f(IPX['dst.node'], macString(d, o + 10), o + 10, 6)]),
      f(IPX.dstsocket, dstSocket, o + 16, 2),
      f(IPX.src, src, o + 18, 10, [f(IPX['src.net'], u32(d, o + 18), o + 18, 4), f(IPX['src.node'], macString(d, o + 22), o + 22, 6)]),
      f(IPX.srcsocket, srcSocket, o + 28, 2),
    ],
  });
}
