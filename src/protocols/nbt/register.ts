// The NetBIOS services' makers for the engine: NBSS on TCP 139 (and the direct-hosted framing
// on 445), handing session messages to the engine's session dialects; NBDGM on UDP 138,
// handing datagram user data to the engine's datagram protocols; NBNS on UDP 137.
import type { TcpAppFactory, UdpAppFactory } from '../../engine/context.js';
import type { Seams } from '../../engine/protocols.js';
import { NbssApp } from './nbss.js';
import { plausibleBoundary } from './nbss-parse.js';
import { NbdgmService } from './nbdgm.js';
import { NbnsService } from './nbns.js';

export function nbssTcp(seams: Seams): TcpAppFactory {
  return {
    name: 'nbss',
    ports: [139, 445],
    // Port-matched conversations are checked so that non-NBSS traffic on 139/445 is left alone.
    detect: (payload, _dir, conv) => plausibleBoundary(payload, 0, conv.port[1] === 445 || conv.port[0] === 445),
    create: (conv, ctx) => new NbssApp(conv, ctx, seams.sessionPayloads, conv.port[1] === 445 || (conv.port[0] === 445 && conv.port[1] !== 139)),
  };
}

export function nbdgmUdp(seams: Seams): UdpAppFactory {
  return new NbdgmService(seams.datagramPayloads);
}

export function nbnsUdp(): UdpAppFactory {
  return new NbnsService();
}
