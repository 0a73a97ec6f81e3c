// The NetBIOS datagram service on UDP 138: labels every datagram, joins FIRST/MORE fragments
// by source and datagram id (RFC 1002 §4.4.2), and hands the user data (SMB mailslot writes)
// to the protocol that recognises it, through the datagram seam.
import { FifoMap } from '../../util/fifo-map.js';
import { datagramKey, type EngineContext, type IcmpError, type Route, type UdpAppFactory, type UdpDatagram } from '../../engine/context.js';
import type { DatagramPayloadFactory } from '../../engine/seams.js';
import type { Timer } from '../../engine/timers.js';
import type { MessageEvent } from '../../model/events.js';
import { f, type FieldNode } from '../../model/fields.js';
import { NBDGM_FINDINGS } from './findings.js';
import { endpoint } from '../../net/addr.js';
import { FragmentTable, OffsetParts, type FragmentEntry } from '../../net/fragment-table.js';
import { NBDGM, NBDGM_ERRORS, NBDGM_TYPES } from './fields.js';
import { formatName, namePart, suffixOf } from './names.js';
import { FLAG_FIRST, FLAG_MORE, parseNbdgm, type NbdgmPacket } from './nbdgm-parse.js';

const MAX_PENDING = 256;
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
/** Fragments kept per datagram (zero-length ones add no bytes, so bytes alone do not bound them). */
const MAX_PIECES = 256;
/** Fragments of one datagram older than this (capture time) are given up. */
const FRAGMENT_SECONDS = 60;
/** A fragment's 16-bit offset plus a UDP payload: no datagram reaches this. */
const MAX_DATAGRAM = 2 * 65536;
/**
 * Messenger datagrams are held this long (capture time) for an ICMP error quoting them or an
 * NBDGM error datagram answering them, then emitted with status `unknown`.
 */
const HOLD_SECONDS = 10;
const MAX_HELD = 1024;
/** Datagrams remembered by IP header and ports, for bounces whose quote stops before the NBDGM id. */
const MAX_SENT = 4 * MAX_HELD;

interface Held {
  readonly key: string;
  /** Sender's address and datagram id: what an NBDGM error datagram can be matched on. */
  readonly errorKey: string;
  event: MessageEvent;
}

/** What a datagram being joined keeps besides its fragments: the first fragment's time and route. */
interface Partial {
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly route: Route;
}

type PartialEntry = FragmentEntry<Partial, OffsetParts>;

export class NbdgmService implements UdpAppFactory {
  readonly name = 'nbdgm';
  readonly ports = [138];
  private readonly partials = new FragmentTable<Partial, OffsetParts>(
    { maxEntries: MAX_PENDING, maxParts: MAX_PIECES, maxEntryBytes: MAX_DATAGRAM, maxTotalBytes: MAX_PENDING_BYTES, maxAgeSeconds: FRAGMENT_SECONDS },
    () => new OffsetParts(),
  );
  /** Messages waiting for their fate, by `src|dst|id` of the (first) datagram. */
  private readonly held = new Map<string, Held>();
  private readonly heldByError = new Map<string, string>();
  /** datagramKey of each datagram with user data → the key its message is held under (oldest forgotten first). */
  private readonly sent = new FifoMap<string, string>();
  /** Fires when the oldest held message's hold time is over and no datagram came to release it. */
  private timer: Timer | undefined;

  constructor(private readonly payloads: readonly DatagramPayloadFactory[]) {}

