// Connectionless DCE/RPC state (C706 chapter 10, MS-RPCE 3.2): fragments joined per activity,
// sequence number and fragment number in whatever order they come, duplicates dropped; each
// request matched with its response, fault or reject, or with the ICMP error that bounced it
// (by the quoted activity and sequence number when the quote holds them, else by the quoted IP
// header and ports); unanswered requests finished at the end of the capture.
import { datagramKey, type EngineContext, type UdpAppFactory, type UdpDatagram } from '../../engine/context.js';
import type { Finding } from '../../model/findings.js';
import { DCERPC_CL_FINDINGS as CL } from './findings.js';
import { f, firstValue, type FieldDef, type FieldNode } from '../../model/fields.js';
import { endpoint } from '../../net/addr.js';
import { FragmentTable, NumberedParts, type FragmentEntry } from '../../net/fragment-table.js';
import { NEEDS_TREE, type Layer, type PeekedValue } from '../../model/packet.js';
import {
  CL_HEADER_LEN, clStatus, F1_FRAG, F1_LASTFRAG, F1_MAYBE, F1_BROADCAST, looksLikeCl, parseClHeaderPrefix, parseClPdu,
  type ClHeader, type ClHeaderPrefix, type ClPdu,
} from './cl-parse.js';
import { clBodyTree, clHeaderPrefixTree, clHeaderTree, DCERPC, ptypeName } from './fields.js';
import { finishCall, opName, rawStubNodes, stubLayer, dissectRequestStub, dissectResponseStub, type CallRecord } from './calls.js';
import type { RpcInterfaces, RpcRoute, RpcStub } from './interfaces.js';
import { rpcStatusName } from './status.js';
import { interfaceName } from './uuid.js';
import type { Timer } from '../../engine/timers.js';
import { RecentMap } from '../../util/recent-map.js';
import { copyBytes } from '../../util/bytes.js';

/**
 * A connectionless PDU's layer: Info and the tree when asked (header, body, then `extra`: the
 * stub's bytes when no interface decodes them); the header fields the command table reads
 * without it. The timeline and the audit ask for neither.
 */
class ClLayer implements Layer {
  readonly name = 'dcerpc';
  readonly column = 'DCERPC';
  readonly offset = 0;
  readonly length: number;
  private infoText: string | undefined;

  constructor(readonly bytes: Uint8Array, private readonly pdu: ClPdu, private readonly describe: (pdu: ClPdu) => string, readonly quoted: boolean, private readonly extra: readonly FieldNode[]) {
    this.length = Math.min(bytes.length, CL_HEADER_LEN + pdu.body.length);
  }

  get info(): string {
    return (this.infoText ??= this.describe(this.pdu));
  }

  /** The same layer with more nodes after the tree's own. */
  with(nodes: readonly FieldNode[]): ClLayer {
    return new ClLayer(this.bytes, this.pdu, this.describe, this.quoted, [...this.extra, ...nodes]);
  }

  tree(): FieldNode[] {
    return [...clHeaderTree(this.pdu), ...clBodyTree(this.pdu), ...this.extra];
  }

  fieldValue(def: FieldDef): PeekedValue {
    const h = this.pdu.header;
    switch (def) {
      case DCERPC.pkt_type: return h.ptype;
      case DCERPC.interface: return interfaceName(h.ifId);
      case DCERPC.dg_act_id: return h.activity;
      case DCERPC.dg_seqnum: return h.seq;
      case DCERPC.opnum: return h.opnum;
      // Header and body never link to the request (connection-oriented PDUs do).
      case DCERPC.request_in: return firstValue(this.extra, def);
      default: return NEEDS_TREE;
    }
  }
}

const MAX_ASSEMBLIES = 4096;
const MAX_FRAGMENTS = 4096;
const MAX_STUB_BYTES = 8 * 1024 * 1024;
/** Bytes of all calls being joined. */
const MAX_JOINING_BYTES = 64 * 1024 * 1024;
const MAX_PENDING = 65536;
const MAX_DONE = 65536;
/** Request datagrams remembered by IP header and ports, for bounces whose quote is too short to name the call. */
const MAX_SENT = 65536;
/**
 * Finished calls and sent datagrams are remembered this long (capture time) besides their
 * count bound: retransmissions come within seconds (C706 12.3: the client's ping and
 * retransmission timers) and routers bounce at once.
 */
