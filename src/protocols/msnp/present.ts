// Presentation: the `msnp` layer of one command (Info text, lazy field tree).
import { f, type FieldDef, type FieldNode } from '../../model/fields.js';
import { NEEDS_TREE, type Layer, type PeekedValue } from '../../model/packet.js';
import { commandSpec, errorName, mayHaveParam, paramNames, STATUS_NAMES, type Side } from './commands.js';
import type { RawCommand } from './parse.js';
import { MSNP, type ParamKey } from './fields.js';
import { header, urlDecode, type Header } from './mime.js';
import { eufName, type PayloadInfo } from './payload.js';

export interface CommandView {
  readonly side: Side;
  readonly cmd: RawCommand;
  /** Line and payload bytes (a copy owned by the layer). */
  readonly bytes: Uint8Array;
  readonly payload?: PayloadInfo;
  readonly version: number | undefined;
  readonly versionText: string;
  readonly role: string;
  readonly requestFrame?: number;
  readonly challenge?: { expected?: string; ok?: boolean };
  /** Payload bytes missing (gap or end of capture). */
  readonly missing?: number;
}

const FRIENDLY_KEYS = new Set(['friendly', 'caller_friendly', 'group_name']);
const MAX_INFO = 120;

export function commandInfo(cmd: RawCommand): string {
  let text = cmd.line.length > MAX_INFO ? `${cmd.line.slice(0, MAX_INFO)}…` : cmd.line;
  if (/^\d{3}$/.test(cmd.name)) text += ` (${errorName(Number(cmd.name))})`;
  return text;
}

/** One command's layer: Info made now, the tree when asked; the command, its request link and its operation parameter without the tree. */
class CommandLayer implements Layer {
  readonly name = 'msnp';
  readonly column = 'MSNP';
  readonly offset = 0;
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly info: string;

  constructor(private readonly v: CommandView) {
    this.bytes = v.bytes;
    this.length = v.bytes.length;
    this.info = commandInfo(v.cmd) + (v.missing !== undefined && v.missing > 0 ? ` [${v.missing} payload bytes missing]` : '');
  }

  tree(): FieldNode[] {
    return commandTree(this.v);
  }

  fieldValue(def: FieldDef): PeekedValue {
    const v = this.v;
    // commandTree's order: the line, the command, the parameters, then the request link.
    if (def === MSNP.command) return v.cmd.name;
    if (def === MSNP.operation) return paramValue(v, 'operation');
    if (def === MSNP.request_in) return v.requestFrame;
    return NEEDS_TREE;
  }
}

export function commandLayer(v: CommandView): Layer {
  return new CommandLayer(v);
}

/** The first parameter named `key` as a string field's node holds it (not for names decoded or shown otherwise: FRIENDLY_KEYS, status). */
function paramValue(v: CommandView, key: string): string | undefined {
  if (!mayHaveParam(v.cmd.name, key)) return undefined;
  const i = paramNames(v.cmd.name, v.side, v.cmd.params, v.version).indexOf(key);
  return i < 0 ? undefined : v.cmd.params[i];
}

export function continuationLayer(bytes: Uint8Array, info: string): Layer {
  return {
    name: 'msnp',
    bytes,
    offset: 0,
    length: bytes.length,
    column: 'MSNP',
    info,
    tree: () => [f(MSNP.continuation, info, 0, bytes.length)],
  };
}

function paramOffsets(line: string, params: readonly string[], nameLength: number): number[] {
  const out: number[] = [];
  let pos = nameLength;
  for (const p of params) {
    const idx = line.indexOf(p, pos);
    const at = idx < 0 ? pos : idx;
    out.push(Buffer.byteLength(line.slice(0, at), 'utf8'));
    pos = at + p.length;
  }
  return out;
}

function commandTree(v: CommandView): FieldNode[] {
  const { cmd } = v;
  const nodes: FieldNode[] = [];
  const spec = commandSpec(cmd.name);
  const isError = /^\d{3}$/.test(cmd.name);
  nodes.push(f(MSNP.line, cmd.line, 0, cmd.lineLength));
  nodes.push(f(MSNP.command, cmd.name, 0, 3, undefined, `Command: ${cmd.name}${spec !== undefined ? ` (${spec.title})` : isError ? ' (error)' : ' (unknown)'}`));
  if (isError) nodes.push(f(MSNP.error, Number(cmd.name), 0, 3));
  const names = paramNames(cmd.name, v.side, cmd.params, v.version);
  const offsets = paramOffsets(cmd.line, cmd.params, cmd.name.length);
  cmd.params.forEach((p, i) => {
    const key = (names[i] ?? 'param') as ParamKey;
    const def: FieldDef = MSNP[key] ?? MSNP.param;
    const len = Buffer.byteLength(p, 'utf8');
    if (def.type === 'uint' && /^\d{1,15}$/.test(p)) nodes.push(f(def, Number(p), offsets[i], len));
    else if (FRIENDLY_KEYS.has(key)) {
      const decoded = urlDecode(p);
      nodes.push(f(def, decoded, offsets[i], len, undefined, decoded !== p ? `${def.label}: ${decoded} (${p})` : undefined));
    } else if (key === 'status' && STATUS_NAMES[p] !== undefined) nodes.push(f(def, p, offsets[i], len, undefined, `${def.label}: ${p} (${STATUS_NAMES[p]})`));
    else nodes.push(f(def, def.type === 'uint' ? p : p, offsets[i], len));
  });
  nodes.push(f(MSNP.direction, v.side === 'c' ? 'client → server' : 'server → client'));
  if (v.role !== '') nodes.push(f(MSNP.role, v.role));
  nodes.push(f(MSNP.version, v.versionText));
  if (v.requestFrame !== undefined) nodes.push(f(MSNP.request_in, v.requestFrame));
  if (v.challenge?.expected !== undefined) nodes.push(f(MSNP.challenge_expected, v.challenge.expected));
  if (v.challenge?.ok !== undefined) nodes.push(f(MSNP.challenge_ok, v.challenge.ok));
  if (cmd.payloadLength > 0 || cmd.payloadIndex >= 0) {
    const start = cmd.lineLength;
    const payload = v.bytes.subarray(start);
    nodes.push(f(MSNP.payload, payload, start, payload.length, payloadNodes(v, start)));
  }
  return nodes;
}

