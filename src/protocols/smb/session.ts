// SMB1 over a NetBIOS session (or direct-hosted TCP 445): one handler per TCP conversation.
// Decodes each message, adds its layer, pairs requests with responses (by MID and PID), and
// drives the messenger tracker and the named pipes (whose byte streams go to the consumers
// registered through the pipe seam, e.g. DCE/RPC on \PIPE\msgsvc).
import { type EngineContext, type Route } from '../../engine/context.js';
import type { PipeConsumerFactory, PipeStream, SessionMessage, SessionPayloadHandler, SessionRoute } from '../../engine/seams.js';
import { SMB_FINDINGS } from './findings.js';
import { FragmentTable, OffsetParts, type FragmentEntry } from '../../net/fragment-table.js';
import { decodeSmb, type SmbCommand, type SmbPdu } from './decode.js';
import { dissectMailslot } from './mailslot.js';
import { MESSENGER_COMMANDS, MessengerTracker, type FrameInfo, type MessengerToken } from './messenger.js';
import { CMD, type TransRequest, type TransSecondaryRequest } from './parse.js';
import { SMB } from './fields.js';
import { f, type FieldNode } from '../../model/fields.js';
import { SmbLayer } from './tree.js';

const MAX_PENDING = 4096;
const MAX_FIDS = 1024;
/** MS-CIFS 2.2.4.43.1: WriteMode bits that, together, put a 2-byte message length before a pipe write. */
const WRITE_RAW = 0x0004;
const WRITE_MSG_START = 0x0008;
/** Multi-part transaction requests joined at once per conversation, and parts per transaction. */
const MAX_TRANS = 64;
const MAX_TRANS_PARTS = 256;
/** SMB_COM_TRANSACTION totals are 16-bit: no part reaches past this, so the byte limits never bind. */
const MAX_TRANS_BYTES = 65535;
/** The two byte spaces of a transaction being joined. */
const PARAMETERS = 0;
const DATA = 1;
/** MS-CIFS 2.2.5: pipe functions whose second setup word is the FID. */
const FID_PIPE_FUNCTIONS: ReadonlySet<number> = new Set([0x0001, 0x0011, 0x0021, 0x0022, 0x0023, 0x0026, 0x0031, 0x0036, 0x0037]);
/** TransactNmPipe, WriteNmPipe, RawWriteNmPipe write to the pipe (MS-CIFS 2.2.5.6, 2.2.5.8, 2.2.5.10). */
const PIPE_WRITES: ReadonlySet<number> = new Set([0x0026, 0x0037, 0x0031]);
/** TransactNmPipe, ReadNmPipe, RawReadNmPipe answer with pipe bytes (PeekNmPipe does not consume them). */
const PIPE_READS: ReadonlySet<number> = new Set([0x0026, 0x0036, 0x0011]);
/** MS-CIFS 2.2.4.64.2 ResourceType: byte-mode and message-mode named pipes. */
const FILE_TYPE_BYTE_PIPE = 1;
const FILE_TYPE_MESSAGE_PIPE = 2;

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

/**
 * A transaction request whose parameters or data come in SMB_COM_TRANSACTION_SECONDARY parts:
 * its primary's name, setup and totals; the parts are the entry's two byte spaces.
 */
interface Transaction {
  readonly name: string;
  readonly setup: number[];
  totalParameterCount: number;
  totalDataCount: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly dir: 0 | 1;
}

type TransAssembly = FragmentEntry<Transaction, OffsetParts>;

/** A transaction joined from all its parts. */
interface JoinedTransaction {
  readonly name: string;
  readonly setup: number[];
  readonly data: Uint8Array;
  readonly frames: number[];
  readonly dir: 0 | 1;
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
  /** Files opened on a tree not known to be IPC$: a \PIPE\ transaction on one shows it is a pipe. */
  private readonly files = new Map<number, string>();
  /** Multi-part transactions being joined, by MID and PID; later bytes win where parts overlap. */
  private readonly transactions = new FragmentTable<Transaction, OffsetParts>(
    { maxEntries: MAX_TRANS, maxParts: MAX_TRANS_PARTS, maxEntryBytes: MAX_TRANS_BYTES, maxTotalBytes: 2 * MAX_TRANS_BYTES * MAX_TRANS },
    () => new OffsetParts(2, true),
  );
  private readonly messenger: MessengerTracker;
  private readonly route: Route;
  private pendingLimitReported = false;

