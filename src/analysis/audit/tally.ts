// Bounded counters the audit keeps per sender and per campaign: distinct values (exact up to a
// bound, then a HyperLogLog estimate), a short sample of names, and delivery outcomes.
import type { MessageEvent, MessageStatus } from '../../model/events.js';
import { ipv4Text } from '../../net/addr.js';
import { hashString, mix } from './minhash.js';

/** Distinct values counted exactly up to this many; beyond, estimated (HyperLogLog, about 1.6 % error). */
export const EXACT_DISTINCT = 1024;
const HLL_BITS = 12;
const HLL_SIZE = 1 << HLL_BITS;
/** What an exact value is charged (bytes, roughly): a Set entry and a string header, plus its characters. */
const VALUE_BYTES = 40;
/** What an exact IPv4 address is charged: a table slot or two of 4 bytes, growing. */
const IPV4_BYTES = 16;
/** Default: exact values held by the senders' counters together, and by the campaigns' (48 MB each). */
export const DEFAULT_MAX_EXACT_BYTES = 48 << 20;
/** Default: HyperLogLog sketches (4 KB each) held by the senders' counters, and by the campaigns' (16 MB each). */
export const DEFAULT_MAX_SKETCHES = 4096;
/**
 * Default: values listed by the samples (From names, recipients, senders) of the senders, and of
 * the campaigns (32 MB each). A listed value outlives its counter's exact values when the counter
 * becomes an estimate, and a name from the wire may be as long as its message.
 */
export const DEFAULT_MAX_LISTED_BYTES = 32 << 20;

/**
 * What all the distinct counters of one audit may hold together — up to 1,024 values or a 4 KB
 * sketch each would be gigabytes with 100,000 senders — and the counters that hit it: a counter
 * whose exact values find no room becomes an estimate early; one that then finds no sketch left
 * stops counting new values (its count is a lower bound).
 */
export class DistinctBudget {
  /** Bytes charged for the exact values held now. */
  exactBytes = 0;
  sketches = 0;
  /** Counters estimated before EXACT_DISTINCT values because the exact values' budget was spent. */
  estimatedEarly = 0;
  /** Counters that stopped counting new values: no sketch was left. */
  cut = 0;
  /** Bytes charged for the values the samples list. */
  listedBytes = 0;
  /** Values a sample would have listed but found no room for (still counted). */
  unlisted = 0;

  constructor(readonly maxExactBytes = DEFAULT_MAX_EXACT_BYTES, readonly maxSketches = DEFAULT_MAX_SKETCHES, readonly maxListedBytes = DEFAULT_MAX_LISTED_BYTES) {}
}

/** The number of a dotted IPv4 address written the one way ipv4Text writes it (no leading zeros), else -1. */
export function canonicalIpv4(text: string): number {
  const length = text.length;
  if (length < 7 || length > 15) return -1;
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= length; i++) {
    const c = i < length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || octet > 255 || (digits > 1 && text.charCodeAt(i - digits) === 0x30)) return -1;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      if (i < length && ++dots > 3) return -1;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      octet = octet * 10 + (c - 0x30);
      digits++;
    } else return -1;
  }
  return dots === 3 ? n : -1;
}

/**
 * IPv4 addresses as numbers in an open-addressing table (a sender's destination hosts, a
 * campaign's senders): 4 bytes a slot instead of a string and a Set entry (about 45 bytes).
 * Address 0 (0.0.0.0) marks a free slot and is kept as a flag.
 */
class Ipv4Set {
  private slots = new Uint32Array(8);
  private hasZero = false;
  size = 0;

  has(address: number): boolean {
    if (address === 0) return this.hasZero;
    const mask = this.slots.length - 1;
    for (let i = mix(address) & mask; ; i = (i + 1) & mask) {
      const a = this.slots[i]!;
      if (a === address) return true;
      if (a === 0) return false;
    }
  }

  /** Adds an address not yet in the set. */
  add(address: number): void {
    this.size++;
    if (address === 0) {
      this.hasZero = true;
      return;
    }
    // At most half full, so probes always end at a free slot.
    if (this.size * 2 > this.slots.length) {
      const old = this.slots;
      this.slots = new Uint32Array(old.length * 2);
      for (const a of old) if (a !== 0) this.place(a);
    }
    this.place(address);
  }

  *[Symbol.iterator](): Iterator<number> {
    if (this.hasZero) yield 0;
    for (const a of this.slots) if (a !== 0) yield a;
  }

  private place(address: number): void {
    const mask = this.slots.length - 1;
    let i = mix(address) & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.slots[i] = address;
  }
}

