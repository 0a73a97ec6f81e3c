// A memo of recent keys, bounded by count and by age in capture time: what protocols keep to
// recognise a late copy of something already seen (a retransmitted request, an ICMP bounce of
// a datagram). A count bound alone keeps an hour of keys on spam; the age bound keeps a few
// minutes whatever the rate. Entries leave oldest first (a FifoMap: no scan past the holes
// deletions leave at a Map's front); setting a key again makes it newest.
import { FifoMap } from './fifo-map.js';

interface Entry<V> {
  readonly value: V;
  readonly sec: number;
}

export class RecentMap<K, V> {
  private readonly entries = new FifoMap<K, Entry<V>>();

  constructor(private readonly maxEntries: number, private readonly maxAgeSeconds: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Remembers `key` at capture time `now`, forgetting entries past the bounds first. */
  set(key: K, value: V, now: number): void {
    this.entries.delete(key);
    this.expire(now);
    if (this.entries.size >= this.maxEntries) this.entries.deleteOldest();
    this.entries.set(key, { value, sec: now });
  }

  /** Forgets entries older than the age bound (oldest first; stops at the first young one). */
  expire(now: number): void {
    for (let oldest = this.entries.oldestValue(); oldest !== undefined; oldest = this.entries.oldestValue()) {
      if (now - oldest.sec <= this.maxAgeSeconds) return;
      this.entries.deleteOldest();
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
