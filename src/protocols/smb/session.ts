// SMB1 over a NetBIOS session (or direct-hosted TCP 445): one handler per TCP conversation.
// Decodes each message, adds its layer, pairs requests with responses (by MID and PID), and
// drives the messenger tracker and the named pipes (whose byte streams go to the consumers
// registered through the pipe seam, e.g. DCE/RPC on \PIPE\msgsvc).
import type { EngineContext, Route } from '../../engine/context.js';
import type { PipeConsumerFactory, PipeStream, SessionMessage, SessionPayloadHandler, SessionRoute } from '../../engine/seams.js';
import { finding } from '../../model/findings.js';
import { nbssNames } from '../nbt/nbss-state.js';
import { decodeSmb, type SmbCommand, type SmbPdu } from './decode.js';
import { dissectMailslot } from './mailslot.js';
import { MESSENGER_COMMANDS, MessengerTracker, type FrameInfo, type MessengerToken } from './messenger.js';
import { CMD } from './parse.js';
import { SMB } from './fields.js';
import { f } from '../../model/fields.js';
import { smbInfo, smbTree } from './tree.js';

const MAX_PENDING = 4096;
const MAX_FIDS = 1024;
/** MS-CIFS 2.2.4.43.1: WriteMode bits that, together, put a 2-byte message length before a pipe write. */
const WRITE_RAW = 0x0004;
const WRITE_MSG_START = 0x0008;

interface PendingRequest {
  readonly frame: number;
  readonly commands: SmbCommand[];
  readonly tokens: (MessengerToken | undefined)[];
  /** For pipe requests answered with data (READ_ANDX, TransactNmPipe): the FID. */
  readonly pipeFid?: number;
  /** For NT_CREATE_ANDX / OPEN_ANDX: the name being opened. */
  readonly openName?: string;
  readonly tid: number;
}

interface Pipe {
  readonly name: string;
  readonly fid: number;
  stream: PipeStream | null | undefined;
}

export class Smb1Session implements SessionPayloadHandler {
  private readonly pending = new Map<string, PendingRequest>();
  private readonly pipes = new Map<number, Pipe>();
  private readonly trees = new Map<number, string>();
  private readonly messenger: MessengerTracker;
  private readonly route: Route;
  private pendingLimitReported = false;

  constructor(private readonly sroute: SessionRoute, private readonly ctx: EngineContext, private readonly consumers: PipeConsumerFactory[]) {
    const conv = sroute.conv;
    this.route = { transport: `${sroute.transport}/smb`, src: conv.endpoint[0], dst: conv.endpoint[1] };
    this.messenger = new MessengerTracker(ctx, {
      route: this.route,
      transport: this.route.transport,
      called: () => {
        const n = nbssNames(conv);
        return n?.called !== undefined ? { name: n.called.name, suffix: n.called.suffix } : undefined;
      },
      calling: () => nbssNames(conv)?.calling,
    });
  }

  message(msg: SessionMessage): void {
    const ctx = this.ctx;
    const packet = ctx.packet;
    const frameNo = packet?.frame.number ?? msg.frames[msg.frames.length - 1] ?? 0;
    const cp = ctx.options.oemCodepage;
    const decoded = decodeSmb(msg.bytes, cp);
    if (typeof decoded === 'string') {
      packet?.layers.push({ name: 'smb', bytes: msg.bytes, offset: 0, length: msg.bytes.length, info: `[Malformed SMB: ${decoded}]`, column: 'SMB', tree: () => [] });
      ctx.standaloneFinding(finding('smb.malformed', 'error', frameNo, decoded, 'MS-CIFS 2.2.3.1'), 'smb', this.routeFor(msg.dir), msg.tsSec, msg.tsNsec);
      return;
    }
    const pdu = decoded;
    const at: FrameInfo = { frames: msg.frames, frame: frameNo, tsSec: msg.tsSec, tsNsec: msg.tsNsec };
    const key = `${pdu.header.mid}:${pdu.header.pidLow}:${pdu.header.pidHigh}`;
    let request: PendingRequest | undefined;
    if (pdu.header.isResponse) {
      request = this.pending.get(key);
      if (request !== undefined) this.pending.delete(key);
    }
    const extra = request !== undefined ? [f(SMB.response_to, request.frame)] : [];
    if (packet !== undefined) {
      packet.layers.push({
        name: 'smb', bytes: msg.bytes, offset: 0, length: msg.bytes.length, info: smbInfo(pdu, cp), column: 'SMB',
        tree: () => smbTree(pdu, cp, extra),
      });
    }
    for (const p of pdu.problems) ctx.packetFinding(finding('smb.malformed', 'error', frameNo, p, 'MS-CIFS 2.2.3.4'));
    for (const c of pdu.commands) for (const p of c.problems) ctx.packetFinding(finding('smb.malformed', 'warning', frameNo, `${c.command.toString(16)}: ${p}`, 'MS-CIFS 2.2.3'));
    if (pdu.header.isResponse) this.response(pdu, request, at);
    else this.request(pdu, key, at, msg);
  }

