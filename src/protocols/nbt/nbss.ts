// The NetBIOS session service as a TCP application (TCP 139, and the same 4-byte framing
// directly on TCP 445): frames each direction's byte stream into messages, however TCP cut
// them, reports session requests and their outcome, and hands each session message to the
// dialect (SMB1, SMB2, …) registered through the session seam whose match() accepts it.
import type { Direction, EngineContext, Route, TcpApp, TcpConversationInfo } from '../../engine/context.js';
import type { SessionNames, SessionPayloadFactory, SessionPayloadHandler } from '../../engine/seams.js';
import { f, type FieldNode } from '../../model/fields.js';
import type { FindingDef } from '../../model/findings.js';
import { NBSS_FINDINGS } from './findings.js';
import { ipv4String } from '../../net/addr.js';
import { StreamBuffer } from '../../net/stream-buffer.js';
import { NBSS, NBSS_ERRORS, NBSS_TYPES } from './fields.js';
import { formatName, namePart, suffixOf } from './names.js';
import { expectedLength, MAX_DIRECT, parseNbssHeader, parseSessionRequest, plausibleBoundary, type NbssHeader } from './nbss-parse.js';

/** Bytes one direction may buffer: a whole direct-hosted message plus its header. */
const BUFFER_LIMIT = MAX_DIRECT + 4 + 65536;

interface PendingRequest {
  called: string;
  calling: string;
  frames: number[];
  tsSec: number;
  tsNsec: number;
}

/** The message header's fields (the flags byte is the length's high bits on port 445). */
function headerNodes(h: NbssHeader, direct: boolean): FieldNode[] {
  return direct
    ? [f(NBSS.type, h.type, 0, 1), f(NBSS.length, h.length, 1, 3)]
    : [f(NBSS.type, h.type, 0, 1), f(NBSS.flags, h.flags, 1, 1, [f(NBSS['flags.e'], (h.flags & 1) !== 0, 1, 1)]), f(NBSS.length, h.length, 1, 3)];
}

export class NbssApp implements TcpApp {
  private readonly bufs: [StreamBuffer, StreamBuffer] = [new StreamBuffer(BUFFER_LIMIT), new StreamBuffer(BUFFER_LIMIT)];
  /** Whether a direction must look for the next message boundary (after a gap or a bad header). */
  private readonly lost: [boolean, boolean];
  private readonly handlers = new Map<SessionPayloadFactory, SessionPayloadHandler>();
  private readonly names: SessionNames = {};
  private pending: PendingRequest | undefined;
  /** Whether the calling side's first message was seen (on TCP 139 it must be a SESSION REQUEST). */
  private callerSpoke = false;
  private readonly transport = 'tcp/nbss';

  constructor(private readonly conv: TcpConversationInfo, private readonly ctx: EngineContext, private readonly dialects: readonly SessionPayloadFactory[], private readonly direct: boolean) {
    // A capture that starts mid-conversation may start mid-message.
    this.lost = conv.sawHandshake ? [false, false] : [true, true];
    this.bufs[0].attach(ctx.buffers, () => this.gap(0, 0), ctx.holds);
    this.bufs[1].attach(ctx.buffers, () => this.gap(1, 0), ctx.holds);
  }

  private route(dir: Direction): Route {
    return { transport: this.transport, src: this.conv.endpoint[dir], dst: this.conv.endpoint[dir === 0 ? 1 : 0] };
  }

  data(dir: Direction, bytes: Uint8Array): void {
    const frame = this.ctx.packet?.frame;
    const buf = this.bufs[dir];
    if (!buf.append(bytes, frame?.number ?? 0, frame?.tsSec ?? 0, frame?.tsNsec ?? 0)) {
      this.report(dir, NBSS_FINDINGS.bufferLimit, `more than ${BUFFER_LIMIT} bytes of one NBSS message buffered: dropped, looking for the next message`);
      buf.clear();
      this.lost[dir] = true;
      return;
    }
    this.drain(dir);
  }

  gap(dir: Direction, _length: number): void {
    // The message in progress lost bytes: drop it and find the next boundary.
    if (this.bufs[dir].length > 0) {
      this.report(dir, NBSS_FINDINGS.incomplete, `an NBSS message was cut by missing TCP data: ${this.bufs[dir].length} buffered byte(s) dropped`);
      this.bufs[dir].clear();
    }
    this.lost[dir] = true;
  }

