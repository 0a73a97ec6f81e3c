// The MSN Messenger HTTP gateway: each POST body is a slice of the client's MSNP stream and each
// response body a slice of the server's; bodies are chained by SessionID across requests and
// TCP connections into one MSNP stream (msnp-notes.md "HTTP gateway"), then framed as usual.
import type { Direction, EngineContext, TcpApp, TcpConversationInfo } from '../../engine/context.js';
import { f, type FieldNode } from '../../model/fields.js';
import type { FindingDef } from '../../model/findings.js';
import { MSNPGW_FINDINGS } from './findings.js';
import { StreamBuffer } from '../../net/stream-buffer.js';
import type { Role } from './commands.js';
import { MsnpConnection } from './connection.js';
import { MSNPGW } from './fields.js';
import { gatewayQuery, headerValue, messengerHeader, parseHttpHead, type HttpHead } from './http.js';
import type { MsnpShared } from './shared.js';

const MAX_SESSIONS = 4096;
const MAX_BODY = 1024 * 1024;
const MAX_QUEUE = 256;

/**
 * A gateway session with no request or response this long (capture time) is over: clients poll
 * every few seconds while a session lives, and the gateway drops a session nobody polls.
 */
const IDLE_SECONDS = 600;
/** Capture time between two looks for idle sessions. */
const SWEEP_SECONDS = 60;

interface GatewaySession {
  readonly conn: MsnpConnection;
  readonly ids: Set<string>;
  lastSec: number;
  /** Ended (closed, idle, or given up for room): a response still queued for it is not fed to its connection. */
  ended?: boolean;
}

/** Gateway sessions of one capture, by every SessionID they were known under. */
export class GatewayTable {
  private readonly byId = new Map<string, GatewaySession>();
  /** Oldest first. */
  private readonly sessions = new Set<GatewaySession>();
  private lastSweep = -Infinity;
  full = false;

  get(id: string): GatewaySession | undefined {
    return this.byId.get(id);
  }

  add(session: GatewaySession): void {
    if (this.sessions.size >= MAX_SESSIONS) {
      this.full = true;
      this.close(this.sessions.values().next().value as GatewaySession);
    }
    this.sessions.add(session);
    for (const id of session.ids) this.byId.set(id, session);
  }

  alias(session: GatewaySession, id: string): void {
    if (session.ids.size >= 1024) return;
    session.ids.add(id);
    this.byId.set(id, session);
  }

  /** Ends a session (its MSNP connection flushes what it holds); its SessionIDs are forgotten. */
  close(session: GatewaySession): void {
    if (!this.sessions.delete(session)) return;
    for (const id of session.ids) if (this.byId.get(id) === session) this.byId.delete(id);
    session.ended = true;
    session.conn.end();
  }

  /** Ends the sessions idle past the limit (looked for at most once a minute of capture time). */
  expire(now: number): void {
    if (now - this.lastSweep < SWEEP_SECONDS) return;
    this.lastSweep = now;
    for (const s of this.sessions) if (now - s.lastSec > IDLE_SECONDS) this.close(s);
  }

  endAll(): void {
    for (const s of this.sessions) s.conn.end();
    this.sessions.clear();
    this.byId.clear();
  }
}

interface QueuedRequest {
  readonly session: GatewaySession | undefined;
  readonly role: Role | undefined;
  readonly query: Record<string, string> | undefined;
}

export class GatewayApp implements TcpApp {
  private readonly bufs: [StreamBuffer, StreamBuffer] = [new StreamBuffer(4 * MAX_BODY), new StreamBuffer(4 * MAX_BODY)];
  private readonly queue: QueuedRequest[] = [];
  private readonly broken: [boolean, boolean] = [false, false];

  constructor(private readonly conv: TcpConversationInfo, private readonly ctx: EngineContext, private readonly shared: MsnpShared, private readonly table: GatewayTable) {
    this.bufs[0].attach(ctx.buffers, () => this.gap(0), ctx.holds);
    this.bufs[1].attach(ctx.buffers, () => this.gap(1), ctx.holds);
  }

  data(dir: Direction, bytes: Uint8Array): void {
    const packet = this.ctx.packet;
    if (packet === undefined || this.broken[dir]) return;
    const buf = this.bufs[dir];
    if (!buf.append(bytes, packet.frame.number, packet.frame.tsSec, packet.frame.tsNsec)) {
      this.problem(MSNPGW_FINDINGS.limit, 'HTTP message larger than the buffer limit: this direction is no longer decoded', dir);
      this.broken[dir] = true;
      buf.clear();
      return;
    }
    for (let guard = 0; guard < 10000 && buf.length > 0; guard++) {
      const view = buf.view();
      const r = parseHttpHead(view);
      if (r.kind === 'need') return;
      if (r.kind === 'bad') {
        this.problem(MSNPGW_FINDINGS.malformed, `not an HTTP message: ${r.reason}`, dir);
        this.broken[dir] = true;
        buf.clear();
        return;
      }
      const head = r.head;
      if (head.chunked) {
        this.problem(MSNPGW_FINDINGS.chunked, 'chunked transfer encoding on the gateway is not decoded', dir);
        this.broken[dir] = true;
        buf.clear();
        return;
      }
      const length = head.contentLength ?? 0;
      if (length > MAX_BODY) {
        this.problem(MSNPGW_FINDINGS.limit, `Content-Length ${length} exceeds the ${MAX_BODY}-byte limit`, dir);
        this.broken[dir] = true;
        buf.clear();
        return;
      }
      if (view.length < head.headLength + length) return;
      const body = view.slice(head.headLength, head.headLength + length);
      const headBytes = view.slice(0, head.headLength);
      buf.discard(head.headLength + length);
      this.message(dir, head, headBytes, body);
    }
  }