  constructor(private readonly sroute: SessionRoute, private readonly ctx: EngineContext, private readonly consumers: readonly PipeConsumerFactory[]) {
    const conv = sroute.conv;
    this.route = { transport: `${sroute.transport}/smb`, src: conv.endpoint[0], dst: conv.endpoint[1] };
    this.messenger = new MessengerTracker(ctx, {
      route: this.route,
      transport: this.route.transport,
      called: () => {
        const n = sroute.names;
        return n?.called !== undefined ? { name: n.called.name, suffix: n.called.suffix } : undefined;
      },
      calling: () => sroute.names?.calling,
      directHosted: sroute.directHosted === true,
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
      ctx.standaloneFinding(SMB_FINDINGS.malformed.at(frameNo, decoded, { clause: 'MS-CIFS 2.2.3.1' }), 'smb', this.routeFor(msg.dir), msg.tsSec, msg.tsNsec);
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
    const extra: FieldNode[] = request !== undefined ? [f(SMB.response_to, request.frame)] : [];
    if (packet !== undefined) {
      packet.layers.push(new SmbLayer(msg.bytes, pdu, cp, extra));
    }
    for (const p of pdu.problems) ctx.packetFinding(SMB_FINDINGS.malformed.at(frameNo, p, { clause: 'MS-CIFS 2.2.3.4' }));
    for (const c of pdu.commands) for (const p of c.problems) ctx.packetFinding(SMB_FINDINGS.malformed.at(frameNo, `${c.command.toString(16)}: ${p}`, { severity: 'warning', clause: 'MS-CIFS 2.2.3' }));
    if (pdu.header.isResponse) this.response(pdu, request, at);
    else this.request(pdu, key, at, msg, extra);
  }

  private routeFor(dir: 0 | 1): Route {
    const conv = this.sroute.conv;
    return { transport: this.route.transport, src: conv.endpoint[dir], dst: conv.endpoint[dir === 0 ? 1 : 0] };
  }

  private request(pdu: SmbPdu, key: string, at: FrameInfo, msg: SessionMessage, extra: FieldNode[]): void {
    const tokens: (MessengerToken | undefined)[] = [];
    let pipeFid: number | undefined;
    let openName: string | undefined;
    let secondary = false;
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
          this.files.delete(body.fid);
          const pipe = this.pipes.get(body.fid);
          if (pipe !== undefined) {
            pipe.stream?.end();
            this.pipes.delete(body.fid);
          }
          break;
        }
        case 'trans-req': {
          const t = body.trans;
          if (t.parameterCount < t.totalParameterCount || t.dataCount < t.totalDataCount) {
            this.startTransaction(key, body.name, t, at, msg.dir);
          } else {
            pipeFid = this.transaction(pdu, c, body.name, t.setup, t, t.data, at, msg.dir) ?? pipeFid;
          }
          break;
        }
        case 'trans-secondary-req': {
          const done = this.secondary(key, body.trans, at, extra);
          if (done !== undefined) {
            const fid = this.transaction(pdu, undefined, done.name, done.setup, undefined, done.data, { ...at, frames: done.frames }, done.dir);
            // The final response answers the primary request, which stays pending under the same key.
            const primary = this.pending.get(key);
            if (primary !== undefined && fid !== undefined) this.pending.set(key, { ...primary, pipeFid: fid });
          }
          secondary = true;
          break;
        }
        default:
          break;
      }
    }
    // A secondary part gets no response of its own (MS-CIFS 2.2.4.34): the primary stays pending.
    if (secondary) return;
    if (this.pending.size >= MAX_PENDING) {
      if (!this.pendingLimitReported) {
        this.pendingLimitReported = true;
        this.ctx.packetFinding(SMB_FINDINGS.pendingLimit.at(at.frame, `more than ${MAX_PENDING} SMB requests wait for a response: the oldest are forgotten`));
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
          if (request?.openName !== undefined) {
            const ft = body.fileType;
            if (this.isPipe(request.openName, request.tid) || ft === FILE_TYPE_BYTE_PIPE || ft === FILE_TYPE_MESSAGE_PIPE) {
              this.remember(this.pipes, body.fid, { name: pipeName(request.openName), fid: body.fid, stream: undefined });
            } else {
              this.remember(this.files, body.fid, request.openName);
            }
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
    // A multi-part transaction response keeps its request waiting for the next part; so does
    // the interim response (WordCount 0, success) to a primary whose secondaries are to come
    // (MS-CIFS 2.2.4.33.2).
    const first = pdu.commands[0];
    const key = `${pdu.header.mid}:${pdu.header.pidLow}:${pdu.header.pidHigh}`;
    if (request !== undefined && first?.command === CMD.TRANSACTION && first.block?.wordCount === 0 && pdu.header.status === 0 && isMultipart(request)) {
      this.pending.set(key, request);
      return;
    }
    const left = this.transactions.get(key);
    if (left !== undefined && request !== undefined) {
      this.transactions.delete(left);
      if (pdu.header.status === 0) this.transIncomplete(left, 'the server answered before all parts came');
    }
    if (request !== undefined && first?.body.kind === 'trans-resp') {
      const t = first.body.trans;
      if (t.dataDisplacement + t.dataCount < t.totalDataCount || t.parameterDisplacement + t.parameterCount < t.totalParameterCount) {
        this.pending.set(`${pdu.header.mid}:${pdu.header.pidLow}:${pdu.header.pidHigh}`, request);
      }
    }
    if (pdu.header.command === CMD.TREE_DISCONNECT && request !== undefined) this.trees.delete(pdu.header.tid);
  }

  /**
   * A whole transaction request (one part, or joined): mailslot writes are dissected, pipe
   * functions feed the pipe. Returns the FID when the response will carry pipe bytes.
   */
  private transaction(pdu: SmbPdu, c: SmbCommand | undefined, name: string, setup: number[], whole: TransRequest | undefined, data: Uint8Array, at: FrameInfo, dir: 0 | 1): number | undefined {
    const upper = name.toUpperCase();
    if (upper.startsWith('\\MAILSLOT\\')) {
      // Mailslot writes are dissected from the message that carried them whole; a joined one
      // has no single message to point fields into.
      if (c !== undefined && whole !== undefined) {
        dissectMailslot(this.ctx, pdu, c, whole, name, {
          route: this.routeFor(dir), transport: `${this.route.transport}/mailslot`, frames: at.frames, tsSec: at.tsSec, tsNsec: at.tsNsec,
        });
      } else {
        this.ctx.packetFinding(SMB_FINDINGS.transJoinedMailslot.at(at.frame, `mailslot write to ${name} joined from several parts is not decoded`));
      }
      return undefined;
    }
    if (!upper.startsWith('\\PIPE\\') || setup.length < 2) return undefined;
    const fn = setup[0]!;
    if (!FID_PIPE_FUNCTIONS.has(fn)) return undefined;
    const fid = setup[1]!;
    const pipe = this.pipeFor(fid);
    // MS-CIFS 2.2.5.6 (TransactNmPipe), 2.2.5.8 (ReadNmPipe), 2.2.5.9 (WriteNmPipe), 2.2.5.10 (RawWriteNmPipe).
    if (PIPE_WRITES.has(fn)) this.pipeData(pipe, 0, data, at);
    return PIPE_READS.has(fn) ? fid : undefined;
  }

  /** The pipe a \PIPE\ transaction names by FID: a file whose open we saw, or one we did not see. */
  private pipeFor(fid: number): Pipe {
    let pipe = this.pipes.get(fid);
    if (pipe === undefined) {
      const opened = this.files.get(fid);
      this.files.delete(fid);
      pipe = { name: opened !== undefined ? pipeName(opened) : '', fid, stream: undefined };
      this.remember(this.pipes, fid, pipe);
    }
    return pipe;
  }

  private startTransaction(key: string, name: string, t: TransRequest, at: FrameInfo, dir: 0 | 1): void {
    if (t.parameterCount > t.totalParameterCount || t.dataCount > t.totalDataCount) {
      this.ctx.packetFinding(SMB_FINDINGS.transBadTotals.at(at.frame,
        `transaction part carries ${t.parameterCount} parameter and ${t.dataCount} data bytes, more than the totals ${t.totalParameterCount} and ${t.totalDataCount}`));
    }
    const old = this.transactions.get(key);
    if (old !== undefined) {
      this.transactions.delete(old);
      this.transIncomplete(old, 'a new transaction reused its MID');
    }
    const meta: Transaction = { name, setup: t.setup, totalParameterCount: t.totalParameterCount, totalDataCount: t.totalDataCount, tsSec: at.tsSec, tsNsec: at.tsNsec, dir };
    let opened = this.transactions.open(key, meta, at.tsSec);
    if (opened.kind === 'limit') {
      const oldest = this.transactions.oldest();
      if (oldest !== undefined) {
        this.transactions.delete(oldest);
        this.transIncomplete(oldest, `more than ${MAX_TRANS} multi-part transactions in progress`);
      }
      opened = this.transactions.open(key, meta, at.tsSec);
      if (opened.kind === 'limit') return;
    }
    const asm = opened;
    this.transactions.addFrames(asm, at.frames);
    this.transactions.countPart(asm, at.tsSec);
    this.place(asm, 'parameters', t.parameters, 0, at.frame);
    this.place(asm, 'data', t.data, 0, at.frame);
  }

  /** Adds a secondary part; returns the joined transaction when every byte has come. */
  private secondary(key: string, t: TransSecondaryRequest, at: FrameInfo, extra: FieldNode[]): JoinedTransaction | undefined {
    const asm = this.transactions.get(key);
    if (asm === undefined) {
      this.ctx.packetFinding(SMB_FINDINGS.transSecondaryUnmatched.at(at.frame, 'Trans Secondary request for a transaction not in the capture'));
      return undefined;
    }
    const tr = asm.meta;
    // MS-CIFS 2.2.4.34.1: the totals MAY shrink in a secondary request, never grow.
    if (t.totalParameterCount > tr.totalParameterCount || t.totalDataCount > tr.totalDataCount) {
      this.ctx.packetFinding(SMB_FINDINGS.transInconsistentTotal.at(at.frame,
        `Trans Secondary totals ${t.totalParameterCount}/${t.totalDataCount} exceed the transaction's ${tr.totalParameterCount}/${tr.totalDataCount}`));
    } else {
      tr.totalParameterCount = t.totalParameterCount;
      tr.totalDataCount = t.totalDataCount;
    }
    this.transactions.addFrames(asm, at.frames);
    if (this.transactions.countPart(asm, at.tsSec) !== undefined) {
      this.transactions.delete(asm);
      this.transIncomplete(asm, `more than ${MAX_TRANS_PARTS} parts`);
      return undefined;
    }
    this.place(asm, 'parameters', t.parameters, t.parameterDisplacement, at.frame);
    this.place(asm, 'data', t.data, t.dataDisplacement, at.frame);
    if (asm.parts.held(PARAMETERS) < tr.totalParameterCount || asm.parts.held(DATA) < tr.totalDataCount) return undefined;
    this.transactions.delete(asm);
    const params = asm.parts.join(tr.totalParameterCount, PARAMETERS);
    const data = asm.parts.join(tr.totalDataCount, DATA);
    extra.push(f(SMB.trans_fragments, asm.frames.join(', ')), f(SMB.trans_reassembled_length, params.length + data.length));
    return { name: tr.name, setup: tr.setup, data, frames: asm.frames, dir: tr.dir };
  }

  /** Copies one part's bytes to their displacement, if they fit the totals. */
  private place(asm: TransAssembly, what: 'parameters' | 'data', bytes: Uint8Array, displacement: number, frame: number): void {
    if (bytes.length === 0) return;
    const total = what === 'data' ? asm.meta.totalDataCount : asm.meta.totalParameterCount;
    if (displacement + bytes.length > total) {
      this.ctx.packetFinding(SMB_FINDINGS.transBadDisplacement.at(frame,
        `${bytes.length} ${what} bytes at displacement ${displacement} pass the total ${total}: part dropped`));
      return;
    }
    // Within the 16-bit totals, the table's byte limits cannot refuse a part.
    const placed = this.transactions.placeAt(asm, displacement, bytes, what === 'data' ? DATA : PARAMETERS);
    if (placed.kind === 'placed' && placed.overlap) {
      this.ctx.packetFinding(SMB_FINDINGS.transOverlap.at(frame, `${what} bytes at displacement ${displacement} overlap an earlier part; the later bytes are kept`));
    }
  }

  private transIncomplete(asm: TransAssembly, why: string): void {
    const tr = asm.meta;
    const item = SMB_FINDINGS.transIncomplete.at(asm.frames[0] ?? 0,
      `multi-part transaction ${tr.name} in frames ${asm.frames.join(', ')} never completed (${why}): ${asm.parts.held(PARAMETERS)}/${tr.totalParameterCount} parameter and ${asm.parts.held(DATA)}/${tr.totalDataCount} data bytes`);
    this.ctx.standaloneFinding(item, 'smb', this.routeFor(tr.dir), tr.tsSec, tr.tsNsec);
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
      this.ctx.packetFinding(SMB_FINDINGS.fidLimit.at(this.ctx.packet?.frame.number ?? 0, `more than ${MAX_FIDS} open files or trees on one conversation: the oldest is forgotten`));
    }
    map.set(key, value);
  }

  private pipeData(pipe: Pipe, dir: 0 | 1, data: Uint8Array, at: { frames: number[]; tsSec: number; tsNsec: number }): void {
    if (data.length === 0) return;
    if (pipe.stream === undefined) {
      const consumer = this.consumers.find((c) => c.accepts(pipe.name, dir === 0 ? data : undefined));
      const conv = this.sroute.conv;
      pipe.stream = consumer === undefined ? null : consumer.open({
        client: conv.endpoint[0], server: conv.endpoint[1], transport: `${this.route.transport}/pipe`, pipe: pipe.name,
      }, this.ctx);
    }
    pipe.stream?.data(dir, data, at.frames, at.tsSec, at.tsNsec);
  }

  end(): void {
    for (const asm of this.transactions.expire(0, true)) this.transIncomplete(asm, 'end of the connection');
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

/** Whether a pending request is the primary of a transaction sent in several parts. */
function isMultipart(request: PendingRequest): boolean {
  const body = request.commands[0]?.body;
  return body?.kind === 'trans-req' && (body.trans.parameterCount < body.trans.totalParameterCount || body.trans.dataCount < body.trans.totalDataCount);
}