  end(): void {
    for (const dir of [0, 1] as const) {
      const buf = this.bufs[dir];
      const left = buf.length;
      // Bytes left while still looking for a boundary are not a message (e.g. a 1-byte TCP keep-alive).
      if (left > 0 && !this.lost[dir]) {
        const carried = buf.carried(left);
        const item = NBSS_FINDINGS.incomplete.at(carried.frames[0] ?? 0, `connection ended inside an NBSS message: ${left} byte(s) never completed (frames ${carried.frames.join(', ')})`);
        this.ctx.standaloneFinding(item, 'nbss', this.route(dir), carried.tsSec, carried.tsNsec);
      }
      buf.clear();
    }
    if (this.pending !== undefined) {
      const p = this.pending;
      this.pending = undefined;
      this.ctx.holds?.release(p.frames[0] ?? 0);
      this.ctx.emit({ kind: 'session', action: 'open', tsSec: p.tsSec, tsNsec: p.tsNsec, frames: p.frames, protocol: 'nbss', transport: this.transport,
        src: this.conv.endpoint[0], dst: this.conv.endpoint[1], findings: [], details: { called: p.called, calling: p.calling, response: 'none' } });
    }
    for (const h of this.handlers.values()) h.end();
  }

  private report(dir: Direction, def: FindingDef, summary: string): void {
    const frame = this.ctx.packet?.frame;
    this.ctx.standaloneFinding(def.at(frame?.number ?? 0, summary), 'nbss', this.route(dir), frame?.tsSec ?? 0, frame?.tsNsec ?? 0);
  }

  private drain(dir: Direction): void {
    const buf = this.bufs[dir];
    for (;;) {
      if (this.lost[dir] && !this.resync(dir)) return;
      const view = buf.view();
      if (view.length < 4) return;
      const h = parseNbssHeader(view, 0, this.direct);
      if (typeof h === 'string') {
        this.ctx.packetFinding(NBSS_FINDINGS.badHeader.at(this.ctx.packet?.frame.number ?? 0, `${h}: looking for the next message`));
        this.lost[dir] = true;
        continue;
      }
      if (view.length < 4 + h.length) return;
      const carried = buf.carried(4 + h.length);
      // The message is copied: layers keep it for their lazy trees after the buffer moves on.
      const msg = view.slice(0, 4 + h.length);
      buf.discard(4 + h.length);
      this.message(dir, h, msg, carried.frames, carried.tsSec, carried.tsNsec);
    }
  }

  /** Skips to the next plausible message boundary; false when more bytes are needed. */
  private resync(dir: Direction): boolean {
    const buf = this.bufs[dir];
    const view = buf.view();
    let skip = 0;
    while (skip + 8 <= view.length && !plausibleBoundary(view, skip, this.direct)) skip++;
    // Fewer than 8 bytes left: a header and magic could still start there.
    const found = skip + 8 <= view.length || (view.length - skip >= 4 && plausibleBoundary(view, skip, this.direct));
    if (skip > 0) {
      const skipped = view.slice(0, skip);
      buf.discard(skip);
      this.continuation(skipped);
    }
    if (found) this.lost[dir] = false;
    return found;
  }

  private continuation(bytes: Uint8Array): void {
    const packet = this.ctx.packet;
    if (packet === undefined) return;
    packet.layers.push({
      name: 'nbss', bytes, offset: 0, length: bytes.length, info: 'NBSS Continuation Message',
      tree: () => [f(NBSS.continuation_data, bytes, 0, bytes.length)],
    });
  }

