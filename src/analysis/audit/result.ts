// The audit's result: the JSON contract of `msgscope audit --format json` (docs/schema.md), built
// from the streaming state (senders, indicators, alerts) and the campaigns filled in from the log.
import { isoTime } from '../../output/time.js';
import type { Alert } from './alerts.js';
import type { CampaignAcc } from './campaigns.js';
import { templateText } from './grouping.js';
import type { Indicator } from './indicators.js';
import type { SenderState, SweepJson } from './senders.js';
import type { MessageRecord } from './spill.js';
import type { Outcomes } from './tally.js';

export interface CaptureJson {
  index: number;
  path: string;
  /** Hex SHA-256 of the file, when the run has a database (`--db`). */
  sha256?: string;
  messages: number;
}

export interface MemberJson {
  capture: string;
  frame: number;
  frames: number[];
  time: string;
  protocol: string;
  transport: string;
  src: string;
  dst: string;
  from: string;
  to: string[];
  text: string;
  status: string;
  error?: string;
}

export interface TimeBucketJson {
  time: string;
  messages: number;
}

export interface CampaignJson {
  id: string;
  /** Stable across runs (the database matches campaigns by it). */
  key: string;
  kind: 'identical' | 'template';
  size: number;
  protocols: string[];
  template: string;
  slots: string[];
  representative: string;
  templates: number;
  senders: string[];
  sender_count: number;
  from_names: string[];
  recipients: number;
  recipient_names: string[];
  recipients_exact: boolean;
  hosts: number;
  first_time: string;
  last_time: string;
  rate: { per_minute: number; peak_per_second: number };
  outcomes: Record<string, number>;
  errors: Record<string, number>;
  bounced: number;
  indicators: string[];
  timeline: TimeBucketJson[];
  messages: MemberJson[];
  messages_truncated: boolean;
  /** With --db: first seen in this run. */
  new?: boolean;
}

export interface SenderJson {
  src: string;
  messages: number;
  textless: number;
  recipients: number;
  recipient_names: string[];
  names: string[];
  name_count: number;
  hosts: number;
  dst_ports: number[];
  protocols: string[];
  campaigns: string[];
  first_time: string;
  last_time: string;
  outcomes: Record<string, number>;
  errors: Record<string, number>;
  bounced: number;
  sweeps: (Omit<SweepJson, 'first_time' | 'last_time'> & { first_time: string; last_time: string })[];
  new?: boolean;
}

export interface IndicatorJson {
  kind: string;
  value: string;
  messages: number;
  campaigns: string[];
  first_time: string;
  last_time: string;
}

export interface AlertJson {
  kind: string;
  time: string;
  capture: string;
  frame: number;
  src: string;
  count: number;
  threshold: number;
  interval: number;
  campaign?: string;
  sources?: number;
  text?: string;
}

export interface HistoryJson {
  database: string;
  run: number;
  previous?: { run: number; started: string };
  captures_seen_before: string[];
  new_messages: number;
  new_campaigns: string[];
  new_senders: string[];
  growth: { campaign: string; key: string; before: number; now: number }[];
}

export interface AuditResult {
  captures: CaptureJson[];
  summary: {
    messages: number;
    textless: number;
    campaigns: number;
    campaign_messages: number;
    one_off_messages: number;
    senders: number;
    protocols: Record<string, number>;
    first_time?: string;
    last_time?: string;
    outcomes: Record<string, number>;
    errors: Record<string, number>;
    bounced: number;
    bucket_seconds: number;
    /** Protocols not dissected in this run (--disable-protocol); only when some were. */
    protocols_off?: string[];
  };
  campaigns: CampaignJson[];
  senders: SenderJson[];
  indicators: IndicatorJson[];
  alerts: AlertJson[];
  limits: {
    templates: number;
    max_templates: number;
    templates_forgotten: number;
    messages_without_room: number;
    senders_untracked_messages: number;
    /** Messages whose IPv4 destination was not kept for sweeps (a sender's 65,536 or the 2,097,152 of all senders). */
    sweep_messages_untracked: number;
    indicators_untracked: number;
    /** Distinct counters (per sender, per campaign) estimated before 1,024 values: the budget of exact values was spent. Only when nonzero. */
    distinct_estimated_early?: number;
    /** Distinct counters that stopped counting new values: no sketch was left (their counts are lower bounds). Only when nonzero. */
    distinct_cut?: number;
    /** Names, recipients or senders counted but not listed: the lists' byte budget was spent. Only when nonzero. */
    values_unlisted?: number;
    members_per_campaign: number;
    members_total: number;
    alerts_dropped: number;
  };
  history?: HistoryJson;
}

