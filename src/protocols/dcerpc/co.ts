// Connection-oriented DCE/RPC state for one connection (a TCP conversation or one open of a
// named pipe): PDUs framed from each direction's byte stream, bind/alter_context results
// kept as the context id → interface map (C706 12.6.4, MS-RPCE 3.3.1.5.2), request and
// response fragments joined per call_id (C706 12.6.3.1), and each request matched with its
// response or fault by call_id.
import type { Direction, EngineContext } from '../../engine/context.js';
import type { Layer } from '../../model/packet.js';
import { f, type FieldNode } from '../../model/fields.js';
import type { Finding, FindingDef } from '../../model/findings.js';
import { DCERPC_CO_FINDINGS as CO } from './findings.js';
import { FragmentTable, NumberedParts } from '../../net/fragment-table.js';
import { StreamBuffer } from '../../net/stream-buffer.js';
import {
  CO_HEADER_LEN, looksLikeCo, parseAuthTrailer, parseBind, parseBindAck, parseBindNak, parseCoHeader, parseFault, parseRequest, parseResponse,
  PFC_FIRST_FRAG, PFC_LAST_FRAG, PFC_MAYBE, BIND_NAK_REASONS, BIND_REASONS, type AuthTrailer, type CoHeader, type ContextElem, type FaultBody,
} from './co-parse.js';
import {
  authTree, bindAckTree, bindNakTree, bindTree, coHeaderTree, DCERPC, ptypeName,
} from './fields.js';
import { dissectRequestStub, dissectResponseStub, finishCall, opName, rawStubNodes, stubLayer, type CallRecord } from './calls.js';
import type { RpcInterfaces, RpcRoute, RpcStub } from './interfaces.js';
import { rpcStatusName } from './status.js';
import { interfaceName, NDR20_UUID } from './uuid.js';

const MAX_CONTEXTS = 1024;
const MAX_CALLS = 4096;
const MAX_STUB_BYTES = 16 * 1024 * 1024;
/** Fragments per call: empty ones add no bytes, so the byte bound alone does not hold them. */
const MAX_FRAGMENTS = 4096;
/** Bytes of all calls being joined in one direction. */
const MAX_JOINING_BYTES = 64 * 1024 * 1024;
/** How far to look for the next plausible header after losing sync. */
const RESYNC_WINDOW = 64 * 1024;

interface BoundContext {
  readonly uuid: string;
  readonly major: number;
  readonly minor: number;
  readonly ndr20: boolean;
}

/** What a call being joined keeps besides its fragments (numbered in arrival order): its first fragment's header, time and ids. */
interface Assembly {
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly first: CoHeader;
  readonly contextId: number;
  readonly opnum: number;
}

const assemblyTable = () => new FragmentTable<Assembly, NumberedParts>(
  { maxEntries: MAX_CALLS, maxParts: MAX_FRAGMENTS, maxEntryBytes: MAX_STUB_BYTES, maxTotalBytes: MAX_JOINING_BYTES },
  () => new NumberedParts(),
);

interface PendingCall extends CallRecord {
  readonly callId: number;
  readonly contextId: number;
  readonly maybe: boolean;
}

export interface CoEndpoints {
  /** Transport path including `dcerpc`, e.g. `tcp/dcerpc`. */
  readonly transport: string;
  /** [client, server] endpoints as the carrier sees them (direction 0 is from the client). */
  readonly endpoint: readonly [string, string];
  /** The interfaces whose stubs are decoded. */
  readonly interfaces: RpcInterfaces;
}

export class CoConnection {
  private readonly bufs: [StreamBuffer, StreamBuffer] = [new StreamBuffer(4 * 1024 * 1024), new StreamBuffer(4 * 1024 * 1024)];
  /** Frames that carried bytes of the next PDU besides the one appended with (pipe writes over several frames). */
  private readonly extraFrames: [number[], number[]] = [[], []];
  private readonly contexts = new Map<number, BoundContext>();
  private readonly proposed = new Map<number, ContextElem[]>();
  /** Fragmented calls being joined per direction, by call_id. */
  private readonly assemblies = [assemblyTable(), assemblyTable()] as const;
  private readonly calls = new Map<number, PendingCall>();
  private readonly lost: [boolean, boolean] = [false, false];
  private closed = false;

