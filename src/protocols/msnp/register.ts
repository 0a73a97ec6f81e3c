// MSNP's maker for the engine: TCP 1863, any port announced by an XFR/RNG referral, any other
// port whose lines prove to be MSNP in both directions (evidence.ts), and the HTTP gateway found
// by content.
import type { Direction, EngineContext, TcpApp, TcpAppFactory, TcpConversationInfo } from '../../engine/context.js';
import type { Packet } from '../../model/packet.js';
import type { Finding } from '../../model/findings.js';
import type { TimelineEvent } from '../../model/events.js';
import { tcpStreamNumber, type Route } from '../../engine/context.js';
import { commandSpec, isClientOnly, isServerOnly, type Side } from './commands.js';
import { MsnpConnection } from './connection.js';
import { frameCommand } from './parse.js';
import { GatewayApp, GatewayTable } from './gateway.js';
import { looksLikeGateway } from './http.js';
import { MsnpShared } from './shared.js';
import { MsnpEvidence, OTHER_PROTOCOL_PORTS, type HeldSegment } from './evidence.js';
import type { Timer } from '../../engine/timers.js';

export const MSNP_PORT = 1863;

/** Server commands that carry no TrID: a line starting with one of them needs no numeric first parameter. */
const ASYNC = new Set(['NLN', 'FLN', 'UBX', 'JOI', 'BYE', 'RNG', 'MSG', 'NOT', 'IPG', 'QNG', 'OUT', 'PNG', 'UBN', 'NFY', 'BPR', 'LST', 'LSG']);

/** Content check for one MSNP line (on MSNP's own port, where one line is evidence enough). */
export function looksLikeMsnp(payload: Uint8Array): boolean {
  for (const side of ['c', 's'] as const) {
    const r = frameCommand(payload, side, undefined, false);
    const cmd = r.kind === 'command' || r.kind === 'need' ? r.cmd : undefined;
    if (cmd === undefined || cmd.bareLf || cmd.unknown) continue;
    if (/HTTP\/\d/.test(cmd.line)) continue;
    const first = cmd.params[0];
    if (/^\d{3}$/.test(cmd.name)) return first !== undefined && /^\d+$/.test(first);
    if (ASYNC.has(cmd.name)) return true;
    if (first !== undefined && /^\d+$/.test(first) && commandSpec(cmd.name) !== undefined) return true;
  }
  return false;
}

/** Which side a first line comes from, when its form says so. */
function sideOfLine(payload: Uint8Array): Side | undefined {
  const r = frameCommand(payload, 's', undefined, false);
  const cmd = r.kind === 'command' || r.kind === 'need' ? r.cmd : undefined;
  if (cmd === undefined) return undefined;
  if (isServerOnly(cmd.name) || /^\d{3}$/.test(cmd.name)) return 's';
  if (isClientOnly(cmd.name)) return 'c';
  if (cmd.name === 'MSG') return /^\d+$/.test(cmd.params[0] ?? '') ? 'c' : 's';
  return undefined;
}

class MsnpTcpApp implements TcpApp {
  private conn: MsnpConnection | undefined;
  /** The direction the server sends in. */
  private serverDir: Direction | undefined;

  constructor(private readonly conv: TcpConversationInfo, private readonly ctx: EngineContext, private readonly shared: MsnpShared,
    evidence?: MsnpEvidence<Packet>) {
    if (evidence !== undefined) {
      this.serverDir = evidence.serverDir;
      this.replay(evidence.segments());
      return;
    }
    const announced0 = shared.announced.has(conv.endpoint[0]);
    const announced1 = shared.announced.has(conv.endpoint[1]);
    if (announced1 && !announced0) this.serverDir = 1;
    else if (announced0 && !announced1) this.serverDir = 0;
    else if (conv.port[0] === MSNP_PORT && conv.port[1] !== MSNP_PORT) this.serverDir = 0;
    else if (conv.port[1] === MSNP_PORT) this.serverDir = 1;
  }

  /**
   * Dissects the segments detection held back, each as its own frame: the events carry their
   * frames; their layers go to copies, as those frames were already shown as plain TCP.
   */
  private replay(segments: readonly HeldSegment<Packet>[]): void {
    if (segments.length === 0) return;
    const replay = new ReplayContext(this.ctx);
    for (const s of segments) {
      replay.packet = { frame: s.tag.frame, layers: [], src: s.tag.src, dst: s.tag.dst, findings: [] };
      this.connection(s.dir, s.bytes, replay).feed(s.dir === this.serverDir ? 's' : 'c', s.bytes);
    }
    replay.packet = undefined;
  }

  private connection(dir: Direction, bytes: Uint8Array, ctx: EngineContext = this.ctx): MsnpConnection {
    if (this.conn !== undefined) return this.conn;
    if (this.serverDir === undefined) {
      const side = sideOfLine(bytes);
      this.serverDir = side === undefined ? 1 : side === 's' ? dir : dir === 0 ? 1 : 0;
    }
    const clientDir: Direction = this.serverDir === 0 ? 1 : 0;
    this.conn = new MsnpConnection(this.shared, ctx, {
      transport: 'tcp/msnp',
      client: this.conv.endpoint[clientDir],
      server: this.conv.endpoint[this.serverDir],
      clientIp: this.conv.addr[clientDir],
      fromStart: this.conv.sawHandshake,
    });
    return this.conn;
  }

