// Seams between protocol folders that sit on top of each other without knowing each other:
//  - the NetBIOS session service (and direct-hosted TCP 445) hands each message to the
//    dialect that recognises it (SMB1 0xFF 'SMB', SMB2/3 0xFE 'SMB');
//  - the NetBIOS datagram service hands each datagram's user data to the protocol that
//    recognises it (SMB1: mailslot writes);
//  - SMB1 and SMB2 pipe I/O hand each named pipe's byte stream to the protocol spoken on it
//    (DCE/RPC connection-oriented, for \PIPE\msgsvc and others).
// Which protocols sit on each seam is the engine's ProtocolSet (src/engine/protocols.ts).
import type { MessageEvent } from '../model/events.js';
import type { Direction, EngineContext, Route, TcpConversationInfo } from './context.js';

// ---- NBSS session messages ----

export interface SessionMessage {
  readonly dir: Direction;
  /** The whole session-message payload; a view valid during the call only. */
  readonly bytes: Uint8Array;
  /** Frames that carried it, first one first. */
  readonly frames: number[];
  readonly tsSec: number;
  readonly tsNsec: number;
}

/** What the session service learned of the conversation's NetBIOS names (filled in as it learns them). */
export interface SessionNames {
  called?: { name: string; suffix: number; text: string };
  calling?: string;
}

export interface SessionRoute {
  readonly conv: TcpConversationInfo;
  /** Transport path so far, e.g. `tcp/nbss`. */
  readonly transport: string;
  /** The called and calling names of the NBSS session request (none on direct-hosted TCP 445). */
  readonly names?: Readonly<SessionNames>;
  /** SMB directly on TCP 445, without a NetBIOS session. */
  readonly directHosted?: boolean;
}

export interface SessionPayloadHandler {
  message(msg: SessionMessage): void;
  end(): void;
}

export interface SessionPayloadFactory {
  readonly name: string;
  match(bytes: Uint8Array): boolean;
  /** One handler per TCP conversation, created at the first message it matches. */
  create(route: SessionRoute, ctx: EngineContext): SessionPayloadHandler;
}

// ---- NBDGM datagram user data ----

export interface DatagramPayload {
  readonly bytes: Uint8Array;
  readonly route: Route;
  /** Transport path so far, e.g. `udp/nbdgm`. */
  readonly transport: string;
  /** Frames that carried it (several when fragments were joined), first one first. */
  readonly frames: number[];
  readonly tsSec: number;
  readonly tsNsec: number;
  /** The datagram's source name, as shown (`NAME<03>`). */
  readonly source?: string;
  /** The datagram's destination name and suffix; `group` for a group or broadcast datagram. */
  readonly destination?: { name: string; suffix: number; group: boolean };
  /**
   * Takes a message instead of it being emitted, for a carrier that may still learn its fate
   * (an ICMP error quoting the datagram, an NBDGM error datagram).
   */
  readonly deliver?: (event: MessageEvent) => void;
}

export interface DatagramPayloadFactory {
  readonly name: string;
  match(bytes: Uint8Array): boolean;
  /** Dissects one datagram's user data: adds layers to `ctx.packet`, emits events. */
  dissect(ctx: EngineContext, payload: DatagramPayload): void;
}

// ---- named pipes ----

export interface PipeRoute {
  /** Client and server endpoints, `ip:port`. */
  readonly client: string;
  readonly server: string;
  /** Transport path up to the pipe, e.g. `tcp/nbss/smb/pipe` or `tcp/smb2/pipe`. */
  readonly transport: string;
  /** Pipe name in lower case without the `\pipe\` prefix, e.g. `msgsvc`, `lsarpc`. */
  readonly pipe: string;
}

export interface PipeStream {
  /** Bytes written to (dir 0, client→server) or read from (dir 1) the pipe, in order. */
  data(dir: Direction, bytes: Uint8Array, frames: number[], tsSec: number, tsNsec: number): void;
  /** The pipe was closed or the connection ended. */
  end(): void;
}

export interface PipeConsumerFactory {
  readonly name: string;
  /** Whether this consumer speaks on the pipe; `firstBytes` is the first write, when known. */
  accepts(pipe: string, firstBytes: Uint8Array | undefined): boolean;
  open(route: PipeRoute, ctx: EngineContext): PipeStream;
}
