// The warnings of the layers that carried an event. A finding on a lower layer (a UDP or
// NetBIOS datagram length that lies, a TCP gap, an IP fragment overlap) belongs to the frame,
// so the timeline's event would look clean without it: the runner remembers the lower-layer
// warnings and errors of recent frames and adds them to each event whose frames they are on.
import type { TimelineEvent } from '../model/events.js';
import type { Finding } from '../model/findings.js';
import type { Packet } from '../model/packet.js';

/**
 * How far back (in frames) carrier findings are remembered at most; events reach back at most
 * this far. A distance, not a count of frames with findings: on spam a frame in twenty has a
 * warning, and a count kept an hour of them. Frames below every hold are forgotten sooner
 * (`forgetBelow`): no event to come can name them.
 */
const MAX_FRAMES = 65536;
/** Link and network layers carry every event, whatever its transport path names. */
const ALWAYS = ['frame', 'eth', 'vlan', 'llc', 'sll', 'null', 'ppp', 'pppoes', 'ip', 'ipv6', 'ipx'];

/** The protocol a finding id names: the part before its first dot. */
function protocolOf(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

export class CarrierFindings {
  // Frames with warnings in increasing order (frames come in order, and are forgotten from the
  // oldest): two arrays from `head` on, searched by bisection. No map to keep up per frame.
  private frames: number[] = [];
  private lists: Finding[][] = [];
  private head = 0;

  /** Remembers a dissected frame's warnings and errors. */
  packet(packet: Packet): void {
    const number = packet.frame.number;
    this.forgetBelow(number - MAX_FRAMES + 1);
    let kept: Finding[] | undefined;
    for (const item of packet.findings) {
      if (item.severity === 'note') continue;
      (kept ??= []).push(item);
    }
    if (kept === undefined) return;
    const last = this.frames.length - 1;
    if (last >= this.head && this.frames[last]! >= number) {
      // Not after the newest (frames come in order): keep the order, as a map would by number.
      const at = this.find(number);
      if (at >= 0) this.lists[at] = kept;
      return;
    }
    if (this.size >= MAX_FRAMES) this.head++;
    this.frames.push(number);
    this.lists.push(kept);
  }

  /** The event with the carrier findings of its frames added (itself when there are none). */
  attach(event: TimelineEvent): TimelineEvent {
    if (this.size === 0 || event.kind === 'finding') return event;
    // Most events' frames carried no warning: look before building the carrier set.
    if (!event.frames.some((frame) => this.find(frame) >= 0)) return event;
    const carriers = new Set([...ALWAYS, ...event.transport.split('/')]);
    carriers.delete(event.protocol);
    let added: Finding[] | undefined;
    for (const frame of event.frames) {
      const at = this.find(frame);
      if (at < 0) continue;
      for (const item of this.lists[at]!) {
        if (!carriers.has(protocolOf(item.id))) continue;
        const known = event.findings.some((x) => x.id === item.id && x.frame === item.frame && x.summary === item.summary);
        if (!known && added?.includes(item) !== true) (added ??= []).push(item);
      }
    }
    return added === undefined ? event : { ...event, findings: [...event.findings, ...added] };
  }

  /**
   * Forgets the frames below `frame`: the engine's oldest hold (overdue ones included) — every
   * event still to come holds its first frame until emitted, and its frames are not older — or
   * the distance bound. Frames arrive in increasing order, so the oldest entry is the lowest frame.
   */
  forgetBelow(frame: number): void {
    const frames = this.frames;
    let head = this.head;
    while (head < frames.length && frames[head]! < frame) head++;
    if (head === this.head) return;
    this.head = head;
    // The forgotten front is dropped once it is most of the arrays (amortised constant time).
    if (head === frames.length) this.clear();
    else if (head > 1024 && head * 2 > frames.length) {
      this.frames = frames.slice(head);
      this.lists = this.lists.slice(head);
      this.head = 0;
    }
  }

  /** Frames remembered. */
  get size(): number {
    return this.frames.length - this.head;
  }

  /** A new capture: frame numbers start again. */
  clear(): void {
    this.frames = [];
    this.lists = [];
    this.head = 0;
  }

  /** Index of `frame` in the arrays, or -1. */
  private find(frame: number): number {
    const frames = this.frames;
    let lo = this.head;
    let hi = frames.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = frames[mid]!;
      if (at === frame) return mid;
      if (at < frame) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
