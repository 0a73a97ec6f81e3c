// Conversations as `verify` judges them: one TCP stream or UDP flow of one capture, named by its
// endpoints as `client ⇄ server`. A frame's conversation comes from its TCP or UDP layer (the
// ports and stream index of its field tree, built only for frames a rule looks at); an event's
// from its endpoints and transport. Each conversation keeps what the verdicts need: the
// protocols seen on it, which directions carried them, the frames and events each rule was
// checked on, the findings of each rule, and whether the capture lost part of it.
import type { FieldNode } from '../../model/fields.js';
import type { Finding } from '../../model/findings.js';
import type { Layer, Packet } from '../../model/packet.js';
import type { TimelineEvent } from '../../model/events.js';
import { endpoint } from '../../net/addr.js';
import { TCP, UDP } from '../../net/transport.js';
import type { Rule } from './rules.js';

/** Frames kept as the evidence of a pass (the count goes on). */
export const EVIDENCE_FRAMES = 8;
/** Findings kept per rule and conversation (the count goes on). */
export const KEPT_FINDINGS = 16;
/** Problems of the capture itself kept per conversation. */
const KEPT_LOSSES = 4;

/** Directions, as bits: the client's frames and the server's. */
export const FROM_CLIENT = 1;
export const FROM_SERVER = 2;

export interface RuleFindings {
  readonly items: Finding[];
  count: number;
  readonly keys: Set<string>;
}

export interface Evidence {
  readonly frames: number[];
  count: number;
}

/** A finding that says the capture misses part of the conversation (a TCP gap, a bound hit, a cut frame). */
export interface Loss {
  readonly frame: number;
  readonly id: string;
  readonly summary: string;
}

export class Conversation {
  readonly protocols = new Set<string>();
  /** Protocol → directions (FROM_CLIENT | FROM_SERVER) whose frames carried it. */
  readonly sides = new Map<string, number>();
  readonly evidence = new Map<Rule, Evidence>();
  readonly findings = new Map<Rule, RuleFindings>();
  readonly losses: Loss[] = [];
  lossCount = 0;

  constructor(
    readonly capture: number,
    /** `tcp` or `udp`. */
    readonly carrier: string,
    readonly client: string,
    readonly server: string,
    /** Whether the capture holds the conversation from its start (TCP: the SYN); always true for UDP. */
    readonly startSeen: boolean,
  ) {}

  /** `client ⇄ server`. */
  get name(): string {
    return `${this.client} ⇄ ${this.server}`;
  }

  get clientHost(): string {
    return hostOf(this.client);
  }

  get serverHost(): string {
    return hostOf(this.server);
  }

  sawSide(protocol: string, from: string): void {
    const bit = from === this.client ? FROM_CLIENT : FROM_SERVER;
    this.sides.set(protocol, (this.sides.get(protocol) ?? 0) | bit);
  }

  /** Directions that carried any of `protocols`. */
  sidesOf(protocols: readonly string[]): number {
    let bits = 0;
    for (const p of protocols) bits |= this.sides.get(p) ?? 0;
    return bits;
  }

  /** Records a frame or event the rule was checked on; false once enough evidence is kept (the caller may stop checking). */
  checked(rule: Rule, frames: readonly number[]): boolean {
    let e = this.evidence.get(rule);
    if (e === undefined) this.evidence.set(rule, (e = { frames: [], count: 0 }));
    e.count++;
    for (const n of frames) if (e.frames.length < EVIDENCE_FRAMES && !e.frames.includes(n)) e.frames.push(n);
    return e.frames.length < EVIDENCE_FRAMES;
  }

  /** A finding of the rule; the same finding seen on its frame and on its event counts once. */
  found(rule: Rule, item: Finding): void {
    let r = this.findings.get(rule);
    if (r === undefined) this.findings.set(rule, (r = { items: [], count: 0, keys: new Set() }));
    const key = `${item.frame}\u0000${item.summary}`;
    if (r.keys.has(key)) return;
    if (r.keys.size < KEPT_FINDINGS * 4) r.keys.add(key);
    r.count++;
    if (r.items.length < KEPT_FINDINGS) r.items.push(item);
  }

  lost(item: Finding): void {
    if (this.losses.some((l) => l.id === item.id && l.frame === item.frame && l.summary === item.summary)) return;
    this.lossCount++;
    if (this.losses.length < KEPT_LOSSES) this.losses.push({ frame: item.frame, id: item.id, summary: item.summary });
  }
}