  constructor(private readonly ctx: EngineContext, private readonly where: CoEndpoints) {
    for (const table of this.assemblies) table.holds = ctx.holds;
    this.bufs[0].attach(ctx.buffers, () => this.gap(0), ctx.holds);
    this.bufs[1].attach(ctx.buffers, () => this.gap(1), ctx.holds);
  }

  /** Bytes of one direction, in order; `frames` are those that carried them (default: the current frame). */
  data(dir: Direction, bytes: Uint8Array, frames?: readonly number[], tsSec?: number, tsNsec?: number): void {
    const packet = this.ctx.packet;
    const frame = frames !== undefined && frames.length > 0 ? frames[frames.length - 1]! : packet?.frame.number ?? 0;
    if (frames !== undefined) for (const n of frames.slice(0, -1)) if (!this.extraFrames[dir].includes(n)) this.extraFrames[dir].push(n);
    const buf = this.bufs[dir];
    if (!buf.append(bytes, frame, tsSec ?? packet?.frame.tsSec ?? 0, tsNsec ?? packet?.frame.tsNsec ?? 0)) {
      this.report(CO.bufferLimit, frame, `more than ${buf.limit} bytes of one DCE/RPC direction waiting for a PDU end: dropped`);
      buf.clear();
      return;
    }
    this.drain(dir);
  }

  gap(dir: Direction): void {
    // Bytes are missing: what is buffered cannot be trusted to start a PDU any more.
    this.bufs[dir].clear();
    this.assemblies[dir].clear();
    this.lost[dir] = true;
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    for (const dir of [0, 1] as const) {
      const left = this.bufs[dir].length;
      if (left > 0) this.report(CO.truncatedPdu, this.ctx.packet?.frame.number ?? 0, `connection ended with ${left} byte(s) of an incomplete DCE/RPC PDU`);
      this.bufs[dir].clear();
      for (const asm of this.assemblies[dir].values()) {
        const callId = asm.key;
        this.report(CO.fragmentsIncomplete, asm.frames[0] ?? 0,
          `${ptypeName(asm.meta.first.ptype).toLowerCase()} call_id ${callId}: ${asm.parts.size} fragment(s) in frames ${asm.frames.join(', ')} but no last fragment`);
      }
      this.assemblies[dir].clear();
    }
    for (const call of [...this.calls.values()]) {
      this.dropCall(call.callId);
      finishCall(this.ctx, call, { kind: 'none', expected: !call.maybe }, undefined);
    }
  }

