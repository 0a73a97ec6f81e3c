// The dissection engine: frames in, packets (layers + columns) and timeline events out. It
// decodes the link layer itself and hands the rest to its parts: the network layer (IP,
// defragmentation, ICMP; network.ts), TCP conversations and reassembly (tcp-conversations.ts)
// and UDP (udp.ts), which give application bytes to the protocols the engine is given.
import type { Frame } from '../capture/frame.js';
import type { Finding } from '../model/findings.js';
import { FRAME_FINDINGS, MSGSCOPE_FINDINGS } from './findings.js';
import type { TimelineEvent } from '../model/events.js';
import { FramePacket, type Packet } from '../model/packet.js';
import { decodeLink, settleLinkAddresses } from '../net/link.js';
import { decodeArp } from '../net/arp.js';
import { decodeIpx } from '../net/ipx.js';
import type { EngineCore, EngineOptions, LaneStreams, Route } from './context.js';
import { DEFAULT_OPTIONS } from './context.js';
import { Network } from './network.js';
import { instantiate, type ProtocolSet } from './protocols.js';
import { TcpConversations } from './tcp-conversations.js';
import { UdpFlows } from './udp.js';
import { TimerQueue, type Timer } from './timers.js';
import { BufferBudget } from '../net/stream-buffer.js';
import { TCP_FINDINGS } from '../net/findings.js';
import { HoldRegistry } from '../util/frame-holds.js';

export interface EngineHandlers {
  /** Every dissected frame, in order, while its data is still valid. */
  packet?(packet: Packet): void;
  /** Every timeline event, when it is complete (not necessarily in frame order). */
  event?(event: TimelineEvent): void;
  /** The capture-wide tcp.stream and udp.stream numbers, in a lane of a capture split by flow (else each index is its number). */
  readonly streams?: LaneStreams;
}

/**
 * Capture seconds a hold keeps the reorder window's watermark back at most: five times the
 * longest protocol timeout (60 s: DCE/RPC CL responses, MSNP ACKs), so request/response state
 * never reaches it; what does is state that lives as long as its connection (a switchboard's close
 * event keyed by its last data frame, the note that a connection's version was only inferred,
 * a request never answered until the connection ends). Their events, when they come, are
 * shown out of order with the timeline.late note rather than holding every later event back.
 */
export const HOLD_HORIZON = 300;

/** Frames between sweeps of idle conversations and expired fragments. */
export const SWEEP_EVERY = 65536;

export class Engine implements EngineCore {
  readonly options: EngineOptions;
  packet: Packet | undefined;
  private readonly network: Network;
  private readonly tcp: TcpConversations;
  private readonly udp: UdpFlows;
  private readonly timers = new TimerQueue();
  readonly buffers: BufferBudget;
  /**
   * Frames pending state holds for the reorder window (`watermark`): only when events are
   * wanted (a frame listing has no window, and its dissectors then keep no holds).
   */
  readonly holds: HoldRegistry | undefined;
  /** Whether an analysis consumes events (see EngineContext.wantsEvents). */
  readonly wantsEvents: boolean;
  private frameCount = 0;
  private lastFrame = 0;
  private latestSec = 0;
  private finished = false;

