// The protocols msgscope dissects above TCP and UDP, as the list the engine is given
// (`new Engine(handlers, options, defaultProtocols())`). The order of each list is the order
// in which protocols are asked for a conversation (by port first, then by content).
import type { ProtocolSet } from '../engine/protocols.js';
import type { ProtocolDef } from '../model/fields.js';
import { DCERPC } from './dcerpc/fields.js';
import { RpcInterfaces } from './dcerpc/interfaces.js';
import { dcerpcPipes, dcerpcTcp, dcerpcUdp } from './dcerpc/register.js';
import { MSNP, MSNPGW } from './msnp/fields.js';
import { msnpTcp } from './msnp/register.js';
import { MSRP } from './msrp/fields.js';
import { msrpInterfaces } from './msrp/register.js';
import { NBDGM, NBNS, NBSS } from './nbt/fields.js';
import { nbdgmUdp, nbnsUdp, nbssTcp } from './nbt/register.js';
import { BROWSER, MAILSLOT, SMB } from './smb/fields.js';
import { smbDatagrams, smbSessions } from './smb/register.js';
import { SMB2 } from './smb2/fields.js';
import { smb2Sessions } from './smb2/register.js';

export function defaultProtocols(): ProtocolSet {
  const interfaces = new RpcInterfaces(msrpInterfaces());
  return {
    tcp: [nbssTcp, () => dcerpcTcp(interfaces), msnpTcp],
    udp: [nbdgmUdp, nbnsUdp, () => dcerpcUdp(interfaces)],
    sessionPayloads: [smbSessions, smb2Sessions],
    datagramPayloads: [smbDatagrams],
    pipeConsumers: [() => dcerpcPipes(interfaces)],
  };
}

/**
 * The field tables of these protocols. Each registers itself with the field registry when its
 * module loads (src/model/fields.ts); this list names them so that `msgscope fields` states
 * what it lists.
 */
export function applicationFields(): ProtocolDef[] {
  return [NBSS, NBDGM, NBNS, SMB, MAILSLOT, BROWSER, SMB2, DCERPC, MSRP, MSNP, MSNPGW].map((table) => table.$protocol);
}