  dissect(ctx: EngineContext, dg: UdpDatagram): void {
    this.partials.holds ??= ctx.holds;
    const packet = ctx.packet;
    const frame = packet?.frame.number ?? dg.frames[0] ?? 0;
    const b = dg.payload;
    const route: Route = { transport: 'udp/nbdgm', src: endpoint(dg.src, dg.srcPort), dst: endpoint(dg.dst, dg.dstPort) };
    if (dg.quoted) this.bounce(ctx, dg);
    const p = parseNbdgm(b);
    if (typeof p === 'string') {
      if (!dg.quoted) ctx.standaloneFinding(NBDGM_FINDINGS.malformed.at(frame, p), 'nbdgm', route, dg.tsSec, dg.tsNsec);
      packet?.layers.push({ name: 'nbdgm', bytes: b, offset: 0, length: b.length, quoted: dg.quoted, info: `Malformed NetBIOS datagram: ${p}`, tree: () => [] });
      return;
    }
    const cp = ctx.options.oemCodepage;
    const src = p.source !== undefined ? formatName(p.source, cp) : undefined;
    const dst = p.destination !== undefined ? formatName(p.destination, cp) : undefined;
    let info = NBDGM_TYPES.get(p.type) ?? `Type 0x${p.type.toString(16)}`;
    if (src !== undefined && dst !== undefined) info += `, ${src} → ${dst}`;
    else if (dst !== undefined) info += ` ${dst}`;
    if (p.errorCode !== undefined) info += `, ${NBDGM_ERRORS.get(p.errorCode) ?? `error 0x${p.errorCode.toString(16)}`}`;
    // A lone datagram is FIRST without MORE; some senders clear FIRST too, which is harmless at offset 0.
    const fragmented = p.userDataOffset !== undefined && ((p.flags & FLAG_MORE) !== 0 || ((p.flags & FLAG_FIRST) === 0 && (p.packetOffset ?? 0) > 0));
    const extra: FieldNode[] = [];
    packet?.layers.push({
      name: 'nbdgm', bytes: b, offset: 0, length: p.userDataOffset ?? b.length, info, column: 'NBDGM', quoted: dg.quoted,
      tree: () => [...nbdgmTree(p, src, dst), ...extra],
    });
    if (!dg.quoted) for (const prob of p.problems) ctx.packetFinding(NBDGM_FINDINGS.badLength.at(frame, prob));
    this.release(ctx, dg.tsSec, false);
    if (dg.quoted) return; // the copy is no new message: its fate was settled by bounce() above

    if (p.errorCode !== undefined) {
      // RFC 1002 4.4.3: the NBDD (or a node) sends DATAGRAM ERROR back to the sender of a datagram
      // it could not deliver, with that datagram's DGM_ID.
      const key = this.heldByError.get(`${dg.dst}|${p.id}`);
      if (key !== undefined) this.fail(ctx, key, NBDGM_ERRORS.get(p.errorCode) ?? `NBDGM error 0x${p.errorCode.toString(16)}`, dg.frames);
      return;
    }
    if (p.userDataOffset === undefined) return;
    this.remember(datagramKey(dg), `${dg.src}|${dg.dst}|${p.id}`);
    let user = b.subarray(p.userDataOffset);
    let frames = dg.frames;
    let tsSec = dg.tsSec;
    let tsNsec = dg.tsNsec;
    if (fragmented) {
      const done = this.fragment(ctx, dg, p, user, route, frame);
      if (done === undefined) return;
      user = done.data;
      frames = done.frames;
      tsSec = done.tsSec;
      tsNsec = done.tsNsec;
      extra.push(f(NBDGM.fragments, frames.join(', ')), f(NBDGM.reassembled_length, user.length));
      const reassembled = user;
      packet?.layers.push({ name: 'nbdgm', bytes: reassembled, offset: 0, length: 0, tree: () => [f(NBDGM.user_data, reassembled, 0, reassembled.length)] });
    }
    const upper = this.payloads.find((x) => x.match(user));
    if (upper !== undefined) {
      const key = `${dg.src}|${dg.dst}|${p.id}`;
      upper.dissect(ctx, {
        bytes: user, route, transport: 'udp/nbdgm', frames, tsSec, tsNsec, source: src, deliver: (event) => this.hold(ctx, key, `${dg.src}|${p.id}`, event),
        destination: p.destination !== undefined ? { name: namePart(p.destination.raw, cp), suffix: suffixOf(p.destination), group: p.type !== 0x10 } : undefined,
      });
    }
  }

