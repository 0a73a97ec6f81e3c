// What one sender sent to each IPv4 destination, for sweep detection: messages, first and last
// time, ports tried. Spam senders reach hundreds of thousands of hosts, so the rows live in
// typed arrays (about 40 bytes a host) rather than one object, one port array and one Map entry
// each (about 270 bytes: 99 MB at 3.5M frames of the spam bench capture).
import { grown } from '../../util/typed-arrays.js';

/** Ports listed per host, per sender and per sweep. */
export const MAX_PORTS = 64;
const EMPTY = -1;

/**
 * Hosts kept for sweeps across every sender (each sender keeps at most its own bound too), and
 * the messages whose host either bound refused: the audit's memory for sweeps is bounded by
 * this, not by senders × hosts per sender.
 */
export class HostBudget {
  used = 0;
  /** Messages whose destination was not kept (a full table, or this budget spent). */
  refused = 0;

  constructor(readonly max: number) {}
}

export class HostHits {
  private capacity = 8;
  /** Open addressing: slot → row, EMPTY when free. */
  private slots = new Int32Array(16).fill(EMPTY);
  private addresses = new Uint32Array(this.capacity);
  private messageCounts = new Uint32Array(this.capacity);
  private firsts = new Float64Array(this.capacity);
  private lasts = new Float64Array(this.capacity);
  /** The first port tried at a host, EMPTY for none; the rest (rare) in `morePorts`. */
  private firstPorts = new Int32Array(this.capacity);
  private readonly morePorts = new Map<number, number[]>();
  size = 0;

  /** `max`: hosts kept; past it, or once `budget` is spent, `hit` refuses new ones. */
  constructor(private readonly max: number, private readonly budget: HostBudget = new HostBudget(max)) {}

  /** Counts a message to `address` at `time` (port if known); false (counted in the budget) when the host is new and there is no room. */
  hit(address: number, time: number, port: number | undefined): boolean {
    let row = this.rowOf(address);
    if (row === EMPTY) {
      if (this.size >= this.max || this.budget.used >= this.budget.max) {
        this.budget.refused++;
        return false;
      }
      this.budget.used++;
      row = this.insert(address, time);
    }
    this.messageCounts[row]!++;
    if (port !== undefined) this.addPort(row, port);
    if (time < this.firsts[row]!) this.firsts[row] = time;
    if (time > this.lasts[row]!) this.lasts[row] = time;
    return true;
  }

  /** The hosts' addresses in increasing order. */
  sortedAddresses(): Uint32Array {
    return this.addresses.slice(0, this.size).sort();
  }

  /** What was sent to `address` (which must be in the table). */
  get(address: number): { readonly messages: number; readonly ports: readonly number[]; readonly first: number; readonly last: number } {
    const row = this.rowOf(address);
    if (row === EMPTY) throw new Error(`HostHits: ${address} not in the table`);
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

  private rowOf(address: number): number {
    const mask = this.slots.length - 1;
    for (let i = hash(address) & mask; ; i = (i + 1) & mask) {
      const row = this.slots[i]!;
      if (row === EMPTY || this.addresses[row] === address) return row;
    }
  }

  private insert(address: number, time: number): number {
    if (this.size === this.capacity) this.growRows();
    // Kept at most half full, so probes stay short and always end at a free slot.
    if ((this.size + 1) * 2 > this.slots.length) this.growSlots();
    const row = this.size++;
    this.addresses[row] = address;
    this.messageCounts[row] = 0;
    this.firsts[row] = time;
    this.lasts[row] = time;
    this.firstPorts[row] = EMPTY;
    this.place(address, row);
    return row;
  }

  private place(address: number, row: number): void {
    const mask = this.slots.length - 1;
    let i = hash(address) & mask;
    while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
    this.slots[i] = row;
  }

  private growRows(): void {
    const capacity = this.capacity * 2;
    this.addresses = grown(this.addresses, new Uint32Array(capacity));
    this.messageCounts = grown(this.messageCounts, new Uint32Array(capacity));
    this.firsts = grown(this.firsts, new Float64Array(capacity));
    this.lasts = grown(this.lasts, new Float64Array(capacity));
    this.firstPorts = grown(this.firstPorts, new Int32Array(capacity));
    this.capacity = capacity;
  }

  private growSlots(): void {
    this.slots = new Int32Array(this.slots.length * 2).fill(EMPTY);
    for (let row = 0; row < this.size; row++) this.place(this.addresses[row]!, row);
  }
}

/** Spreads consecutive addresses (a sweep's) over the slots. */
function hash(address: number): number {
  let h = Math.imul(address ^ (address >>> 16), 0x45d9f3b);
  h ^= h >>> 16;
  return h;
}
