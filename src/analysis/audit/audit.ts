// `msgscope audit` as an analysis: message events in (never bytes), campaigns, senders, sweeps,
// outcomes, indicators and alerts out. While reading it keeps only bounded state — templates,
// senders, indicators, alert windows — and logs each message to a temporary file; at the end,
// with the campaigns final, one pass over that log fills in the campaigns and feeds the outputs
// that want every message (CSV, database, Parquet).
import type { MessageEvent, TimelineEvent } from '../../model/events.js';
import type { Analysis, FileInfo } from '../../runner/analysis.js';
import { AlertMonitor, DEFAULT_THRESHOLDS, MAX_ALERTS, type Alert, type AlertThresholds } from './alerts.js';
import { bucketSeconds, CampaignAcc, DEFAULT_CAMPAIGN_LIMITS, micros, type CampaignLimits } from './campaigns.js';
import { DEFAULT_GROUPING, TemplateStore, type Cluster, type GroupingOptions } from './grouping.js';
import { DEFAULT_MAX_INDICATORS, Indicators } from './indicators.js';
import { mask, messageNames } from './normalise.js';
import { alertJson, campaignJson, indicatorJson, isoMicros, senderJson, type AuditResult, type CaptureJson } from './result.js';
import { DEFAULT_MAX_SENDERS, DEFAULT_MIN_SWEEP, Senders } from './senders.js';
import { MessageLog, type MessageRecord } from './spill.js';
import { DEFAULT_MAX_EXACT_BYTES, DEFAULT_MAX_LISTED_BYTES, DEFAULT_MAX_SKETCHES, DistinctBudget, hostOf, Outcomes } from './tally.js';

export interface AuditOptions {
  /** Messages a cluster needs to be a campaign. */
  readonly minSize: number;
  readonly grouping: GroupingOptions;
  readonly maxSenders: number;
  /**
   * What the distinct counters hold together — the senders' counters, and apart from them the
   * campaigns' (filled in last, they would otherwise find the senders' budget spent): exact
   * values (bytes, roughly) and HyperLogLog sketches (4 KB each), for each of the two.
   */
  readonly maxExactBytes: number;
  readonly maxSketches: number;
  /** What the samples' listed values (names, recipients, senders) hold together, bytes, for each of the two. */
  readonly maxListedBytes: number;
  readonly maxIndicators: number;
  readonly minSweep: number;
  readonly campaignLimits: CampaignLimits;
  readonly thresholds: AlertThresholds;
  /**
   * Whether an output lists campaign members (JSON, the HTML report). The terminal summary and
   * the CSV do not; the members are most of what the final pass holds (up to 200,000 messages).
   */
  readonly listMembers: boolean;
  /** SHA-256 of each capture (by index), when the run keeps history. */
  readonly captureHashes?: readonly string[];
  /** Protocols the run did not dissect (`--disable-protocol`): the report says so. */
  readonly protocolsOff?: readonly string[];
}

export const DEFAULT_AUDIT: AuditOptions = {
  minSize: 2,
  grouping: DEFAULT_GROUPING,
  maxSenders: DEFAULT_MAX_SENDERS,
  maxExactBytes: DEFAULT_MAX_EXACT_BYTES,
  maxSketches: DEFAULT_MAX_SKETCHES,
  maxListedBytes: DEFAULT_MAX_LISTED_BYTES,
  maxIndicators: DEFAULT_MAX_INDICATORS,
  minSweep: DEFAULT_MIN_SWEEP,
  campaignLimits: DEFAULT_CAMPAIGN_LIMITS,
  thresholds: DEFAULT_THRESHOLDS,
  listMembers: true,
};

/** A campaign as known before the final pass (the database names it, possibly after an earlier run's). */
export interface PlannedCampaign {
  readonly id: string;
  readonly cluster: Cluster;
  key: string;
  isNew?: boolean;
}

export interface AuditPlan {
  readonly campaigns: readonly PlannedCampaign[];
  readonly senders: readonly string[];
  readonly captures: readonly CaptureJson[];
  /** Set by the history output (--db) in begin(): the result then says what is new. */
  keepsHistory?: boolean;
  newSenders?: ReadonlySet<string>;
}

/** Where the audit's results go: each hook is optional. */
export interface AuditOutput {
  /** Campaigns are known; before the pass over every message. */
  begin?(plan: AuditPlan): void | Promise<void>;
  /** Every message, in arrival order, with its campaign id. */
  message?(record: MessageRecord, campaign: string | undefined): void | Promise<void>;
  /** The finished result. */
  end?(result: AuditResult, plan: AuditPlan): void | Promise<void>;
  /** Something failed after begin: undo (e.g. roll a transaction back). */
  abort?(): void | Promise<void>;
}

