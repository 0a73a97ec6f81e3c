// Campaigns: template clusters with enough messages, filled in from the message log once the
// clusters are final — senders, recipients, hosts, outcomes, rates, messages per time bucket and
// the member list (capped; the CSV, database and Parquet carry every message).
import type { Cluster } from './grouping.js';
import type { MessageRecord } from './spill.js';
import { Distinct, DistinctBudget, hostOf, Outcomes, recipientKey, Sample } from './tally.js';

/** Senders and names listed per campaign (counts stay exact up to Distinct's bound). */
const MAX_LISTED = 100;

export interface CampaignLimits {
  /** Member messages listed per campaign. */
  readonly members: number;
  /** Member messages listed over all campaigns. */
  readonly totalMembers: number;
}

/** Default: 1000 members per campaign, 200,000 in all (about 60 MB at most). */
export const DEFAULT_CAMPAIGN_LIMITS: CampaignLimits = { members: 1000, totalMembers: 200_000 };

/** Time in integer microseconds since the epoch (exact in a double). */
export function micros(tsSec: number, tsNsec: number): number {
  return tsSec * 1_000_000 + Math.floor(tsNsec / 1000);
}

export class CampaignAcc {
  size = 0;
  first = Infinity;
  last = -Infinity;
  readonly protocols = new Set<string>();
  readonly senders: Sample;
  readonly names: Sample;
  readonly recipients: Sample;
  readonly hosts: Distinct;
  readonly outcomes = new Outcomes();
  readonly members: MessageRecord[] = [];
  membersCut = false;
  /** Messages per time bucket (bucket start in µs → count). */
  readonly buckets = new Map<number, number>();
  /** Busiest second: the log is in frame order, so messages of one second arrive together. */
  peakPerSecond = 0;
  private second = -1;
  private inSecond = 0;

  /** `distinct`: shared by every campaign and sender of the audit. */
  constructor(readonly id: string, readonly cluster: Cluster, distinct = new DistinctBudget()) {
    this.senders = new Sample(MAX_LISTED, distinct);
    this.names = new Sample(MAX_LISTED, distinct);
    this.recipients = new Sample(MAX_LISTED, distinct);
    this.hosts = new Distinct(distinct);
  }

  add(r: MessageRecord, bucketMicros: number, memberRoom: () => boolean): void {
    const t = micros(r.tsSec, r.tsNsec);
    this.size++;
    if (t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    this.protocols.add(r.protocol);
    this.senders.add(hostOf(r.src));
    this.names.add(r.from);
    for (const to of r.to) {
      const key = recipientKey(to);
      if (key !== '') this.recipients.add(key);
    }
    this.hosts.add(hostOf(r.dst));
    this.outcomes.add(r.status, r.error);
    const bucket = Math.floor(t / bucketMicros) * bucketMicros;
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
    if (r.tsSec === this.second) this.inSecond++;
    else {
      this.second = r.tsSec;
      this.inSecond = 1;
    }
    if (this.inSecond > this.peakPerSecond) this.peakPerSecond = this.inSecond;
    if (memberRoom()) this.members.push(r);
    else this.membersCut = true;
  }

  /** Messages per minute over the campaign's span (its size for a campaign within one minute). */
  get perMinute(): number {
    const minutes = (this.last - this.first) / 60e6;
    return minutes >= 1 ? this.size / minutes : this.size;
  }
}

/** Buckets a chart aims at: enough to show a wave's shape, few enough to stay small. */
const TARGET_BUCKETS = 300;

/**
 * The bucket width of the per-campaign timelines: the finest of 1 s … 1 day that gives at most
 * 300 buckets over the run's span (a minute for a capture of 5 hours; seconds for a short one).
 */
export function bucketSeconds(spanMicros: number): number {
  for (const s of [1, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400]) if (spanMicros / 1e6 / s <= TARGET_BUCKETS) return s;
  return Math.ceil(spanMicros / 1e6 / TARGET_BUCKETS / 86400) * 86400;
}