function headerNodes(headers: readonly Header[], base: number): FieldNode[] {
  return headers.map((h) => f(MSNP['mime.header'], `${h.name}: ${h.value}`, base + h.offset, h.length));
}

function payloadNodes(v: CommandView, base: number): FieldNode[] {
  const p = v.payload;
  if (p === undefined) return [];
  const out: FieldNode[] = [];
  if (p.mime !== undefined) {
    const m = p.mime;
    const children = headerNodes(m.headers, base);
    children.push(f(MSNP['mime.content_type'], m.contentType));
    out.push(f(MSNP.mime, null, base, v.bytes.length - base, children));
  }
  if (p.text !== undefined) out.push(f(MSNP.text, p.text));
  if (p.format !== undefined) {
    if (p.format.font !== undefined) out.push(f(MSNP['format.font'], p.format.font));
    if (p.format.effects !== undefined) out.push(f(MSNP['format.effects'], p.format.effects));
    if (p.format.color !== undefined) out.push(f(MSNP['format.color'], p.format.color));
    if (p.format.charset !== undefined) out.push(f(MSNP['format.charset'], p.format.charset));
  }
  if (p.typingUser !== undefined) out.push(f(MSNP.typing_user, p.typingUser));
  if (p.invite !== undefined) {
    if (p.invite.command !== undefined) out.push(f(MSNP['invite.command'], p.invite.command));
    if (p.invite.application !== undefined) out.push(f(MSNP['invite.application'], p.invite.application));
    if (p.invite.cookie !== undefined) out.push(f(MSNP['invite.cookie'], p.invite.cookie));
  }
  if (p.datacast !== undefined) out.push(f(MSNP['datacast.id'], p.datacast.id, undefined, undefined, undefined, `Datacast ID: ${p.datacast.id} (${p.datacast.name})`));
  for (const e of p.emoticons ?? []) out.push(f(MSNP.emoticon, e));
  if (p.p2p !== undefined) {
    const q = p.p2p;
    const bodyBase = base + (p.mime?.bodyOffset ?? 0);
    const children: FieldNode[] = [f(MSNP['p2p.version'], q.version)];
    if (q.version === 1) {
      children.push(
        f(MSNP['p2p.session_id'], q.sessionId, bodyBase, 4),
        f(MSNP['p2p.identifier'], q.identifier, bodyBase + 4, 4),
        f(MSNP['p2p.offset'], Number(q.offset), bodyBase + 8, 8),
        f(MSNP['p2p.total'], Number(q.total), bodyBase + 16, 8),
        f(MSNP['p2p.length'], q.length, bodyBase + 24, 4),
        f(MSNP['p2p.flags'], q.flags, bodyBase + 28, 4),
        f(MSNP['p2p.ack_id'], q.ackId, bodyBase + 32, 4),
      );
    } else {
      children.push(f(MSNP['p2p.length'], q.messageSize, bodyBase + 2, 2));
      if (q.sessionId !== undefined) children.push(f(MSNP['p2p.session_id'], q.sessionId));
    }
    if (q.footer !== undefined) children.push(f(MSNP['p2p.footer'], q.footer));
    out.push(f(MSNP.p2p, null, bodyBase, q.dataOffset, children));
  }
  if (p.slp !== undefined) {
    const s = p.slp;
    const children: FieldNode[] = [];
    const callId = header(s.headers, 'Call-ID');
    const euf = header(s.bodyHeaders, 'EUF-GUID');
    if (callId !== undefined) children.push(f(MSNP['slp.call_id'], callId));
    if (euf !== undefined) children.push(f(MSNP['slp.euf_guid'], euf, undefined, undefined, undefined, `EUF-GUID: ${euf} (${eufName(euf)})`));
    out.push(f(MSNP.slp, s.startLine, undefined, undefined, children));
  }
  if (p.xml !== undefined) {
    out.push(f(MSNP.xml_summary, p.xml.summary));
    if (p.xml.psm !== undefined) out.push(f(MSNP.psm, p.xml.psm));
    if (p.xml.media !== undefined) out.push(f(MSNP.media, p.xml.media));
  }
  if (p.routed !== undefined) {
    out.push(...headerNodes([...p.routed.routing, ...p.routed.reliability, ...p.routed.messaging], base));
    if (p.routedTo !== undefined) out.push(f(MSNP['routing.to'], p.routedTo.join(', ')));
    if (p.routedFrom !== undefined) out.push(f(MSNP['routing.from'], p.routedFrom));
    if (p.messageType !== undefined) out.push(f(MSNP['messaging.type'], p.messageType));
  }
  return out;
}
