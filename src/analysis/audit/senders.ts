// Senders: keyed by source address (the From name is whatever the spammer typed), with the names
// used, distinct recipients and destination hosts, ports tried, outcomes — and sweeps: maximal
// runs of consecutive IPv4 destination addresses, Zeek's address-scan idea applied to a whole
// capture (live alerting per interval is alerts.ts).
import { ipv4Text } from '../../net/addr.js';
import type { MessageEvent } from '../../model/events.js';
import { appendTo, Distinct, DistinctBudget, hostOf, Outcomes, portOf, recipientsOf, Sample } from './tally.js';
import { HostHits, MAX_PORTS } from './host-hits.js';

/** From names kept per sender (the count of all is still exact up to Distinct's bound). */
const MAX_NAMES = 100;
/** IPv4 destinations kept per sender for sweep detection (a /16). */
export const MAX_SWEEP_HOSTS = 65_536;
/** Default bound on senders tracked. */
export const DEFAULT_MAX_SENDERS = 100_000;
/** IPv4 destinations kept for sweeps across all senders (about 40 bytes each: ~80 MB). */
export const DEFAULT_MAX_SWEEP_HOSTS_TOTAL = 2_097_152;
/** A sweep is a run of at least this many consecutive addresses (the fixtures' sweep rule). */
export const DEFAULT_MIN_SWEEP = 5;

export interface SweepJson {
  first: string;
  last: string;
  hosts: number;
  ports: number[];
  messages: number;
  first_time: number;
  last_time: number;
}

export class SenderState {
  messages = 0;
  textless = 0;
  first = Infinity;
  last = -Infinity;
  readonly names: Sample;
  readonly recipients: Sample;
  readonly hosts: Distinct;
  private portList: number[] = [];
  /** Protocols used, in order of first use (a handful at most). */
  private protocolList: string[] = [];
  readonly outcomes = new Outcomes();

  /**
   * `id`: the sender's row owner in `v4`, the IPv4 destinations (as numbers) and what was sent
   * there, for sweeps. The tables and budgets are shared by every sender (Senders); a sender
   * alone has only its own bounds.
   */
  constructor(readonly src: string, private readonly v4 = new HostHits(MAX_SWEEP_HOSTS, MAX_SWEEP_HOSTS), private readonly id = 0, distinctBudget = new DistinctBudget()) {
    this.names = new Sample(MAX_NAMES, distinctBudget);
    this.recipients = new Sample(MAX_NAMES, distinctBudget);
    this.hosts = new Distinct(distinctBudget);
  }

  add(event: MessageEvent, time: number): void {
    this.messages++;
    if (event.text === '') this.textless++;
    if (time < this.first) this.first = time;
    if (time > this.last) this.last = time;
    this.names.add(event.from);
    for (const r of recipientsOf(event)) this.recipients.add(r);
    const host = hostOf(event.dst);
    this.hosts.add(host);
    const port = portOf(event.dst);
    if (port !== undefined && this.portList.length < MAX_PORTS && !this.portList.includes(port)) this.portList = appendTo(this.portList, port);
    if (!this.protocolList.includes(event.protocol)) this.protocolList = appendTo(this.protocolList, event.protocol);
    this.outcomes.add(event.status, event.error);
    const v4 = ipv4Number(host);
    if (v4 === undefined) return;
    this.v4.hit(this.id, v4, time, port);
  }

  get ports(): readonly number[] {
    return this.portList;
  }

  get protocols(): readonly string[] {
    return this.protocolList;
  }

  /** Maximal runs of consecutive IPv4 destinations, at least `minHosts` long. */
  sweeps(minHosts: number): SweepJson[] {
    const addresses = this.v4.sortedAddresses(this.id);
    const out: SweepJson[] = [];
    let start = 0;
    for (let i = 1; i <= addresses.length; i++) {
      if (i < addresses.length && addresses[i] === addresses[i - 1]! + 1) continue;
      if (i - start >= minHosts) out.push(this.sweep(addresses.slice(start, i)));
      start = i;
    }
    return out;
  }

  private sweep(run: Uint32Array): SweepJson {
    const ports = new Set<number>();
    let messages = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const a of run) {
      const h = this.v4.get(this.id, a);
      messages += h.messages;
      for (const p of h.ports) if (ports.size < MAX_PORTS) ports.add(p);
      first = Math.min(first, h.first);
      last = Math.max(last, h.last);
    }
    return { first: ipv4Text(run[0]!), last: ipv4Text(run[run.length - 1]!), hosts: run.length, ports: [...ports].sort((a, b) => a - b), messages, first_time: first, last_time: last };
  }
}

/** Every sender, bounded: past the bound, messages from new sources are counted but not tracked. */
export class Senders {
  readonly bySrc = new Map<string, SenderState>();
  /** Messages from sources past the bound. */
  untracked = 0;
  /** The IPv4 destinations every sender keeps for sweeps, and the messages left out of them. */
  readonly sweepHosts: HostHits;

  /** `distinct`: what the senders' distinct counters may hold together. */
  constructor(private readonly max = DEFAULT_MAX_SENDERS, maxSweepHosts = DEFAULT_MAX_SWEEP_HOSTS_TOTAL, readonly distinct = new DistinctBudget()) {
    this.sweepHosts = new HostHits(MAX_SWEEP_HOSTS, maxSweepHosts);
  }

  add(event: MessageEvent, time: number): SenderState | undefined {
    const src = hostOf(event.src);
    let s = this.bySrc.get(src);
    if (s === undefined) {
      if (this.bySrc.size >= this.max) {
        this.untracked++;
        return undefined;
      }
      s = new SenderState(src, this.sweepHosts, this.bySrc.size, this.distinct);
      this.bySrc.set(src, s);
    }
    s.add(event, time);
    return s;
  }
}

/** Dotted IPv4 text to a number; undefined for anything else (IPv6, names). Broadcast and multicast are left out of sweeps. */
export function ipv4Number(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  const n = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
  if (n === 0xffffffff || parts[0]! >= 224) return undefined;
  return n;
}