const MEMO_SECONDS = 300;
/** Fragments idle this long (capture time) never complete. */
const ASSEMBLY_TIMEOUT = 300;
/**
 * A request unanswered this long (capture time) is finished as unanswered, so its state is
 * freed and its event is not held to the end of the capture. Servers answer within seconds
 * (clients retransmit after a few); a minute leaves room for slow links.
 */
const RESPONSE_TIMEOUT = 60;
/** The same timeout, for `stats` (a request unanswered this long will not be matched). */
export const CL_RESPONSE_TIMEOUT = RESPONSE_TIMEOUT;
const TRANSPORT = 'udp/dcerpc';

/** What a call being joined keeps besides its fragments: the first PDU's header, time and route, and the findings so far. */
interface Assembly {
  readonly header: ClHeader;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly route: RpcRoute;
  readonly findings: Finding[];
}

type AssemblyEntry = FragmentEntry<Assembly, NumberedParts>;

interface Pending extends CallRecord {
  readonly key: string;
  /** Its key in `byActivity`: client and server hosts (no ports), activity, sequence number. */
  readonly activityKey: string;
  readonly maybe: boolean;
  /** Finishes the call unanswered after RESPONSE_TIMEOUT. */
  timer?: Timer;
}

export class ClEngine {
  private readonly assemblies = new FragmentTable<Assembly, NumberedParts>(
    { maxEntries: MAX_ASSEMBLIES, maxParts: MAX_FRAGMENTS, maxEntryBytes: MAX_STUB_BYTES, maxTotalBytes: MAX_JOINING_BYTES, maxAgeSeconds: ASSEMBLY_TIMEOUT, ageFrom: 'last' },
    () => new NumberedParts(),
  );
  private readonly pending = new Map<string, Pending>();
  /**
   * client host|server host|activity|seq → key of the pending request, for responses from another
   * port of the server. The hosts are part of the key: spam tools and replayed captures reuse one
   * activity for many victims, and one victim's request must not hide another's.
   */
  private readonly byActivity = new Map<string, string>();
  /** Calls already finished (answered or bounced): a later copy is a retransmission. */
  private readonly done = new RecentMap<string, true>(MAX_DONE, MEMO_SECONDS);
  /** datagramKey of each request datagram → its call's key (oldest forgotten first). */
  private readonly sent = new RecentMap<string, string>(MAX_SENT, MEMO_SECONDS);
  private count = 0;

  constructor(private readonly interfaces: RpcInterfaces) {}

  datagram(ctx: EngineContext, dg: UdpDatagram): void {
    this.assemblies.holds ??= ctx.holds;
    const packet = ctx.packet;
    const frame = packet?.frame.number ?? 0;
    if (dg.quoted) {
      this.bounce(ctx, dg, frame);
      return;
    }
    const pdu = parseClPdu(dg.payload);
    if (typeof pdu === 'string') {
      ctx.packetFinding(CL.malformed.at(frame, pdu));
      return;
    }
    const h = pdu.header;
    const src = endpoint(dg.src, dg.srcPort);
    const dst = endpoint(dg.dst, dg.dstPort);
    const layerIndex = packet?.layers.length ?? 0;
    packet?.layers.push(this.layer(dg, pdu));
    const findings: Finding[] = [];
    if (pdu.truncated) {
      findings.push(CL.truncated.at(frame, `fragment length ${h.len} exceeds the ${dg.payload.length - CL_HEADER_LEN} body bytes present`));
    }
    if (h.version !== 4) findings.push(CL.version.at(frame, `connectionless version ${h.version}, expected 4`));
    if ((h.flags2 & 0xfc) !== 0) findings.push(CL.flags2Mbz.at(frame, `flags2 0x${h.flags2.toString(16).padStart(2, '0')} sets bits that must be zero`));
    if ((h.ptype === 1 || h.ptype === 4 || h.ptype === 7) && h.len > 0) {
      findings.push(CL.unexpectedBody.at(frame, `${ptypeName(h.ptype)} PDU has no body, yet declares ${h.len} byte(s)`));
    }
    if ((h.flags1 & F1_FRAG) === 0 && h.fragnum !== 0) findings.push(CL.fragnum.at(frame, `fragment number ${h.fragnum} on an unfragmented PDU`));
    for (const x of findings) ctx.packetFinding(x);

    if (++this.count % 4096 === 0) this.expire(ctx, dg.tsSec, false);

    switch (h.ptype) {
      case 0:
        this.request(ctx, dg, pdu, src, dst, frame, findings, (nodes) => this.addStubInfo(packet?.layers, layerIndex, nodes));
        return;
      case 2:
        this.response(ctx, dg, pdu, src, dst, frame, findings);
        return;
      case 3:
      case 6:
        this.faultOrReject(ctx, dg, pdu, src, dst, frame, findings);
        return;
      default:
        return; // ping, working, nocall, ack, quit, fack, cack: shown, no call state change
    }
  }

