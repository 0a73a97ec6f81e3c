// IP fragment reassembly, shared by IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5).
// Bounded: at most MAX_PENDING datagrams in progress, each at most 65,535 bytes, dropped
// after TIMEOUT seconds of capture time. Overlaps keep the first copy (as Windows and Linux
// do) and are reported; conflicting overlaps are reported as errors.

const MAX_PENDING = 4096;
const MAX_DATAGRAM = 65535;
const TIMEOUT = 60;

interface Fragment {
  readonly offset: number;
  readonly data: Uint8Array;
  readonly frame: number;
}

interface Pending {
  readonly fragments: Fragment[];
  total: number; // -1 until the last fragment arrives
  readonly firstSeen: number;
  bytes: number;
}

export type DefragResult =
  | { readonly state: 'incomplete' }
  | { readonly state: 'complete'; readonly payload: Uint8Array; readonly frames: number[]; readonly overlaps: number; readonly conflicts: number }
  | { readonly state: 'error'; readonly reason: string };

export interface Expired {
  readonly key: string;
  readonly frames: number[];
}

export class Defragmenter {
  private readonly pending = new Map<string, Pending>();

  add(key: string, frame: number, now: number, offset: number, data: Uint8Array, more: boolean): DefragResult {
    if (offset + data.length > MAX_DATAGRAM) return { state: 'error', reason: `fragment ends at byte ${offset + data.length}, beyond the 65,535-byte limit` };
    let entry = this.pending.get(key);
    if (entry === undefined) {
      if (this.pending.size >= MAX_PENDING) return { state: 'error', reason: `more than ${MAX_PENDING} fragmented datagrams in progress; fragment not reassembled` };
      entry = { fragments: [], total: -1, firstSeen: now, bytes: 0 };
      this.pending.set(key, entry);
    }
    entry.fragments.push({ offset, data: data.slice(), frame });
    entry.bytes += data.length;
    if (!more) entry.total = offset + data.length;
    if (entry.total < 0 || !covers(entry)) return { state: 'incomplete' };
    this.pending.delete(key);
    return assemble(entry);
  }

  /** Removes datagrams older than the timeout; returns them so they can be reported. */
  expire(now: number, all = false): Expired[] {
    const out: Expired[] = [];
    for (const [key, entry] of this.pending) {
      if (all || now - entry.firstSeen > TIMEOUT) {
        out.push({ key, frames: entry.fragments.map((x) => x.frame) });
        this.pending.delete(key);
      }
    }
    return out;
  }

  get size(): number {
    return this.pending.size;
  }
}

function covers(entry: Pending): boolean {
  const sorted = [...entry.fragments].sort((a, b) => a.offset - b.offset);
  let reach = 0;
  for (const frag of sorted) {
    if (frag.offset > reach) return false;
    reach = Math.max(reach, frag.offset + frag.data.length);
  }
  return reach >= entry.total;
}

function assemble(entry: Pending): DefragResult {
  const payload = new Uint8Array(entry.total);
  const filled = new Uint8Array(entry.total);
  let overlaps = 0;
  let conflicts = 0;
  for (const frag of entry.fragments) {
    let overlapped = false;
    const end = Math.min(entry.total, frag.offset + frag.data.length);
    for (let i = frag.offset; i < end; i++) {
      const byte = frag.data[i - frag.offset]!;
      if (filled[i] === 1) {
        overlapped = true;
        if (payload[i] !== byte) conflicts++;
      } else {
        payload[i] = byte;
        filled[i] = 1;
      }
    }
    if (overlapped) overlaps++;
  }
  const frames = [...new Set(entry.fragments.map((x) => x.frame))].sort((a, b) => a - b);
  return { state: 'complete', payload, frames, overlaps, conflicts };
}
