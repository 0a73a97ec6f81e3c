// HTTP/1.x message heads (pure), for the MSN Messenger HTTP gateway (msnp-notes.md "HTTP
// gateway"): requests `POST [http://host]/gateway/gateway.dll?Action=open&Server=NS&IP=…` or
// `?SessionID=…`, responses carrying `X-MSN-Messenger: SessionID=…; GW-IP=…[; Session=close]`.

export const MAX_HEAD = 16 * 1024;

export interface HttpHead {
  readonly startLine: string;
  readonly isRequest: boolean;
  readonly method?: string;
  readonly uri?: string;
  readonly status?: number;
  readonly headers: { readonly name: string; readonly value: string }[];
  readonly headLength: number;
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
}

export type HeadResult = { kind: 'need' } | { kind: 'bad'; reason: string } | { kind: 'ok'; head: HttpHead };

const latin1 = new TextDecoder('latin1');

export function parseHttpHead(buf: Uint8Array): HeadResult {
  const limit = Math.min(buf.length, MAX_HEAD);
  let end = -1;
  let termLen = 4;
  for (let i = 0; i + 1 < limit; i++) {
    if (buf[i] === 0x0a) {
      if (buf[i + 1] === 0x0a) {
        end = i;
        termLen = 2;
        break;
      }
      if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) {
        end = i;
        termLen = 3;
        break;
      }
    }
  }
  if (end < 0) return buf.length >= MAX_HEAD ? { kind: 'bad', reason: `no end of HTTP headers within ${MAX_HEAD} bytes` } : { kind: 'need' };
  const text = latin1.decode(buf.subarray(0, end));
  const lines = text.split(/\r?\n/);
  const startLine = lines.shift() ?? '';
  const headers: { name: string; value: string }[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  const req = /^([A-Z]+) (\S+) HTTP\/\d\.\d$/.exec(startLine);
  const resp = /^HTTP\/\d\.\d (\d{3})/.exec(startLine);
  if (req === null && resp === null) return { kind: 'bad', reason: 'not an HTTP start line' };
  const get = (name: string): string | undefined => headers.find((h) => h.name.toLowerCase() === name)?.value;
  const cl = get('content-length');
  const contentLength = cl !== undefined && /^\d{1,9}$/.test(cl) ? Number(cl) : undefined;
  return {
    kind: 'ok',
    head: {
      startLine,
      isRequest: req !== null,
      method: req?.[1],
      uri: req?.[2],
      status: resp !== null ? Number(resp[1]) : undefined,
      headers,
      headLength: end + termLen,
      contentLength,
      chunked: /chunked/i.test(get('transfer-encoding') ?? ''),
    },
  };
}

export function headerValue(head: HttpHead, name: string): string | undefined {
  const lower = name.toLowerCase();
  return head.headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

/** Query parameters of the gateway URI (`Action`, `Server`, `IP`, `SessionID`). */
export function gatewayQuery(uri: string): Record<string, string> | undefined {
  const path = uri.replace(/^https?:\/\/[^/]+/i, '');
  if (!/^\/gateway\/gateway\.dll/i.test(path)) return undefined;
  // Keys come from the wire: no prototype, so `__proto__` or `constructor` are plain keys.
  const out = Object.create(null) as Record<string, string>;
  const q = path.indexOf('?');
  if (q >= 0) {
    for (const part of path.slice(q + 1).split('&')) {
      const eq = part.indexOf('=');
      if (eq > 0) out[part.slice(0, eq)] = decodeURIComponentSafe(part.slice(eq + 1));
    }
  }
  return out;
}

/** `SessionID=…; GW-IP=…; Session=close` */
export function messengerHeader(value: string): Record<string, string> {
  // Keys come from the wire: no prototype, so `__proto__` or `constructor` are plain keys.
  const out = Object.create(null) as Record<string, string>;
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Content check for detection: a gateway request or response in these bytes. */
export function looksLikeGateway(payload: Uint8Array): boolean {
  // Both forms start with 'POST' (any case) or 'HTTP': skip the text decoding for every other payload.
  const c = payload[0];
  if (c !== 0x50 && c !== 0x70 && c !== 0x48) return false;
  const head = latin1.decode(payload.subarray(0, Math.min(payload.length, 2048)));
  if (/^POST (https?:\/\/[^/ ]+)?\/gateway\/gateway\.dll/i.test(head)) return true;
  return /^HTTP\/1\.[01] \d{3}/.test(head) && /\r?\nX-MSN-Messenger:/i.test(head);
}
