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

/**
 * What `--disable-protocol` and `--enable-protocol` name (as tshark's options, with Wireshark's
 * protocol names). A protocol switched off is not asked about any conversation, datagram,
 * session message or pipe: its bytes show as the layer below's data.
 * - nbss: the NetBIOS session service on TCP 139 and the direct-hosted framing on 445, and so
 *   the SMB they carry; nbdgm: NetBIOS datagrams on UDP 138 (and the mailslots in them);
 *   nbns: the NetBIOS name service on UDP 137;
 * - smb: SMB1 in session messages and in datagrams (mailslots, the messenger PDUs 0xD0–0xD7);
 *   smb2: SMB2/3 in session messages;
 * - dcerpc: DCE/RPC on TCP, on UDP and on named pipes, and so the MS-MSRP calls in it; msrp:
 *   only the MS-MSRP interfaces (NetrSendMessage, the msgsvc calls: their stubs undecoded);
 * - msnp: MSNP on TCP and through the HTTP gateway.
 */
export const PROTOCOL_SWITCHES = ['nbss', 'nbdgm', 'nbns', 'smb', 'smb2', 'dcerpc', 'msrp', 'msnp'] as const;

export type ProtocolSwitch = (typeof PROTOCOL_SWITCHES)[number];

const NONE_OFF: ReadonlySet<ProtocolSwitch> = new Set();

/** The protocols to dissect: all of them, but those in `off`. */
export function defaultProtocols(off: ReadonlySet<ProtocolSwitch> = NONE_OFF): ProtocolSet {
  const interfaces = new RpcInterfaces(off.has('msrp') ? [] : msrpInterfaces());
  const on = <M>(name: ProtocolSwitch, maker: M): M[] => (off.has(name) ? [] : [maker]);
  return {
    tcp: [...on('nbss', nbssTcp), ...on('dcerpc', () => dcerpcTcp(interfaces)), ...on('msnp', msnpTcp)],
    udp: [...on('nbdgm', nbdgmUdp), ...on('nbns', nbnsUdp), ...on('dcerpc', () => dcerpcUdp(interfaces))],
    sessionPayloads: [...on('smb', smbSessions), ...on('smb2', smb2Sessions)],
    datagramPayloads: on('smb', smbDatagrams),
    pipeConsumers: on('dcerpc', () => dcerpcPipes(interfaces)),
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