export function isoMicros(us: number): string {
  const sec = Math.floor(us / 1e6);
  return isoTime(sec, (us - sec * 1e6) * 1000);
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function memberJson(r: MessageRecord, captures: readonly CaptureJson[]): MemberJson {
  return {
    capture: captures[r.capture]?.path ?? '',
    frame: r.frames[0] ?? 0,
    frames: [...r.frames],
    time: isoTime(r.tsSec, r.tsNsec),
    protocol: r.protocol,
    transport: r.transport,
    src: r.src,
    dst: r.dst,
    from: r.from,
    to: [...r.to],
    text: r.text,
    status: r.status,
    ...(r.error !== undefined ? { error: r.error } : {}),
  };
}

export function campaignJson(acc: CampaignAcc, captures: readonly CaptureJson[], indicators: string[]): CampaignJson {
  const c = acc.cluster;
  return {
    id: acc.id,
    key: c.key,
    kind: c.varied ? 'template' : 'identical',
    size: acc.size,
    protocols: [...acc.protocols].sort(),
    template: templateText(c),
    slots: [...c.slots].sort(),
    representative: c.representative,
    templates: c.templates,
    senders: [...acc.senders.values].sort(),
    sender_count: acc.senders.count,
    from_names: [...acc.names.values].sort(),
    recipients: acc.recipients.count,
    recipient_names: [...acc.recipients.values].sort(),
    recipients_exact: acc.recipients.isExact,
    hosts: acc.hosts.count,
    first_time: isoMicros(acc.first),
    last_time: isoMicros(acc.last),
    rate: { per_minute: round(acc.perMinute), peak_per_second: acc.peakPerSecond },
    ...outcomeJson(acc.outcomes),
    indicators,
    timeline: [...acc.buckets].sort((a, b) => a[0] - b[0]).map(([t, n]) => ({ time: isoMicros(t), messages: n })),
    messages: acc.members.map((r) => memberJson(r, captures)),
    messages_truncated: acc.membersCut,
  };
}

export function outcomeJson(o: Outcomes): { outcomes: Record<string, number>; errors: Record<string, number>; bounced: number } {
  return { outcomes: o.json(), errors: o.errorsJson(), bounced: o.bounced };
}

export function senderJson(s: SenderState, campaigns: readonly string[], minSweep: number): SenderJson {
  return {
    src: s.src,
    messages: s.messages,
    textless: s.textless,
    recipients: s.recipients.count,
    recipient_names: [...s.recipients.values].sort(),
    names: [...s.names.values].sort(),
    name_count: s.names.count,
    hosts: s.hosts.count,
    dst_ports: [...s.ports].sort((a, b) => a - b),
    protocols: [...s.protocols].sort(),
    campaigns: [...campaigns],
    first_time: isoMicros(s.first),
    last_time: isoMicros(s.last),
    ...outcomeJson(s.outcomes),
    sweeps: s.sweeps(minSweep).map((w) => ({ ...w, first_time: isoMicros(w.first_time), last_time: isoMicros(w.last_time) })),
  };
}

export function indicatorJson(i: Indicator, campaigns: string[]): IndicatorJson {
  return { kind: i.kind, value: i.value, messages: i.messages, campaigns, first_time: isoMicros(i.first), last_time: isoMicros(i.last) };
}

export function alertJson(a: Alert, captures: readonly CaptureJson[], campaign: string | undefined): AlertJson {
  return {
    kind: a.kind,
    time: isoMicros(a.time),
    capture: captures[a.capture]?.path ?? '',
    frame: a.frame,
    src: a.src,
    count: a.count,
    threshold: a.threshold,
    interval: a.interval,
    ...(campaign !== undefined ? { campaign } : {}),
    ...(a.sources !== undefined ? { sources: a.sources } : {}),
    ...(a.text !== undefined ? { text: a.text } : {}),
  };
}
