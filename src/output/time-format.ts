// tshark's `-t` time formats for the time column of `read` and `timeline` text: a (time of day),
// ad (date and time), u / ud (the same in UTC), e (seconds since the epoch), r (seconds since the
// first frame of the file), d / dd (seconds since the previous line shown). Microseconds, or
// nanoseconds when the capture has them. Local time follows TZ, as in tshark.
import { relativeSeconds } from './time.js';

export const TIME_FORMATS = ['a', 'ad', 'r', 'd', 'dd', 'e', 'u', 'ud'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

export interface Instant {
  readonly tsSec: number;
  readonly tsNsec: number;
}

function fraction(nsec: number): string {
  return nsec % 1000 === 0 ? String(nsec / 1000).padStart(6, '0') : String(nsec).padStart(9, '0');
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

function clock(t: Instant, utc: boolean, withDate: boolean): string {
  const d = new Date(t.tsSec * 1000);
  if (Number.isNaN(d.getTime())) return `${t.tsSec}.${fraction(t.tsNsec)}`;
  const [y, mo, day, h, mi, s] = utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const time = `${two(h)}:${two(mi)}:${two(s)}.${fraction(t.tsNsec)}`;
  return withDate ? `${y}-${two(mo)}-${two(day)} ${time}` : time;
}

/** The time column of one output: keeps the previous line's time for the delta formats. */
export class TimeColumn {
  private previous: Instant | undefined;

  constructor(readonly format: TimeFormat) {}

  /** The text for a line at `t`; `first` is the first frame of its file (for r). */
  text(t: Instant, first: Instant): string {
    const previous = this.previous ?? t;
    this.previous = t;
    switch (this.format) {
      case 'a':
        return clock(t, false, false);
      case 'ad':
        return clock(t, false, true);
      case 'u':
        return clock(t, true, false);
      case 'ud':
        return clock(t, true, true);
      case 'e':
        return `${t.tsSec}.${fraction(t.tsNsec)}`;
      case 'r':
        return relativeSeconds(t.tsSec, t.tsNsec, first.tsSec, first.tsNsec);
      case 'd':
      case 'dd':
        return relativeSeconds(t.tsSec, t.tsNsec, previous.tsSec, previous.tsNsec);
    }
  }
}
