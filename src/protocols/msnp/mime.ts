// Payload parsers (pure): MSG bodies are MIME (draft §8.8: "MIME-Header\r\nMIME-Header\r\n\r\n
// MessageData"); the P2P binary header and MSNSLP inside application/x-msnmsgrp2p; XML payload
// summaries (UUX/UBX, ADL/RML, NOT, GCF); MSNP21 routing/reliability/messaging header blocks.

const utf8 = new TextDecoder('utf-8', { fatal: false });
const latin1 = new TextDecoder('latin1');

export interface Header {
  readonly name: string;
  readonly value: string;
  /** Offset of the header line in the payload. */
  readonly offset: number;
  readonly length: number;
}

export interface MimeMessage {
  readonly headers: Header[];
  /** Offset of the body in the payload. */
  readonly bodyOffset: number;
  readonly body: Uint8Array;
  /** Content-Type without parameters, lower case ('' when absent). */
  readonly contentType: string;
  readonly charset: string | undefined;
  /** The header block had no blank-line terminator. */
  readonly unterminated: boolean;
}

export function header(headers: readonly Header[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const h of headers) if (h.name.toLowerCase() === lower) return h.value;
  return undefined;
}

/** Parses header lines from `start` up to the blank line; bounded by the payload. */
export function parseHeaderBlock(payload: Uint8Array, start: number): { headers: Header[]; end: number; terminated: boolean } {
  const headers: Header[] = [];
  let o = start;
  while (o < payload.length && headers.length < 256) {
    let lf = payload.indexOf(0x0a, o);
    if (lf < 0) lf = payload.length;
    const lineEnd = lf > o && payload[lf - 1] === 0x0d ? lf - 1 : lf;
    if (lineEnd === o) return { headers, end: Math.min(payload.length, lf + 1), terminated: true };
    const line = utf8.decode(payload.subarray(o, lineEnd));
    const colon = line.indexOf(':');
    if (colon > 0) headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim(), offset: o, length: lineEnd - o });
    else if (headers.length > 0 && /^[ \t]/.test(line)) {
      // RFC 822 folding: continue the previous header.
      const prev = headers.pop()!;
      headers.push({ ...prev, value: `${prev.value} ${line.trim()}`, length: lineEnd - prev.offset });
    } else return { headers, end: o, terminated: false };
    o = lf + 1;
  }
  return { headers, end: Math.min(o, payload.length), terminated: false };
}

export function parseMime(payload: Uint8Array): MimeMessage {
  const block = parseHeaderBlock(payload, 0);
  const ct = header(block.headers, 'Content-Type') ?? '';
  const [type, ...params] = ct.split(';');
  let charset: string | undefined;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(p);
    if (m) charset = m[1]!.toLowerCase();
  }
  return {
    headers: block.headers,
    bodyOffset: block.end,
    body: payload.subarray(block.end),
    contentType: (type ?? '').trim().toLowerCase(),
    charset,
    unterminated: !block.terminated,
  };
}

/** Body text: UTF-8 (draft §8.8: charset=UTF-8; MSNP clients send UTF-8 throughout). */
export function bodyText(body: Uint8Array, charset: string | undefined): string {
  if (charset !== undefined && /^(iso-8859-1|latin1|windows-1252)$/.test(charset)) return latin1.decode(body);
  return utf8.decode(body);
}

export interface ImFormat {
  readonly font?: string;
  readonly effects?: string;
  readonly color?: string;
  readonly charset?: string;
  readonly pitch?: string;
  readonly rtl?: string;
}

/** X-MMS-IM-Format: `FN=Arial; EF=I; CO=ff0000; CS=0; PF=22` (values URL-encoded). */
export function parseImFormat(value: string): ImFormat {
  // Keys come from the wire: no prototype, so `__proto__` or `constructor` are plain keys.
  const out = Object.create(null) as Record<string, string>;
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    out[part.slice(0, eq).trim().toUpperCase()] = urlDecode(part.slice(eq + 1).trim());
  }
  return { font: out.FN, effects: out.EF, color: out.CO, charset: out.CS, pitch: out.PF, rtl: out.RL };
}

/** URL decoding of names and parameters (draft §5.2, §5.5); invalid escapes are kept as they are. */
export function urlDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x25 && i + 2 < text.length && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch < 0x80) bytes.push(ch);
    else for (const b of Buffer.from(text[i]!, 'utf8')) bytes.push(b);
  }
  return utf8.decode(Uint8Array.from(bytes));
}

// ---- P2P (application/x-msnmsgrp2p) ----

export interface P2pV1 {
  readonly version: 1;
  readonly sessionId: number;
  readonly identifier: number;
  readonly offset: bigint;
  readonly total: bigint;
  readonly length: number;
  readonly flags: number;
  readonly ackId: number;
  readonly dataOffset: number;
  readonly data: Uint8Array;
  readonly footer: number | undefined;
}

