// Per-direction TCP reassembly: hands the upper protocol its bytes in sequence order, once.
// Out-of-order segments wait (bounded per direction in bytes and segments, and across all
// directions by a shared budget); retransmissions and overlaps keep the first copy and a copy
// that differs is reported; a hole the capture never fills becomes a gap the upper protocol
// is told about, so it can resynchronise. Sequence numbers wrap (RFC 9293 §3.4): offsets are
// unwrapped against the next expected one. A direction that carries no out-of-order data and
// no retransmission allocates nothing but its delivered-bytes history, which starts small.

import { giveBack, takeRoom } from './stream-buffer.js';
import { copyBytes } from '../util/bytes.js';

/** What the reassembler tells its owner; the owner forwards data and gaps to the application. */
export interface ReassemblySink {
  data(bytes: Uint8Array): void;
  /** `length` bytes starting at relative offset `from` were never captured. */
  gap(from: number, length: number): void;
  /** A retransmitted byte range differed from the first copy. */
  conflict(from: number, length: number): void;
  /** The pending-data bound was hit: the oldest hole was declared a gap. */
  limitHit(bytes: number): void;
}

/** Out-of-order data kept per direction before a hole is declared a gap. */
export const MAX_PENDING_BYTES = 2 * 1024 * 1024;
/** Out-of-order segments kept per direction (tiny segments would otherwise cost far more than their bytes). */
export const MAX_PENDING_SEGMENTS = 4096;
/** Delivered bytes kept to compare retransmissions against. */
const HISTORY_BYTES = 64 * 1024;
/** A history's first 512 bytes are outside the budget across conversations. */
const FIRST_HISTORY = 512;
/**
 * The smallest history ring: a ring starts as small as what was delivered, since most
 * conversations with an application deliver a few short messages per direction (an NBSS session
 * request of 72 bytes and its 4-byte answer, then silence), and open ones are kept by the
 * thousand.
 */
const MIN_HISTORY = 64;
const TWO32 = 4294967296;

/** The part of a history ring of `size` bytes counted against the budget across conversations. */
function counted(size: number): number {
  return Math.max(0, size - FIRST_HISTORY);
}

/**
 * What reassembly holds across every direction of every conversation: out-of-order bytes
 * waiting (against `limit`), and delivered-bytes history past each direction's first 512
 * bytes (against `historyLimit`: thousands of bulk connections left open would otherwise hold
 * 64 KiB each until they end).
 */
export class ReassemblyBudget {
  bytes = 0;
  historyBytes = 0;
  /** Set when a history could not grow for the history budget; the owner reports it and clears it. */
  historyRefused = false;
  constructor(readonly limit: number, readonly historyLimit = Infinity) {}

