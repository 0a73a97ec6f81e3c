// SMB2/3 on one connection: requests matched with their responses by MessageId (async
// interim responses kept waiting for the final one, MS-SMB2 3.3.4.2), tree ids mapped to share
// paths, and named pipes opened on IPC$ followed by FileId so that WRITE/READ data and
// FSCTL_PIPE_TRANSCEIVE buffers reach the pipe's consumer (DCE/RPC) as two byte streams.
import { type EngineContext } from '../../engine/context.js';
import type { PipeConsumerFactory, PipeStream, SessionMessage, SessionPayloadHandler, SessionRoute } from '../../engine/seams.js';
import { SMB2_FINDINGS } from './findings.js';
import { bodyTree, headerTree, transformTree } from './fields.js';
import {
  CMD, COMMANDS, FLAG_RELATED, FSCTL_PIPE_TRANSCEIVE, isResponse, ntlmsspType, parseBody, parseHeader, parseTransform, RELATED_FILE_ID,
  splitCompound, STATUS_PENDING, type Body, type Smb2Header,
} from './parse.js';

const MAX_PENDING = 4096;
const MAX_FILES = 4096;

interface Pipe {
  readonly name: string;
  readonly isPipe: boolean;
  fileId: string | undefined;
  /** The consumer's stream; null when no consumer speaks on this pipe. */
  stream: PipeStream | null | undefined;
}

interface Request {
  readonly command: number;
  readonly treeId: number | undefined;
  readonly path?: string;
  readonly pipe?: Pipe;
}

/** NT status names for the summary (MS-ERREF 2.3.1), the ones pipe traffic shows. */
const STATUS_NAMES: Record<number, string> = {
  0x00000000: 'STATUS_SUCCESS', 0x00000103: 'STATUS_PENDING', 0x80000005: 'STATUS_BUFFER_OVERFLOW', 0xc0000016: 'STATUS_MORE_PROCESSING_REQUIRED',
  0xc0000022: 'STATUS_ACCESS_DENIED', 0xc0000034: 'STATUS_OBJECT_NAME_NOT_FOUND', 0xc000006d: 'STATUS_LOGON_FAILURE', 0xc00000b0: 'STATUS_PIPE_DISCONNECTED',
  0xc00000b1: 'STATUS_PIPE_CLOSING', 0xc00000ac: 'STATUS_PIPE_NOT_AVAILABLE', 0xc00000ae: 'STATUS_PIPE_BUSY', 0xc00000cc: 'STATUS_BAD_NETWORK_NAME',
  0xc0000120: 'STATUS_CANCELLED', 0xc0000011: 'STATUS_END_OF_FILE', 0xc000014b: 'STATUS_PIPE_BROKEN', 0xc0000010: 'STATUS_INVALID_DEVICE_REQUEST',
  0xc000000d: 'STATUS_INVALID_PARAMETER', 0xc00000bb: 'STATUS_NOT_SUPPORTED', 0xc0000203: 'STATUS_USER_SESSION_DELETED',
};

export function ntStatusName(status: number): string {
  return STATUS_NAMES[status] ?? `0x${status.toString(16).padStart(8, '0')}`;
}

export class Smb2Session implements SessionPayloadHandler {
  private readonly pending = new Map<bigint, Request>();
  private readonly trees = new Map<number, string>();
  private readonly files = new Map<string, Pipe>();
  private readonly transport: string;

  constructor(private readonly route: SessionRoute, private readonly ctx: EngineContext, private readonly consumers: readonly PipeConsumerFactory[]) {
    this.transport = `${route.transport}/smb2`;
  }

  message(msg: SessionMessage): void {
    const packet = this.ctx.packet;
    const frame = packet?.frame.number ?? msg.frames[msg.frames.length - 1] ?? 0;
    const b0 = msg.bytes[0];
    if (b0 === 0xfd || b0 === 0xfc) {
      const t = parseTransform(msg.bytes);
      if (typeof t === 'string') {
        this.ctx.packetFinding(SMB2_FINDINGS.malformed.at(frame, t, { clause: 'MS-SMB2 2.2.41' }));
        return;
      }
      const bytes = msg.bytes;
      packet?.layers.push({
        name: 'smb2', bytes, offset: 0, length: bytes.length, column: 'SMB2',
        info: t.kind === 'encrypted' ? `Encrypted SMB3${t.sessionId !== undefined ? ` (session 0x${t.sessionId.toString(16)})` : ''}, ${t.length} bytes` : `Compressed SMB3, ${t.originalSize} bytes uncompressed`,
        tree: () => transformTree(t),
      });
      return;
    }
    const { parts, error } = splitCompound(msg.bytes);
    if (error !== undefined) this.ctx.packetFinding(SMB2_FINDINGS.compound.at(frame, error));
    let chainPipe: Pipe | undefined;
    for (const part of parts) chainPipe = this.command(part, msg, frame, chainPipe);
  }

