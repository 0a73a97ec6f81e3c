// The field tables of the layers the engine decodes itself (link, network, transport). Each
// table registers itself with the field registry when its module loads (src/model/fields.ts);
// this list names them so that `msgscope fields` states what it lists.
import type { ProtocolDef } from '../model/fields.js';
import { ARP } from './arp.js';
import { IP } from './ipv4.js';
import { IPV6 } from './ipv6.js';
import { IPX } from './ipx.js';
import { ETH, ISL, LLC, NULL, PPP, PPPOES, SLL, VLAN } from './link.js';
import { ICMP, ICMPV6, TCP, UDP } from './transport.js';

export function networkFields(): ProtocolDef[] {
  return [ETH, VLAN, LLC, SLL, NULL, PPP, PPPOES, ISL, ARP, IPX, IP, IPV6, ICMP, ICMPV6, TCP, UDP].map((table) => table.$protocol);
}