export class AuditAnalysis implements Analysis {
  private readonly templates: TemplateStore;
  private readonly senders: Senders;
  private readonly indicators: Indicators;
  private readonly monitor: AlertMonitor;
  private readonly outcomes = new Outcomes();
  private readonly protocols = new Map<string, number>();
  private readonly captures: CaptureJson[] = [];
  private readonly alerts: Alert[] = [];
  private alertsDropped = 0;
  private log: MessageLog | undefined;
  private seq = 0;
  private textless = 0;
  private first = Infinity;
  private last = -Infinity;

  constructor(
    private readonly outputs: readonly AuditOutput[],
    private readonly options: AuditOptions = DEFAULT_AUDIT,
    /** Called the moment a threshold is crossed (live alerts). */
    private readonly onAlert?: (alert: Alert, capture: CaptureJson | undefined) => void,
  ) {
    this.templates = new TemplateStore(options.grouping);
    this.senders = new Senders(options.maxSenders, undefined, new DistinctBudget(options.maxExactBytes, options.maxSketches, options.maxListedBytes));
    this.indicators = new Indicators(options.maxIndicators);
    this.monitor = new AlertMonitor(options.thresholds);
  }

  start(): void {
    this.log = new MessageLog();
  }

  beginFile(file: FileInfo): void {
    const sha = this.options.captureHashes?.[file.index];
    this.captures.push({ index: file.index, path: file.path, ...(sha !== undefined ? { sha256: sha } : {}), messages: 0 });
  }

  event(event: TimelineEvent, file: FileInfo): void {
    if (event.kind !== 'message') return;
    this.message(event, file.index);
  }