  /** One command of a (possibly compounded) message; returns the file it opened or used, for related commands. */
  private command(d: Uint8Array, msg: SessionMessage, frame: number, chainPipe: Pipe | undefined): Pipe | undefined {
    const ctx = this.ctx;
    const h = parseHeader(d);
    if (typeof h === 'string') {
      ctx.packetFinding(SMB2_FINDINGS.malformed.at(frame, h, { clause: 'MS-SMB2 2.2.1' }));
      return chainPipe;
    }
    if (h.structureSize !== 64) ctx.packetFinding(SMB2_FINDINGS.headerSize.at(frame, `header StructureSize ${h.structureSize}, expected 64`));
    const resp = isResponse(h);
    const body = parseBody(d, h);
    // The SMB2 layer goes below whatever the pipe's consumer adds for the same bytes.
    const layers = ctx.packet?.layers;
    const index = layers?.length ?? 0;
    layers?.push({ name: 'smb2', bytes: d, offset: 0, length: d.length, column: 'SMB2', tree: () => headerTree(h) });
    let used = chainPipe;
    let info = `${COMMANDS[h.command] ?? `Command 0x${h.command.toString(16)}`} ${resp ? 'Response' : 'Request'}`;
    if (resp && h.status !== 0) info += `, ${h.status === STATUS_PENDING ? 'STATUS_PENDING' : `Error: ${ntStatusName(h.status)}`}`;
    let pipeName: string | undefined;
    let ntlm: number | undefined;
    if (typeof body === 'string') {
      ctx.packetFinding(SMB2_FINDINGS.malformed.at(frame, body, { clause: 'MS-SMB2 2.2' }));
    } else if (!resp) {
      const req = this.request(h, body, chainPipe, msg, frame);
      used = req.pipe ?? chainPipe;
      pipeName = req.pipe?.name;
      if (body.k === 'create-req') info += ` File: ${body.name}`;
      if (body.k === 'tree-req') info += ` Tree: ${body.path}`;
      if (body.k === 'session-req') ntlm = ntlmsspType(body.security);
      if (body.k === 'ioctl-req' && body.ctlCode === FSCTL_PIPE_TRANSCEIVE) info += ' FSCTL_PIPE_TRANSCEIVE';
    } else {
      const req = this.response(h, body, msg);
      used = req?.pipe ?? chainPipe;
      pipeName = req?.pipe?.name;
      if (body.k === 'session-resp') ntlm = ntlmsspType(body.security);
      if (body.k === 'negotiate-resp') info += `, Dialect: 0x${body.dialect.toString(16).padStart(4, '0')}`;
    }
    if (pipeName !== undefined && !info.includes('File:')) info += ` File: ${pipeName}`;
    if (ntlm !== undefined) info += `, ${ntlm === 1 ? 'NTLMSSP_NEGOTIATE' : ntlm === 2 ? 'NTLMSSP_CHALLENGE' : ntlm === 3 ? 'NTLMSSP_AUTH' : `NTLMSSP type ${ntlm}`}`;
    const finalInfo = info;
    if (layers !== undefined) {
      layers[index] = {
        name: 'smb2', bytes: d, offset: 0, length: d.length, column: 'SMB2', info: finalInfo,
        tree: () => [...headerTree(h), ...(typeof body === 'string' ? [] : bodyTree(body, pipeName, ntlm))],
      };
    }
    return used;
  }

  private fileFor(fileId: string, chainPipe: Pipe | undefined, related: boolean): Pipe | undefined {
    // In a related compound chain, FileId all-ones means "the file of the previous command" (MS-SMB2 3.2.4.1.4).
    if (fileId === RELATED_FILE_ID && related) return chainPipe;
    return this.files.get(fileId);
  }