export interface P2pV2 {
  readonly version: 2;
  readonly headerLength: number;
  readonly opcode: number;
  readonly messageSize: number;
  readonly ackSeq: number;
  readonly sessionId: number | undefined;
  readonly dataOffset: number;
  readonly data: Uint8Array;
  readonly footer: number | undefined;
}

export type P2p = P2pV1 | P2pV2;

/** The 48-byte little-endian P2P v1 header, data and 4-byte big-endian footer. */
export function parseP2pV1(body: Uint8Array): P2pV1 | string {
  if (body.length < 48) return `P2P header needs 48 bytes, ${body.length} present`;
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const length = v.getUint32(24, true);
  const avail = body.length - 48;
  const dataLen = Math.min(length, avail);
  const footer = body.length >= 48 + length + 4 ? v.getUint32(48 + length, false) : undefined;
  return {
    version: 1,
    sessionId: v.getUint32(0, true),
    identifier: v.getUint32(4, true),
    offset: v.getBigUint64(8, true),
    total: v.getBigUint64(16, true),
    length,
    flags: v.getUint32(28, true),
    ackId: v.getUint32(32, true),
    dataOffset: 48,
    data: body.subarray(48, 48 + dataLen),
    footer,
  };
}

/** P2P v2 (WLM 2009+, for endpoints addressed as handle;{guid}): TLP header and data header. */
export function parseP2pV2(body: Uint8Array): P2pV2 | string {
  if (body.length < 8) return `P2Pv2 header needs at least 8 bytes, ${body.length} present`;
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const headerLength = body[0]!;
  if (headerLength < 8 || headerLength > body.length) return `P2Pv2 header length ${headerLength} is invalid`;
  const opcode = body[1]!;
  const messageSize = v.getUint16(2, false);
  const ackSeq = v.getUint32(4, false);
  let o = headerLength;
  let sessionId: number | undefined;
  if (messageSize > 0 && o + 8 <= body.length) {
    const dataHeaderLength = body[o]!;
    if (dataHeaderLength >= 8 && o + dataHeaderLength <= body.length) {
      sessionId = v.getUint32(o + 4, false);
      o += dataHeaderLength;
    }
  }
  const end = Math.min(body.length, headerLength + messageSize);
  const footer = body.length >= end + 4 ? v.getUint32(end, false) : undefined;
  return { version: 2, headerLength, opcode, messageSize, ackSeq, sessionId, dataOffset: o, data: body.subarray(Math.min(o, end), end), footer };
}

export interface Slp {
  /** `INVITE MSNMSGR:bob@example.com MSNSLP/1.0`, `MSNSLP/1.0 200 OK`, … */
  readonly startLine: string;
  readonly method: string;
  readonly status: number | undefined;
  readonly headers: Header[];
  readonly bodyHeaders: Header[];
}

/** MSNSLP message (SIP-like) at the start of P2P data, or undefined. */
export function parseSlp(data: Uint8Array): Slp | undefined {
  const start = latin1.decode(data.subarray(0, Math.min(data.length, 16)));
  if (!/^(INVITE|BYE|ACK|MSNSLP\/1\.0) /.test(start)) return undefined;
  const lf = data.indexOf(0x0a);
  if (lf < 0) return undefined;
  const startLine = utf8.decode(data.subarray(0, lf)).replace(/\r$/, '');
  const block = parseHeaderBlock(data, lf + 1);
  const body = parseHeaderBlock(data, block.end);
  const m = /^MSNSLP\/1\.0 (\d{3})/.exec(startLine);
  return {
    startLine,
    method: m ? 'response' : startLine.split(' ')[0]!,
    status: m ? Number(m[1]) : undefined,
    headers: block.headers,
    bodyHeaders: body.headers.filter((h) => h.name.length > 0 && h.value.length < 4096),
  };
}

export const EUF_GUIDS: Readonly<Record<string, string>> = {
  '{5D3E02AB-6190-11D3-BBBB-00C04F795683}': 'file transfer',
  '{A4268EEC-FEC5-49E5-95C3-F126696BDBF6}': 'MSN object (display picture / emoticon)',
  '{4BD96FC0-AB17-4425-A14A-439185962DC8}': 'webcam (push)',
  '{1C9AA97E-9C05-4583-A3BD-908A196F1E92}': 'webcam (pull)',
  '{6A13AF9C-5308-4F35-923A-67E8DDA40C2F}': 'activity',
};

// ---- other MSG bodies ----

/** Body of text/x-msmsgsinvite, text/x-msnmsgr-datacast …: `Name: value` lines. */
export function bodyHeaders(body: Uint8Array): Header[] {
  return parseHeaderBlock(body, 0).headers;
}

export const DATACAST_IDS: Readonly<Record<number, string>> = { 1: 'nudge', 2: 'wink', 3: 'voice clip', 4: 'action message' };

