// The requests `stats` has seen and may still see answered, for response times: by the
// request's frame (answers that link to it: request_in, response_to) or by a call key (DCE/RPC
// datagrams: activity and sequence number). One bounded table in insertion order whose oldest
// entry goes first, as a FifoMap of `frame:P:N` and `call:P:K` keys was (the behaviour is that
// one's; test/pending-calls.test.ts compares them).
//
// Why not that FifoMap: on spam most requests are never answered, and a frame-linked entry
// stays after its answer (several answers may name one request), so the table fills to its
// bound; as strings, slot objects and Map entries that was about 200 bytes an entry (50 MB at
// 900,000 frames of spam-1m, 200 MB at the bound). Requests come in frame order, so the
// frame-linked entries are a sorted queue: typed arrays, looked up by bisection, 41 bytes an
// entry, with no object per request. Call keys are answered or not, and stay a FifoMap.
import { FifoMap } from '../util/fifo-map.js';

/** A frame entry's key among the call keys (which all start `call:`). */
const frameKey = (protocol: string, frame: number): string => `frame:${protocol}:${frame}`;

interface CallEntry<V> {
  readonly value: V;
  /** The request's time. */
  readonly t: number;
  /** Insertion number across both kinds (what the oldest is). */
  readonly seq: number;
}

/** Each entry: a value and the request's time (kept apart, so no object per request is needed). */
export class PendingCalls<V> {
  /** Protocol names as small numbers, for the frame queue. */
  private readonly protocols = new Map<string, number>();
  // The frame queue, from `head` to `tail`: frame number, protocol, insertion number, time, value.
  private frames = new Float64Array(1024);
  private protos = new Uint8Array(1024);
  private seqs = new Float64Array(1024);
  private times = new Float64Array(1024);
  private values: (V | undefined)[] = new Array<V | undefined>(1024);
  private head = 0;
  private tail = 0;
  private readonly calls = new FifoMap<string, CallEntry<V>>();
  private seq = 0;
  /** Whether some frame entries went with the call keys (see setFrame). */
  private spilled = false;
  /** The time of the request the last successful getFrame or getCall found. */
  foundTime = 0;

  get size(): number {
    return this.tail - this.head + this.calls.size;
  }

  /** The value of a frame's request (its time in `foundTime`). */
  getFrame(protocol: string, frame: number): V | undefined {
    const i = this.findFrame(protocol, frame);
    if (i >= 0) {
      this.foundTime = this.times[i]!;
      return this.values[i];
    }
    return this.spilled ? this.getCall(frameKey(protocol, frame)) : undefined;
  }

  hasFrame(protocol: string, frame: number): boolean {
    return this.findFrame(protocol, frame) >= 0 || (this.spilled && this.calls.has(frameKey(protocol, frame)));
  }

  /** A request by its frame. Frames come in order; one that does not (or a 257th protocol) goes with the call keys. */
  setFrame(protocol: string, frame: number, t: number, value: V): void {
    let proto = this.protocols.get(protocol);
    if (proto === undefined && this.protocols.size < 256) {
      proto = this.protocols.size;
      this.protocols.set(protocol, proto);
    }
    if (proto === undefined || (this.tail > this.head && frame < this.frames[this.tail - 1]!)) {
      this.spilled = true;
      this.setCall(frameKey(protocol, frame), t, value);
      return;
    }
    if (this.tail === this.frames.length) this.makeRoom();
    const at = this.tail++;
    this.frames[at] = frame;
    this.protos[at] = proto;
    this.seqs[at] = this.seq++;
    this.times[at] = t;
    this.values[at] = value;
  }

  /** The value of a call's request (its time in `foundTime`). */
  getCall(key: string): V | undefined {
    const entry = this.calls.get(key);
    if (entry === undefined) return undefined;
    this.foundTime = entry.t;
    return entry.value;
  }

  hasCall(key: string): boolean {
    return this.calls.has(key);
  }

  setCall(key: string, t: number, value: V): void {
    this.calls.set(key, { value, t, seq: this.seq++ });
  }

  deleteCall(key: string): void {
    this.calls.delete(key);
  }

  /** Forgets the entry added longest ago, of either kind. */
  deleteOldest(): void {
    const call = this.calls.oldestValue();
    if (this.tail > this.head && (call === undefined || this.seqs[this.head]! < call.seq)) {
      this.values[this.head] = undefined;
      this.head++;
      if (this.head === this.tail) this.head = this.tail = 0;
    } else if (call !== undefined) {
      this.calls.deleteOldest();
    }
  }

  clear(): void {
    this.head = this.tail = 0;
    this.spilled = false;
    this.values.fill(undefined);
    this.calls.clear();
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
      this.seqs.copyWithin(0, this.head, this.tail);
      this.times.copyWithin(0, this.head, this.tail);
      this.values.copyWithin(0, this.head, this.tail);
      this.values.fill(undefined, live);
    } else {
      const size = this.frames.length * 2;
      const grow = <T extends Float64Array | Uint8Array>(old: T, made: T): T => {
        made.set(old.subarray(this.head, this.tail));
        return made;
      };
      this.frames = grow(this.frames, new Float64Array(size));
      this.protos = grow(this.protos, new Uint8Array(size));
      this.seqs = grow(this.seqs, new Float64Array(size));
      this.times = grow(this.times, new Float64Array(size));
      const values = new Array<V | undefined>(size);
      for (let i = 0; i < live; i++) values[i] = this.values[this.head + i];
      this.values = values;
    }
    this.head = 0;
    this.tail = live;
  }
}