  /** `protocols`: the application protocols to dissect, e.g. `defaultProtocols()` from src/protocols/index.ts. */
  constructor(private readonly handlers: EngineHandlers, options: Partial<EngineOptions>, protocols: ProtocolSet) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
    this.buffers = new BufferBudget(this.options.bufferedBytes);
    this.wantsEvents = handlers.event !== undefined;
    this.holds = this.wantsEvents ? new HoldRegistry() : undefined;
    const apps = instantiate(protocols);
    this.tcp = new TcpConversations(this, apps.tcp);
    this.udp = new UdpFlows(this, apps.udp);
    this.network = new Network(this, this.tcp, this.udp);
  }

  // ---- EngineContext ----

  emit(event: TimelineEvent): void {
    this.handlers.event?.(event);
  }

  packetFinding(item: Finding): void {
    if (this.packet !== undefined && (item.frame === this.packet.frame.number || item.frame === 0)) this.packet.findings.push(item);
  }

  standaloneFinding(item: Finding, protocol: string, route: Route, tsSec: number, tsNsec: number): void {
    this.packetFinding(item);
    if (this.wantsEvents) this.emit({ kind: 'finding', tsSec, tsNsec, frames: item.frame > 0 ? [item.frame] : [], protocol, transport: route.transport, src: route.src, dst: route.dst, findings: [item] });
  }

  schedule(atSec: number, fire: () => void): Timer {
    return this.timers.schedule(atSec, fire);
  }

  tcpStream(index: number): number {
    return this.handlers.streams?.tcp.number(index, this.packet?.frame.number ?? this.lastFrame + 1) ?? index;
  }

  udpStream(index: number): number {
    return this.handlers.streams?.udp.number(index, this.packet?.frame.number ?? this.lastFrame + 1) ?? index;
  }

  /** TCP conversations tell the engine each new tcp.stream index, in turn. */
  tcpStreamCreated(index: number): void {
    this.handlers.streams?.tcp.created(index, this.frameNow);
  }

  /** UDP tells the engine each new udp.stream index, in turn. */
  udpStreamCreated(index: number): void {
    this.handlers.streams?.udp.created(index, this.frameNow);
  }

  /** The frame being read, else the last one read (a timer or the end of the capture). */
  private get frameNow(): number {
    return this.packet?.frame.number ?? this.lastFrame;
  }

  // ---- frames ----

  frame(frame: Frame): void {
    this.passTime(frame.tsSec);
    const packet = new FramePacket(frame);
    this.packet = packet;
    this.frameCount++;
    this.buffers.owner = undefined;
    this.lastFrame = frame.number;
    this.latestSec = frame.tsSec;
    try {
      const start = decodeLink(packet, frame.data, frame.linkType);
      if (start.ethertype === 0x0800) this.network.ipv4(packet, frame.data, start.offset, undefined);
      else if (start.ethertype === 0x86dd) this.network.ipv6(packet, frame.data, start.offset, undefined);
      else if (start.ethertype === 0x0806) decodeArp(packet, frame.data, start.offset);
      else if (start.ethertype === 0x8137) decodeIpx(packet, frame.data, start.offset);
    } catch (err) {
      this.reportError(packet, 'engine', err);
    }
    settleLinkAddresses(packet);
    if (frame.caplen < frame.len && packet.layers.length > 0) {
      // A snap length cut the frame: upper layers may be missing, as tshark notes.
      packet.findings.push(FRAME_FINDINGS.snaplen.at(frame.number, `frame cut by the snap length: ${frame.caplen} of ${frame.len} bytes captured`));
    }
    this.sweepAt(frame.number);
    if (this.buffers.exceeded) this.relieveBuffers(packet);
    this.handlers.packet?.(packet);
    this.packet = undefined;
  }

  /**
   * A frame of the capture that another lane dissects (a capture split by flow): what reading
   * it does besides dissecting — time moves on (timers fire, holds age) and the periodic sweep
   * comes at the same frame as in one engine. The main thread sends one when capture time
   * passes a new second or the frame number is a multiple of SWEEP_EVERY.
   */
  tick(number: number, tsSec: number): void {
    this.passTime(tsSec);
    this.lastFrame = number;
    this.latestSec = tsSec;
    this.sweepAt(number);
  }

  /** Before a frame: capture time has reached `tsSec` (holds stamped with it, due timers fired). */
  private passTime(tsSec: number): void {
    if (this.holds !== undefined) this.holds.now = tsSec;
    this.timers.advance(tsSec, this.runTimer);
  }

  /** After a frame: the periodic sweep, by frame number (the frame count within one capture), so a lane sweeps where one engine does. */
  private sweepAt(number: number): void {
    if (number % SWEEP_EVERY === 0) this.sweep(false);
  }

  /** End of input: closes every conversation, reports incomplete reassemblies, flushes apps. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.timers.clear();
    this.sweep(true);
    this.udp.finish();
    this.tcp.finish();
  }

  /**
   * No event emitted from now on has a first frame below this: the oldest frame pending state
   * holds, or the next frame. Timers due before the next frame fire then, but what they finish
   * holds its frame until it does.
   */
  get watermark(): number {
    return Math.min(this.heldFrom, this.lastFrame + 1);
  }

  /** The oldest frame pending state holds (within HOLD_HORIZON), or Infinity: the watermark without the next frame. */
  get heldFrom(): number {
    return this.holds?.oldestSince(this.latestSec - HOLD_HORIZON) ?? Infinity;
  }

  /**
   * No event emitted from now on has any frame below this: the oldest frame held, including
   * holds past the horizon (their late events), or the next frame.
   */
  get oldestHeld(): number {
    return Math.min(this.holds?.oldestAny ?? Infinity, this.lastFrame + 1);
  }

  get framesSeen(): number {
    return this.frameCount;
  }

  /** Capture time (seconds) of the latest frame. */
  get lastSec(): number {
    return this.latestSec;
  }

  internalError(where: string, err: unknown): void {
    this.reportError(this.packet, where, err);
  }

  private reportError(packet: Packet | undefined, where: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const item = MSGSCOPE_FINDINGS.internalError.at(packet?.frame.number ?? 0, `internal error in the ${where} dissector: ${message}`);
    if (packet !== undefined) packet.findings.push(item);
    else process.emitWarning(item.summary);
  }

  /** Past the buffer budget: the connections holding the most give their bytes up, one finding each. */
  private relieveBuffers(packet: Packet): void {
    for (let buf = this.buffers.largest(); buf !== undefined && this.buffers.exceeded; buf = this.buffers.largest()) {
      const bytes = buf.length;
      this.guard('buffer budget', () => buf.evict?.());
      if (buf.length > 0) buf.clear();
      packet.findings.push(TCP_FINDINGS.bufferBudget.at(packet.frame.number,
        `more than ${this.options.bufferedBytes} bytes of unfinished application messages held across connections: the largest (${bytes} bytes) was dropped`));
      if (buf.owner !== undefined) this.tcp.stalled(buf.owner);
    }
  }

  /** Fires one timer between frames (no current packet), guarded like a dissector. */
  private readonly runTimer = (fire: () => void): void => this.guard('timer', fire);

  /** Runs an application dissector so that a bug in one never stops the capture. */
  guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.reportError(this.packet, where, err);
    }
  }

  private sweep(all: boolean): void {
    this.tcp.sweep(this.latestSec, all);
    this.udp.sweep(this.latestSec, all);
    this.network.sweep(this.latestSec, all);
  }
}
