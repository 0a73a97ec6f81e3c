// Conversation identifiers of timeline events, so they join with Zeek's and Suricata's logs:
// `uid`, a Zeek-like short string naming the event's flow in its capture, and the Community ID
// v1 hash of that flow. Both are derived, not counted: the same capture gives the same ids in
// every run, whatever the filter, and no table grows with the number of flows.
import { createHash } from 'node:crypto';
import type { TimelineEvent } from '../model/events.js';
import { communityId, IPPROTO_TCP, IPPROTO_UDP } from '../net/community-id.js';
import { parseIpv4, parseIpv6 } from '../filter/values.js';
import type { Timestamp } from './analysis.js';
import { FifoMap } from '../util/fifo-map.js';
import { sha1 } from '../util/sha1.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

interface Endpoint {
  readonly addr: Uint8Array;
  readonly port: number;
}

/**
 * `1.2.3.4:137` read without regular expressions (most endpoints); undefined for anything
 * else, which parseEndpoint then reads with them (and may still accept, e.g. IPv6).
 */
function ipv4Endpoint(text: string): Endpoint | undefined {
  const n = text.length;
  const addr = new Uint8Array(4);
  let i = 0;
  for (let part = 0; part < 4; part++) {
    let value = 0;
    let digits = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      if (++digits > 3) return undefined;
      value = value * 10 + (c - 0x30);
    }
    if (digits === 0 || value > 255 || i >= n || text.charCodeAt(i) !== (part < 3 ? 0x2e : 0x3a)) return undefined;
    addr[part] = value;
    i++;
  }
  let port = 0;
  let digits = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39 || ++digits > 5) return undefined;
    port = port * 10 + (c - 0x30);
  }
  return digits === 0 || port > 65535 ? undefined : { addr, port };
}

/** `1.2.3.4:137` or `[fe80::1]:1863` → address bytes and port; undefined for anything else. */
export function parseEndpoint(text: string): Endpoint | undefined {
  const fast = ipv4Endpoint(text);
  if (fast !== undefined) return fast;
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const v4 = parseIpv4(m[1]!);
  if (v4 !== undefined) return { addr: Uint8Array.of(v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255), port };
  let v6 = parseIpv6(m[1]!);
  if (v6 === undefined) return undefined;
  const addr = new Uint8Array(16);
  for (let i = 15; i >= 0; i--, v6 >>= 8n) addr[i] = Number(v6 & 255n);
  return { addr, port };
}

/** `1.2.3.4:137` → `1.2.3.4` and 137; `[fe80::1]:1863` → `fe80::1` and 1863; undefined when not an IP endpoint. */
export function endpointParts(text: string): { ip: string; port: number } | undefined {
  if (parseEndpoint(text) === undefined) return undefined;
  const colon = text.lastIndexOf(':');
  return { ip: text.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(text.slice(colon + 1)) };
}

/** The IP protocol number of an event's transport path (`tcp/nbss/smb` → 6), if it is one. */
export function transportProtocol(transport: string): number | undefined {
  const first = transport.split('/', 1)[0];
  return first === 'tcp' ? IPPROTO_TCP : first === 'udp' ? IPPROTO_UDP : undefined;
}

/** The event's Community ID, or undefined when its endpoints are not IP:port over TCP or UDP. */
export function eventCommunityId(event: Pick<TimelineEvent, 'transport' | 'src' | 'dst'>): string | undefined {
  const proto = transportProtocol(event.transport);
  const src = parseEndpoint(event.src);
  const dst = parseEndpoint(event.dst);
  if (proto === undefined || src === undefined || dst === undefined || src.addr.length !== dst.addr.length) return undefined;
  return communityId({ proto, src: src.addr, dst: dst.addr, srcPort: src.port, dstPort: dst.port });
}

/** Base 62 of a big-endian number of whole 32-bit words, by long division on the words (no BigInt). */
function base62(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) words.push(((bytes[i]! << 24) | (bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!) >>> 0);
  let out = '';
  let nonZero = true;
  while (nonZero) {
    let rest = 0;
    nonZero = false;
    for (let i = 0; i < words.length; i++) {
      // rest < 62, so rest · 2^32 + word < 2^38: exact in a double.
      const value = rest * 0x1_0000_0000 + words[i]!;
      const quotient = Math.floor(value / 62);
      rest = value - quotient * 62;
      words[i] = quotient;
      if (quotient !== 0) nonZero = true;
    }
    out = BASE62[rest] + out;
  }
  return out;
}

