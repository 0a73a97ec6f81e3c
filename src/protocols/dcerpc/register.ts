// DCE/RPC's makers for the engine: connectionless over UDP (any port, found by its header),
// connection-oriented over TCP (port 135 and dynamic ports found by the v5 header) and over
// SMB named pipes. Each is given the interfaces whose stubs it decodes.
import type { TcpAppFactory, UdpAppFactory } from '../../engine/context.js';
import type { PipeConsumerFactory } from '../../engine/seams.js';
import { makeClFactory } from './cl.js';
import { CoConnection } from './co.js';
import { looksLikeCo } from './co-parse.js';
import type { RpcInterfaces } from './interfaces.js';

export function dcerpcUdp(interfaces: RpcInterfaces): UdpAppFactory {
  return makeClFactory(interfaces);
}

/** The PDU types a conversation can plausibly start with (or be joined in the middle of). */
const FIRST_PTYPES = new Set([0, 2, 3, 11, 12, 13, 14, 15, 16]);

/** The v5 header heuristic for dynamic ports: a valid header whose reserved drep bytes are zero. */
export function detectCoTcp(payload: Uint8Array): boolean {
  return looksLikeCo(payload) && FIRST_PTYPES.has(payload[2]!) && payload[6] === 0 && payload[7] === 0;
}

export function dcerpcTcp(interfaces: RpcInterfaces): TcpAppFactory {
  return {
    name: 'dcerpc',
    ports: [135],
    detect: (payload) => detectCoTcp(payload),
    create: (conv, ctx) => {
      const co = new CoConnection(ctx, { transport: 'tcp/dcerpc', endpoint: conv.endpoint, interfaces });
      return { data: (dir, bytes) => co.data(dir, bytes), gap: (dir) => co.gap(dir), end: () => co.end() };
    },
  };
}

/** Pipes on which only DCE/RPC is spoken (MS-RPCE 2.1.1.2 and the MS-* interface specs). */
const RPC_PIPES = new Set([
  'msgsvc', 'msgsvcsend', 'lsarpc', 'lsass', 'samr', 'netlogon', 'srvsvc', 'wkssvc', 'spoolss', 'winreg', 'svcctl', 'ntsvcs', 'epmapper', 'atsvc',
  'eventlog', 'browser', 'netdfs', 'dnsserver', 'efsrpc', 'protected_storage', 'initshutdown', 'locator', 'scerpc', 'tapsrv', 'keysvc', 'trkwks',
  'w32time', 'wzcsvc', 'ipsec', 'frsrpc', 'drsuapi', 'dssetup', 'winspipe', 'sql\\query', 'ctx_winstation_api_service',
]);

export function dcerpcPipes(interfaces: RpcInterfaces): PipeConsumerFactory {
  return {
    name: 'dcerpc',
    accepts: (pipe, firstBytes) => (firstBytes !== undefined ? looksLikeCo(firstBytes) : RPC_PIPES.has(pipe)),
    open: (route, ctx) => {
      const co = new CoConnection(ctx, { transport: `${route.transport}/dcerpc`, endpoint: [route.client, route.server], interfaces });
      return { data: (dir, bytes, frames, tsSec, tsNsec) => co.data(dir, bytes, frames, tsSec, tsNsec), end: () => co.end() };
    },
  };
}
