// Per-direction TCP reassembly: hands the upper protocol its bytes in sequence order, once.
// Out-of-order segments wait (bounded); retransmissions and overlaps keep the first copy and
// a copy that differs is reported; a hole the capture never fills becomes a gap the upper
// protocol is told about, so it can resynchronise. Sequence numbers wrap (RFC 9293 §3.4):
// offsets are unwrapped against the next expected one.

/** What the reassembler tells its owner; the owner forwards data and gaps to the application. */
export interface ReassemblySink {
  data(bytes: Uint8Array): void;
  /** `length` bytes starting at relative offset `from` were never captured. */
  gap(from: number, length: number): void;
  /** A retransmitted byte range differed from the first copy. */
  conflict(from: number, length: number): void;
  /** The pending-segment limit was hit: the oldest hole was declared a gap early. */
  limitHit(bytes: number): void;
}

/** Out-of-order data kept per direction before a hole is declared a gap. */
export const MAX_PENDING_BYTES = 2 * 1024 * 1024;
/** Delivered bytes kept to compare retransmissions against. */
const HISTORY_BYTES = 64 * 1024;
const TWO32 = 4294967296;

interface Segment {
  offset: number;
  data: Uint8Array;
}

export type SegmentKind = 'new' | 'retransmission' | 'out-of-order' | 'empty';

export class TcpDirection {
  /** Raw sequence number that relative offset 0 stands for (the ISN when the SYN was seen). */
  base: number | undefined;
  /** Next relative offset the application expects. */
  next = 0;
  sawSyn = false;
  /** Relative offset of the FIN, once seen. */
  fin: number | undefined;
  private pending: Segment[] = [];
  private pendingBytes = 0;
  private history: Segment[] = [];
  private historyBytes = 0;

  /** Relative offset of a raw sequence number (tshark's relative sequence numbers). */
  relative(seq: number): number {
    if (this.base === undefined) return 0;
    const rel = (seq - this.base + TWO32) % TWO32;
    // Unwrap: choose the value nearest to the next expected offset.
    const wraps = Math.round((this.next - rel) / TWO32);
    return rel + wraps * TWO32;
  }

  /** Relative value for display: modulo 2^32 like tshark. */
  displayRelative(seq: number): number {
    return this.base === undefined ? 0 : (seq - this.base + TWO32) % TWO32;
  }

  syn(seq: number): void {
    if (this.sawSyn && this.base === seq) return; // retransmitted SYN
    this.base = seq;
    this.next = 1;
    this.sawSyn = true;
    this.fin = undefined;
    this.pending = [];
    this.pendingBytes = 0;
    this.history = [];
    this.historyBytes = 0;
  }

  /** Sets the base from the first segment of a capture that starts mid-stream. */
  startMidstream(seq: number): void {
    this.base = (seq - 1 + TWO32) % TWO32;
    this.next = 1;
  }

  /** Feeds one segment's payload; returns how the segment relates to what came before. */
  segment(seq: number, payload: Uint8Array, sink: ReassemblySink): SegmentKind {
    if (payload.length === 0) return 'empty';
    if (this.base === undefined) this.startMidstream(seq);
    let offset = this.relative(seq);
    let data = payload;
    const end = offset + data.length;
    if (end <= this.next) {
      this.compare(offset, data, sink);
      return 'retransmission';
    }
    let kind: SegmentKind = 'new';
    if (offset < this.next) {
      this.compare(offset, data.subarray(0, this.next - offset), sink);
      data = data.subarray(this.next - offset);
      offset = this.next;
      kind = 'retransmission';
    }
    if (offset > this.next) {
      this.queue(offset, data, sink);
      return 'out-of-order';
    }
    this.deliver(data, sink);
    this.drain(sink);
    return kind;
  }

  /** The peer acknowledged up to `ackRel`: bytes before it that we never saw are a gap. */
  acknowledged(ackRel: number, sink: ReassemblySink): void {
    if (this.base === undefined || ackRel <= this.next) return;
    if (this.fin !== undefined && ackRel > this.fin) ackRel = this.fin;
    if (ackRel - this.next > 1 << 30) return; // an ACK that far ahead is not about this data
    const first = this.pending[0];
    const holeEnd = first === undefined ? ackRel : Math.min(first.offset, ackRel);
    if (holeEnd > this.next) {
      sink.gap(this.next, holeEnd - this.next);
      this.next = holeEnd;
      this.drain(sink);
    }
  }

