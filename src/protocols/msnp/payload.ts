// Interprets a command's payload (pure): what kind of content it is and what a timeline or a
// detail tree needs from it. Used by the connection state (events) and the presentation (fields).
import {
  addressHandle, bodyHeaders, bodyText, DATACAST_IDS, emoticonShortcuts, EUF_GUIDS, header, parseImFormat, parseMime,
  parseP2pV1, parseP2pV2, parseRouted, parseSlp, summariseXml, type Header, type ImFormat, type MimeMessage, type P2p,
  type RoutedPayload, type Slp, type XmlSummary,
} from './mime.js';

export type PayloadKind =
  | 'chat'
  | 'typing'
  | 'invite'
  | 'p2p'
  | 'emoticon'
  | 'datacast'
  | 'email'
  | 'profile'
  | 'offline-message'
  | 'caps'
  | 'keepalive'
  | 'xml'
  | 'routed'
  | 'challenge'
  | 'other';

export interface PayloadInfo {
  readonly kind: PayloadKind;
  readonly mime?: MimeMessage;
  readonly text?: string;
  readonly format?: ImFormat;
  readonly typingUser?: string;
  readonly invite?: { command?: string; application?: string; cookie?: string; file?: string };
  readonly p2p?: P2p;
  readonly p2pError?: string;
  readonly slp?: Slp;
  readonly datacast?: { id: number; name: string };
  readonly emoticons?: string[];
  readonly xml?: XmlSummary;
  readonly routed?: RoutedPayload;
  readonly routedFrom?: string;
  readonly routedTo?: string[];
  readonly messageType?: string;
  /** Notification headers worth showing (mail counts, folders). */
  readonly notice?: Record<string, string>;
}

const XML_COMMANDS = new Set(['UUX', 'UBX', 'ADL', 'RML', 'FQY', 'NOT', 'GCF', 'IPG', 'UUN', 'UBN', 'UUM', 'UBM', 'PGD', 'PAG']);
const ROUTED_COMMANDS = new Set(['SDG', 'PUT', 'NFY', 'DEL', 'GET']);

export function interpretPayload(command: string, payload: Uint8Array): PayloadInfo {
  if (command === 'QRY') return { kind: 'challenge' };
  if (ROUTED_COMMANDS.has(command)) return routed(payload);
  if (command === 'MSG') return mimePayload(payload);
  if (XML_COMMANDS.has(command) || /^\d{3}$/.test(command)) return { kind: 'xml', xml: summariseXml(command, payload) };
  return { kind: 'other' };
}

function pick(headers: readonly Header[], names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of names) {
    const v = header(headers, n);
    if (v !== undefined) out[n] = v;
  }
  return out;
}

function mimePayload(payload: Uint8Array): PayloadInfo {
  const mime = parseMime(payload);
  const ct = mime.contentType;
  if (ct === 'text/plain') {
    const fmt = header(mime.headers, 'X-MMS-IM-Format');
    return { kind: 'chat', mime, text: bodyText(mime.body, mime.charset), format: fmt !== undefined ? parseImFormat(fmt) : undefined };
  }
  if (ct === 'text/x-msmsgscontrol') return { kind: 'typing', mime, typingUser: header(mime.headers, 'TypingUser') };
  if (ct === 'text/x-msmsgsinvite') {
    const h = bodyHeaders(mime.body);
    return {
      kind: 'invite',
      mime,
      invite: { command: header(h, 'Invitation-Command'), application: header(h, 'Application-Name'), cookie: header(h, 'Invitation-Cookie'), file: header(h, 'Application-File') },
    };
  }
  if (ct === 'application/x-msnmsgrp2p') {
    const dest = header(mime.headers, 'P2P-Dest') ?? '';
    const src = header(mime.headers, 'P2P-Src') ?? '';
    const v2 = dest.includes(';{') || src.includes(';{');
    const parsed = v2 ? parseP2pV2(mime.body) : parseP2pV1(mime.body);
    if (typeof parsed === 'string') return { kind: 'p2p', mime, p2pError: parsed };
    return { kind: 'p2p', mime, p2p: parsed, slp: parseSlp(parsed.data) };
  }
  if (ct === 'text/x-mms-emoticon' || ct === 'text/x-mms-animemoticon') return { kind: 'emoticon', mime, emoticons: emoticonShortcuts(mime.body) };
  if (ct === 'text/x-msnmsgr-datacast') {
    const id = Number(header(bodyHeaders(mime.body), 'ID') ?? NaN);
    return { kind: 'datacast', mime, datacast: Number.isInteger(id) ? { id, name: DATACAST_IDS[id] ?? `datacast ${id}` } : undefined };
  }
  if (/^text\/x-msmsgs(initialemail|email|activemail|initialmdata)notification$/.test(ct)) {
    const h = bodyHeaders(mime.body);
    return { kind: 'email', mime, notice: pick(h, ['Inbox-Unread', 'Folders-Unread', 'From', 'From-Addr', 'Subject', 'Src-Folder', 'Dest-Folder', 'Message-Delta', 'Mail-Data']) };
  }
  if (ct === 'text/x-msmsgsoimnotification') return { kind: 'offline-message', mime, notice: pick(bodyHeaders(mime.body), ['Mail-Data']) };
  if (ct === 'text/x-msmsgsprofile') return { kind: 'profile', mime, notice: pick(mime.headers, ['LoginTime', 'lang_preference', 'country', 'Kid', 'MSPAuth', 'ClientIP', 'ClientPort']) };
  if (ct === 'text/x-clientcaps') return { kind: 'caps', mime, notice: pick(bodyHeaders(mime.body), ['Client-Name', 'Chat-Logging']) };
  if (ct === 'text/x-keepalive') return { kind: 'keepalive', mime };
  return { kind: 'other', mime };
}

function routed(payload: Uint8Array): PayloadInfo {
  const r = parseRouted(payload);
  const to = header(r.routing, 'To');
  const from = header(r.routing, 'From');
  const messageType = header(r.messaging, 'Message-Type');
  const info: PayloadInfo = {
    kind: 'routed',
    routed: r,
    routedFrom: from !== undefined ? addressHandle(from) : undefined,
    routedTo: to !== undefined ? to.split(',').map(addressHandle).filter((x) => x !== '') : undefined,
    messageType,
  };
  if (messageType !== undefined && /^text$/i.test(messageType)) {
    const ct = header(r.messaging, 'Content-Type');
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(ct ?? '')?.[1]?.toLowerCase();
    return { ...info, text: bodyText(r.body, charset) };
  }
  return info;
}

/** The EUF-GUID's meaning, for the P2P invitation summary. */
export function eufName(guid: string | undefined): string | undefined {
  return guid === undefined ? undefined : EUF_GUIDS[guid.toUpperCase()] ?? guid;
}
