// One switchboard message, however many legs: a capture at the server (or on a LAN with several
// clients) holds the sender's MSG to the switchboard and the server's MSG to each other
// participant. The legs are the same text from the same sender through the same switchboard
// server within a few seconds; they are joined into one message event whose frames cover every
// leg, with the participants it was delivered to. A message seen on one leg only is emitted as it
// was. The same for presence fan-out: one NLN/FLN change the server sends to every watcher is one
// presence event with its watchers. Legs wait (in capture time) for their siblings; memory is bounded.
import { tcpStreamNumber, type EngineContext, type Route } from '../../engine/context.js';
import type { Finding } from '../../model/findings.js';
import type { Packet } from '../../model/packet.js';
import type { MessageEvent, PresenceEvent, TimelineEvent } from '../../model/events.js';
import type { Timer } from '../../engine/timers.js';
import type { FrameHolds } from '../../util/frame-holds.js';

/** Capture seconds within which the legs of one message are joined (the server relays at once). */
export const LEG_SECONDS = 2;
/** Messages waiting for more legs, at most (the oldest is emitted past it). */
const MAX_WAITING = 4096;

interface Leg {
  readonly event: MessageEvent;
  /** True for the server's copy to a participant; false for the sender's own MSG. */
  readonly relayed: boolean;
  /** The participant a relayed copy went to (that connection's user), when known. */
  readonly receiver: string | undefined;
}

interface Waiting {
  readonly legs: Leg[];
  /** The frame held for the reorder window: the lowest first frame of the legs. */
  held: number;
  readonly sec: number;
  readonly ctx: EngineContext;
}

function timeOf(e: TimelineEvent): number {
  return e.tsSec + e.tsNsec / 1e9;
}

/** Joins legs of one message into one event. */
export function joinLegs(legs: readonly Leg[]): MessageEvent {
  const sent = legs.find((l) => !l.relayed);
  const base = (sent ?? legs[0]!).event;
  if (legs.length === 1) return base;
  const frames = [...new Set(legs.flatMap((l) => l.event.frames))].sort((a, b) => a - b);
  const delivered = [...new Set(legs.filter((l) => l.relayed).map((l) => l.receiver ?? l.event.dst))];
  const to = [...new Set([...base.to, ...legs.flatMap((l) => (l.receiver !== undefined ? [l.receiver] : []))])].filter((h) => h !== base.from);
  const findings = legs.flatMap((l) => l.event.findings);
  const first = legs.reduce((a, l) => (timeOf(l.event) < timeOf(a.event) ? l : a));
  // Delivered copies prove delivery when the sender asked for no acknowledgement.
  const status = base.status === 'error' || delivered.length === 0 || base.status === 'ok' ? base.status : 'ok';
  return {
    ...base,
    tsSec: first.event.tsSec,
    tsNsec: first.event.tsNsec,
    frames,
    to,
    status,
    findings,
    // The sender's copy knows the ack mode, a participant's copy the session id and friendly name.
    details: { ...Object.assign({}, ...legs.map((l) => l.event.details ?? {})), ...(base.details ?? {}), legs: legs.length, delivered_to: delivered },
  };
}

/** Joins the copies of one presence change sent to several watchers. */
export function joinWatchers(copies: readonly { readonly event: PresenceEvent; readonly watcher: string | undefined }[]): PresenceEvent {
  const base = copies[0]!.event;
  if (copies.length === 1) return base;
  const frames = [...new Set(copies.flatMap((c) => c.event.frames))].sort((a, b) => a - b);
  const watchers = [...new Set(copies.map((c) => c.watcher ?? c.event.dst))];
  return { ...base, frames, findings: copies.flatMap((c) => c.event.findings), details: { ...(base.details ?? {}), legs: copies.length, watchers } };
}

interface WaitingPresence {
  readonly copies: { readonly event: PresenceEvent; readonly watcher: string | undefined }[];
  /** The frame held for the reorder window: the lowest first frame of the copies. */
  held: number;
  readonly sec: number;
  readonly ctx: EngineContext;
}

/** A joined event is keyed by its legs' lowest frame: a leg that held for its ACK may come after a later one. */
function lower(ctx: EngineContext, held: number, frame: number): number {
  if (frame <= 0 || frame >= held) return held;
  ctx.holds?.hold(frame);
  ctx.holds?.release(held);
  return frame;
}

/** The legs waiting for their siblings, keyed by switchboard server, sender and text. */
export class MessageLegs {
  private readonly waiting = new Map<string, Waiting>();
  private readonly presence = new Map<string, WaitingPresence>();
  /** Open connections per server endpoint: with only one, a message can have no other leg. */
  private readonly open = new Map<string, number>();

  connectionOpened(server: string): void {
    if (this.open.size < MAX_WAITING || this.open.has(server)) this.open.set(server, (this.open.get(server) ?? 0) + 1);
  }

  connectionClosed(server: string): void {
    const n = (this.open.get(server) ?? 0) - 1;
    if (n > 0) this.open.set(server, n);
    else this.open.delete(server);
  }

