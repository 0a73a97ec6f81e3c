// The application protocols an engine is given: a list of makers per place a protocol can sit
// (on TCP, on UDP, inside NetBIOS session messages and datagrams, on named pipes). Each
// engine calls every maker once, so per-capture state (fragment tables, pending requests)
// lives in the instances and two engines never share it. The order of each list is the
// order in which protocols are asked (by port first, then by content). src/protocols/index.ts
// builds the default set.
import type { TcpAppFactory, UdpAppFactory } from './context.js';
import type { DatagramPayloadFactory, PipeConsumerFactory, SessionPayloadFactory } from './seams.js';

/** What protocols on a seam can carry further: the pipe consumers (SMB1 and SMB2 pipes). */
export interface PipeSeam {
  readonly pipeConsumers: readonly PipeConsumerFactory[];
}

/** Every seam's protocols for one engine, as the TCP and UDP protocols are given them. */
export interface Seams extends PipeSeam {
  readonly sessionPayloads: readonly SessionPayloadFactory[];
  readonly datagramPayloads: readonly DatagramPayloadFactory[];
}

export interface ProtocolSet {
  readonly tcp: readonly ((seams: Seams) => TcpAppFactory)[];
  readonly udp: readonly ((seams: Seams) => UdpAppFactory)[];
  /** Dialects inside NetBIOS session messages and direct-hosted TCP 445 (SMB1, SMB2/3). */
  readonly sessionPayloads: readonly ((seams: PipeSeam) => SessionPayloadFactory)[];
  /** Protocols inside NetBIOS datagrams (SMB1 mailslot writes). */
  readonly datagramPayloads: readonly ((seams: PipeSeam) => DatagramPayloadFactory)[];
  /** Protocols spoken on named pipes (DCE/RPC). */
  readonly pipeConsumers: readonly (() => PipeConsumerFactory)[];
}

/** One engine's instances, made bottom-up: pipe consumers, then session and datagram payloads, then TCP and UDP. */
export function instantiate(set: ProtocolSet): { tcp: TcpAppFactory[]; udp: UdpAppFactory[] } {
  const pipes: PipeSeam = { pipeConsumers: set.pipeConsumers.map((make) => make()) };
  const seams: Seams = {
    ...pipes,
    sessionPayloads: set.sessionPayloads.map((make) => make(pipes)),
    datagramPayloads: set.datagramPayloads.map((make) => make(pipes)),
  };
  return { tcp: set.tcp.map((make) => make(seams)), udp: set.udp.map((make) => make(seams)) };
}