  data(dir: Direction, bytes: Uint8Array): void {
    const conn = this.connection(dir, bytes);
    conn.feed(dir === this.serverDir ? 's' : 'c', bytes);
  }

  gap(dir: Direction, length: number): void {
    if (this.conn === undefined) return;
    this.conn.gap(dir === this.serverDir ? 's' : 'c', length);
  }

  end(): void {
    this.conn?.end();
  }
}

/**
 * The engine's context, except that the current frame is a held one while it is replayed
 * (afterwards the engine's again).
 */
class ReplayContext implements EngineContext {
  private replaying: Packet | undefined;

  constructor(private readonly inner: EngineContext) {}

  get options(): EngineContext['options'] {
    return this.inner.options;
  }
  get packet(): Packet | undefined {
    return this.replaying ?? this.inner.packet;
  }
  get wantsEvents(): boolean | undefined {
    return this.inner.wantsEvents;
  }
  // The connection made during a replay keeps this context: its stream buffers must count in the
  // engine's buffer budget and hold their frames for the reorder window, as any connection's do.
  get buffers(): EngineContext['buffers'] {
    return this.inner.buffers;
  }
  get holds(): EngineContext['holds'] {
    return this.inner.holds;
  }
  set packet(p: Packet | undefined) {
    this.replaying = p;
  }
  emit(event: TimelineEvent): void {
    this.inner.emit(event);
  }
  packetFinding(finding: Finding): void {
    if (this.replaying !== undefined) this.replaying.findings.push(finding);
    else this.inner.packetFinding(finding);
  }
  standaloneFinding(finding: Finding, protocol: string, route: Route, tsSec: number, tsNsec: number): void {
    this.inner.standaloneFinding(finding, protocol, route, tsSec, tsNsec);
  }
  schedule(atSec: number, fire: () => void): Timer {
    return this.inner.schedule(atSec, fire);
  }
  tcpStream(index: number): number {
    return tcpStreamNumber(this.inner, index);
  }
}

/** Conversations gathering evidence at once, at most (the oldest is dropped past it). */
const MAX_UNDECIDED = 4096;

export function msnpTcp(): TcpAppFactory {
  const shared = new MsnpShared();
  const gateways = new GatewayTable();
  /** Conversations that detection recognised as HTTP-gateway traffic. */
  const http = new Set<number>();
  /** Conversations on other ports still gathering evidence, then those proven MSNP until created. */
  const undecided = new Map<number, MsnpEvidence<Packet>>();
  const proven = new Map<number, MsnpEvidence<Packet>>();
  /** Conversations whose lines are not MSNP: not looked at again. */
  const rejected = new Set<number>();

  /** Several lines in both directions with a TrID answered, on a port no other protocol owns. */
  function proves(payload: Uint8Array, dir: Direction, conv: TcpConversationInfo, packet: Packet | undefined): boolean {
    if (OTHER_PROTOCOL_PORTS.has(conv.port[0]) || OTHER_PROTOCOL_PORTS.has(conv.port[1]) || rejected.has(conv.index)) return false;
    if (packet === undefined) return false;
    let evidence = undecided.get(conv.index);
    if (evidence === undefined) {
      if (undecided.size >= MAX_UNDECIDED) undecided.delete(undecided.keys().next().value!);
      evidence = new MsnpEvidence<Packet>();
      undecided.set(conv.index, evidence);
    }
    const verdict = evidence.add(dir, payload, packet);
    if (verdict === 'undecided') return false;
    undecided.delete(conv.index);
    if (verdict === 'not-msnp') {
      if (rejected.size >= 65536) rejected.clear();
      rejected.add(conv.index);
      return false;
    }
    proven.set(conv.index, evidence);
    return true;
  }

  return {
    name: 'msnp',
    ports: [MSNP_PORT],
    detect(payload: Uint8Array, dir: Direction, conv: TcpConversationInfo, ctx: EngineContext): boolean {
      if (looksLikeGateway(payload)) {
        if (http.size < 65536) http.add(conv.index);
        return true;
      }
      if (shared.announced.has(conv.endpoint[0]) || shared.announced.has(conv.endpoint[1])) return true;
      if (conv.port[0] === MSNP_PORT || conv.port[1] === MSNP_PORT) return looksLikeMsnp(payload);
      return proves(payload, dir, conv, ctx.packet);
    },
    create(conv: TcpConversationInfo, ctx: EngineContext): TcpApp {
      if (http.delete(conv.index)) return new GatewayApp(conv, ctx, shared, gateways);
      const evidence = proven.get(conv.index);
      proven.delete(conv.index);
      return new MsnpTcpApp(conv, ctx, shared, evidence);
    },
    finish(): void {
      gateways.endAll();
      shared.legs.flush();
    },
  };
}
