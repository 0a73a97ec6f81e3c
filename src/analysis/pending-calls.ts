// The requests `stats` has seen and may still see answered, for response times: by the
// request's frame (answers that link to it: request_in, response_to) or by a call key (DCE/RPC
// datagrams: activity and sequence number). Each entry is a request's time and its row in the
// command table (a number).
//
// Two kinds, two ways to end:
// - Frame-linked requests stay after their answer (several answers may name one request: MSNP
//   server lines carrying one TrID, an SMB transaction's interim and final responses), and the
//   engine's links have no time limit (an SMB request pending on a live connection may be
//   answered hours later), so they stay until the bound (MAX_FRAME_REQUESTS), oldest first. On
//   spam they are most of the table (spam-1m: 200,000 at the end), so they are compact: frames
//   come in order, so they are a sorted queue of typed arrays looked up by bisection, 17 bytes
//   an entry, no object per request.
// - Call keys are answered once (the answer deletes them) or never: a DCE/RPC datagram request
//   unanswered after the engine's response timeout (CL_RESPONSE_TIMEOUT, capture time) has been
//   finished as unanswered by the engine and goes here too (`expire`), so spam's unanswered
//   NetrSendMessage calls no longer fill the table (they were 87,000 strings of ~190 bytes at
//   frame 900,000 of spam-1m and grew with the file). The bound (MAX_CALL_REQUESTS, the
//   engine's own count of pending datagram calls) holds a burst within one timeout.
// A request that goes because a bound was reached sets `full` (the report names the table).
import { FifoMap } from '../util/fifo-map.js';
import { CL_RESPONSE_TIMEOUT } from '../protocols/dcerpc/cl.js';
import { grown } from '../util/typed-arrays.js';

/** Frame-linked requests kept (17 bytes each: 17 MB at the bound). */
export const MAX_FRAME_REQUESTS = 1_000_000;
/** Call-keyed requests kept within one timeout (about 200 bytes each). */
export const MAX_CALL_REQUESTS = 65_536;

interface CallEntry {
  readonly value: number;
  /** The request's time. */
  readonly t: number;
}

export class PendingCalls {
  /** Protocol names as small numbers, for the frame queue. */
  private readonly protocols = new Map<string, number>();
  // The frame queue, from `head` to `tail`, sorted by frame: frame number, protocol, time, value.
  private frames = new Uint32Array(1024);
  private protos = new Uint8Array(1024);
  private times = new Float64Array(1024);
  private values = new Uint32Array(1024);
  private head = 0;
  private tail = 0;
  private readonly calls = new FifoMap<string, CallEntry>();
  /** The latest request or answer time seen (capture times may step back; expiry never does). */
  private now = -Infinity;
  /** Whether a request went because a bound was reached. */
  full = false;
  /** The time of the request the last successful getFrame or getCall found. */
  foundTime = 0;

  /**
   * `maxFrames`, `maxCalls`: the bounds; `callTimeout`: seconds after which an unanswered call
   * goes (smaller in tests).
   */
  constructor(
    private readonly maxFrames = MAX_FRAME_REQUESTS,
    private readonly maxCalls = MAX_CALL_REQUESTS,
    private readonly callTimeout = CL_RESPONSE_TIMEOUT,
  ) {}

  get size(): number {
    return this.tail - this.head + this.calls.size;
  }

  /** The value of a frame's request (its time in `foundTime`), -1 when none. */
  getFrame(protocol: string, frame: number): number {
    const i = this.findFrame(protocol, frame);
    if (i < 0) return -1;
    this.foundTime = this.times[i]!;
    return this.values[i]!;
  }

  hasFrame(protocol: string, frame: number): boolean {
    return this.findFrame(protocol, frame) >= 0;
  }