  private request(h: Smb2Header, body: Body, chainPipe: Pipe | undefined, msg: SessionMessage, frame: number): Request {
    const related = (h.flags & FLAG_RELATED) !== 0;
    let req: Request = { command: h.command, treeId: h.treeId };
    switch (body.k) {
      case 'tree-req':
        req = { ...req, path: body.path };
        break;
      case 'create-req': {
        const tree = h.treeId !== undefined ? this.trees.get(h.treeId) : undefined;
        // A CREATE on IPC$ opens a named pipe; with the tree connect unseen, a pipe-like name is taken as one.
        const isPipe = tree !== undefined ? /\\ipc\$$/i.test(tree) : /^(\\?pipe\\)?[a-z_]+$/i.test(body.name);
        const name = body.name.replace(/^\\+/, '').replace(/^pipe\\/i, '').toLowerCase();
        req = { ...req, pipe: { name, isPipe, fileId: undefined, stream: undefined } };
        break;
      }
      case 'write-req': {
        const pipe = this.fileFor(body.fileId, chainPipe, related);
        if (pipe !== undefined) this.pipeData(pipe, 0, body.data, msg);
        else if (body.fileId !== RELATED_FILE_ID) this.unknownFile(body.fileId, frame);
        req = { ...req, pipe };
        break;
      }
      case 'read-req':
      case 'close-req': {
        const pipe = this.fileFor(body.fileId, chainPipe, related);
        req = { ...req, pipe };
        break;
      }
      case 'ioctl-req': {
        const pipe = this.fileFor(body.fileId, chainPipe, related);
        if (pipe !== undefined && body.ctlCode === FSCTL_PIPE_TRANSCEIVE) this.pipeData(pipe, 0, body.input, msg);
        req = { ...req, pipe };
        break;
      }
      default:
        break;
    }
    if (h.command !== 12) {
      // CANCEL (12) reuses the MessageId of the request it cancels: it must not replace it.
      if (this.pending.size >= MAX_PENDING) {
        const oldest = this.pending.keys().next().value as bigint;
        this.pending.delete(oldest);
        this.ctx.packetFinding(SMB2_FINDINGS.pendingLimit.at(frame, `more than ${MAX_PENDING} SMB2 requests without a response: the oldest is forgotten`));
      }
      this.pending.set(h.messageId, req);
    }
    return req;
  }

  private response(h: Smb2Header, body: Body, msg: SessionMessage): Request | undefined {
    const req = this.pending.get(h.messageId);
    // An interim STATUS_PENDING response (async) keeps the request waiting for the final one.
    if (h.status === STATUS_PENDING && (h.flags & 2) !== 0) return req;
    this.pending.delete(h.messageId);
    if (req === undefined) return undefined;
    switch (body.k) {
      case 'tree-resp':
        if (h.treeId !== undefined && req.path !== undefined) this.trees.set(h.treeId, req.path);
        break;
      case 'create-resp':
        if (req.pipe !== undefined && h.status === 0) {
          req.pipe.fileId = body.fileId;
          if (this.files.size >= MAX_FILES) this.files.delete(this.files.keys().next().value as string);
          this.files.set(body.fileId, req.pipe);
        }
        break;
      case 'read-resp':
        if (req.pipe !== undefined) this.pipeData(req.pipe, 1, body.data, msg);
        break;
      case 'ioctl-resp':
        if (req.pipe !== undefined && body.ctlCode === FSCTL_PIPE_TRANSCEIVE) this.pipeData(req.pipe, 1, body.output, msg);
        break;
      default:
        break;
    }
    if (req.command === CMD.CLOSE && req.pipe !== undefined) {
      req.pipe.stream?.end();
      if (req.pipe.fileId !== undefined) this.files.delete(req.pipe.fileId);
    }
    if (req.command === CMD.TREE_DISCONNECT && req.treeId !== undefined) this.trees.delete(req.treeId);
    return req;
  }

  private unknownFile(fileId: string, frame: number): void {
    this.ctx.packetFinding(SMB2_FINDINGS.unknownFile.at(frame, `WRITE to FileId ${fileId} whose CREATE is not in the capture: data not followed`));
  }

  private pipeData(pipe: Pipe, dir: 0 | 1, data: Uint8Array, msg: SessionMessage): void {
    if (data.length === 0 || !pipe.isPipe) return;
    if (pipe.stream === undefined) {
      const consumer = this.consumers.find((c) => c.accepts(pipe.name, dir === 0 ? data : undefined));
      const conv = this.route.conv;
      pipe.stream = consumer === undefined ? null : consumer.open({
        client: conv.endpoint[0], server: conv.endpoint[1], transport: `${this.transport}/pipe`, pipe: pipe.name,
      }, this.ctx);
    }
    pipe.stream?.data(dir, data, msg.frames, msg.tsSec, msg.tsNsec);
  }

  end(): void {
    const ended = new Set<Pipe>();
    for (const pipe of this.files.values()) {
      if (ended.has(pipe)) continue;
      ended.add(pipe);
      pipe.stream?.end();
    }
    for (const req of this.pending.values()) if (req.pipe !== undefined && !ended.has(req.pipe)) {
      ended.add(req.pipe);
      req.pipe.stream?.end();
    }
    this.files.clear();
    this.pending.clear();
  }
}