  private message(dir: Direction, head: HttpHead, headBytes: Uint8Array, body: Uint8Array): void {
    const packet = this.ctx.packet!;
    const now = packet.frame.tsSec;
    this.table.expire(now);
    let session: GatewaySession | undefined;
    let query: Record<string, string> | undefined;
    let mh: Record<string, string> | undefined;
    if (head.isRequest) {
      query = head.uri !== undefined ? gatewayQuery(head.uri) : undefined;
      const role = query?.Server === 'SB' ? 'SB' : query?.Server === 'NS' ? 'NS' : undefined;
      const id = query?.SessionID;
      session = id !== undefined ? this.table.get(id) : undefined;
      if (query !== undefined && session === undefined) {
        // Action=open starts a session; a SessionID we never saw opened is a capture that started later.
        session = { conn: this.newConnection(dir, role), ids: new Set(id !== undefined ? [id] : []), lastSec: now };
        this.table.add(session);
      }
      if (this.queue.length < MAX_QUEUE) this.queue.push({ session, role, query });
      else this.problem(MSNPGW_FINDINGS.limit, `more than ${MAX_QUEUE} requests awaiting responses`, dir);
    } else {
      const req = this.queue.shift();
      const value = headerValue(head, 'X-MSN-Messenger');
      mh = value !== undefined ? messengerHeader(value) : undefined;
      session = req?.session;
      const id = mh?.SessionID;
      if (id !== undefined) {
        const known = this.table.get(id);
        if (session === undefined && known !== undefined) session = known;
        else if (session === undefined) {
          session = { conn: this.newConnection(dir === 0 ? 1 : 0, req?.role), ids: new Set([id]), lastSec: now };
          this.table.add(session);
        } else if (known === undefined) this.table.alias(session, id);
      }
    }
    packet.layers.push({
      name: 'msnpgw',
      bytes: headBytes,
      offset: 0,
      length: headBytes.length,
      column: 'HTTP',
      info: head.startLine,
      tree: () => gatewayTree(head, query, mh),
    });
    if (session === undefined || session.ended === true) return;
    session.lastSec = now;
    if (body.length > 0) session.conn.feed(head.isRequest ? 'c' : 's', body);
    // The gateway says the session is over (msnp-notes.md "HTTP gateway": `Session=close`).
    if (mh?.Session?.toLowerCase() === 'close') this.table.close(session);
  }

  private newConnection(clientDir: Direction, role: Role | undefined): MsnpConnection {
    const client = this.conv.endpoint[clientDir];
    const server = this.conv.endpoint[clientDir === 0 ? 1 : 0];
    return new MsnpConnection(this.shared, this.ctx, {
      transport: 'tcp/http/msnp',
      client,
      server,
      clientIp: this.conv.addr[clientDir],
      fromStart: true,
      role,
    });
  }

  private problem(def: FindingDef, summary: string, dir: Direction): void {
    const packet = this.ctx.packet;
    const item = def.at(packet?.frame.number ?? 0, summary);
    this.ctx.standaloneFinding(item, 'msnp', { transport: 'tcp/http', src: this.conv.endpoint[dir], dst: this.conv.endpoint[dir === 0 ? 1 : 0] }, packet?.frame.tsSec ?? 0, packet?.frame.tsNsec ?? 0);
  }

  gap(dir: Direction): void {
    // Lost bytes inside HTTP: the message boundaries are gone; stop decoding this direction.
    this.bufs[dir].clear();
    this.broken[dir] = true;
  }

  end(): void {
    // Gateway sessions outlive TCP connections: they end with the capture (factory finish).
  }
}

function gatewayTree(head: HttpHead, query: Record<string, string> | undefined, mh: Record<string, string> | undefined): FieldNode[] {
  const nodes: FieldNode[] = [];
  if (head.method !== undefined) nodes.push(f(MSNPGW.method, head.method));
  if (head.uri !== undefined) nodes.push(f(MSNPGW.uri, head.uri));
  if (head.status !== undefined) nodes.push(f(MSNPGW.status, head.status));
  for (const h of head.headers) nodes.push(f(MSNPGW.header, `${h.name}: ${h.value}`));
  if (head.contentLength !== undefined) nodes.push(f(MSNPGW.content_length, head.contentLength));
  if (query?.Action !== undefined) nodes.push(f(MSNPGW.action, query.Action));
  if (query?.Server !== undefined) nodes.push(f(MSNPGW.server, query.Server));
  if (query?.IP !== undefined) nodes.push(f(MSNPGW.ip, query.IP));
  const id = query?.SessionID ?? mh?.SessionID;
  if (id !== undefined) nodes.push(f(MSNPGW.session_id, id));
  if (mh?.['GW-IP'] !== undefined) nodes.push(f(MSNPGW.gw_ip, mh['GW-IP']));
  if (mh?.Session !== undefined) nodes.push(f(MSNPGW.session_state, mh.Session));
  return nodes;
}