  private addStubInfo(layers: Layer[] | undefined, index: number, nodes: ReturnType<typeof f>[]): void {
    const layer = layers?.[index];
    if (layer === undefined || layers === undefined) return;
    layers[index] = layer instanceof ClLayer ? layer.with(nodes) : { ...layer, tree: () => [...layer.tree(), ...nodes] };
  }

  /** Info of a PDU's layer, made when a view asks (one function for all the layers). */
  private readonly describe = (pdu: ClPdu): string => this.info(pdu);

  private info(pdu: ClPdu): string {
    const h = pdu.header;
    const name = ptypeName(h.ptype);
    const frag = (h.flags1 & F1_FRAG) !== 0 ? ` fragnum: ${h.fragnum}${(h.flags1 & F1_LASTFRAG) !== 0 ? ' (last)' : ''}` : '';
    switch (h.ptype) {
      case 0:
      case 2: {
        const op = opName(this.interfaces, h.ifId, h.opnum);
        return `${name}: seq: ${h.seq} opnum: ${h.opnum}${op !== undefined ? ` (${op})` : ''} len: ${h.len}${frag}`;
      }
      case 3:
      case 6: {
        const status = clStatus(pdu.body, h.drep);
        return `${name}: seq: ${h.seq}${status !== undefined ? `: status: ${rpcStatusName(status)}` : ''}`;
      }
      default:
        return `${name}: seq: ${h.seq}`;
    }
  }

  /** A quoted datagram that is this engine's: a request datagram it saw, or a request header with its activity. */
  ownsBounce(dg: UdpDatagram): boolean {
    if (this.sent.has(datagramKey(dg))) return true;
    const prefix = parseClHeaderPrefix(dg.payload);
    return prefix !== undefined && prefix.ptype === 0 && prefix.activity !== undefined;
  }

  private layer(dg: UdpDatagram, pdu: ClPdu): Layer {
    return new ClLayer(dg.payload, pdu, this.describe, dg.quoted, []);
  }

  // ---- requests ----