  private message(dir: Direction, h: NbssHeader, msg: Uint8Array, frames: number[], tsSec: number, tsNsec: number): void {
    const ctx = this.ctx;
    const packet = ctx.packet;
    const body = msg.subarray(4);
    const cp = ctx.options.oemCodepage;
    const frameNo = packet?.frame.number ?? frames[frames.length - 1] ?? 0;
    let info = NBSS_TYPES.get(h.type) ?? `Unknown (0x${h.type.toString(16)})`;
    let detail: () => FieldNode[] = () => [];
    if (dir === 0 && !this.callerSpoke && h.type !== 0x85) {
      this.callerSpoke = true;
      if (!this.direct && this.conv.sawHandshake && h.type !== 0x81) {
        ctx.packetFinding(NBSS_FINDINGS.noSessionRequest.at(frameNo, `the calling side began with ${NBSS_TYPES.get(h.type) ?? `type 0x${h.type.toString(16)}`}, not a session request`));
      }
    }
    const want = expectedLength(h.type);
    if (want !== undefined && h.length !== want) {
      ctx.packetFinding(NBSS_FINDINGS.badLength.at(frameNo, `${info} has length ${h.length}, expected ${want}`));
    }
    switch (h.type) {
      case 0x81: {
        const req = parseSessionRequest(body);
        if (typeof req === 'string') {
          this.report(dir, NBSS_FINDINGS.badSessionRequest, `session request: ${req}`);
          break;
        }
        const called = formatName(req.called, cp);
        const calling = formatName(req.calling, cp);
        info = `Session request, to ${called} from ${calling}`;
        this.names.called = { name: namePart(req.called.raw, cp), suffix: suffixOf(req.called), text: called };
        this.names.calling = calling;
        if (!req.called.wellFormed || !req.calling.wellFormed) {
          ctx.packetFinding(NBSS_FINDINGS.badName.at(frameNo, 'a session request name is not a valid first-level encoding (letters A–P)'));
        }
        if (this.pending !== undefined) this.ctx.holds?.release(this.pending.frames[0] ?? 0);
        this.pending = { called, calling, frames, tsSec, tsNsec };
        this.ctx.holds?.hold(frames[0] ?? 0); // released when answered or at the end
        detail = () => [f(NBSS.called_name, called, 4 + req.calledOffset, req.called.length), f(NBSS.calling_name, calling, 4 + req.callingOffset, req.calling.length)];
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84: {
        const code = h.type === 0x83 && body.length >= 1 ? body[0]! : undefined;
        if (code !== undefined) {
          info = `Negative session response, ${NBSS_ERRORS.get(code) ?? `error 0x${code.toString(16)}`}`;
          detail = () => [f(NBSS.error_code, code, 4, 1)];
        }
        let retarget: { ip: string; port: number } | undefined;
        if (h.type === 0x84 && body.length >= 6) {
          retarget = { ip: ipv4String(body, 0), port: (body[4]! << 8) | body[5]! };
          info = `Retarget session response, ${retarget.ip}:${retarget.port}`;
          const r = retarget;
          detail = () => [f(NBSS.retarget_ip_address, r.ip, 4, 4), f(NBSS.retarget_port, r.port, 8, 2)];
        }
        const p = this.pending;
        if (p !== undefined && dir === 1) {
          this.pending = undefined;
          ctx.holds?.release(p.frames[0] ?? 0);
          if (ctx.wantsEvents !== false) {
            const action = h.type === 0x82 ? 'accepted' : h.type === 0x83 ? 'refused' : 'retarget';
            const details: Record<string, unknown> = { called: p.called, calling: p.calling };
            if (code !== undefined) details.error = NBSS_ERRORS.get(code) ?? `0x${code.toString(16)}`;
            if (code !== undefined) details.errorCode = code;
            if (retarget !== undefined) details.retarget = `${retarget.ip}:${retarget.port}`;
            ctx.emit({ kind: 'session', action, tsSec: p.tsSec, tsNsec: p.tsNsec, frames: [...p.frames, ...frames.filter((n) => !p.frames.includes(n))],
              protocol: 'nbss', transport: this.transport, src: this.conv.endpoint[0], dst: this.conv.endpoint[1], findings: [], details });
          }
        } else if (dir === 0) {
          ctx.packetFinding(NBSS_FINDINGS.responseFromClient.at(frameNo, `${NBSS_TYPES.get(h.type)} sent by the calling side`));
        }
        break;
      }
      default:
        break;
    }
    if (packet !== undefined) {
      const direct = this.direct;
      packet.layers.push({ name: 'nbss', bytes: msg, offset: 0, length: msg.length, info, column: 'NBSS', tree: () => [...headerNodes(h, direct), ...detail()] });
    }
    if (h.type === 0x00 && body.length > 0) this.dispatch(dir, body, frames, tsSec, tsNsec);
  }

  private dispatch(dir: Direction, bytes: Uint8Array, frames: number[], tsSec: number, tsNsec: number): void {
    const factory = this.dialects.find((d) => d.match(bytes));
    if (factory === undefined) return;
    let handler = this.handlers.get(factory);
    if (handler === undefined) {
      handler = factory.create({ conv: this.conv, transport: this.transport, names: this.names, directHosted: this.direct }, this.ctx);
      this.handlers.set(factory, handler);
    }
    handler.message({ dir, bytes, frames, tsSec, tsNsec });
  }
}