  private routeFor(dir: 0 | 1): Route {
    const conv = this.sroute.conv;
    return { transport: this.route.transport, src: conv.endpoint[dir], dst: conv.endpoint[dir === 0 ? 1 : 0] };
  }

  private request(pdu: SmbPdu, key: string, at: FrameInfo, msg: SessionMessage): void {
    const tokens: (MessengerToken | undefined)[] = [];
    let pipeFid: number | undefined;
    let openName: string | undefined;
    for (const c of pdu.commands) {
      let token: MessengerToken | undefined;
      if (MESSENGER_COMMANDS.has(c.command)) {
        token = this.messenger.request(pdu, c, at);
        if (token === undefined) this.messenger.other(pdu, c, at);
      }
      tokens.push(token);
      const body = c.body;
      switch (body.kind) {
        case 'tree-connect-req':
          // The TID comes in the response; remember the path under the request's key.
          openName = body.path;
          break;
        case 'create-req':
          openName = body.name;
          break;
        case 'write-req': {
          const pipe = this.pipes.get(body.write.fid);
          if (pipe !== undefined) {
            let data = body.write.data;
            if ((body.write.writeMode & (WRITE_RAW | WRITE_MSG_START)) === (WRITE_RAW | WRITE_MSG_START) && data.length >= 2) data = data.subarray(2);
            this.pipeData(pipe, 0, data, msg);
          }
          break;
        }
        case 'read-req':
          if (this.pipes.has(body.fid)) pipeFid = body.fid;
          break;
        case 'close-req': {
          const pipe = this.pipes.get(body.fid);
          if (pipe !== undefined) {
            pipe.stream?.end();
            this.pipes.delete(body.fid);
          }
          break;
        }
        case 'trans-req': {
          const name = body.name.toUpperCase();
          if (name.startsWith('\\MAILSLOT\\')) {
            dissectMailslot(this.ctx, pdu, c, body.trans, body.name, {
              route: this.routeFor(msg.dir), transport: `${this.route.transport}/mailslot`, frames: msg.frames, tsSec: msg.tsSec, tsNsec: msg.tsNsec,
            });
          } else if (name.startsWith('\\PIPE\\') && body.trans.setup.length >= 2) {
            const fn = body.trans.setup[0]!;
            const fid = body.trans.setup[1]!;
            const pipe = this.pipes.get(fid);
            // TransactNmPipe and WriteNmPipe carry bytes to the pipe; TransactNmPipe and
            // ReadNmPipe bring bytes back in the response (MS-CIFS 2.2.5.6, 2.2.5.8, 2.2.5.9).
            if (pipe !== undefined && (fn === 0x0026 || fn === 0x0037)) this.pipeData(pipe, 0, body.trans.data, msg);
            if (pipe !== undefined && (fn === 0x0026 || fn === 0x0036)) pipeFid = fid;
          }
          break;
        }
        default:
          break;
      }
    }
    if (this.pending.size >= MAX_PENDING) {
      if (!this.pendingLimitReported) {
        this.pendingLimitReported = true;
        this.ctx.packetFinding(finding('smb.pending-limit', 'warning', at.frame, `more than ${MAX_PENDING} SMB requests wait for a response: the oldest are forgotten`));
      }
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    if (this.pending.has(key)) this.pending.delete(key); // a reused MID: the newer request wins
    this.pending.set(key, { frame: at.frame, commands: pdu.commands, tokens, pipeFid, openName, tid: pdu.header.tid });
  }

  private response(pdu: SmbPdu, request: PendingRequest | undefined, at: FrameInfo): void {
    const dir = 1 as const;
    pdu.commands.forEach((c, i) => {
      const token = request?.tokens[i];
      if (token !== undefined) this.messenger.response(pdu, c, token, at);
      else if (MESSENGER_COMMANDS.has(c.command)) this.messenger.other(pdu, c, at);
      const body = c.body;
      switch (body.kind) {
        case 'tree-connect-resp':
          if (request?.openName !== undefined) this.remember(this.trees, pdu.header.tid, request.openName);
          break;
        case 'create-resp':
          if (request?.openName !== undefined && this.isPipe(request.openName, request.tid)) {
            this.remember(this.pipes, body.fid, { name: pipeName(request.openName), fid: body.fid, stream: undefined });
          }
          break;
        case 'read-resp':
          if (request?.pipeFid !== undefined) {
            const pipe = this.pipes.get(request.pipeFid);
            if (pipe !== undefined) this.pipeData(pipe, dir, body.read.data, { frames: at.frames, tsSec: at.tsSec, tsNsec: at.tsNsec });
          }
          break;
        case 'trans-resp':
          if (request?.pipeFid !== undefined) {
            const pipe = this.pipes.get(request.pipeFid);
            if (pipe !== undefined) this.pipeData(pipe, dir, body.trans.data, { frames: at.frames, tsSec: at.tsSec, tsNsec: at.tsNsec });
          }
          break;
        default:
          break;
      }
    });
    // A multi-part transaction response keeps its request waiting for the next part.
    const first = pdu.commands[0];
    if (request !== undefined && first?.body.kind === 'trans-resp') {
      const t = first.body.trans;
      if (t.dataDisplacement + t.dataCount < t.totalDataCount || t.parameterDisplacement + t.parameterCount < t.totalParameterCount) {
        this.pending.set(`${pdu.header.mid}:${pdu.header.pidLow}:${pdu.header.pidHigh}`, request);
      }
    }
    if (pdu.header.command === CMD.TREE_DISCONNECT && request !== undefined) this.trees.delete(pdu.header.tid);
  }

  private isPipe(name: string, tid: number): boolean {
    const upper = name.toUpperCase();
    if (upper.startsWith('\\PIPE\\') || upper.startsWith('PIPE\\')) return true;
    const tree = this.trees.get(tid);
    return tree !== undefined && tree.toUpperCase().endsWith('\\IPC$');
  }

  private remember<V>(map: Map<number, V>, key: number, value: V): void {
    if (!map.has(key) && map.size >= MAX_FIDS) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
      this.ctx.packetFinding(finding('smb.fid-limit', 'warning', this.ctx.packet?.frame.number ?? 0, `more than ${MAX_FIDS} open files or trees on one conversation: the oldest is forgotten`));
    }
    map.set(key, value);
  }

  private pipeData(pipe: Pipe, dir: 0 | 1, data: Uint8Array, at: { frames: number[]; tsSec: number; tsNsec: number }): void {
    if (data.length === 0) return;
    if (pipe.stream === undefined) {
      const consumer = this.consumers.find((c) => c.accepts(pipe.name, dir === 0 ? data : undefined));
      const conv = this.sroute.conv;
      pipe.stream = consumer === undefined ? null : consumer.open({
        client: conv.endpoint[0], server: conv.endpoint[1], transport: `${this.route.transport}/pipe`, pipe: pipe.name, id: `${conv.index}:${pipe.fid}`,
      }, this.ctx);
    }
    pipe.stream?.data(dir, data, at.frames, at.tsSec, at.tsNsec);
  }

  end(): void {
    this.messenger.end();
    for (const pipe of this.pipes.values()) pipe.stream?.end();
    this.pipes.clear();
  }
}

/** `\PIPE\msgsvc` or `\msgsvc` → `msgsvc` (lower case, no prefix). */
export function pipeName(name: string): string {
  let n = name.replace(/\0+$/, '').replace(/^\\+/, '');
  if (n.toLowerCase().startsWith('pipe\\')) n = n.slice(5);
  return n.toLowerCase();
}