  /**
   * A request by its frame (frame numbers below 2^32; value below 2^32). Frames come in order
   * (stats sees a file's frames in order); one that does not is put in its place, at a cost.
   * At the bound the entry of the lowest frame goes first.
   */
  setFrame(protocol: string, frame: number, t: number, value: number): void {
    let proto = this.protocols.get(protocol);
    if (proto === undefined) {
      // The protocols with a link field are a handful; more than 256 cannot be told apart here.
      if (this.protocols.size >= 256) return;
      proto = this.protocols.size;
      this.protocols.set(protocol, proto);
    }
    if (this.tail - this.head >= this.maxFrames) {
      this.full = true;
      this.dropFrontFrame();
    }
    if (this.tail === this.frames.length) this.makeRoom();
    let at = this.tail++;
    if (at > this.head && frame < this.frames[at - 1]!) {
      // Out of order: after the last entry of a frame not above it.
      const to = this.upperBound(frame);
      this.frames.copyWithin(to + 1, to, at);
      this.protos.copyWithin(to + 1, to, at);
      this.times.copyWithin(to + 1, to, at);
      this.values.copyWithin(to + 1, to, at);
      at = to;
    }
    this.frames[at] = frame;
    this.protos[at] = proto;
    this.times[at] = t;
    this.values[at] = value;
  }

  /** The value of a call's request (its time in `foundTime`), -1 when none. */
  getCall(key: string): number {
    const entry = this.calls.get(key);
    if (entry === undefined) return -1;
    this.foundTime = entry.t;
    return entry.value;
  }

  hasCall(key: string): boolean {
    return this.calls.has(key);
  }

  /** A request by its call key; at the bound the oldest call goes first. */
  setCall(key: string, t: number, value: number): void {
    if (this.calls.size >= this.maxCalls && !this.calls.has(key)) {
      this.full = true;
      this.calls.deleteOldest();
    }
    this.calls.set(key, { value, t });
  }

  deleteCall(key: string): void {
    this.calls.delete(key);
  }

  /**
   * Capture time has reached `t`: calls requested more than `callTimeout` seconds before the
   * latest time seen will not be answered (the engine has finished them unanswered). Oldest
   * first: a call behind a later one waits for it (calls come in time order but for clock steps).
   */
  expire(t: number): void {
    if (t > this.now) this.now = t;
    const limit = this.now - this.callTimeout;
    for (let oldest = this.calls.oldestValue(); oldest !== undefined && oldest.t < limit; oldest = this.calls.oldestValue()) this.calls.deleteOldest();
  }

  clear(): void {
    this.head = this.tail = 0;
    this.calls.clear();
    this.now = -Infinity;
  }

  private dropFrontFrame(): void {
    this.head++;
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  /** The first queue index whose frame is above `frame`. */
  private upperBound(frame: number): number {
    const frames = this.frames;
    let lo = this.head;
    let hi = this.tail - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (frames[mid]! <= frame) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The queue index of a frame's entry for a protocol, -1 when none. */
  private findFrame(protocol: string, frame: number): number {
    const proto = this.protocols.get(protocol);
    if (proto === undefined) return -1;
    const frames = this.frames;
    // The first entry of that frame number, then the run of entries of that frame (one per protocol at most).
    let lo = this.head;
    let hi = this.tail;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (frames[mid]! < frame) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.tail && frames[i] === frame; i++) if (this.protos[i] === proto) return i;
    return -1;
  }

  /** Full at the tail: moves the live entries to the front, or doubles the arrays when they are more than half of them. */
  private makeRoom(): void {
    const live = this.tail - this.head;
    if (live * 2 <= this.frames.length) {
      this.frames.copyWithin(0, this.head, this.tail);
      this.protos.copyWithin(0, this.head, this.tail);
      this.times.copyWithin(0, this.head, this.tail);
      this.values.copyWithin(0, this.head, this.tail);
    } else {
      const size = this.frames.length * 2;
      const { head, tail } = this;
      this.frames = grown(this.frames.subarray(head, tail), new Uint32Array(size));
      this.protos = grown(this.protos.subarray(head, tail), new Uint8Array(size));
      this.times = grown(this.times.subarray(head, tail), new Float64Array(size));
      this.values = grown(this.values.subarray(head, tail), new Uint32Array(size));
    }
    this.head = 0;
    this.tail = live;
  }
}