/** text/x-mms-emoticon body: `shortcut\tmsnobj\t…` pairs; the shortcuts. */
export function emoticonShortcuts(body: Uint8Array): string[] {
  const parts = utf8.decode(body).split('\t');
  const out: string[] = [];
  for (let i = 0; i + 1 < parts.length && out.length < 64; i += 2) if (parts[i]!.trim() !== '') out.push(parts[i]!.trim());
  return out;
}

// ---- XML payloads ----

export function xmlDecode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_m, e: string) => {
    if (e === 'amp') return '&';
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    const code = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

/** Text of the first `<tag>…</tag>` (undefined when absent, '' for `<tag/>`). */
export function xmlTag(xml: string, tag: string): string | undefined {
  const open = new RegExp(`<${tag}(\\s[^>]*)?(/?)>`, 'i').exec(xml);
  if (open === null) return undefined;
  if (open[2] === '/') return '';
  const from = open.index + open[0].length;
  const close = xml.toLowerCase().indexOf(`</${tag.toLowerCase()}>`, from);
  if (close < 0) return undefined;
  return xmlDecode(xml.slice(from, close));
}

export interface XmlSummary {
  readonly summary: string;
  readonly psm?: string;
  readonly media?: string;
  readonly friendly?: string;
}

/** A one-line summary of an XML payload by command. */
export function summariseXml(command: string, payload: Uint8Array): XmlSummary {
  const xml = utf8.decode(payload.subarray(0, Math.min(payload.length, 256 * 1024)));
  const root = /<\s*([A-Za-z_][\w:.-]*)/.exec(xml)?.[1] ?? '';
  // Error payloads (e.g. 241) echo the <ml> list that was refused.
  switch (root === 'ml' ? 'ADL' : command) {
    case 'UUX':
    case 'UBX': {
      const psm = xmlTag(xml, 'PSM');
      const media = xmlTag(xml, 'CurrentMedia');
      const friendly = xmlTag(xml, 'FriendlyName');
      const parts: string[] = [];
      if (psm !== undefined) parts.push(`PSM="${psm}"`);
      if (media !== undefined && media !== '') parts.push(`media="${media}"`);
      if (friendly !== undefined) parts.push(`name="${friendly}"`);
      return { summary: parts.length > 0 ? parts.join(' ') : `<${root}>`, psm, media: media === '' ? undefined : media, friendly };
    }
    case 'ADL':
    case 'RML':
    case 'FQY': {
      const domains = (xml.match(/<d[\s>]/g) ?? []).length;
      const contacts = (xml.match(/<c[\s>/]/g) ?? []).length;
      return { summary: `<${root}> ${contacts} contact(s) in ${domains} domain(s)` };
    }
    case 'NOT': {
      const text = xmlTag(xml, 'TEXT') ?? xmlTag(xml, 'BODY');
      const id = /<NOTIFICATION[^>]*\sid="([^"]*)"/i.exec(xml)?.[1];
      return { summary: `<${root}>${id !== undefined ? ` id=${id}` : ''}${text !== undefined ? ` "${text.replace(/\s+/g, ' ').slice(0, 200)}"` : ''}` };
    }
    default:
      return { summary: root !== '' ? `<${root}> document, ${payload.length} bytes` : `${payload.length} bytes` };
  }
}

// ---- MSNP21 routed payloads (SDG/PUT/NFY/DEL) ----

export interface RoutedPayload {
  readonly routing: Header[];
  readonly reliability: Header[];
  readonly messaging: Header[];
  readonly bodyOffset: number;
  readonly body: Uint8Array;
}

/** Routing, Reliability and Messaging header blocks, each ended by a blank line, then the body. */
export function parseRouted(payload: Uint8Array): RoutedPayload {
  const blocks: Header[][] = [];
  let o = 0;
  for (let i = 0; i < 3 && o < payload.length; i++) {
    const block = parseHeaderBlock(payload, o);
    if (block.headers.length === 0) break;
    blocks.push(block.headers);
    o = block.end;
    if (!block.terminated) break;
  }
  const find = (name: string): Header[] => blocks.find((b) => header(b, name) !== undefined) ?? [];
  const routing = find('Routing');
  const reliability = find('Reliability');
  let messaging = find('Messaging');
  if (messaging.length === 0 && blocks.length > 0) messaging = blocks[blocks.length - 1]!;
  return { routing, reliability, messaging, bodyOffset: o, body: payload.subarray(o) };
}

/** `1:bob@example.com;epid={…}` → `bob@example.com` */
export function addressHandle(value: string): string {
  let v = value.trim();
  const semi = v.indexOf(';');
  if (semi >= 0) v = v.slice(0, semi);
  const m = /^\d+:(.*)$/.exec(v);
  return m ? m[1]! : v;
}
