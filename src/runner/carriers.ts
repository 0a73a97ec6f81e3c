// The warnings of the layers that carried an event. A finding on a lower layer (a UDP or
// NetBIOS datagram length that lies, a TCP gap, an IP fragment overlap) belongs to the frame,
// so the timeline's event would look clean without it: the runner remembers the lower-layer
// warnings and errors of recent frames and adds them to each event whose frames they are on.
import type { TimelineEvent } from '../model/events.js';
import type { Finding } from '../model/findings.js';
import type { Packet } from '../model/packet.js';

/**
 * How far back (in frames) carrier findings are remembered; events reach back at most this far.
 * A distance, not a count of frames with findings: on spam a frame in twenty has a warning, and
 * a count would keep an hour of them.
 */
const MAX_FRAMES = 65536;
const PRUNE_EVERY = 4096;
/** Link and network layers carry every event, whatever its transport path names. */
const ALWAYS = ['frame', 'eth', 'vlan', 'llc', 'sll', 'null', 'ppp', 'pppoes', 'ip', 'ipv6', 'ipx'];

/** The protocol a finding id names: the part before its first dot. */
function protocolOf(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

export class CarrierFindings {
  private readonly byFrame = new Map<number, Finding[]>();
  private nextPrune = PRUNE_EVERY;

  /** Remembers a dissected frame's warnings and errors. */
  packet(packet: Packet): void {
    let kept: Finding[] | undefined;
    for (const item of packet.findings) {
      if (item.severity === 'note') continue;
      (kept ??= []).push(item);
    }
    const number = packet.frame.number;
    if (number >= this.nextPrune) this.prune(number);
    if (kept !== undefined) this.byFrame.set(number, kept);
  }

  /** The event with the carrier findings of its frames added (itself when there are none). */
  attach(event: TimelineEvent): TimelineEvent {
    if (this.byFrame.size === 0 || event.kind === 'finding') return event;
    // Most events' frames carried no warning: look before building the carrier set.
    if (!event.frames.some((frame) => this.byFrame.has(frame))) return event;
    const carriers = new Set([...ALWAYS, ...event.transport.split('/')]);
    carriers.delete(event.protocol);
    let added: Finding[] | undefined;
    for (const frame of event.frames) {
      for (const item of this.byFrame.get(frame) ?? []) {
        if (!carriers.has(protocolOf(item.id))) continue;
        const known = event.findings.some((x) => x.id === item.id && x.frame === item.frame && x.summary === item.summary);
        if (!known && added?.includes(item) !== true) (added ??= []).push(item);
      }
    }
    return added === undefined ? event : { ...event, findings: [...event.findings, ...added] };
  }

  /** A new capture: frame numbers start again. */
  clear(): void {
    this.byFrame.clear();
    this.nextPrune = PRUNE_EVERY;
  }

  /** Forgets frames more than MAX_FRAMES before `number` (every PRUNE_EVERY frames, not per frame). */
  private prune(number: number): void {
    this.nextPrune = number + PRUNE_EVERY;
    // Frames come in increasing order, so the map's first entries are the oldest.
    for (const old of this.byFrame.keys()) {
      if (old > number - MAX_FRAMES) break;
      this.byFrame.delete(old);
    }
  }
}