/** The host part of `ip:port` or `[v6]:port`. */
export function hostOf(ep: string): string {
  const v6 = /^\[(.*)\]:\d+$/.exec(ep);
  if (v6 !== null) return v6[1]!;
  const i = ep.lastIndexOf(':');
  return i > 0 ? ep.slice(0, i) : ep;
}

function portOf(ep: string): number {
  const i = ep.lastIndexOf(':');
  return i > 0 ? Number(ep.slice(i + 1)) : 0;
}

/** What a frame's TCP or UDP layer says about its conversation. */
export interface FrameFlow {
  readonly carrier: string;
  /** tcp.stream / udp.stream. */
  readonly stream: number;
  readonly src: string;
  readonly dst: string;
  /** TCP: a SYN without ACK (the client opens), a SYN-ACK (the server answers), or neither. */
  readonly opening: 'syn' | 'syn-ack' | undefined;
}

function valueOf(nodes: readonly FieldNode[], name: string): FieldNode['value'] | undefined {
  for (const n of nodes) {
    if (n.def.name === name) return n.value;
    if (n.children !== undefined) {
      const v = valueOf(n.children, name);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** The frame's own (not ICMP-quoted) TCP or UDP layer, read from its field tree. */
export function frameFlow(packet: Packet): FrameFlow | undefined {
  let layer: Layer | undefined;
  for (const l of packet.layers) if ((l.name === 'tcp' || l.name === 'udp') && l.quoted !== true) layer = l;
  if (layer === undefined || packet.src === '' || packet.dst === '') return undefined;
  const tree = layer.tree();
  const isTcp = layer.name === 'tcp';
  const sport = valueOf(tree, (isTcp ? TCP : UDP).srcport.name);
  const dport = valueOf(tree, (isTcp ? TCP : UDP).dstport.name);
  const stream = valueOf(tree, (isTcp ? TCP : UDP).stream.name);
  if (typeof sport !== 'number' || typeof dport !== 'number') return undefined;
  let opening: FrameFlow['opening'];
  if (isTcp && valueOf(tree, TCP['flags.syn'].name) === true) opening = valueOf(tree, TCP['flags.ack'].name) === true ? 'syn-ack' : 'syn';
  return { carrier: layer.name, stream: typeof stream === 'number' ? stream : -1, src: endpoint(packet.src, sport), dst: endpoint(packet.dst, dport), opening };
}

/** Who opened a TCP stream, learned from its SYN or SYN-ACK. */
export interface Opening {
  readonly client: string;
  readonly server: string;
}

/** A SYN's sender or a SYN-ACK's receiver opened the stream; undefined for other frames. */
export function openingOf(flow: FrameFlow): Opening | undefined {
  if (flow.opening === 'syn') return { client: flow.src, server: flow.dst };
  if (flow.opening === 'syn-ack') return { client: flow.dst, server: flow.src };
  return undefined;
}

/**
 * The ports the messenger protocols' servers listen on: RPC endpoint mapper, NetBIOS name,
 * datagram and session services, SMB, MSNP. Old Windows clients took ephemeral ports from
 * 1024–5000, below MSNP's 1863, so the lower port alone would name the wrong server.
 */
const SERVICE_PORTS: ReadonlySet<number> = new Set([135, 137, 138, 139, 445, 1863]);

/**
 * Client and server of a conversation first followed at this frame: whoever opened it, when its
 * opening is in the capture; otherwise the side on a service port (else on the lower port) is
 * the server, and on equal ports (NetBIOS datagrams, 138 to 138) the first sender is the client.
 */
export function sidesOf(flow: FrameFlow, opened: Opening | undefined): { client: string; server: string; startSeen: boolean } {
  if (opened !== undefined) return { ...opened, startSeen: true };
  const startSeen = flow.carrier !== 'tcp';
  const src = portOf(flow.src);
  const dst = portOf(flow.dst);
  const srcServes = SERVICE_PORTS.has(src) && !SERVICE_PORTS.has(dst);
  const dstServes = SERVICE_PORTS.has(dst) && !SERVICE_PORTS.has(src);
  const fromServer = srcServes || (!dstServes && src < dst);
  return fromServer ? { client: flow.dst, server: flow.src, startSeen } : { client: flow.src, server: flow.dst, startSeen };
}

/** The carrier (`tcp`/`udp`) of an event, from its transport path. */
export function eventCarrier(event: TimelineEvent): string | undefined {
  const first = event.transport.split('/')[0];
  return first === 'tcp' || first === 'udp' ? first : undefined;
}

/** A key for the endpoints of a flow, whichever way round. */
export function pairKey(capture: number, carrier: string, a: string, b: string): string {
  return a < b ? `${capture} ${carrier} ${a} ${b}` : `${capture} ${carrier} ${b} ${a}`;
}