  /** A chat message from one connection of switchboard `server`, as that connection saw it. */
  offer(ctx: EngineContext, event: MessageEvent, server: string, relayed: boolean, receiver: string | undefined): void {
    const sec = timeOf(event);
    this.expire(sec);
    const key = `${server}\u0000${event.from}\u0000${event.text}`;
    const w = this.waiting.get(key);
    const leg: Leg = { event, relayed, receiver };
    // Alone on its server, a connection's message has no sibling to wait for: out at once, as it always was.
    if (w === undefined && (this.open.get(server) ?? 0) < 2) {
      ctx.emit(event);
      return;
    }
    // A second copy from the same side (the sender repeating itself) is a new message, not a leg.
    if (w !== undefined && !(leg.relayed === false && w.legs.some((l) => !l.relayed)) && !w.legs.some((l) => l.relayed && relayed && l.event.dst === event.dst)) {
      w.legs.push(leg);
      w.held = lower(w.ctx, w.held, event.frames[0] ?? 0);
      return;
    }
    if (w !== undefined) this.release(key, w);
    if (this.waiting.size >= MAX_WAITING) {
      const [oldKey, old] = this.waiting.entries().next().value as [string, Waiting];
      this.release(oldKey, old);
    }
    this.waiting.set(key, { legs: [leg], sec, ctx, held: event.frames[0] ?? 0 });
    ctx.holds?.hold(event.frames[0] ?? 0); // released when the joined message is emitted
  }

  /** A presence change a server sent to one watcher (`watcher`: that connection's user). */
  offerPresence(ctx: EngineContext, event: PresenceEvent, server: string, watcher: string | undefined): void {
    const sec = timeOf(event);
    this.expire(sec);
    const key = `${server}\u0000${event.user}\u0000${event.status}\u0000${JSON.stringify(event.details ?? {})}`;
    const w = this.presence.get(key);
    if (w === undefined && (this.open.get(server) ?? 0) < 2) {
      ctx.emit(event);
      return;
    }
    // The same watcher told twice is a second change, not another watcher.
    if (w !== undefined && !w.copies.some((c) => c.event.dst === event.dst)) {
      w.copies.push({ event, watcher });
      w.held = lower(w.ctx, w.held, event.frames[0] ?? 0);
      return;
    }
    if (w !== undefined) this.releasePresence(key, w);
    if (this.presence.size >= MAX_WAITING) {
      const [oldKey, old] = this.presence.entries().next().value as [string, WaitingPresence];
      this.releasePresence(oldKey, old);
    }
    this.presence.set(key, { copies: [{ event, watcher }], sec, ctx, held: event.frames[0] ?? 0 });
    ctx.holds?.hold(event.frames[0] ?? 0); // released when the joined change is emitted
  }

  /** Emits the messages whose legs can no longer grow by capture time `nowSec`. */
  expire(nowSec: number): void {
    // Kept in arrival order, which is capture order but for legs held for an acknowledgement.
    for (const [key, w] of this.waiting) {
      if (nowSec - w.sec <= LEG_SECONDS) break;
      this.release(key, w);
    }    for (const [key, w] of this.presence) {
      if (nowSec - w.sec <= LEG_SECONDS) break;
      this.releasePresence(key, w);
    }
  }

  /** End of capture: emits everything still waiting. */
  flush(): void {
    for (const [key, w] of [...this.waiting]) this.release(key, w);
    for (const [key, w] of [...this.presence]) this.releasePresence(key, w);
  }

  private releasePresence(key: string, w: WaitingPresence): void {
    this.presence.delete(key);
    w.ctx.holds?.release(w.held);
    w.ctx.emit(joinWatchers(w.copies));
  }

  private release(key: string, w: Waiting): void {
    this.waiting.delete(key);
    w.ctx.holds?.release(w.held);
    w.ctx.emit(joinLegs(w.legs));
  }
}

/** What a connection knows about itself when one of its messages is offered. */
export interface LegSource {
  /** The switchboard server's `ip:port`. */
  readonly server: string;
  /** The connection's own user (the receiver of relayed copies), when known. */
  readonly localUser: string | undefined;
}

/** A connection's context whose MSNP chat messages go through the leg joiner. */
export class LegRoutingContext implements EngineContext {
  constructor(private readonly inner: EngineContext, private readonly legs: MessageLegs, private readonly source: () => LegSource) {}

  get options(): EngineContext['options'] {
    return this.inner.options;
  }
  get packet(): Packet | undefined {
    return this.inner.packet;
  }
  get holds(): FrameHolds | undefined {
    return this.inner.holds;
  }
  /** The connection's stream buffers count in the engine's budget across connections (issue 13). */
  get buffers(): EngineContext['buffers'] {
    return this.inner.buffers;
  }
  get wantsEvents(): boolean | undefined {
    return this.inner.wantsEvents;
  }
  emit(event: TimelineEvent): void {
    const { server, localUser } = this.source();
    if (event.kind === 'presence' && event.protocol === 'msnp' && event.src === server) {
      this.legs.offerPresence(this.inner, event, server, localUser);
      return;
    }
    if (event.kind !== 'message' || event.protocol !== 'msnp') {
      this.inner.emit(event);
      return;
    }
    const relayed = event.src === server;
    this.legs.offer(this.inner, event, server, relayed, relayed ? localUser : undefined);
  }
  packetFinding(finding: Finding): void {
    this.inner.packetFinding(finding);
  }
  standaloneFinding(finding: Finding, protocol: string, route: Route, tsSec: number, tsNsec: number): void {
    this.inner.standaloneFinding(finding, protocol, route, tsSec, tsNsec);
  }
  schedule(atSec: number, fire: () => void): Timer {
    return this.inner.schedule(atSec, fire);
  }
  tcpStream(index: number): number {
    return tcpStreamNumber(this.inner, index);
  }
}