  private request(
    ctx: EngineContext, dg: UdpDatagram, pdu: ClPdu, src: string, dst: string, frame: number, findings: Finding[],
    annotate: (nodes: ReturnType<typeof f>[]) => void,
  ): void {
    const h = pdu.header;
    const key = `${src}|${dst}|${h.activity}|${h.seq}`;
    this.sent.set(datagramKey(dg), key, dg.tsSec);
    const route: RpcRoute = { transport: TRANSPORT, client: src, server: dst };
    const joined = this.join(ctx, `${key}|0`, pdu, route, dg, frame, findings, annotate);
    if (joined === undefined) return;
    if (this.done.has(key) || this.pending.has(key)) {
      // The same activity and sequence number again: a retransmission of a call, not a new one.
      const p = this.pending.get(key);
      if (p !== undefined) p.extraFrames.push(...joined.frames);
      ctx.packetFinding(CL.retransmission.at(frame, `request seq ${h.seq} of activity ${h.activity} sent again`));
      return;
    }
    // Kept until answered, with what is parsed from it: a copy, not a view that would keep
    // the capture reader's chunk alive.
    const body = copyBytes(joined.stub);
    const stub: RpcStub = { bytes: body, drep: h.drep, frames: joined.frames, tsSec: joined.tsSec, tsNsec: joined.tsNsec };
    let parsed: unknown;
    const callFindings = [...joined.findings];
    const d = dissectRequestStub(this.interfaces, h.ifId, body, h.drep, h.opnum, ctx, frame);
    if (d !== undefined) {
      const { layer } = stubLayer(() => d, body, false);
      ctx.packet?.layers.push(layer);
      for (const x of d.findings) ctx.packetFinding(x);
      callFindings.push(...d.findings);
      parsed = d.parsed;
    } else if (body.length > 0) {
      annotate(rawStubNodes(body));
    }
    if (this.pending.size >= MAX_PENDING) this.evictOldest(ctx);
    const p: Pending = {
      key, interfaceUuid: h.ifId, handler: this.interfaces.get(h.ifId), version: h.ifVersion & 0xffff, opnum: h.opnum, route, request: stub, requestParsed: parsed,
      findings: callFindings, ids: { activity: h.activity, seq: h.seq }, extraFrames: [], maybe: (h.flags1 & (F1_MAYBE | F1_BROADCAST)) !== 0,
      activityKey: `${dg.src}|${dg.dst}|${h.activity}|${h.seq}`,
    };
    this.pending.set(key, p);
    ctx.holds?.hold(stub.frames[0] ?? 0); // released when the call is finished
    this.byActivity.set(p.activityKey, key);
    p.timer = ctx.schedule(dg.tsSec + RESPONSE_TIMEOUT, () => {
      if (this.pending.get(key) === p) this.finish(ctx, p, { kind: 'none', expected: !p.maybe }, undefined, []);
    });
  }

  /**
   * A datagram quoted in an ICMP error. Routers quote as little as the IP header and 8 bytes
   * (RFC 792) and at most 576 bytes in all (RFC 1812), so the quote may hold the whole request,
   * a header cut short, or no DCE/RPC byte at all: the call is found by the quoted activity and
   * sequence number when present, else by the quoted IP header and ports.
   */
  private bounce(ctx: EngineContext, dg: UdpDatagram, frame: number): void {
    const prefix = parseClHeaderPrefix(dg.payload);
    const whole = prefix !== undefined && dg.payload.length >= CL_HEADER_LEN ? parseClPdu(dg.payload) : undefined;
    const pdu = typeof whole === 'object' ? whole : undefined;
    if (pdu !== undefined) ctx.packet?.layers.push(this.layer(dg, pdu));
    else if (prefix !== undefined) ctx.packet?.layers.push(this.prefixLayer(dg, prefix));
    if (prefix !== undefined && prefix.ptype !== 0) return; // only requests have a call to fail
    const src = endpoint(dg.src, dg.srcPort);
    const dst = endpoint(dg.dst, dg.dstPort);
    const byIds = prefix?.activity !== undefined && prefix.seq !== undefined ? `${src}|${dst}|${prefix.activity}|${prefix.seq}` : undefined;
    const keys = [byIds, this.sent.get(datagramKey(dg))].filter((k): k is string => k !== undefined);
    const reason = dg.icmpReason ?? 'ICMP error';
    const outcome = { kind: 'bounce' as const, reason, frames: [frame], icmp: dg.icmp };
    for (const key of keys) {
      const p = this.pending.get(key);
      if (p !== undefined) {
        this.finish(ctx, p, outcome, undefined, []);
        return;
      }
    }
    if (keys.some((k) => this.done.has(k))) return; // a second bounce of a call already finished
    for (const key of keys) {
      const asm = this.assemblies.get(`${key}|0`);
      if (asm !== undefined) {
        // A fragment of a request still being joined came back: the request never arrives whole.
        asm.meta.findings.push(CL.bouncedFragment.at(frame, `a fragment of request ${this.callName(key)} bounced: ${reason}`));
        return;
      }
    }
    const what = prefix?.activity !== undefined ? `request seq ${prefix.seq ?? '?'} of activity ${prefix.activity}` : `a datagram to ${dst}`;
    if (pdu === undefined || (pdu.header.flags1 & F1_FRAG) !== 0 || pdu.truncated) {
      if (prefix !== undefined) ctx.packetFinding(CL.bounceUnmatched.at(frame, `ICMP error quotes ${what}, not seen in the capture`));
      return;
    }
    // The original was not captured: the quoted copy is the only sight of this request.
    const h = pdu.header;
    const stub: RpcStub = { bytes: pdu.body, drep: h.drep, frames: [frame], tsSec: dg.tsSec, tsNsec: dg.tsNsec };
    const d = dissectRequestStub(this.interfaces, h.ifId, pdu.body, h.drep, h.opnum, ctx, frame);
    if (d !== undefined) {
      const { layer } = stubLayer(() => d, pdu.body, true);
      ctx.packet?.layers.push(layer);
    }
    const note = CL.bounceUnmatched.at(frame, `ICMP error quotes ${what}, not seen in the capture: the call is known from the quoted copy only`);
    ctx.packetFinding(note);
    const rec: Pending = {
      key: byIds ?? '', interfaceUuid: h.ifId, handler: this.interfaces.get(h.ifId), version: h.ifVersion & 0xffff, opnum: h.opnum, route: { transport: TRANSPORT, client: src, server: dst }, request: stub,
      requestParsed: d?.parsed, findings: [note, ...(d?.findings ?? [])], ids: { activity: h.activity, seq: h.seq, quoted_only: 'true' }, extraFrames: [], maybe: false,
      activityKey: `${dg.src}|${dg.dst}|${h.activity}|${h.seq}`,
    };
    this.finish(ctx, rec, outcome, undefined, []);
  }