  /** Forgets a pending call (answered, abandoned or given up), releasing its hold. */
  private dropCall(callId: number): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    this.ctx.holds?.release(call.request.frames[0] ?? 0);
    this.calls.delete(callId);
  }

  private report(def: FindingDef, frame: number, summary: string): void {
    const item = def.at(frame, summary);
    const p = this.ctx.packet;
    this.ctx.standaloneFinding(item, 'dcerpc', { transport: this.where.transport, src: this.where.endpoint[0], dst: this.where.endpoint[1] }, p?.frame.tsSec ?? 0, p?.frame.tsNsec ?? 0);
  }

  private drain(dir: Direction): void {
    const buf = this.bufs[dir];
    while (buf.length >= CO_HEADER_LEN) {
      const view = buf.view();
      if (!looksLikeCo(view)) {
        const at = this.resync(view);
        const frame = buf.carried(1).frames[0] ?? 0;
        if (!this.lost[dir]) this.report(CO.badHeader, frame, `${at < 0 ? view.length - CO_HEADER_LEN + 1 : at} byte(s) that do not start a DCE/RPC v5 PDU skipped`);
        this.lost[dir] = at < 0;
        buf.discard(at < 0 ? view.length - CO_HEADER_LEN + 1 : at);
        continue;
      }
      this.lost[dir] = false;
      const h = parseCoHeader(view) as CoHeader;
      if (buf.length < h.fragLength) return;
      const pdu = view.slice(0, h.fragLength);
      const carried = buf.consume(h.fragLength);
      const frames = [...this.extraFrames[dir].splice(0), ...carried.frames];
      this.pdu(dir, pdu, h, frames, carried.tsSec, carried.tsNsec);
    }
  }

  private resync(view: Uint8Array): number {
    const end = Math.min(view.length - CO_HEADER_LEN, RESYNC_WINDOW);
    for (let i = 1; i <= end; i++) if (view[i] === 5 && looksLikeCo(view, i)) return i;
    return -1;
  }

  private routeOf(requestDir: Direction): RpcRoute {
    const [a, b] = this.where.endpoint;
    return requestDir === 0 ? { transport: this.where.transport, client: a, server: b } : { transport: this.where.transport, client: b, server: a };
  }

  private pdu(dir: Direction, pdu: Uint8Array, h: CoHeader, frames: number[], tsSec: number, tsNsec: number): void {
    const ctx = this.ctx;
    const packet = ctx.packet;
    const frame = frames[frames.length - 1] ?? packet?.frame.number ?? 0;
    const findings: Finding[] = [];
    let auth: AuthTrailer | undefined;
    const a = parseAuthTrailer(pdu, h);
    if (typeof a === 'string') findings.push(CO.badAuth.at(frame, a));
    else auth = a;
    const bodyEnd = auth !== undefined ? Math.max(CO_HEADER_LEN, auth.offset - auth.padLength) : h.fragLength;
    if (h.minor > 1) findings.push(CO.version.at(frame, `minor version ${h.minor}`));
    let info = `${ptypeName(h.ptype)}: call_id: ${h.callId}`;
    let body: () => FieldNode[] = () => [];
    const extraNodes: FieldNode[] = [];
    const stubLayers: Layer[] = [];

    switch (h.ptype) {
      case 11:
      case 14: {
        const b = parseBind(pdu, h, bodyEnd);
        if (typeof b === 'string') {
          findings.push(CO.malformed.at(frame, b, { clause: 'C706 12.6.4.3' }));
          break;
        }
        if (this.proposed.size >= MAX_CONTEXTS) this.proposed.clear();
        this.proposed.set(h.callId, b.contexts);
        info += `, ${b.contexts.length} context items: ${b.contexts.map((c) => `${interfaceName(c.abstract.uuid) ?? c.abstract.uuid} V${c.abstract.major}.${c.abstract.minor}`).join(', ')}`;
        body = () => bindTree(b);
        break;
      }
      case 12:
      case 15: {
        const b = parseBindAck(pdu, h, bodyEnd);
        if (typeof b === 'string') {
          findings.push(CO.malformed.at(frame, b, { clause: 'C706 12.6.4.4' }));
          break;
        }
        const offered = this.proposed.get(h.callId);
        this.proposed.delete(h.callId);
        if (offered !== undefined && offered.length !== b.results.length) {
          findings.push(CO.bindResults.at(frame, `${b.results.length} results for ${offered.length} proposed contexts`));
        }
        b.results.forEach((r, i) => {
          const c = offered?.[i];
          if (c === undefined) return;
          if (r.result === 0) {
            if (this.contexts.size >= MAX_CONTEXTS && !this.contexts.has(c.id)) return;
            this.contexts.set(c.id, { uuid: c.abstract.uuid, major: c.abstract.major, minor: c.abstract.minor, ndr20: r.transfer.uuid === NDR20_UUID });
          } else if (r.result !== 3) {
            findings.push(CO.contextRejected.at(frame,
              `context ${c.id} (${interfaceName(c.abstract.uuid) ?? c.abstract.uuid}) rejected: ${BIND_REASONS[r.reason] ?? `reason ${r.reason}`}`));
          }
        });
        info += `, max_xmit: ${b.maxXmit} max_recv: ${b.maxRecv}, ${b.results.length} results: ${b.results.map((r) => (r.result === 0 ? 'Acceptance' : r.result === 3 ? 'Negotiate ack' : 'Rejection')).join(', ')}`;
        body = () => bindAckTree(b);
        break;
      }
      case 13: {
        const b = parseBindNak(pdu, h, bodyEnd);
        this.proposed.delete(h.callId);
        if (typeof b === 'string') {
          findings.push(CO.malformed.at(frame, b, { clause: 'C706 12.6.4.5' }));
          break;
        }
        info += `, reason: ${BIND_NAK_REASONS[b.reason] ?? b.reason}`;
        findings.push(CO.bindNak.at(frame, `bind refused: ${BIND_NAK_REASONS[b.reason] ?? `reason ${b.reason}`}`));
        body = () => bindNakTree(b);
        break;
      }
      case 0: {
        const r = parseRequest(pdu, h);
        if (typeof r === 'string') {
          findings.push(CO.malformed.at(frame, r, { clause: 'C706 12.6.4.9' }));
          break;
        }
        const bound = this.contexts.get(r.contextId);
        const op = bound !== undefined ? opName(this.where.interfaces, bound.uuid, r.opnum) : undefined;
        info += `, opnum: ${r.opnum}${op !== undefined ? ` (${op})` : ''}, Ctx: ${r.contextId}${bound !== undefined ? ` ${interfaceName(bound.uuid) ?? bound.uuid} V${bound.major}` : ''}`;
        const stub = pdu.subarray(r.stubOffset, Math.max(r.stubOffset, bodyEnd));
        body = () => [
          f(DCERPC.cn_alloc_hint, r.allocHint, 16, 4), f(DCERPC.cn_ctx_id, r.contextId, 20, 2), f(DCERPC.opnum, r.opnum, 22, 2),
          ...(r.object !== undefined ? [f(DCERPC.obj_id, r.object, 24, 16)] : []),
          ...(bound !== undefined ? [f(DCERPC.interface, interfaceName(bound.uuid) ?? bound.uuid)] : []),
        ];
        const whole = this.join(dir, h, stub, frames, tsSec, tsNsec, r.contextId, r.opnum, frame, extraNodes, findings);
        if (whole !== undefined) this.request(dir, h, whole, bound, frame, findings, stubLayers, extraNodes);
        break;
      }
      case 2:
      case 3: {
        const r = h.ptype === 2 ? parseResponse(pdu, h) : parseFault(pdu, h);
        if (typeof r === 'string') {
          findings.push(CO.malformed.at(frame, r, { clause: h.ptype === 2 ? 'C706 12.6.4.10' : 'C706 12.6.4.7' }));
          break;
        }
        const status: number | undefined = h.ptype === 3 ? (r as FaultBody).status : undefined;
        info += `, Ctx: ${r.contextId}${status !== undefined ? `, status: ${rpcStatusName(status)}` : ''}`;
        body = () => [
          f(DCERPC.cn_alloc_hint, r.allocHint, 16, 4), f(DCERPC.cn_ctx_id, r.contextId, 20, 2), f(DCERPC.cn_cancel_count, r.cancelCount, 22, 1),
          ...(status !== undefined ? [f(DCERPC.cn_status, status, 24, 4, undefined, `Status: ${rpcStatusName(status)} (0x${status.toString(16).padStart(8, '0')})`), f(DCERPC.status_name, rpcStatusName(status))] : []),
        ];
        if (status !== undefined) {
          this.fault(h, status, frames, findings);
          break;
        }
        const stub = pdu.subarray(r.stubOffset, Math.max(r.stubOffset, bodyEnd));
        const whole = this.join(dir, h, stub, frames, tsSec, tsNsec, r.contextId, 0, frame, extraNodes, findings);
        if (whole !== undefined) this.response(h, whole, frame, findings, stubLayers, extraNodes);
        break;
      }
      case 19: {
        // orphaned: the client abandons the call (C706 12.6.4.8).
        const call = this.calls.get(h.callId);
        if (call !== undefined) {
          this.dropCall(h.callId);
          finishCall(ctx, call, { kind: 'none', expected: false }, undefined, [CO.orphaned.at(frame, `call_id ${h.callId} abandoned by the client`)]);
        }
        break;
      }
      default:
        break; // auth3, shutdown, co_cancel: header and auth trailer only
    }

    for (const x of findings) ctx.packetFinding(x);
    packet?.layers.push({
      name: 'dcerpc',
      bytes: pdu,
      offset: 0,
      length: pdu.length,
      info,
      column: 'DCERPC',
      tree: () => [...coHeaderTree(h), ...body(), ...extraNodes, ...(auth !== undefined ? authTree(auth, pdu) : [])],
    });
    for (const layer of stubLayers) packet?.layers.push(layer);
  }

  private join(
    dir: Direction, h: CoHeader, stub: Uint8Array, frames: number[], tsSec: number, tsNsec: number, contextId: number, opnum: number, frame: number,
    nodes: FieldNode[], findings: Finding[],
  ): { stub: Uint8Array; frames: number[]; tsSec: number; tsNsec: number; first: CoHeader; contextId: number; opnum: number } | undefined {
    const table = this.assemblies[dir];
    const first = (h.flags & PFC_FIRST_FRAG) !== 0;
    const last = (h.flags & PFC_LAST_FRAG) !== 0;
    const key = String(h.callId);
    let asm = table.get(key);
    if (first) {
      if (asm !== undefined) findings.push(CO.fragmentRestart.at(frame, `call_id ${h.callId}: a first fragment before the previous call's last one`));
      if (last) {
        if (asm !== undefined) table.delete(asm);
        return { stub, frames, tsSec, tsNsec, first: h, contextId, opnum };
      }
      const meta: Assembly = { tsSec, tsNsec, first: h, contextId, opnum };
      let opened = table.open(key, meta, tsSec);
      if (opened.kind === 'limit') {
        table.clear();
        findings.push(CO.fragmentLimit.at(frame, `more than ${MAX_CALLS} fragmented calls in progress: the ${MAX_CALLS} waiting are dropped`));
        opened = table.open(key, meta, tsSec);
        if (opened.kind === 'limit') return undefined;
      }
      asm = opened;
    } else if (asm === undefined) {
      findings.push(CO.fragmentOrphan.at(frame, `call_id ${h.callId}: a fragment whose first fragment is not in the capture`));
      return undefined;
    }
    const placed = table.addNumbered(asm, asm.parts.size, stub, frames, tsSec);
    if (placed.kind === 'limit') {
      table.delete(asm);
      const why = placed.limit === 'parts' ? `more than ${MAX_FRAGMENTS} fragments` : placed.limit === 'entry-bytes' ? `stub over ${MAX_STUB_BYTES} bytes` : `more than ${MAX_JOINING_BYTES} bytes of fragmented calls waiting`;
      findings.push(CO.fragmentLimit.at(frame, `call_id ${h.callId}: ${why}: dropped`));
      return undefined;
    }
    if (!last) {
      nodes.push(f(DCERPC.fragments, `fragment ${asm.parts.size}, waiting for more`));
      return undefined;
    }
    table.delete(asm);
    nodes.push(f(DCERPC.fragments, asm.frames.join(', ')), f(DCERPC.reassembled_in, frame));
    const m = asm.meta;
    return { stub: asm.parts.join(), frames: asm.frames, tsSec: m.tsSec, tsNsec: m.tsNsec, first: m.first, contextId: m.contextId, opnum: m.opnum };
  }

  private request(
    dir: Direction, h: CoHeader, whole: NonNullable<ReturnType<CoConnection['join']>>, bound: BoundContext | undefined, frame: number, findings: Finding[],
    stubLayers: Layer[], nodes: FieldNode[],
  ): void {
    const ctx = this.ctx;
    const callFindings = [...findings];
    let parsed: unknown;
    if (bound === undefined) {
      callFindings.push(CO.unknownContext.at(frame, `context id ${whole.contextId} was not bound in the capture: interface unknown`));
    }
    const d = bound !== undefined && bound.ndr20 ? dissectRequestStub(this.where.interfaces, bound.uuid, whole.stub, h.drep, whole.opnum, ctx, frame) : undefined;
    if (d !== undefined) {
      stubLayers.push(stubLayer(() => d, whole.stub, false).layer);
      for (const x of d.findings) ctx.packetFinding(x);
      callFindings.push(...d.findings);
      parsed = d.parsed;
    } else if (whole.stub.length > 0) {
      nodes.push(...rawStubNodes(whole.stub));
    }
    const previous = this.calls.get(h.callId);
    if (previous !== undefined) {
      this.dropCall(h.callId);
      finishCall(ctx, previous, { kind: 'none', expected: !previous.maybe }, undefined, [CO.callIdReused.at(frame, `call_id ${h.callId} reused before its response`)]);
    }
    if (this.calls.size >= MAX_CALLS) {
      const oldest = this.calls.values().next().value as PendingCall;
      this.dropCall(oldest.callId);
      finishCall(ctx, oldest, { kind: 'none', expected: !oldest.maybe }, undefined);
    }
    const stub: RpcStub = { bytes: whole.stub, drep: h.drep, frames: whole.frames, tsSec: whole.tsSec, tsNsec: whole.tsNsec };
    ctx.holds?.hold(stub.frames[0] ?? 0); // released by dropCall
    this.calls.set(h.callId, {
      callId: h.callId, contextId: whole.contextId, maybe: (whole.first.flags & PFC_MAYBE) !== 0,
      interfaceUuid: bound?.uuid ?? '', handler: bound !== undefined ? this.where.interfaces.get(bound.uuid) : undefined, version: bound?.major ?? 0, opnum: whole.opnum, route: this.routeOf(dir), request: stub, requestParsed: parsed,
      findings: callFindings, ids: { call_id: h.callId, context: whole.contextId }, extraFrames: [],
    });
  }

  private response(h: CoHeader, whole: NonNullable<ReturnType<CoConnection['join']>>, frame: number, findings: Finding[], stubLayers: Layer[], nodes: FieldNode[]): void {
    const ctx = this.ctx;
    const call = this.calls.get(h.callId);
    const d = call !== undefined && call.interfaceUuid !== ''
      ? dissectResponseStub(this.where.interfaces, call.interfaceUuid, whole.stub, h.drep, call.opnum, call.requestParsed, ctx, frame)
      : undefined;
    if (d !== undefined) {
      stubLayers.push(stubLayer(() => d, whole.stub, false).layer);
      for (const x of d.findings) ctx.packetFinding(x);
    } else if (whole.stub.length > 0) {
      nodes.push(...rawStubNodes(whole.stub));
    }
    if (call === undefined) {
      findings.push(CO.unmatchedResponse.at(frame, `response call_id ${h.callId} answers a request not in the capture`));
      return;
    }
    nodes.push(f(DCERPC.request_in, call.request.frames[call.request.frames.length - 1] ?? 0));
    this.dropCall(h.callId);
    const stub: RpcStub = { bytes: whole.stub, drep: h.drep, frames: whole.frames, tsSec: whole.tsSec, tsNsec: whole.tsNsec };
    finishCall(ctx, call, { kind: 'response', stub }, d?.parsed, [...findings, ...(d?.findings ?? [])]);
  }

  private fault(h: CoHeader, status: number, frames: number[], findings: Finding[]): void {
    const call = this.calls.get(h.callId);
    // A fault may arrive while request fragments are still being joined: drop them.
    for (const table of this.assemblies) {
      const asm = table.get(String(h.callId));
      if (asm !== undefined) table.delete(asm);
    }
    if (call === undefined) return;
    this.dropCall(h.callId);
    finishCall(this.ctx, call, { kind: 'fault', status, name: rpcStatusName(status), frames }, undefined, findings);
  }
}
