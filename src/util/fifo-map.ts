// A Map in insertion order that gives up its oldest entry in constant time. A plain Map's
// `keys().next()` after many deletions at the front scans the holes they left (V8 compacts its
// table only when it fills up): on a table of 65,536 entries kept full that is about 20 µs per
// eviction. Here the insertion order is a queue of slots beside the Map, which maps each key to
// its live slot: one Map operation per call. An entry deleted or re-inserted leaves a dead slot
// in the queue, skipped when it reaches the front.

interface Slot<K, V> {
  readonly key: K;
  value: V;
  live: boolean;
}

export class FifoMap<K, V> {
  private readonly slots = new Map<K, Slot<K, V>>();
  private queue: Slot<K, V>[] = [];
  private head = 0;

  get size(): number {
    return this.slots.size;
  }

  get(key: K): V | undefined {
    return this.slots.get(key)?.value;
  }

  has(key: K): boolean {
    return this.slots.has(key);
  }

  /** As Map.set: a key already present keeps its place in the order. */
  set(key: K, value: V): this {
    const slot = this.slots.get(key);
    if (slot !== undefined) {
      slot.value = value;
      return this;
    }
    const fresh: Slot<K, V> = { key, value, live: true };
    this.slots.set(key, fresh);
    this.queue.push(fresh);
    // Deletions and re-insertions leave dead slots: past twice the live entries they are dropped
    // (amortised constant time; the queue stays within a small multiple of the Map).
    if (this.queue.length - this.head > 2 * this.slots.size + 1024) this.compact();
    return this;
  }

  delete(key: K): boolean {
    const slot = this.slots.get(key);
    if (slot === undefined) return false;
    slot.live = false;
    this.slots.delete(key);
    if (this.slots.size === 0) this.clearQueue();
    return true;
  }

  /** The oldest key still present, undefined when empty. */
  oldestKey(): K | undefined {
    return this.oldestSlot()?.key;
  }

  /** The value of the oldest entry, undefined when empty. */
  oldestValue(): V | undefined {
    return this.oldestSlot()?.value;
  }

  /** Removes the oldest entry (as `delete(oldestKey())`). */
  deleteOldest(): void {
    const slot = this.oldestSlot();
    if (slot === undefined) return;
    this.head++;
    slot.live = false;
    this.slots.delete(slot.key);
    if (this.slots.size === 0) {
      this.clearQueue();
      return;
    }
    // The queue's dead front is dropped once it is most of the queue (amortised constant time).
    if (this.head > 1024 && this.head * 2 > this.queue.length) this.compact();
  }

  clear(): void {
    this.slots.clear();
    this.clearQueue();
  }

  private oldestSlot(): Slot<K, V> | undefined {
    const queue = this.queue;
    while (this.head < queue.length) {
      const slot = queue[this.head]!;
      if (slot.live) return slot;
      this.head++;
    }
    return undefined;
  }

  /** Keeps the live slots only, in order. */
  private compact(): void {
    const kept: Slot<K, V>[] = [];
    for (let i = this.head; i < this.queue.length; i++) if (this.queue[i]!.live) kept.push(this.queue[i]!);
    this.queue = kept;
    this.head = 0;
  }

  private clearQueue(): void {
    this.queue = [];
    this.head = 0;
  }
}