function valueBytes(value: string, ipv4: number): number {
  return ipv4 >= 0 ? IPV4_BYTES : VALUE_BYTES + 2 * value.length;
}

/**
 * Distinct values: exact up to EXACT_DISTINCT values or the budget, then a HyperLogLog estimate.
 * Exact values are the first value alone, then IPv4 addresses (written as ipv4Text writes them)
 * as numbers and any other value in a Set. Most senders send one message, so an empty or
 * one-value counter allocates nothing of its own.
 */
export class Distinct {
  private one: string | undefined;
  private addresses: Ipv4Set | undefined;
  private others: Set<string> | undefined;
  private registers: Uint8Array | undefined;
  /** No room for a sketch: new values are no longer counted. */
  private cut = false;

  constructor(private readonly budget: DistinctBudget = new DistinctBudget()) {}

  add(value: string): void {
    if (this.registers !== undefined) {
      this.hll(value);
      return;
    }
    if (value === this.one || this.cut) return;
    const ipv4 = canonicalIpv4(value);
    if (this.holds(value, ipv4)) return;
    const size = this.size;
    const bytes = valueBytes(value, ipv4);
    if (size < EXACT_DISTINCT && this.budget.exactBytes + bytes <= this.budget.maxExactBytes) {
      this.budget.exactBytes += bytes;
      if (size === 0) this.one = value;
      else {
        if (size === 1) this.store(this.one!, canonicalIpv4(this.one!));
        this.store(value, ipv4);
      }
      return;
    }
    if (this.budget.sketches >= this.budget.maxSketches) {
      this.cut = true;
      this.budget.cut++;
      return;
    }
    if (size < EXACT_DISTINCT) this.budget.estimatedEarly++;
    this.budget.sketches++;
    this.registers = new Uint8Array(HLL_SIZE);
    for (const v of this.values()) {
      this.budget.exactBytes -= valueBytes(v, canonicalIpv4(v));
      this.hll(v);
    }
    this.hll(value);
    this.one = undefined;
    this.addresses = undefined;
    this.others = undefined;
  }

  /** Whether the count is exact (false once estimated, or cut short). */
  get isExact(): boolean {
    return this.registers === undefined && !this.cut;
  }

  get count(): number {
    if (this.registers === undefined) return this.size;
    const regs = this.registers;
    let sum = 0;
    let zeros = 0;
    for (const r of regs) {
      sum += 2 ** -r;
      if (r === 0) zeros++;
    }
    const alpha = 0.7213 / (1 + 1.079 / HLL_SIZE);
    const raw = (alpha * HLL_SIZE * HLL_SIZE) / sum;
    // Small-range correction (linear counting).
    return Math.round(raw <= 2.5 * HLL_SIZE && zeros > 0 ? HLL_SIZE * Math.log(HLL_SIZE / zeros) : raw);
  }

  /** Whether `value` was counted; undefined once estimated. */
  has(value: string): boolean | undefined {
    if (this.registers !== undefined) return undefined;
    return value === this.one || this.holds(value, canonicalIpv4(value));
  }

  /** Exact values held: the first alone, or all of them in the table and the Set. */
  private get size(): number {
    if (this.addresses === undefined && this.others === undefined) return this.one !== undefined ? 1 : 0;
    return (this.addresses?.size ?? 0) + (this.others?.size ?? 0);
  }

  private holds(value: string, ipv4: number): boolean {
    return ipv4 >= 0 ? this.addresses?.has(ipv4) === true : this.others?.has(value) === true;
  }

  private store(value: string, ipv4: number): void {
    if (ipv4 >= 0) (this.addresses ??= new Ipv4Set()).add(ipv4);
    else (this.others ??= new Set()).add(value);
  }

  private *values(): Iterable<string> {
    if (this.addresses === undefined && this.others === undefined) {
      if (this.one !== undefined) yield this.one;
      return;
    }
    for (const a of this.addresses ?? []) yield ipv4Text(a);
    yield* this.others ?? [];
  }

  private hll(value: string): void {
    // Two independent 32-bit hashes: one picks the register, the other gives the rank.
    const h1 = mix(hashString(value));
    const h2 = mix(hashString(value, 0x2545f491));
    const index = h1 >>> (32 - HLL_BITS);
    const rank = h2 === 0 ? 33 : Math.clz32(h2) + 1;
    if (rank > this.registers![index]!) this.registers![index] = rank;
  }
}

/**
 * The first `limit` distinct values seen, and how many distinct values in all (bounded as
 * Distinct). The listed values are charged to the budget's listed bytes; past them a new value
 * is counted but not listed.
 */
