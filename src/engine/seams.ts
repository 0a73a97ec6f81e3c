// Seams between protocol folders that sit on top of each other without knowing each other:
//  - the NetBIOS session service (and direct-hosted TCP 445) hands each message to the
//    dialect that recognises it (SMB1 0xFF 'SMB', SMB2/3 0xFE 'SMB');
//  - SMB1 and SMB2 pipe I/O hand each named pipe's byte stream to the protocol spoken on it
//    (DCE/RPC connection-oriented, for \PIPE\msgsvc and others).
import type { Direction, EngineContext, TcpConversationInfo } from './context.js';

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

export interface SessionRoute {
  readonly conv: TcpConversationInfo;
  /** Transport path so far, e.g. `tcp/nbss`. */
  readonly transport: string;
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

// ---- named pipes ----

export interface PipeRoute {
  /** Client and server endpoints, `ip:port`. */
  readonly client: string;
  readonly server: string;
  /** Transport path up to the pipe, e.g. `tcp/nbss/smb/pipe` or `tcp/smb2/pipe`. */
  readonly transport: string;
  /** Pipe name in lower case without the `\pipe\` prefix, e.g. `msgsvc`, `lsarpc`. */
  readonly pipe: string;
  /** Unique per open of the pipe (conversation + file id), for keying state. */
  readonly id: string;
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

const sessionMakers: (() => SessionPayloadFactory)[] = [];
const pipeMakers: (() => PipeConsumerFactory)[] = [];

export function registerSessionPayload(make: () => SessionPayloadFactory): void {
  sessionMakers.push(make);
}

export function registerPipeConsumer(make: () => PipeConsumerFactory): void {
  pipeMakers.push(make);
}

/** Fresh instances for one engine (call once per engine, e.g. from a TcpAppFactory maker). */
export function makeSessionPayloads(): SessionPayloadFactory[] {
  return sessionMakers.map((make) => make());
}

export function makePipeConsumers(): PipeConsumerFactory[] {
  return pipeMakers.map((make) => make());
}
