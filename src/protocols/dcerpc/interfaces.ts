// The seam between DCE/RPC and the interfaces spoken over it (MS-MSRP's msgsvc and msgsvcsend,
// and any later one): an interface module provides a handler that dissects its stubs for the
// packet view and turns each finished call (request plus response, fault, reject, bounce or
// silence) into timeline events. DCE/RPC itself never knows what a stub means; it is given
// the handlers as an RpcInterfaces table (src/protocols/index.ts builds the default one).
import type { EngineContext, IcmpError } from '../../engine/context.js';
import type { FieldDef, FieldNode } from '../../model/fields.js';
import type { PeekedValue } from '../../model/packet.js';
import type { Finding } from '../../model/findings.js';
import type { Drep } from './ndr.js';

/** Where a call travelled: transport path and the client (caller) and server endpoints. */
export interface RpcRoute {
  /** e.g. `udp/dcerpc`, `tcp/dcerpc`, `tcp/nbss/smb/pipe/dcerpc`. */
  readonly transport: string;
  readonly client: string;
  readonly server: string;
}

/** A complete stub: the request's or the response's, joined from its fragments. */
export interface RpcStub {
  readonly bytes: Uint8Array;
  readonly drep: Drep;
  /** Frames that carried it, first one first. */
  readonly frames: number[];
  readonly tsSec: number;
  readonly tsNsec: number;
}

export type RpcOutcome =
  | { readonly kind: 'response'; readonly stub: RpcStub }
  | { readonly kind: 'fault' | 'reject'; readonly status: number; readonly name: string; readonly frames: number[] }
  /** The request came back quoted in an ICMP error: it was never delivered. */
  | { readonly kind: 'bounce'; readonly reason: string; readonly frames: number[]; readonly icmp?: IcmpError }
  /** The capture ended (or the connection closed) with no answer. */
  | { readonly kind: 'none'; readonly expected: boolean };

/** What a stub dissector gives the packet view. */
export interface StubDissection<P> {
  /** Layer name (a protocol declared with defineProtocol, e.g. `msrp`). */
  readonly layer: string;
  /** Protocol column text. */
  readonly column?: string;
  readonly info: string;
  readonly tree: () => FieldNode[];
  /** The layer's `fieldValue` (model/packet.ts): some fields of the tree without building it. */
  readonly fieldValue?: (def: FieldDef) => PeekedValue;
  /** Problems found in the stub, for the frame and for the call's event. */
  readonly findings: Finding[];
  /** The decoded arguments, kept with the call until it completes. */
  readonly parsed: P;
}

export interface RpcCall<Req, Resp> {
  readonly interfaceUuid: string;
  readonly version: number;
  readonly opnum: number;
  readonly route: RpcRoute;
  readonly request: RpcStub;
  /** The request stub's decoded arguments (undefined when the request was not dissected). */
  readonly requestParsed: Req | undefined;
  readonly outcome: RpcOutcome;
  /** The response's decoded arguments. */
  readonly responseParsed: Resp | undefined;
  /** DCE/RPC-level and stub findings gathered for this call, in frame order. */
  readonly findings: Finding[];
  /** Protocol ids for event details: `activity`/`seq` (CL) or `call_id`/`context` (CO). */
  readonly ids: Record<string, string | number>;
}

export interface RpcInterfaceHandler<Req = unknown, Resp = unknown> {
  readonly uuid: string;
  /** Major version (CL if_vers low 16 bits; CO abstract syntax major). */
  readonly version: number;
  readonly name: string;
  opName(opnum: number): string | undefined;
  dissectRequest(stub: Uint8Array, drep: Drep, opnum: number, ctx: EngineContext, frame: number): StubDissection<Req>;
  dissectResponse(stub: Uint8Array, drep: Drep, opnum: number, request: Req | undefined, ctx: EngineContext, frame: number): StubDissection<Resp>;
  /** A call is over: emit its events. */
  /** Emits the call's event; nothing else (not called when nothing consumes events). */
  complete(call: RpcCall<Req, Resp>, ctx: EngineContext): void;
}

/** The interfaces DCE/RPC decodes, by UUID. Handlers keep no per-capture state, so engines may share a table. */
export class RpcInterfaces {
  private readonly byUuid = new Map<string, RpcInterfaceHandler>();

  constructor(handlers: readonly RpcInterfaceHandler[]) {
    for (const handler of handlers) this.byUuid.set(handler.uuid, handler);
  }

  get(uuid: string): RpcInterfaceHandler | undefined {
    return this.byUuid.get(uuid);
  }
}