export class Sample {
  private list: string[] = [];
  private readonly distinct: Distinct;

  constructor(private readonly limit: number, private readonly budget = new DistinctBudget()) {
    this.distinct = new Distinct(budget);
  }

  add(value: string): void {
    const known = this.distinct.has(value) === true;
    this.distinct.add(value);
    // A counter cut short by its budget did not count the value (has: false): not listed either.
    if (known || this.list.length >= this.limit || this.distinct.has(value) === false || this.list.includes(value)) return;
    const bytes = VALUE_BYTES + 2 * value.length;
    if (this.budget.listedBytes + bytes > this.budget.maxListedBytes) {
      this.budget.unlisted++;
      return;
    }
    this.budget.listedBytes += bytes;
    this.list = appendTo(this.list, value);
  }

  get values(): readonly string[] {
    return this.list;
  }

  get count(): number {
    return this.distinct.count;
  }

  get isExact(): boolean {
    return this.distinct.isExact;
  }
}

/**
 * `list` with `value` appended, for the short lists kept per sender and per campaign. An empty
 * list is replaced by a one-element array: V8 gives the first push onto an empty array room for
 * 17 elements, and most senders have one name, one recipient, one port and one protocol (a
 * sender with one message took 1,459 bytes of heap, now 948).
 */
export function appendTo<T>(list: T[], value: T): T[] {
  if (list.length === 0) return [value];
  list.push(value);
  return list;
}

/** Error names kept per tally; the rest are counted under `other`. */
const MAX_ERROR_NAMES = 64;

/** Delivery outcomes: status counts, error names, and bounces (errors an ICMP message reported). */
const NO_ERRORS: ReadonlyMap<string, number> = new Map();

export class Outcomes {
  readonly status: Record<MessageStatus, number> = { ok: 0, error: 0, 'no-response': 0, unknown: 0 };
  /** Made on the first error (most senders have none). */
  private errorCounts: Map<string, number> | undefined;
  bounced = 0;

  /** Error name → messages. */
  get errors(): ReadonlyMap<string, number> {
    return this.errorCounts ?? NO_ERRORS;
  }

  add(status: MessageStatus, error: string | undefined): void {
    this.status[status]++;
    if (status !== 'error') return;
    const name = error ?? 'unnamed';
    if (isBounce(name)) this.bounced++;
    const errors = (this.errorCounts ??= new Map());
    const key = errors.has(name) || errors.size < MAX_ERROR_NAMES ? name : 'other';
    errors.set(key, (errors.get(key) ?? 0) + 1);
  }

  merge(other: Outcomes): void {
    for (const k of Object.keys(this.status) as MessageStatus[]) this.status[k] += other.status[k];
    for (const [name, n] of other.errors) (this.errorCounts ??= new Map()).set(name, (this.errorCounts.get(name) ?? 0) + n);
    this.bounced += other.bounced;
  }

  /** `{ status: count }` with the statuses that occurred, in a fixed order. */
  json(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.status)) if (v > 0) out[k] = v;
    return out;
  }

  errorsJson(): Record<string, number> {
    return Object.fromEntries([...this.errors].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  }
}

/** Dissectors name an ICMP bounce `ICMP <reason>` (e.g. `ICMP Port unreachable`). */
export function isBounce(error: string): boolean {
  return error.startsWith('ICMP');
}

/** The address part of `ip:port` / `[v6]:port`. */
export function hostOf(endpoint: string): string {
  if (endpoint.startsWith('[')) {
    const end = endpoint.indexOf(']');
    return end > 0 ? endpoint.slice(1, end) : endpoint;
  }
  const colon = endpoint.lastIndexOf(':');
  return colon > 0 && endpoint.indexOf(':') === colon ? endpoint.slice(0, colon) : endpoint;
}

/** The port of `ip:port` / `[v6]:port`, undefined when there is none. */
export function portOf(endpoint: string): number | undefined {
  const colon = endpoint.lastIndexOf(':');
  if (colon < 0 || (!endpoint.startsWith('[') && endpoint.indexOf(':') !== colon)) return undefined;
  const port = Number(endpoint.slice(colon + 1));
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}

/** A recipient as counted: the name without case or NetBIOS suffix. */
export function recipientKey(name: string): string {
  return name.replace(/<[0-9a-fA-F]{2}>$/, '').trim().toLowerCase();
}

/** The recipients a message counts for (distinct, case-folded; `*` broadcasts count as such). */
export function recipientsOf(event: MessageEvent): string[] {
  const out = new Set<string>();
  for (const to of event.to) {
    const key = recipientKey(to);
    if (key !== '') out.add(key);
  }
  return [...out];
}
