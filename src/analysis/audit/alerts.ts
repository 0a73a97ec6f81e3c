// Threshold alerts, as Suricata's `threshold … track by_src, count N, seconds S` and Zeek's scan
// notices: per source, distinct destination hosts and distinct recipients within an interval; per
// text (template cluster), distinct recipients within an interval whatever the source. Each
// counter starts its interval at its first observation and fires once per interval. State is per
// active key and bounded by the thresholds (a set stops growing once it has fired).
import type { MessageEvent } from '../../model/events.js';
import { FifoMap } from '../../util/fifo-map.js';
import { hostOf, recipientsOf } from './tally.js';

export interface AlertThresholds {
  /** Distinct destination hosts per source per interval. */
  readonly hosts: number;
  /** Distinct recipients per source per interval. */
  readonly recipients: number;
  /** Distinct recipients of one text (campaign) per interval, all sources together. */
  readonly text: number;
  /** Interval length in seconds. */
  readonly interval: number;
}

/** Zeek's address-scan default is 25 hosts in 5 minutes; the others follow it. */
export const DEFAULT_THRESHOLDS: AlertThresholds = { hosts: 25, recipients: 25, text: 25, interval: 300 };

export type AlertKind = 'hosts' | 'recipients' | 'text';

export interface Alert {
  readonly kind: AlertKind;
  /** Capture time (microseconds since the epoch) of the message that crossed the threshold. */
  readonly time: number;
  /** Capture index and first frame of that message. */
  readonly capture: number;
  readonly frame: number;
  /** The source address (hosts, recipients) or the last source seen (text). */
  readonly src: string;
  readonly count: number;
  readonly threshold: number;
  readonly interval: number;
  /** For text alerts: the template id (resolved to a campaign in the report) and sources seen. */
  readonly template?: number;
  readonly sources?: number;
  /** For text alerts: the text (first 200 characters). */
  readonly text?: string;
}

interface Window {
  start: number;
  readonly seen: Set<string>;
  readonly sources?: Set<string>;
  fired: boolean;
}

/** Keys tracked at once per counter kind; new keys past it are ignored until windows expire. */
const MAX_KEYS = 100_000;
/** Alerts kept for the report (live prints every one as it happens). */
export const MAX_ALERTS = 10_000;

export class WindowCounter {
  /**
   * In order of start (a window is inserted when it starts, and time runs forward): those whose
   * interval has passed are dropped from the front, so the windows of sources gone quiet do not
   * pile up until the key bound.
   */
  private readonly windows = new FifoMap<string, Window>();

  /** @param interval window length in microseconds (times are microseconds) */
  constructor(private readonly threshold: number, private readonly interval: number, private readonly withSources = false) {}

  /** Windows held. */
  get size(): number {
    return this.windows.size;
  }

  /** Adds values under key at time (µs); returns the count when this crosses the threshold, else undefined. */
  observe(key: string, values: readonly string[], time: number, source?: string): { count: number; sources: number } | undefined {
    let w = this.windows.get(key);
    if (w !== undefined && time - w.start >= this.interval) {
      this.windows.delete(key);
      w = undefined;
    }
    if (w === undefined) {
      this.expire(time);
      if (this.windows.size >= MAX_KEYS) return undefined;
      w = { start: time, seen: new Set(), fired: false, ...(this.withSources ? { sources: new Set<string>() } : {}) };
      this.windows.set(key, w);
    }
    if (w.fired) return undefined;
    for (const v of values) w.seen.add(v);
    if (source !== undefined && w.sources !== undefined && w.sources.size < this.threshold) w.sources.add(source);
    if (w.seen.size < this.threshold) return undefined;
    w.fired = true;
    const count = w.seen.size;
    const sources = w.sources?.size ?? 0;
    // Once fired the window only needs its start time.
    w.seen.clear();
    w.sources?.clear();
    return { count, sources };
  }

  private expire(now: number): void {
    for (let w = this.windows.oldestValue(); w !== undefined && now - w.start >= this.interval; w = this.windows.oldestValue()) this.windows.deleteOldest();
  }
}

export class AlertMonitor {
  private readonly hosts: WindowCounter;
  private readonly recipients: WindowCounter;
  private readonly text: WindowCounter;

  constructor(private readonly t: AlertThresholds) {
    const interval = t.interval * 1e6;
    this.hosts = new WindowCounter(t.hosts, interval);
    this.recipients = new WindowCounter(t.recipients, interval);
    this.text = new WindowCounter(t.text, interval, true);
  }

  /** Observes one message at `time` (µs); returns the alerts it raises (usually none). `textKey` is its cluster root, -1 for none. */
  observe(event: MessageEvent, time: number, capture: number, textKey: number): Alert[] {
    const out: Alert[] = [];
    const src = hostOf(event.src);
    const dstHost = hostOf(event.dst);
    // A recipient is a name at a host (Administrator at 60 hosts is 60 people); a broadcast (To
    // `*`) or an unnamed one counts as its destination host.
    const named = recipientsOf(event).filter((r) => r !== '*');
    const recipients = named.length > 0 ? named.map((n) => `${n}@${dstHost}`) : [`@${dstHost}`];
    const base = { time, capture, frame: event.frames[0] ?? 0, src, interval: this.t.interval };
    const h = this.hosts.observe(src, [dstHost], time);
    if (h !== undefined) out.push({ ...base, kind: 'hosts', count: h.count, threshold: this.t.hosts });
    const r = this.recipients.observe(src, recipients, time);
    if (r !== undefined) out.push({ ...base, kind: 'recipients', count: r.count, threshold: this.t.recipients });
    if (textKey >= 0) {
      const x = this.text.observe(String(textKey), recipients, time, src);
      if (x !== undefined) out.push({ ...base, kind: 'text', count: x.count, threshold: this.t.text, template: textKey, sources: x.sources, text: event.text.slice(0, 200) });
    }
    return out;
  }
}