const UID_SCRATCH = Buffer.alloc(512);
/** The same bytes as a plain Uint8Array: sha1 then sees one kind of array (Buffers and the Community ID's input). */
const UID_BYTES = new Uint8Array(UID_SCRATCH.buffer, UID_SCRATCH.byteOffset, UID_SCRATCH.length);

/**
 * The conversation id: `C` and 16 base-62 digits of a SHA-1 over the capture's first frame time
 * and the event's flow with its endpoints in a fixed order (both directions give one id).
 * Events without a flow (a finding tied to no frame) share their capture's id.
 */
export function conversationUid(capture: Timestamp | undefined, event: Pick<TimelineEvent, 'transport' | 'src' | 'dst'>): string {
  const proto = event.transport.split('/', 1)[0] ?? '';
  const [a, b] = event.src <= event.dst ? [event.src, event.dst] : [event.dst, event.src];
  const start = capture === undefined ? '' : `${capture.tsSec}.${capture.tsNsec}`;
  const text = `${start}|${proto}|${a}|${b}`;
  // UTF-8 (endpoints are ASCII, so the scratch buffer holds it unless the text is long).
  if (text.length * 3 > UID_SCRATCH.length) {
    const long = Buffer.from(text, 'utf8');
    return uidOf(sha1(new Uint8Array(long.buffer, long.byteOffset, long.length)));
  }
  return uidOf(sha1(UID_BYTES, UID_SCRATCH.write(text, 0, 'utf8')));
}

function uidOf(digest: Uint8Array): string {
  return `C${base62(digest.subarray(0, 12)).padStart(17, '0').slice(-16)}`;
}

/** Suricata's `flow_id`: a non-negative integer per flow (52 bits, exact in JSON), from the uid. */
export function flowIdOf(uid: string): number {
  const digest = createHash('sha1').update(uid).digest();
  return digest.readUIntBE(0, 6) % 2 ** 52;
}

interface FlowIds {
  readonly uid: string;
  readonly communityId: string | undefined;
}

// Events of one flow come close together (a message, its session, its notices), so a memo of
// the newest flows saves the two SHA-1s and the endpoint parsing for most events. It holds at
// most MEMO_LIMIT flows and forgets the oldest first (a FifoMap: in constant time). A pure
// function's results, so it changes nothing but time.
const MEMO_LIMIT = 4096;
const memo = new FifoMap<string, FlowIds>();

/** The event with its `uid` and `communityId` set. */
export function withFlowIds(event: TimelineEvent, capture: Timestamp | undefined): TimelineEvent {
  // Both ids depend only on the capture, the transport protocol and the unordered endpoints.
  const slash = event.transport.indexOf('/');
  const proto = slash < 0 ? event.transport : event.transport.slice(0, slash);
  const ordered = event.src <= event.dst;
  const a = ordered ? event.src : event.dst;
  const b = ordered ? event.dst : event.src;
  const key = `${capture === undefined ? '' : `${capture.tsSec}.${capture.tsNsec}`}|${proto}|${a}|${b}`;
  let ids = memo.get(key);
  if (ids === undefined) {
    ids = { uid: conversationUid(capture, event), communityId: eventCommunityId(event) };
    if (memo.size >= MEMO_LIMIT) memo.deleteOldest();
    memo.set(key, ids);
  }
  // Set on a copy (the event's own keys keep their order; uid and communityId come after them
  // unless it had them already). Not `{ ...event, uid }`: V8 (Node 20) adds each property
  // after a spread through its slow path, about 0.5 µs a property; Object.assign does not.
  const out: { -readonly [K in keyof TimelineEvent]: TimelineEvent[K] } = Object.assign({}, event);
  out.uid = ids.uid;
  if (ids.communityId !== undefined) out.communityId = ids.communityId;
  return out as TimelineEvent;
}
