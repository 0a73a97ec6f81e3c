// MSNP's maker for the engine: TCP 1863, any port announced by an XFR/RNG referral, any port
// whose first bytes frame as MSNP commands, and the HTTP gateway found by content.
import type { Direction, EngineContext, TcpApp, TcpAppFactory, TcpConversationInfo } from '../../engine/context.js';
import { commandSpec, isClientOnly, isServerOnly, type Side } from './commands.js';
import { MsnpConnection } from './connection.js';
import { frameCommand } from './parse.js';
import { GatewayApp, GatewayTable } from './gateway.js';
import { looksLikeGateway } from './http.js';
import { MsnpShared } from './shared.js';

export const MSNP_PORT = 1863;

/** Server commands that carry no TrID: a line starting with one of them needs no numeric first parameter. */
const ASYNC = new Set(['NLN', 'FLN', 'UBX', 'JOI', 'BYE', 'RNG', 'MSG', 'NOT', 'IPG', 'QNG', 'OUT', 'PNG', 'UBN', 'NFY', 'BPR', 'LST', 'LSG']);

/** Content check for MSNP on a port we were not told about. */
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

  constructor(private readonly conv: TcpConversationInfo, private readonly ctx: EngineContext, private readonly shared: MsnpShared) {
    const announced0 = shared.announced.has(conv.endpoint[0]);
    const announced1 = shared.announced.has(conv.endpoint[1]);
    if (announced1 && !announced0) this.serverDir = 1;
    else if (announced0 && !announced1) this.serverDir = 0;
    else if (conv.port[0] === MSNP_PORT && conv.port[1] !== MSNP_PORT) this.serverDir = 0;
    else if (conv.port[1] === MSNP_PORT) this.serverDir = 1;
  }

  private connection(dir: Direction, bytes: Uint8Array): MsnpConnection {
    if (this.conn !== undefined) return this.conn;
    if (this.serverDir === undefined) {
      const side = sideOfLine(bytes);
      this.serverDir = side === undefined ? 1 : side === 's' ? dir : dir === 0 ? 1 : 0;
    }
    const clientDir: Direction = this.serverDir === 0 ? 1 : 0;
    this.conn = new MsnpConnection(this.shared, this.ctx, {
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

export function msnpTcp(): TcpAppFactory {
  const shared = new MsnpShared();
  const gateways = new GatewayTable();
  /** Conversations that detection recognised as HTTP-gateway traffic. */
  const http = new Set<number>();
  return {
    name: 'msnp',
    ports: [MSNP_PORT],
    detect(payload: Uint8Array, _dir: Direction, conv: TcpConversationInfo): boolean {
      if (looksLikeGateway(payload)) {
        if (http.size < 65536) http.add(conv.index);
        return true;
      }
      if (shared.announced.has(conv.endpoint[0]) || shared.announced.has(conv.endpoint[1])) return true;
      return looksLikeMsnp(payload);
    },
    create(conv: TcpConversationInfo, ctx: EngineContext): TcpApp {
      if (http.delete(conv.index)) return new GatewayApp(conv, ctx, shared, gateways);
      return new MsnpTcpApp(conv, ctx, shared);
    },
    finish(): void {
      gateways.endAll();
    },
  };
}
