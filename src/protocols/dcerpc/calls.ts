// Finishing a call, shared by the connectionless and connection-oriented engines: hand it to
// its interface, or (for interfaces msgscope does not decode) emit a generic `call` event.
import type { EngineContext } from '../../engine/context.js';
import type { CallEvent } from '../../model/events.js';
import type { Finding } from '../../model/findings.js';
import type { Layer } from '../../model/packet.js';
import type { RpcCall, RpcInterfaceHandler, RpcInterfaces, RpcOutcome, RpcRoute, RpcStub, StubDissection } from './interfaces.js';
import { interfaceName } from './uuid.js';
import type { Drep } from './ndr.js';
import { f } from '../../model/fields.js';
import { DCERPC } from './fields.js';

export interface CallRecord {
  readonly interfaceUuid: string;
  /** The handler of the call's interface, when msgscope decodes it. */
  readonly handler: RpcInterfaceHandler | undefined;
  readonly version: number;
  readonly opnum: number;
  readonly route: RpcRoute;
  readonly request: RpcStub;
  readonly requestParsed: unknown;
  readonly findings: Finding[];
  readonly ids: Record<string, string | number>;
  /** Extra frames that belong to the call (retransmissions, bounces). */
  readonly extraFrames: number[];
}

export function finishCall(ctx: EngineContext, rec: CallRecord, outcome: RpcOutcome, responseParsed: unknown, extraFindings: Finding[] = []): void {
  // What follows only builds the call's event (interface handlers' `complete` emit and nothing else).
  if (ctx.wantsEvents === false) return;
  const handler = rec.handler;
  const findings = [...rec.findings, ...extraFindings];
  const call: RpcCall<unknown, unknown> = {
    interfaceUuid: rec.interfaceUuid, version: rec.version, opnum: rec.opnum, route: rec.route,
    request: rec.extraFrames.length === 0 ? rec.request : { ...rec.request, frames: mergeFrames(rec.request.frames, rec.extraFrames) },
    requestParsed: rec.requestParsed, outcome, responseParsed, findings, ids: rec.ids,
  };
  if (handler !== undefined) {
    handler.complete(call, ctx);
    return;
  }
  const frames = mergeFrames(call.request.frames, outcomeFrames(outcome));
  const result = outcomeResult(outcome, undefined);
  const event: CallEvent = {
    kind: 'call', tsSec: rec.request.tsSec, tsNsec: rec.request.tsNsec, frames, protocol: 'dcerpc', transport: rec.route.transport,
    src: rec.route.client, dst: rec.route.server, findings,
    interface: interfaceName(rec.interfaceUuid) ?? (rec.interfaceUuid !== '' ? rec.interfaceUuid : 'unknown'),
    operation: `opnum ${rec.opnum}`,
    result,
    details: { uuid: rec.interfaceUuid, version: rec.version, outcome: outcome.kind, ...rec.ids },
  };
  ctx.emit(event);
}

export function outcomeFrames(outcome: RpcOutcome): number[] {
  switch (outcome.kind) {
    case 'response':
      return outcome.stub.frames;
    case 'fault':
    case 'reject':
    case 'bounce':
      return outcome.frames;
    case 'none':
      return [];
  }
}

/** A result for events: the response's status when `statusOf` finds one, else the fault/reject status. */
export function outcomeResult(outcome: RpcOutcome, status: { code: number; name: string } | undefined): { code: number; name: string } | undefined {
  if (outcome.kind === 'fault' || outcome.kind === 'reject') return { code: outcome.status, name: outcome.name };
  return status;
}

export function mergeFrames(a: readonly number[], b: readonly number[]): number[] {
  const set = new Set<number>([...a, ...b]);
  return [...set].sort((x, y) => x - y);
}

/** Runs a stub dissector and turns its answer into a layer; a dissector bug becomes a finding. */
export function stubLayer<P>(
  run: () => StubDissection<P>,
  bytes: Uint8Array,
  quoted: boolean,
): { layer: Layer; dissection: StubDissection<P> } {
  const d = run();
  const layer: Layer = { name: d.layer, bytes, offset: 0, length: bytes.length, info: d.info, column: d.column, tree: d.tree, quoted, fieldValue: d.fieldValue };
  return { layer, dissection: d };
}

/** The stub of an interface msgscope does not decode: shown as bytes. */
export function rawStubNodes(stub: Uint8Array): ReturnType<typeof f>[] {
  return [f(DCERPC.stub_data, stub, 0, stub.length, undefined, `Stub data (${stub.length} bytes)`)];
}

export function dissectRequestStub(interfaces: RpcInterfaces, uuid: string, stub: Uint8Array, drep: Drep, opnum: number, ctx: EngineContext, frame: number): StubDissection<unknown> | undefined {
  const handler = interfaces.get(uuid);
  return handler?.dissectRequest(stub, drep, opnum, ctx, frame);
}

export function dissectResponseStub(
  interfaces: RpcInterfaces, uuid: string, stub: Uint8Array, drep: Drep, opnum: number, request: unknown, ctx: EngineContext, frame: number,
): StubDissection<unknown> | undefined {
  const handler = interfaces.get(uuid);
  return handler?.dissectResponse(stub, drep, opnum, request, ctx, frame);
}

export function opName(interfaces: RpcInterfaces, uuid: string, opnum: number): string | undefined {
  return interfaces.get(uuid)?.opName(opnum);
}