  /** `seq N of activity A` from a call key (`src|dst|activity|seq`). */
  private callName(key: string): string {
    const [, , activity, seq] = key.split('|');
    return `seq ${seq ?? '?'} of activity ${activity ?? '?'}`;
  }

  private prefixLayer(dg: UdpDatagram, prefix: ClHeaderPrefix): Layer {
    const ids = prefix.activity !== undefined ? `: activity ${prefix.activity}${prefix.seq !== undefined ? ` seq: ${prefix.seq}` : ''}` : '';
    return {
      name: 'dcerpc', bytes: dg.payload, offset: 0, length: prefix.present, column: 'DCERPC', quoted: dg.quoted,
      info: `${ptypeName(prefix.ptype)} (${prefix.present} of ${CL_HEADER_LEN} header bytes quoted)${ids}`,
      tree: () => clHeaderPrefixTree(dg.payload, prefix),
    };
  }

  // ---- answers ----

  /** The pending request an answer from `src` to `dst` (endpoints; hosts `serverIp`, `clientIp`) belongs to. */
  private lookup(src: string, dst: string, h: ClHeader, clientIp: string, serverIp: string): Pending | undefined {
    const p = this.pending.get(`${dst}|${src}|${h.activity}|${h.seq}`);
    if (p !== undefined) return p;
    // A server may answer from another port: match on the hosts and the activity.
    const key = this.byActivity.get(`${clientIp}|${serverIp}|${h.activity}|${h.seq}`);
    return key !== undefined ? this.pending.get(key) : undefined;
  }

  private response(ctx: EngineContext, dg: UdpDatagram, pdu: ClPdu, src: string, dst: string, frame: number, findings: Finding[]): void {
    const h = pdu.header;
    const route: RpcRoute = { transport: TRANSPORT, client: dst, server: src };
    const joined = this.join(ctx, `${dst}|${src}|${h.activity}|${h.seq}|2`, pdu, route, dg, frame, findings, () => undefined);
    if (joined === undefined) return;
    const p = this.lookup(src, dst, h, dg.dst, dg.src);
    const request = p?.requestParsed;
    const d = dissectResponseStub(this.interfaces, p?.interfaceUuid ?? h.ifId, joined.stub, h.drep, p?.opnum ?? h.opnum, request, ctx, frame);
    if (d !== undefined) {
      const { layer } = stubLayer(() => d, joined.stub, false);
      ctx.packet?.layers.push(layer);
      for (const x of d.findings) ctx.packetFinding(x);
    }
    if (p === undefined) {
      if (!this.done.has(`${dst}|${src}|${h.activity}|${h.seq}`)) {
        ctx.packetFinding(CL.unmatchedResponse.at(frame, `response seq ${h.seq} of activity ${h.activity} answers a request not in the capture`));
      }
      return;
    }
    const stub: RpcStub = { bytes: joined.stub, drep: h.drep, frames: joined.frames, tsSec: joined.tsSec, tsNsec: joined.tsNsec };
    this.finish(ctx, p, { kind: 'response', stub }, d?.parsed, [...joined.findings, ...(d?.findings ?? [])]);
  }

