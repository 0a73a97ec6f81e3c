// A Map in insertion order that gives up its oldest entry in constant time. A plain Map's
// `keys().next()` after many deletions at the front scans the holes they left (V8 compacts its
// table only when it fills up): on a table of 65,536 entries kept full that is about 20 µs per
// eviction. Here the insertion order is a queue of (key, stamp) beside the Map; an entry deleted
// or re-inserted leaves a stale queue slot, skipped when it reaches the front.

export class FifoMap<K, V> {
  private readonly values = new Map<K, V>();
  /** The stamp of each live key's queue slot. */
  private readonly stamps = new Map<K, number>();
  private queueKeys: K[] = [];
  private queueStamps: number[] = [];
  private head = 0;
  private nextStamp = 0;

  get size(): number {
    return this.values.size;
  }

  get(key: K): V | undefined {
    return this.values.get(key);
  }

  has(key: K): boolean {
    return this.values.has(key);
  }

  /** As Map.set: a key already present keeps its place in the order. */
  set(key: K, value: V): this {
    if (!this.values.has(key)) {
      const stamp = this.nextStamp++;
      this.stamps.set(key, stamp);
      this.queueKeys.push(key);
      this.queueStamps.push(stamp);
      // Deletions and re-insertions leave stale slots: past twice the live entries they are dropped
      // (amortised constant time; the queue stays within a small multiple of the Map).
      if (this.queueKeys.length - this.head > 2 * this.values.size + 1024) this.compact();
    }
    this.values.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    this.stamps.delete(key);
    const had = this.values.delete(key);
    if (this.values.size === 0) this.clearQueue();
    return had;
  }

  /** The oldest key still present, undefined when empty. */
  oldestKey(): K | undefined {
    while (this.head < this.queueKeys.length) {
      const key = this.queueKeys[this.head]!;
      if (this.stamps.get(key) === this.queueStamps[this.head]) return key;
      this.head++;
    }
    return undefined;
  }

  /** Removes the oldest entry (as `delete(oldestKey())`). */
  deleteOldest(): void {
    const key = this.oldestKey();
    if (key === undefined) return;
    this.head++;
    this.delete(key);
    // The queue's dead front is dropped once it is most of the queue (amortised constant time).
    if (this.head > 1024 && this.head * 2 > this.queueKeys.length) this.compact();
  }

  clear(): void {
    this.values.clear();
    this.stamps.clear();
    this.clearQueue();
  }

  /** Keeps the live slots only, in order. */
  private compact(): void {
    const keys: K[] = [];
    const stamps: number[] = [];
    for (let i = this.head; i < this.queueKeys.length; i++) {
      const key = this.queueKeys[i]!;
      const stamp = this.queueStamps[i]!;
      if (this.stamps.get(key) === stamp) {
        keys.push(key);
        stamps.push(stamp);
      }
    }
    this.queueKeys = keys;
    this.queueStamps = stamps;
    this.head = 0;
  }

  private clearQueue(): void {
    this.queueKeys = [];
    this.queueStamps = [];
    this.head = 0;
  }
}