  /** End of the capture or of the connection: every remaining hole is a gap. */
  flush(sink: ReassemblySink): void {
    while (this.pending.length > 0) {
      const first = this.pending[0]!;
      if (first.offset > this.next) {
        sink.gap(this.next, first.offset - this.next);
        this.next = first.offset;
      }
      this.drain(sink);
    }
  }

  private deliver(data: Uint8Array, sink: ReassemblySink): void {
    this.remember(this.next, data);
    this.next += data.length;
    sink.data(data);
  }

  private drain(sink: ReassemblySink): void {
    while (this.pending.length > 0) {
      const seg = this.pending[0]!;
      if (seg.offset > this.next) return;
      this.pending.shift();
      this.pendingBytes -= seg.data.length;
      const end = seg.offset + seg.data.length;
      if (end <= this.next) continue;
      this.deliver(seg.data.subarray(this.next - seg.offset), sink);
    }
  }

  private queue(offset: number, data: Uint8Array, sink: ReassemblySink): void {
    // Keep the first copy of every byte: trim against queued segments.
    let i = 0;
    while (i < this.pending.length && this.pending[i]!.offset + this.pending[i]!.data.length <= offset) i++;
    let start = offset;
    let rest = data;
    const pieces: Segment[] = [];
    for (let j = i; j < this.pending.length && rest.length > 0; j++) {
      const seg = this.pending[j]!;
      const segEnd = seg.offset + seg.data.length;
      if (seg.offset >= start + rest.length) break;
      if (seg.offset > start) {
        pieces.push({ offset: start, data: rest.subarray(0, seg.offset - start) });
      }
      const overlapFrom = Math.max(start, seg.offset);
      const overlapTo = Math.min(start + rest.length, segEnd);
      if (overlapTo > overlapFrom && !equalBytes(rest.subarray(overlapFrom - start, overlapTo - start), seg.data.subarray(overlapFrom - seg.offset, overlapTo - seg.offset))) {
        sink.conflict(overlapFrom, overlapTo - overlapFrom);
      }
      const consumed = Math.max(0, segEnd - start);
      rest = rest.subarray(Math.min(rest.length, consumed));
      start = Math.max(start, segEnd);
    }
    if (rest.length > 0) pieces.push({ offset: start, data: rest });
    for (const piece of pieces) {
      const copy = { offset: piece.offset, data: piece.data.slice() };
      let k = 0;
      while (k < this.pending.length && this.pending[k]!.offset < copy.offset) k++;
      this.pending.splice(k, 0, copy);
      this.pendingBytes += copy.data.length;
    }
    if (this.pendingBytes > MAX_PENDING_BYTES) {
      const first = this.pending[0]!;
      sink.limitHit(this.pendingBytes);
      sink.gap(this.next, first.offset - this.next);
      this.next = first.offset;
      this.drain(sink);
    }
  }

  private remember(offset: number, data: Uint8Array): void {
    if (data.length >= HISTORY_BYTES) {
      this.history = [{ offset: offset + data.length - HISTORY_BYTES, data: data.slice(data.length - HISTORY_BYTES) }];
      this.historyBytes = HISTORY_BYTES;
      return;
    }
    this.history.push({ offset, data: data.slice() });
    this.historyBytes += data.length;
    while (this.historyBytes - this.history[0]!.data.length >= HISTORY_BYTES) {
      this.historyBytes -= this.history.shift()!.data.length;
    }
  }

  /** Compares a retransmitted range with the delivered copy still in the history. */
  private compare(offset: number, data: Uint8Array, sink: ReassemblySink): void {
    const end = offset + data.length;
    for (const seg of this.history) {
      const segEnd = seg.offset + seg.data.length;
      const from = Math.max(offset, seg.offset);
      const to = Math.min(end, segEnd);
      if (to <= from) continue;
      if (!equalBytes(data.subarray(from - offset, to - offset), seg.data.subarray(from - seg.offset, to - seg.offset))) {
        sink.conflict(from, to - from);
        return;
      }
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