  private faultOrReject(ctx: EngineContext, dg: UdpDatagram, pdu: ClPdu, src: string, dst: string, frame: number, findings: Finding[]): void {
    const h = pdu.header;
    const status = clStatus(pdu.body, h.drep);
    if (status === undefined) {
      ctx.packetFinding(CL.shortStatus.at(frame, `${ptypeName(h.ptype)} body has no status (${pdu.body.length} bytes)`, { clause: h.ptype === 3 ? 'C706 12.5.3.5' : 'C706 12.5.3.9' }));
    }
    const p = this.lookup(src, dst, h, dg.dst, dg.src);
    if (p === undefined) return;
    const code = status ?? 0;
    this.finish(ctx, p, { kind: h.ptype === 3 ? 'fault' : 'reject', status: code, name: rpcStatusName(code), frames: [frame] }, undefined, findings);
  }

  private finish(ctx: EngineContext, p: Pending, outcome: Parameters<typeof finishCall>[2], responseParsed: unknown, extra: Finding[]): void {
    p.timer?.cancel();
    this.pending.delete(p.key);
    ctx.holds?.release(p.request.frames[0] ?? 0);
    if (this.byActivity.get(p.activityKey) === p.key) this.byActivity.delete(p.activityKey);
    this.done.set(p.key, true, ctx.packet?.frame.tsSec ?? p.request.tsSec);
    finishCall(ctx, p, outcome, responseParsed, extra);
  }

  private evictOldest(ctx: EngineContext): void {
    const oldest = this.pending.values().next().value as Pending | undefined;
    if (oldest === undefined) return;
    const frame = ctx.packet?.frame.number ?? 0;
    const item = CL.pendingLimit.at(frame, `more than ${MAX_PENDING} unanswered connectionless calls: the oldest is reported without waiting for its answer`);
    this.finish(ctx, oldest, { kind: 'none', expected: !oldest.maybe }, undefined, [item]);
  }

  // ---- fragments ----

