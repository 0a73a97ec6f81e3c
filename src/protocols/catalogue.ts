// Every declared finding, from every layer and protocol: the catalogue `msgscope fields
// --findings`, docs/findings.md and `verify` read. A new protocol's findings.ts is added here.
import { FindingCatalogue } from '../model/catalogue.js';
import { FRAME_FINDINGS, MSGSCOPE_FINDINGS } from '../engine/findings.js';
import {
  ETH_FINDINGS, ICMP_FINDINGS, ICMPV6_FINDINGS, IP_FINDINGS, IPV6_FINDINGS, IPX_FINDINGS, LLC_FINDINGS, NULL_FINDINGS, PPP_FINDINGS,
  PPPOES_FINDINGS, SLL_FINDINGS, TCP_FINDINGS, UDP_FINDINGS, VLAN_FINDINGS,
} from '../net/findings.js';
import { NBDGM_FINDINGS, NBNS_FINDINGS, NBSS_FINDINGS } from './nbt/findings.js';
import { MAILSLOT_FINDINGS, SMB_FINDINGS } from './smb/findings.js';
import { SMB2_FINDINGS } from './smb2/findings.js';
import { DCERPC_CL_FINDINGS, DCERPC_CO_FINDINGS } from './dcerpc/findings.js';
import { MSRP_FINDINGS } from './msrp/findings.js';
import { MSNP_FINDINGS, MSNPGW_FINDINGS } from './msnp/findings.js';
import { TIMELINE_FINDINGS } from '../runner/findings.js';

export const CATALOGUE = new FindingCatalogue([
  FRAME_FINDINGS, MSGSCOPE_FINDINGS, TIMELINE_FINDINGS,
  ETH_FINDINGS, VLAN_FINDINGS, LLC_FINDINGS, SLL_FINDINGS, NULL_FINDINGS, PPP_FINDINGS, PPPOES_FINDINGS, IPX_FINDINGS,
  IP_FINDINGS, IPV6_FINDINGS, ICMP_FINDINGS, ICMPV6_FINDINGS, UDP_FINDINGS, TCP_FINDINGS,
  NBSS_FINDINGS, NBDGM_FINDINGS, NBNS_FINDINGS, SMB_FINDINGS, MAILSLOT_FINDINGS, SMB2_FINDINGS,
  DCERPC_CO_FINDINGS, DCERPC_CL_FINDINGS, MSRP_FINDINGS, MSNP_FINDINGS, MSNPGW_FINDINGS,
].map((t) => t.$table));