  private message(event: MessageEvent, capture: number): void {
    const seq = this.seq++;
    const t = micros(event.tsSec, event.tsNsec);
    if (t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    const entry = this.captures[capture];
    if (entry !== undefined) entry.messages++;
    let template = -1;
    if (event.text === '') this.textless++;
    else {
      const masked = mask(event.text, messageNames(event.from, event.to));
      template = this.templates.add(event.text, masked, seq);
      this.indicators.add(masked, t, template);
    }
    this.senders.add(event, t);
    this.outcomes.add(event.status, event.error);
    this.protocols.set(event.protocol, (this.protocols.get(event.protocol) ?? 0) + 1);
    const root = template >= 0 ? (this.templates.clusterOf(template)?.root ?? -1) : -1;
    for (const alert of this.monitor.observe(event, t, capture, root)) {
      if (this.alerts.length < MAX_ALERTS) this.alerts.push(alert);
      else this.alertsDropped++;
      this.onAlert?.(alert, this.captures[capture]);
    }
    (this.log ??= new MessageLog()).append({
      seq, capture, frames: event.frames, tsSec: event.tsSec, tsNsec: event.tsNsec, protocol: event.protocol, transport: event.transport,
      src: event.src, dst: event.dst, from: event.from, to: event.to, text: event.text, status: event.status,
      ...(event.error !== undefined ? { error: event.error } : {}), template,
    });
  }

  async finish(): Promise<void> {
    const log = this.log ?? new MessageLog();
    const begun: AuditOutput[] = [];
    try {
      const campaigns: PlannedCampaign[] = this.templates
        .allClusters()
        .filter((c) => c.count >= this.options.minSize)
        .map((cluster, i) => ({ id: `C${i + 1}`, cluster, key: cluster.key }));
      const plan: AuditPlan = { campaigns, senders: [...this.senders.bySrc.keys()], captures: this.captures };
      for (const output of this.outputs) {
        begun.push(output);
        await output.begin?.(plan);
      }
      const result = await this.pass(log, plan);
      for (const output of this.outputs) await output.end?.(result, plan);
    } catch (err) {
      for (const output of begun) await output.abort?.();
      throw err;
    } finally {
      log.remove();
    }
  }

  /** The pass over every logged message: campaign details, sender campaigns, and the per-message outputs. */
  private async pass(log: MessageLog, plan: AuditPlan): Promise<AuditResult> {
    const span = this.first === Infinity ? 0 : this.last - this.first;
    const bucket = bucketSeconds(span);
    const bucketMicros = bucket * 1e6;
    const byRoot = new Map<number, CampaignAcc>();
    const distinct = new DistinctBudget(this.options.maxExactBytes, this.options.maxSketches, this.options.maxListedBytes);
    for (const p of plan.campaigns) byRoot.set(p.cluster.root, new CampaignAcc(p.id, p.cluster, distinct));
    const senderCampaigns = new Map<string, Set<string>>();
    const limits = this.options.campaignLimits;
    let listed = 0;
    const perMessage = this.outputs.filter((o) => o.message !== undefined);
    for await (const r of log.replay()) {
      const cluster = r.template >= 0 ? this.templates.clusterOf(r.template) : undefined;
      const acc = cluster !== undefined ? byRoot.get(cluster.root) : undefined;
      if (acc !== undefined) {
        acc.add(r, bucketMicros, () => {
          if (!this.options.listMembers) return false;
          if (acc.members.length >= limits.members || listed >= limits.totalMembers) return false;
          listed++;
          return true;
        });
        const src = hostOf(r.src);
        let set = senderCampaigns.get(src);
        if (set === undefined) senderCampaigns.set(src, (set = new Set()));
        if (set.size < 100) set.add(acc.id);
      }
      for (const output of perMessage) await output.message!(r, acc?.id);
    }
    const campaignOf = (template: number): string | undefined => {
      const c = this.templates.clusterOf(template);
      return c === undefined ? undefined : byRoot.get(c.root)?.id;
    };
    const indicatorCampaigns = new Map<string, Set<string>>();
    const indicators = [...this.indicators.byKey.values()]
      .sort((a, b) => b.messages - a.messages || (a.value < b.value ? -1 : 1))
      .map((i) => {
        const ids = [...new Set([...i.templates].map(campaignOf).filter((x): x is string => x !== undefined))].sort(byCampaignId);
        for (const id of ids) {
          let set = indicatorCampaigns.get(id);
          if (set === undefined) indicatorCampaigns.set(id, (set = new Set()));
          if (set.size < 50) set.add(i.value);
        }
        return indicatorJson(i, ids);
      });
    const newCampaigns = new Set(plan.campaigns.filter((p) => p.isNew === true).map((p) => p.id));
    const keys = new Map(plan.campaigns.map((p) => [p.id, p.key]));
    const campaigns = [...byRoot.values()]
      .map((acc) => {
        const json = campaignJson(acc, this.captures, [...(indicatorCampaigns.get(acc.id) ?? [])]);
        json.key = keys.get(acc.id) ?? json.key;
        if (plan.keepsHistory === true) json.new = newCampaigns.has(acc.id);
        return json;
      })
      .sort((a, b) => b.size - a.size || byCampaignId(a.id, b.id));
    const senders = [...this.senders.bySrc.values()]
      .map((s) => {
        const json = senderJson(s, [...(senderCampaigns.get(s.src) ?? [])].sort(byCampaignId), this.options.minSweep);
        if (plan.keepsHistory === true) json.new = plan.newSenders?.has(s.src) ?? false;
        return json;
      })
      .sort((a, b) => b.messages - a.messages || (a.src < b.src ? -1 : 1));
    const campaignMessages = campaigns.reduce((n, c) => n + c.size, 0);
    return {
      captures: this.captures,
      summary: {
        messages: this.seq,
        textless: this.textless,
        campaigns: campaigns.length,
        campaign_messages: campaignMessages,
        one_off_messages: this.seq - this.textless - campaignMessages,
        senders: this.senders.bySrc.size,
        protocols: Object.fromEntries([...this.protocols].sort()),
        ...(this.first !== Infinity ? { first_time: isoMicros(this.first), last_time: isoMicros(this.last) } : {}),
        outcomes: this.outcomes.json(),
        errors: this.outcomes.errorsJson(),
        bounced: this.outcomes.bounced,
        bucket_seconds: bucket,
        ...(this.options.protocolsOff !== undefined && this.options.protocolsOff.length > 0 ? { protocols_off: [...this.options.protocolsOff] } : {}),
      },
      campaigns,
      senders,
      indicators,
      alerts: this.alerts.map((a) => alertJson(a, this.captures, a.template !== undefined ? campaignOf(a.template) : undefined)),
      limits: {
        templates: this.templates.size,
        max_templates: this.options.grouping.maxTemplates,
        templates_forgotten: this.templates.evicted,
        messages_without_room: this.templates.overflow,
        senders_untracked_messages: this.senders.untracked,
        sweep_messages_untracked: this.senders.sweepHosts.refused,
        indicators_untracked: this.indicators.untracked,
        ...distinctLimits([this.senders.distinct, distinct]),
        members_per_campaign: limits.members,
        members_total: limits.totalMembers,
        alerts_dropped: this.alertsDropped,
      },
    };
  }
}

/** The distinct counters' budget, in `limits` only when it was hit (earlier results are unchanged). */
function distinctLimits(budgets: readonly DistinctBudget[]): Pick<AuditResult['limits'], 'distinct_estimated_early' | 'distinct_cut' | 'values_unlisted'> {
  const early = budgets.reduce((n, b) => n + b.estimatedEarly, 0);
  const cut = budgets.reduce((n, b) => n + b.cut, 0);
  const unlisted = budgets.reduce((n, b) => n + b.unlisted, 0);
  return { ...(early > 0 ? { distinct_estimated_early: early } : {}), ...(cut > 0 ? { distinct_cut: cut } : {}), ...(unlisted > 0 ? { values_unlisted: unlisted } : {}) };
}

/** C2 before C10. */
export function byCampaignId(a: string, b: string): number {
  return Number(a.slice(1)) - Number(b.slice(1));
}