  private remember(datagram: string, held: string): void {
    this.sent.delete(datagram);
    if (this.sent.size >= MAX_SENT) this.sent.deleteOldest();
    this.sent.set(datagram, held);
  }

  /**
   * An ICMP error quoting a datagram we hold: that message was not delivered. The quote may stop
   * before the NBDGM header (RFC 792 promises 8 bytes past the IP header): then the quoted IP
   * header and ports name the datagram. A quote that holds the DGM_ID is matched by it alone: a
   * later datagram on the same addresses and ports is another message.
   */
  private bounce(ctx: EngineContext, dg: UdpDatagram): void {
    const b = dg.payload;
    const byId = b.length >= 4 ? `${dg.src}|${dg.dst}|${(b[2]! << 8) | b[3]!}` : undefined;
    const key = byId ?? this.sent.get(datagramKey(dg));
    if (key !== undefined && this.held.has(key)) this.fail(ctx, key, dg.icmpReason ?? 'ICMP error', dg.frames, dg.icmp);
  }

  private hold(ctx: EngineContext, key: string, errorKey: string, event: MessageEvent): void {
    const old = this.held.get(key);
    if (old !== undefined) this.emitHeld(ctx, old); // the same id reused: the older one is done
    if (this.held.size >= MAX_HELD) {
      const oldest = this.held.values().next().value;
      if (oldest !== undefined) this.emitHeld(ctx, oldest);
    }
    this.held.set(key, { key, errorKey, event });
    this.heldByError.set(errorKey, key);
    ctx.holds?.hold(event.frames[0] ?? 0); // released by emitHeld
    // Released by the next datagram past the hold time, or by this timer when none comes (the
    // window waits for what is held).
    if (this.timer === undefined) this.armTimer(ctx, event.tsSec);
  }

  private armTimer(ctx: EngineContext, tsSec: number): void {
    const at = tsSec + HOLD_SECONDS;
    this.timer = ctx.schedule(at, () => {
      this.timer = undefined;
      this.release(ctx, at + 0.5, false);
      const next = this.held.values().next().value;
      if (next !== undefined) this.armTimer(ctx, next.event.tsSec);
    });
  }

  private fail(ctx: EngineContext, key: string, error: string, frames: readonly number[], icmp?: IcmpError): void {
    const h = this.held.get(key);
    if (h === undefined) return;
    const extra = frames.filter((n) => !h.event.frames.includes(n));
    const details = icmp !== undefined ? { ...h.event.details, icmp: error, icmpType: icmp.type, icmpCode: icmp.code } : h.event.details;
    h.event = { ...h.event, status: 'error', error, frames: [...h.event.frames, ...extra], details };
    this.emitHeld(ctx, h);
  }

  private emitHeld(ctx: EngineContext, h: Held): void {
    this.held.delete(h.key);
    ctx.holds?.release(h.event.frames[0] ?? 0);
    if (this.heldByError.get(h.errorKey) === h.key) this.heldByError.delete(h.errorKey);
    ctx.emit(h.event);
  }

  /** Emits held messages older than the hold time (all of them at the end). */
  private release(ctx: EngineContext, now: number, all: boolean): void {
    for (const h of this.held.values()) {
      if (!all && now - h.event.tsSec <= HOLD_SECONDS) break; // held in arrival order
      this.emitHeld(ctx, h);
    }
  }

