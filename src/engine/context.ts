// What the engine offers application dissectors, and what they offer the engine.
import type { Finding } from '../model/findings.js';
import type { TimelineEvent } from '../model/events.js';
import type { Packet } from '../model/packet.js';
import type { Timer } from './timers.js';
import type { BufferBudget } from '../net/stream-buffer.js';
import type { FrameHolds } from '../util/frame-holds.js';

export interface EngineOptions {
  /** OEM code page for MS-MSRP and SMB strings (iconv-lite name, e.g. `cp437`, `cp850`). */
  readonly oemCodepage: string;
  /** Out-of-order TCP bytes waiting across all conversations (`-o tcp.reassembly_limit`). */
  readonly reassemblyBytes: number;
  /** Room of the buffers holding unfinished application messages, across all connections (`-o app.buffer_limit`). */
  readonly bufferedBytes: number;
  /** TCP conversations that carried nothing yet (`-o tcp.half_open_limit`). */
  readonly halfOpenLimit: number;
  /** TCP conversations, and separately UDP flows, tracked at once (`-o flows.limit`). */
  readonly conversationLimit: number;
  /**
   * TCP conversations kept open after the buffer budget gave up their unfinished message, while
   * they send nothing more (`-o tcp.stalled_limit`).
   */
  readonly stalledLimit: number;
  /** Open TCP conversations holding application state (`-o tcp.app_limit`). */
  readonly appLimit: number;
  /**
   * Delivered-bytes histories (kept to compare retransmissions with) past each direction's
   * first 512 bytes, across all conversations (`-o tcp.history_limit`).
   */
  readonly historyBytes: number;
}

export const DEFAULT_OPTIONS: EngineOptions = {
  oemCodepage: 'cp437',
  reassemblyBytes: 64 * 1024 * 1024,
  bufferedBytes: 64 * 1024 * 1024,
  halfOpenLimit: 65_536,
  conversationLimit: 262_144,
  stalledLimit: 1024,
  appLimit: 16_384,
  historyBytes: 32 * 1024 * 1024,
};

/** Where an event or finding travelled and between whom, for the timeline's common fields. */
export interface Route {
  readonly transport: string;
  readonly src: string;
  readonly dst: string;
}

export interface EngineContext {
  readonly options: EngineOptions;
  /** The frame being dissected, or undefined while the engine flushes at the end of the capture. */
  readonly packet: Packet | undefined;
  /** Hands a finished event to the analyses. */
  emit(event: TimelineEvent): void;
  /** Attaches a finding to the current frame (the `read` view) only. */
  packetFinding(finding: Finding): void;
  /**
   * A finding that belongs to no event: attached to the current frame when it is that frame's,
   * and shown in the timeline as a `finding` event.
   */
  standaloneFinding(finding: Finding, protocol: string, route: Route, tsSec: number, tsNsec: number): void;
  /**
   * Calls `fire` before the first frame whose capture time (seconds) is past `atSec`, unless
   * cancelled first: how pending state (a request waiting for its response) is finished on
   * a timeout while the capture goes on. It runs between frames (`packet` is undefined);
   * timers still waiting at the end of the capture never fire (`finish` flushes instead).
   */
  schedule(atSec: number, fire: () => void): Timer;
  /**
   * The budget of bytes that applications hold for unfinished messages, across all
   * connections: a StreamBuffer attached to it may be told to give its bytes up.
   */
  readonly buffers?: BufferBudget;
  /**
   * Holds on frames for the timeline's reorder window: state that will later emit an event
   * whose first frame is already past holds that frame until it emits the event or is
   * dropped (src/util/frame-holds.ts). Every `hold` is matched by one `release`.
   */
  readonly holds?: FrameHolds;
  /**
   * False when nothing consumes timeline events (a frame listing such as `read`): `emit` then
   * drops them, so a dissector may skip building an event (its details, decoded texts and the
   * findings only the event carries). What the frame shows — its layers and `packetFinding` —
   * must stay the same either way. Undefined counts as true.
   */
  readonly wantsEvents?: boolean;
  /**
   * The tcp.stream number to show for a conversation's index (TcpConversationInfo.index) in an
   * event's text. The same number, except in a lane of a capture split by flow, whose indices
   * count its own conversations only (the lane then works out the capture's number). Undefined: the index.
   */
  tcpStream?(index: number): number;
}

/** The tcp.stream number an event shows for a conversation's index (see EngineContext.tcpStream). */
export function tcpStreamNumber(ctx: EngineContext, index: number): number {
  return ctx.tcpStream?.(index) ?? index;
}

/**
 * The capture's tcp.stream (or udp.stream) numbers in a lane of a capture split by flow: told
 * of each conversation the lane numbers, in frame order, it gives the capture-wide number of one.
 */
export interface StreamNumbers {
  /** The lane's conversation `index` (0, 1, 2, … in turn) was first seen in frame `frame`. */
  created(index: number, frame: number): void;
  /** The capture-wide stream number of the lane's conversation `index`, asked while frame `current` is being read. */
  number(index: number, current: number): number;
}