  /**
   * Adds one PDU to its call's fragments. Returns the whole stub when complete; undefined while
   * fragments are missing (or when this one was a duplicate of a complete call).
   */
  private join(
    ctx: EngineContext, key: string, pdu: ClPdu, route: RpcRoute, dg: UdpDatagram, frame: number, findings: Finding[],
    annotate: (nodes: ReturnType<typeof f>[]) => void,
  ): { stub: Uint8Array; frames: number[]; tsSec: number; tsNsec: number; findings: Finding[] } | undefined {
    const h = pdu.header;
    if ((h.flags1 & F1_FRAG) === 0 && this.assemblies.get(key) === undefined) {
      return { stub: pdu.body, frames: [...dg.frames], tsSec: dg.tsSec, tsNsec: dg.tsNsec, findings: [...findings] };
    }
    let asm = this.assemblies.get(key);
    if (asm === undefined) {
      const meta: Assembly = { header: h, tsSec: dg.tsSec, tsNsec: dg.tsNsec, route, findings: [] };
      let opened = this.assemblies.open(key, meta, dg.tsSec);
      if (opened.kind === 'limit') {
        const old = this.assemblies.oldest();
        if (old !== undefined) {
          this.assemblies.delete(old);
          this.reportIncomplete(ctx, old, `more than ${MAX_ASSEMBLIES} fragmented calls in progress`);
        }
        opened = this.assemblies.open(key, meta, dg.tsSec);
        if (opened.kind === 'limit') return undefined;
      }
      asm = opened;
    }
    asm.meta.findings.push(...findings);
    const parts = asm.parts;
    const placed = this.assemblies.addNumbered(asm, h.fragnum, pdu.body, dg.frames, dg.tsSec);
    if (placed.kind === 'duplicate') {
      const item = placed.same
        ? CL.duplicateFragment.at(frame, `fragment ${h.fragnum} of seq ${h.seq} received again`)
        : CL.fragmentConflict.at(frame, `fragment ${h.fragnum} of seq ${h.seq} received again with different bytes; the first copy was kept`);
      ctx.packetFinding(item);
      if (!placed.same) asm.meta.findings.push(item);
      this.assemblies.addFrames(asm, [frame]);
      return undefined;
    }
    if (placed.kind === 'limit') {
      const summary = placed.limit === 'total-bytes'
        ? `call seq ${h.seq}: more than ${MAX_JOINING_BYTES} bytes of fragmented calls waiting: fragment dropped`
        : `call seq ${h.seq} exceeds ${MAX_FRAGMENTS} fragments or ${MAX_STUB_BYTES} bytes: fragment dropped`;
      ctx.packetFinding(CL.fragmentLimit.at(frame, summary));
      return undefined;
    }
    if ((h.flags1 & F1_LASTFRAG) !== 0 || (h.flags1 & F1_FRAG) === 0) {
      if (parts.last !== undefined && parts.last !== h.fragnum) {
        asm.meta.findings.push(CL.twoLastFragments.at(frame, `fragments ${parts.last} and ${h.fragnum} are both marked last`));
      }
      parts.last = parts.last === undefined ? h.fragnum : Math.min(parts.last, h.fragnum);
    }
    if (parts.last === undefined || parts.size < parts.last + 1) {
      annotate([f(DCERPC.fragments, 'waiting for more fragments')]);
      return undefined;
    }
    if (!parts.complete) return undefined;
    this.assemblies.delete(asm);
    const frames = [...asm.frames].sort((a, b) => a - b);
    annotate([f(DCERPC.fragments, frames.join(', ')), f(DCERPC.reassembled_in, frame)]);
    return { stub: parts.join(), frames, tsSec: asm.meta.tsSec, tsNsec: asm.meta.tsNsec, findings: asm.meta.findings };
  }

  private reportIncomplete(ctx: EngineContext, asm: AssemblyEntry, why: string): void {
    const parts = asm.parts;
    const missing: number[] = [];
    const top = parts.last ?? parts.max;
    for (let i = 0; i <= top && missing.length < 32; i++) if (!parts.has(i)) missing.push(i);
    const h = asm.meta.header;
    const what = `${ptypeName(h.ptype).toLowerCase()} seq ${h.seq} of activity ${h.activity}${interfaceName(h.ifId) !== undefined ? ` (${interfaceName(h.ifId)})` : ''}`;
    const lacking = [missing.length > 0 ? `fragment(s) ${missing.join(', ')}` : '', parts.last === undefined ? 'the last fragment' : ''].filter((s) => s !== '').join(' and ');
    const item = CL.fragmentsIncomplete.at(asm.frames[0] ?? 0,
      `${what} never completed (${why}): ${parts.size} fragment(s) in frames ${asm.frames.join(', ')}, missing ${lacking}`);
    ctx.standaloneFinding(item, 'dcerpc', { transport: TRANSPORT, src: asm.meta.route.client, dst: asm.meta.route.server }, asm.meta.tsSec, asm.meta.tsNsec);
  }

  private expire(ctx: EngineContext, now: number, all: boolean): void {
    for (const asm of this.assemblies.expire(now, all)) this.reportIncomplete(ctx, asm, all ? 'end of capture' : `no fragment for ${ASSEMBLY_TIMEOUT} s`);
  }

  /** End of capture: incomplete fragments reported, unanswered requests finished. */
  end(ctx: EngineContext): void {
    this.expire(ctx, 0, true);
    for (const p of [...this.pending.values()]) this.finish(ctx, p, { kind: 'none', expected: !p.maybe }, undefined, []);
  }
}

export function makeClFactory(interfaces: RpcInterfaces): UdpAppFactory {
  const engine = new ClEngine(interfaces);
  return {
    name: 'dcerpc',
    detect: looksLikeCl,
    ownsBounce: (dg) => engine.ownsBounce(dg),
    dissect: (ctx, dg) => engine.datagram(ctx, dg),
    finish: (ctx) => engine.end(ctx),
  };
}
