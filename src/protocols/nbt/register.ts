// Registers the NetBIOS services with the engine: NBSS on TCP 139 (and the direct-hosted
// framing on 445), NBDGM on UDP 138, NBNS on UDP 137. SMB1 registers itself as an NBSS dialect.
import { registerTcpApp, registerUdpApp } from '../../engine/registry.js';
import { makeSessionPayloads } from '../../engine/seams.js';
import { NbssApp } from './nbss.js';
import { plausibleBoundary } from './nbss-parse.js';
import { NbdgmService } from './nbdgm.js';
import { NbnsService } from './nbns.js';
import '../smb/register.js';

registerTcpApp(() => {
  const dialects = makeSessionPayloads();
  return {
    name: 'nbss',
    ports: [139, 445],
    // Port-matched conversations are checked so that non-NBSS traffic on 139/445 is left alone.
    detect: (payload, _dir, conv) => plausibleBoundary(payload, 0, conv.port[1] === 445 || conv.port[0] === 445),
    create: (conv, ctx) => new NbssApp(conv, ctx, dialects, conv.port[1] === 445 || (conv.port[0] === 445 && conv.port[1] !== 139)),
  };
});

registerUdpApp(() => new NbdgmService());
registerUdpApp(() => new NbnsService());