  private fragment(ctx: EngineContext, dg: UdpDatagram, p: NbdgmPacket, data: Uint8Array, route: Route, frame: number): { data: Uint8Array; frames: number[]; tsSec: number; tsNsec: number } | undefined {
    this.expire(ctx, dg.tsSec);
    const key = `${dg.src}|${p.srcIp}|${p.id}`;
    let part = this.partials.get(key);
    if ((p.flags & FLAG_FIRST) !== 0 && part !== undefined) {
      // A new FIRST fragment with the same id: the old datagram never completed.
      this.giveUp(ctx, part, 'a new first fragment with the same datagram id arrived');
      part = undefined;
    }
    if (part === undefined) {
      let opened = this.partials.open(key, { tsSec: dg.tsSec, tsNsec: dg.tsNsec, route }, dg.tsSec);
      if (opened.kind === 'limit') {
        const oldest = this.partials.oldest();
        if (oldest !== undefined) this.giveUp(ctx, oldest, `more than ${MAX_PENDING} datagrams waiting for fragments`);
        opened = this.partials.open(key, { tsSec: dg.tsSec, tsNsec: dg.tsNsec, route }, dg.tsSec);
        if (opened.kind === 'limit') return undefined;
      }
      part = opened;
    }
    const offset = p.packetOffset ?? 0;
    const placed = this.partials.addAt(part, offset, data, dg.frames, dg.tsSec);
    if (placed.kind === 'limit') {
      if (placed.limit === 'parts') this.giveUp(ctx, part, `more than ${MAX_PIECES} fragments`);
      else this.giveUp(ctx, part, `NetBIOS datagram fragments passed ${placed.max} bytes`);
      return undefined;
    }
    if ((p.flags & FLAG_MORE) === 0) part.parts.end = offset + data.length;
    if (!part.parts.complete) return undefined;
    const total = part.parts.end!;
    // A piece may reach past the last fragment's end (reported below as an overrun): nothing of it is kept.
    const out = part.parts.join();
    this.partials.delete(part);
    if (part.parts.held() > total) ctx.packetFinding(NBDGM_FINDINGS.fragmentOverrun.at(frame, 'fragments extend past the last fragment\'s end'));
    return { data: out, frames: part.frames, tsSec: part.meta.tsSec, tsNsec: part.meta.tsNsec };
  }

  private giveUp(ctx: EngineContext, part: PartialEntry, why: string): void {
    this.partials.delete(part);
    const item = NBDGM_FINDINGS.fragmentsIncomplete.at(part.frames[0] ?? 0, `NetBIOS datagram fragments in frames ${part.frames.join(', ')} never completed (${why})`);
    ctx.standaloneFinding(item, 'nbdgm', part.meta.route, part.meta.tsSec, part.meta.tsNsec);
  }

  private expire(ctx: EngineContext, now: number): void {
    for (const part of this.partials.expire(now)) this.giveUp(ctx, part, `no fragment for ${FRAGMENT_SECONDS} s`);
  }

  finish(ctx: EngineContext): void {
    for (const part of this.partials.expire(0, true)) this.giveUp(ctx, part, 'end of capture');
    this.release(ctx, 0, true);
    this.timer?.cancel();
    this.timer = undefined;
  }
}

function nbdgmTree(p: NbdgmPacket, src: string | undefined, dst: string | undefined): FieldNode[] {
  const nodes: FieldNode[] = [
    f(NBDGM.type, p.type, 0, 1),
    f(NBDGM.flags, p.flags, 1, 1, [f(NBDGM.next, (p.flags & FLAG_MORE) !== 0, 1, 1), f(NBDGM.first, (p.flags & FLAG_FIRST) !== 0, 1, 1), f(NBDGM.node_type, (p.flags >> 2) & 3, 1, 1)]),
    f(NBDGM.dgram_id, p.id, 2, 2),
    f(NBDGM['src.ip'], p.srcIp, 4, 4),
    f(NBDGM['src.port'], p.srcPort, 8, 2),
  ];
  if (p.dgmLength !== undefined) nodes.push(f(NBDGM.dgram_len, p.dgmLength, 10, 2), f(NBDGM.pkt_offset, p.packetOffset ?? 0, 12, 2));
  if (p.errorCode !== undefined) nodes.push(f(NBDGM.error_code, p.errorCode, 10, 1));
  if (src !== undefined && p.source !== undefined) nodes.push(f(NBDGM.source_name, src, p.sourceOffset, p.source.length));
  if (dst !== undefined && p.destination !== undefined) nodes.push(f(NBDGM.destination_name, dst, p.destinationOffset, p.destination.length));
  return nodes;
}
