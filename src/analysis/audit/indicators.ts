// Indicators: the links, domains, e-mail addresses and phone numbers spam texts carry, with how
// many messages carried each and which templates (later: campaigns) they came in. They are the
// parts normalise.ts masks, so no second scan of the text is needed.
import type { Masked } from './normalise.js';

export type IndicatorKind = 'url' | 'domain' | 'email' | 'phone';

/** Default bound on distinct indicators tracked. */
export const DEFAULT_MAX_INDICATORS = 100_000;
/** Templates remembered per indicator. */
const MAX_TEMPLATES = 64;
/** Indicator values are cut to this length (a URL can be as long as the message). */
const MAX_VALUE = 512;

export interface Indicator {
  readonly kind: IndicatorKind;
  /** The value as first written (cut at 512 characters). */
  readonly value: string;
  messages: number;
  first: number;
  last: number;
  readonly templates: Set<number>;
}

/** The host of a URL (`http://user@Host.example:80/x` → `host.example`), lower case. */
export function urlHost(url: string): string {
  const rest = url.replace(/^[a-z]+:\/\//i, '');
  const host = rest.split(/[/?#]/, 1)[0]!;
  return host.replace(/^.*@/, '').replace(/:\d*$/, '').replace(/\.$/, '').toLowerCase();
}

/** The comparison key of an indicator: URLs and e-mail addresses without case, phone numbers as digits. */
function indicatorKey(kind: IndicatorKind, value: string): string {
  if (kind === 'phone') return (value.trim().startsWith('+') ? '+' : '') + value.replace(/\D/g, '');
  return value.toLowerCase();
}

export class Indicators {
  readonly byKey = new Map<string, Indicator>();
  /** Indicators not tracked because the table was full. */
  untracked = 0;

  constructor(private readonly max = DEFAULT_MAX_INDICATORS) {}

  /** Records the indicators of one message (each counted once per message). */
  add(masked: Masked, time: number, template: number): void {
    if (masked.found.length === 0) return;
    const seen = new Set<string>();
    const note = (kind: IndicatorKind, value: string): void => {
      const key = `${kind}\u0000${indicatorKey(kind, value)}`;
      if (seen.has(key)) return;
      seen.add(key);
      let item = this.byKey.get(key);
      if (item === undefined) {
        if (this.byKey.size >= this.max) {
          this.untracked++;
          return;
        }
        item = { kind, value: value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) : value, messages: 0, first: time, last: time, templates: new Set() };
        this.byKey.set(key, item);
      }
      item.messages++;
      if (time < item.first) item.first = time;
      if (time > item.last) item.last = time;
      if (template >= 0 && item.templates.size < MAX_TEMPLATES) item.templates.add(template);
    };
    for (const f of masked.found) {
      note(f.kind, f.text);
      if (f.kind === 'url') {
        const host = urlHost(f.text);
        if (host !== '') note('domain', host);
      } else if (f.kind === 'email') {
        note('domain', f.text.slice(f.text.lastIndexOf('@') + 1).toLowerCase());
      }
    }
  }
}