  get exceeded(): boolean {
    return this.bytes > this.limit;
  }
}

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
  private pending: Segment[] | undefined;
  private pendingBytes = 0;
  /** The last delivered bytes, a ring ending at `next` (power-of-two size). */
  private history: Uint8Array | undefined;
  private historyLength = 0;
  /** The history budget refused this direction's history a larger ring. */
  private historyCapped = false;

  constructor(private readonly budget?: ReassemblyBudget) {}

  /** Bytes of delivered data this direction can keep to compare retransmissions against. */
  get historyRoom(): number {
    return this.history?.length ?? 0;
  }

  /** Out-of-order bytes waiting. */
  get waiting(): number {
    return this.pendingBytes;
  }

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
    this.dropPending();
    this.historyLength = 0;
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
    const first = this.pending?.[0];
    const holeEnd = first === undefined ? ackRel : Math.min(first.offset, ackRel);
    if (holeEnd > this.next) this.skipTo(holeEnd, sink);
  }

  /** End of the capture or of the connection: every remaining hole is a gap. */
  flush(sink: ReassemblySink): void {
    while (this.pending !== undefined && this.pending.length > 0) {
      const first = this.pending[0]!;
      if (first.offset > this.next) this.skipTo(first.offset, sink);
      else this.drain(sink);
    }
  }

  /** Gives up the oldest hole (a budget across conversations needs the bytes): it becomes a gap. */
  giveUpHole(sink: ReassemblySink): void {
    const first = this.pending?.[0];
    if (first === undefined) return;
    sink.limitHit(this.pendingBytes);
    this.skipTo(first.offset, sink);
  }

  /** Releases what the direction holds (the connection ended): numbers stay, buffers go. */
  release(): void {
    this.dropPending();
    if (this.history !== undefined) {
      if (this.budget !== undefined) this.budget.historyBytes -= counted(this.history.length);
      giveBack(this.history);
    }
    this.history = undefined;
    this.historyLength = 0;
  }

  /** Declares the bytes up to `offset` a gap and delivers what waits from there. */
  private skipTo(offset: number, sink: ReassemblySink): void {
    sink.gap(this.next, offset - this.next);
    this.next = offset;
    this.historyLength = 0; // the history must end at `next` without a hole
    this.drain(sink);
  }

  private deliver(data: Uint8Array, sink: ReassemblySink): void {
    this.remember(data);
    this.next += data.length;
    sink.data(data);
  }

  private drain(sink: ReassemblySink): void {
    const pending = this.pending;
    if (pending === undefined) return;
    while (pending.length > 0) {
      const seg = pending[0]!;
      if (seg.offset > this.next) return;
      pending.shift();
      this.unpend(seg.data.length);
      const end = seg.offset + seg.data.length;
      if (end <= this.next) continue;
      this.deliver(seg.data.subarray(this.next - seg.offset), sink);
    }
  }

  private unpend(bytes: number): void {
    this.pendingBytes -= bytes;
    if (this.budget !== undefined) this.budget.bytes -= bytes;
  }

  private dropPending(): void {
    if (this.budget !== undefined) this.budget.bytes -= this.pendingBytes;
    this.pending = undefined;
    this.pendingBytes = 0;
  }

  private queue(offset: number, data: Uint8Array, sink: ReassemblySink): void {
    const pending = (this.pending ??= []);
    // Keep the first copy of every byte: trim against queued segments.
    let i = 0;
    while (i < pending.length && pending[i]!.offset + pending[i]!.data.length <= offset) i++;
    let start = offset;
    let rest = data;
    const pieces: Segment[] = [];
    for (let j = i; j < pending.length && rest.length > 0; j++) {
      const seg = pending[j]!;
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
      const copy = { offset: piece.offset, data: copyBytes(piece.data) };
      let k = 0;
      while (k < pending.length && pending[k]!.offset < copy.offset) k++;
      pending.splice(k, 0, copy);
      this.pendingBytes += copy.data.length;
      if (this.budget !== undefined) this.budget.bytes += copy.data.length;
    }
    if (this.pendingBytes > MAX_PENDING_BYTES || pending.length > MAX_PENDING_SEGMENTS) this.giveUpHole(sink);
  }

  /** Appends delivered bytes to the history ring (growing it up to HISTORY_BYTES, within the budget). */
  private remember(data: Uint8Array): void {
    let ring = this.history;
    const want = Math.min(HISTORY_BYTES, this.historyLength + data.length);
    if (ring === undefined || (ring.length < want && !this.historyCapped)) {
      const old = ring?.length ?? 0;
      let size = ring?.length ?? MIN_HISTORY;
      while (size < want) size *= 2;
      size = Math.min(size, HISTORY_BYTES);
      // Past the first 512 bytes a history grows only within the budget across directions; a
      // direction refused once keeps the size it has (retransmissions are compared over less).
      const budget = this.budget;
      if (budget !== undefined && counted(size) > counted(old)) {
        if (budget.historyBytes + counted(size) - counted(old) > budget.historyLimit) {
          this.historyCapped = true;
          budget.historyRefused = true;
          size = Math.max(old, FIRST_HISTORY);
        } else budget.historyBytes += counted(size) - counted(old);
      }
      if (ring === undefined || size > ring.length) {
        // Rooms come from and go back to the stream buffers' spares: a history grows by doubling
        // in every connection that delivers more than 512 bytes (only the delivered range is read).
        const grown = takeRoom(size);
        // Keep what the old ring held, at the same positions modulo the new size.
        if (ring !== undefined) {
          for (let p = this.next - this.historyLength; p < this.next; p++) grown[p & (grown.length - 1)] = ring[p & (ring.length - 1)]!;
          giveBack(ring);
        }
        ring = this.history = grown;
      }
    }
    const size = ring.length;
    const src = data.length > size ? data.subarray(data.length - size) : data;
    const at = (this.next + data.length - src.length) & (size - 1);
    const first = Math.min(src.length, size - at);
    if (first === src.length) ring.set(src, at);
    else {
      ring.set(src.subarray(0, first), at);
      ring.set(src.subarray(first), 0);
    }
    this.historyLength = Math.min(size, this.historyLength + data.length);
  }

  /** Compares a retransmitted range with the delivered bytes still in the history. */
  private compare(offset: number, data: Uint8Array, sink: ReassemblySink): void {
    const ring = this.history;
    if (ring === undefined) return;
    const from = Math.max(offset, this.next - this.historyLength);
    const to = Math.min(offset + data.length, this.next);
    const mask = ring.length - 1;
    for (let p = from; p < to; p++) {
      if (ring[p & mask] !== data[p - offset]) {
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
