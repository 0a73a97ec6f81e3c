// ARP (RFC 826) for Ethernet/IPv4: decoded so frames are labelled as tshark labels them.
import { defineProtocol, f } from '../model/fields.js';
import type { Packet } from '../model/packet.js';
import { ipv4String, macString } from './addr.js';

export const ARP = defineProtocol('arp', 'Address Resolution Protocol', {
  opcode: { type: 'uint', label: 'Opcode', values: { 1: 'request', 2: 'reply' } },
  'src.hw_mac': { type: 'ether', label: 'Sender MAC address' },
  'src.proto_ipv4': { type: 'ipv4', label: 'Sender IP address' },
  'dst.hw_mac': { type: 'ether', label: 'Target MAC address' },
  'dst.proto_ipv4': { type: 'ipv4', label: 'Target IP address' },
});

export function decodeArp(packet: Packet, d: Uint8Array, o: number): void {
  if (d.length - o < 28 || d[o + 4] !== 6 || d[o + 5] !== 4) {
    packet.layers.push({ name: 'arp', bytes: d, offset: o, length: d.length - o, info: 'ARP (not Ethernet/IPv4)', tree: () => [] });
    return;
  }
  const op = (d[o + 6]! << 8) | d[o + 7]!;
  const sha = macString(d, o + 8);
  const spa = ipv4String(d, o + 14);
  const tha = macString(d, o + 18);
  const tpa = ipv4String(d, o + 24);
  packet.layers.push({
    name: 'arp',
    bytes: d,
    offset: o,
    length: 28,
    info: op === 1 ? `Who has ${tpa}? Tell ${spa}` : op === 2 ? `${spa} is at ${sha}` : `Opcode ${op}`,
    tree: () => [f(ARP.opcode, op, o + 6, 2), f(ARP['src.hw_mac'], sha, o + 8, 6), f(ARP['src.proto_ipv4'], spa, o + 14, 4), f(ARP['dst.hw_mac'], tha, o + 18, 6), f(ARP['dst.proto_ipv4'], tpa, o + 24, 4)],
  });
}