/** A lane's capture-wide numbers: TCP conversations and UDP flows are numbered apart. */
export interface LaneStreams {
  readonly tcp: StreamNumbers;
  readonly udp: StreamNumbers;
}

/** What the engine's own parts (network layer, TCP, UDP) share besides the context given to protocols. */
export interface EngineCore extends EngineContext {
  /** A TCP conversation got a new tcp.stream index (see StreamNumbers). */
  tcpStreamCreated(index: number): void;
  tcpStream(index: number): number;
  /** A UDP flow got a new udp.stream index. */
  udpStreamCreated(index: number): void;
  /** The udp.stream number to show for a flow's index (the index itself but in a lane of a split capture). */
  udpStream(index: number): number;
  /** Capture time (seconds) of the latest frame. */
  readonly lastSec: number;
  /** Runs protocol code so that a bug in it never stops the capture: it becomes a finding. */
  guard(where: string, fn: () => void): void;
  /** Reports an error caught around protocol code (what `guard` does, for callers with their own try). */
  internalError(where: string, err: unknown): void;
}

/** The two directions of a conversation: 0 from the initiator (the client), 1 towards it. */
export type Direction = 0 | 1;

export interface TcpConversationInfo {
  /** tshark's tcp.stream. */
  readonly index: number;
  /** Address and port of each side: [client, server]. The client sent the SYN, or the first segment seen. */
  readonly addr: readonly [string, string];
  readonly port: readonly [number, number];
  /** `ip:port` text of each side. */
  readonly endpoint: readonly [string, string];
  /** True when the handshake was seen, so the client/server roles are certain. */
  readonly sawHandshake: boolean;
}

/** An application protocol on a TCP conversation: fed in-order bytes per direction. */
export interface TcpApp {
  /** In-order bytes; a view valid during the call only. The current frame is `ctx.packet`. */
  data(dir: Direction, bytes: Uint8Array): void;
  /** `length` bytes the capture does not have: the app must resynchronise. */
  gap(dir: Direction, length: number): void;
  /** The connection ended (FIN/RST both ways, idle expiry or end of capture). */
  end(): void;
}

export interface TcpAppFactory {
  readonly name: string;
  /** Well-known ports; a conversation with one of them on the server side is given to this app. */
  readonly ports?: readonly number[];
  /**
   * Heuristic on a direction's payload (the first segments of a conversation, and after a
   * capture starts mid-stream). Port-matched factories are asked first.
   */
  detect?(payload: Uint8Array, dir: Direction, conv: TcpConversationInfo, ctx: EngineContext): boolean;
  create(conv: TcpConversationInfo, ctx: EngineContext): TcpApp;
  /** End of capture, after every conversation ended: flush state shared across conversations. */
  finish?(ctx: EngineContext): void;
}

export interface UdpDatagram {
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** udp.stream */
  readonly stream: number;
  /** The UDP payload (a view into the frame, or a reassembled datagram). */
  readonly payload: Uint8Array;
  /** True when this datagram is a copy quoted in an ICMP error: a bounce, not a new message. */
  readonly quoted: boolean;
  /** For quoted datagrams: the ICMP error's meaning (e.g. "Port unreachable"). */
  readonly icmpReason?: string;
  /** For quoted datagrams: the ICMP error's type and code. */
  readonly icmp?: IcmpError;
  /**
   * IPv4 identification of the datagram (of the quoted copy for a bounce). With the addresses
   * and ports it ties a bounce to the datagram it copies when the quote is too short to hold
   * the application's own identifiers (RFC 792 quotes only the IP header and 8 bytes).
   */
  readonly ipId?: number;
  /** Frames that carried it (several when IP fragments were joined). */
  readonly frames: number[];
  readonly tsSec: number;
  readonly tsNsec: number;
}

/** The ICMP (or ICMPv6) error quoting a datagram. */
export interface IcmpError {
  readonly type: number;
  readonly code: number;
}

/** What identifies a UDP datagram in a bounce's quote when its payload is cut short. */
export function datagramKey(dg: Pick<UdpDatagram, 'src' | 'dst' | 'srcPort' | 'dstPort' | 'ipId'>): string {
  return `${dg.src}|${dg.srcPort}|${dg.dst}|${dg.dstPort}|${dg.ipId ?? ''}`;
}

export interface UdpAppFactory {
  readonly name: string;
  readonly ports?: readonly number[];
  detect?(payload: Uint8Array): boolean;
  /**
   * For a datagram quoted in an ICMP error whose payload is too short for `detect`: true when
   * this protocol dissected the datagram it copies (asked after the ports, before `detect`).
   */
  ownsBounce?(datagram: UdpDatagram): boolean;
  /** Dissects one datagram: adds layers to `ctx.packet`, emits events. */
  dissect(ctx: EngineContext, datagram: UdpDatagram): void;
  /** End of capture: flush pending state (e.g. unanswered requests). */
  finish?(ctx: EngineContext): void;
}

