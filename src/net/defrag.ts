// IP fragment reassembly, shared by IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5), on the
// bounded fragment table: at most 4096 datagrams in progress, each at most 65,535 bytes in at
// most 8192 fragments, 64 MiB held in all, given up after 60 seconds of capture time. When
// the table is full (datagrams or bytes) the oldest datagram in progress is given up to make
// room, as Linux does past ipfrag_high_thresh: a flood of first fragments that never complete
// cannot lock new datagrams out. Every datagram given up (expired or evicted) is returned to
// the caller, which reports it. Overlaps keep the first copy (as Windows and Linux do) and are
// reported; conflicting overlaps are reported as errors.
import type { FrameHolds } from '../util/frame-holds.js';
import { FragmentTable, OffsetParts, type FragmentLimits, type LimitHit } from './fragment-table.js';

const LIMITS: FragmentLimits = {
  maxEntries: 4096,
  maxEntryBytes: 65535,
  /** 65,535 bytes in 8-byte steps: 8,192 distinct fragments; more are duplicates. */
  maxParts: 8192,
  maxTotalBytes: 64 * 1024 * 1024,
  maxAgeSeconds: 60,
};

export type DefragResult =
  | { readonly state: 'incomplete' }
  | { readonly state: 'complete'; readonly payload: Uint8Array; readonly frames: number[]; readonly overlaps: number; readonly conflicts: number }
  | { readonly state: 'error'; readonly reason: string };

export interface Expired {
  readonly key: string;
  readonly frames: number[];
  /** Capture time of its first fragment. */
  readonly tsSec: number;
}

/** Fragments that overlapped bytes already held, and how many of those bytes differed. */
interface Overlaps {
  overlaps: number;
  conflicts: number;
}

export class Defragmenter {
  private readonly table = new FragmentTable<Overlaps, OffsetParts>(LIMITS, () => new OffsetParts());

  /** `evicted` is told of each datagram given up to make room (the table was full). */
  constructor(private readonly evicted: (gone: Expired, why: string) => void) {}

  /** Holds for the timeline's reorder window: a datagram being joined holds its first fragment's frame. */
  set holds(holds: FrameHolds | undefined) {
    this.table.holds = holds;
  }

  add(key: string, frame: number, now: number, offset: number, data: Uint8Array, more: boolean): DefragResult {
    let entry = this.table.get(key);
    const created = entry === undefined;
    if (entry === undefined) {
      let opened = this.table.open(key, { overlaps: 0, conflicts: 0 }, now);
      if (opened.kind === 'limit' && this.evictOldest(`more than ${LIMITS.maxEntries} datagrams in reassembly`)) opened = this.table.open(key, { overlaps: 0, conflicts: 0 }, now);
      if (opened.kind === 'limit') return { state: 'error', reason: refusal(opened, offset + data.length) };
      entry = opened;
    }
    let placed = this.table.addAt(entry, offset, data, [frame], now);
    // Bytes across datagrams: older datagrams make room, one at a time, never the one being added to.
    while (placed.kind === 'limit' && placed.limit === 'total-bytes' && this.table.oldest() !== entry && this.evictOldest(`more than ${LIMITS.maxTotalBytes} bytes of fragments waiting`)) {
      placed = this.table.addAt(entry, offset, data, [frame], now);
    }
    if (placed.kind === 'limit') {
      if (created) this.table.delete(entry);
      return { state: 'error', reason: refusal(placed, offset + data.length) };
    }
    if (placed.overlap) entry.meta.overlaps++;
    entry.meta.conflicts += placed.conflicts;
    if (!more) entry.parts.end = offset + data.length;
    if (!entry.parts.complete) return { state: 'incomplete' };
    this.table.delete(entry);
    const frames = [...entry.frames].sort((a, b) => a - b);
    return { state: 'complete', payload: entry.parts.join(), frames, overlaps: entry.meta.overlaps, conflicts: entry.meta.conflicts };
  }

  /** Removes datagrams older than the timeout (all of them with `all`); returns them so they can be reported. */
  expire(now: number, all = false): Expired[] {
    return this.table.expire(now, all).map((entry) => ({ key: entry.key, frames: entry.frames, tsSec: entry.firstSec }));
  }

  private evictOldest(why: string): boolean {
    const oldest = this.table.oldest();
    if (oldest === undefined) return false;
    this.table.delete(oldest);
    this.evicted({ key: oldest.key, frames: oldest.frames, tsSec: oldest.firstSec }, why);
    return true;
  }

  get size(): number {
    return this.table.size;
  }
}

function refusal(hit: LimitHit, end: number): string {
  switch (hit.limit) {
    case 'entries':
      return `more than ${hit.max} fragmented datagrams in progress; fragment not reassembled`;
    case 'entry-bytes':
      return `fragment ends at byte ${end}, beyond the 65,535-byte limit`;
    case 'parts':
      return `more than ${hit.max} fragments of one datagram; fragment not reassembled`;
    case 'total-bytes':
      return `more than ${hit.max} bytes of fragments waiting; fragment not reassembled`;
  }
}
