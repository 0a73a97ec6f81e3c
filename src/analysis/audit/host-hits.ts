// What each sender sent to each IPv4 destination, for sweep detection: messages, first and last
// time, ports tried. Spam senders reach hundreds of thousands of hosts, and most senders send
// one message, so one table holds every sender's hosts, its rows in typed arrays (about 40 bytes
// a host): a Map of objects cost about 270 bytes a host, and a table per sender 1.8 KB for a
// sender with one host (18 MB of 10,186 senders at 3.5M frames of the spam bench capture).
import { grown } from '../../util/typed-arrays.js';
import { mix } from './minhash.js';

/** Ports listed per host, per sender and per sweep. */
export const MAX_PORTS = 64;
const EMPTY = -1;

export interface HostHit {
  readonly messages: number;
  readonly ports: readonly number[];
  readonly first: number;
  readonly last: number;
}

/**
 * Rows keyed by (owner, IPv4 address), owners numbered from 0. Each owner keeps at most
 * `perOwner` hosts and all owners together `max`: the audit's memory for sweeps is bounded by
 * this, not by senders × hosts per sender. Messages whose host either bound refused are counted.
 */
export class HostHits {
  private capacity = 0;
  /** Open addressing: slot → row, EMPTY when free. */
  private slots = new Int32Array(16).fill(EMPTY);
  private owners = new Uint32Array(0);
  private addresses = new Uint32Array(0);
  private messageCounts = new Uint32Array(0);
  private firsts = new Float64Array(0);
  private lasts = new Float64Array(0);
  /** The first port tried at a host, EMPTY for none; the rest (rare) in `morePorts`. */
  private firstPorts = new Int32Array(0);
  /** The owner's previous row (a list per owner, newest first), EMPTY at its first. */
  private previous = new Int32Array(0);
  private readonly morePorts = new Map<number, number[]>();
  /** Per owner: its newest row (EMPTY for none) and its number of rows. */
  private heads = new Int32Array(0);
  private counts = new Uint32Array(0);
  /** Rows in all. */
  used = 0;
  /** Messages whose destination was not kept (the owner's bound or the table's). */
  refused = 0;

  constructor(readonly perOwner: number, readonly max: number) {}

  /** Counts a message from `owner` to `address` at `time` (port if known); false (counted as refused) when the host is new and there is no room. */
  hit(owner: number, address: number, time: number, port: number | undefined): boolean {
    let row = this.rowOf(owner, address);
    if (row === EMPTY) {
      if (this.sizeOf(owner) >= this.perOwner || this.used >= this.max) {
        this.refused++;
        return false;
      }
      row = this.insert(owner, address, time);
    }
    this.messageCounts[row]!++;
    if (port !== undefined) this.addPort(row, port);
    if (time < this.firsts[row]!) this.firsts[row] = time;
    if (time > this.lasts[row]!) this.lasts[row] = time;
    return true;
  }

  /** Hosts kept for `owner`. */
  sizeOf(owner: number): number {
    return owner < this.counts.length ? this.counts[owner]! : 0;
  }

  /** The owner's hosts' addresses in increasing order. */
  sortedAddresses(owner: number): Uint32Array {
    const out = new Uint32Array(this.sizeOf(owner));
    let i = 0;
    for (let row = owner < this.heads.length ? this.heads[owner]! : EMPTY; row !== EMPTY; row = this.previous[row]!) out[i++] = this.addresses[row]!;
    return out.sort();
  }

  /** What `owner` sent to `address` (which must be in the table). */
  get(owner: number, address: number): HostHit {
    const row = this.rowOf(owner, address);
    if (row === EMPTY) throw new Error(`HostHits: ${owner}/${address} not in the table`);
    const first = this.firstPorts[row]!;
    const ports = first === EMPTY ? [] : [first, ...(this.morePorts.get(row) ?? [])];
    return { messages: this.messageCounts[row]!, ports, first: this.firsts[row]!, last: this.lasts[row]! };
  }

  private addPort(row: number, port: number): void {
    const first = this.firstPorts[row]!;
    if (first === EMPTY) {
      this.firstPorts[row] = port;
      return;
    }
    if (first === port) return;
    let more = this.morePorts.get(row);
    if (more === undefined) {
      more = [];
      this.morePorts.set(row, more);
    }
    if (1 + more.length < MAX_PORTS && !more.includes(port)) more.push(port);
  }

  private rowOf(owner: number, address: number): number {
    const mask = this.slots.length - 1;
    for (let i = hash(owner, address) & mask; ; i = (i + 1) & mask) {
      const row = this.slots[i]!;
      if (row === EMPTY || (this.addresses[row] === address && this.owners[row] === owner)) return row;
    }
  }

  private insert(owner: number, address: number, time: number): number {
    if (this.used === this.capacity) this.growRows();
    // Kept at most half full, so probes stay short and always end at a free slot.
    if ((this.used + 1) * 2 > this.slots.length) this.growSlots();
    if (owner >= this.heads.length) this.growOwners(owner);
    const row = this.used++;
    this.owners[row] = owner;
    this.addresses[row] = address;
    this.messageCounts[row] = 0;
    this.firsts[row] = time;
    this.lasts[row] = time;
    this.firstPorts[row] = EMPTY;
    this.previous[row] = this.heads[owner]!;
    this.heads[owner] = row;
    this.counts[owner]!++;
    this.place(owner, address, row);
    return row;
  }

  private place(owner: number, address: number, row: number): void {
    const mask = this.slots.length - 1;
    let i = hash(owner, address) & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.slots[i] = row;
  }

  private growRows(): void {
    const capacity = Math.max(16, this.capacity * 2);
    this.owners = grown(this.owners, new Uint32Array(capacity));
    this.addresses = grown(this.addresses, new Uint32Array(capacity));
    this.messageCounts = grown(this.messageCounts, new Uint32Array(capacity));
    this.firsts = grown(this.firsts, new Float64Array(capacity));
    this.lasts = grown(this.lasts, new Float64Array(capacity));
    this.firstPorts = grown(this.firstPorts, new Int32Array(capacity));
    this.previous = grown(this.previous, new Int32Array(capacity));
    this.capacity = capacity;
  }

  private growSlots(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(EMPTY);
    for (let row = 0; row < this.used; row++) this.place(this.owners[row]!, this.addresses[row]!, row);
  }

  private growOwners(owner: number): void {
    let length = Math.max(16, this.heads.length * 2);
    while (length <= owner) length *= 2;
    const heads = new Int32Array(length).fill(EMPTY);
    heads.set(this.heads);
    this.heads = heads;
    this.counts = grown(this.counts, new Uint32Array(length));
  }
}

/** Spreads consecutive addresses (a sweep's) and owners over the slots. */
function hash(owner: number, address: number): number {
  return mix(address ^ Math.imul(owner, 0x9e3779b1));
}
