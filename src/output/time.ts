// Time formatting: ISO-8601 UTC with microsecond precision (nanoseconds when the capture has them).

// Consecutive frames mostly share their second: its text is kept.
let cachedSec = NaN;
let cachedBase = '';

export function isoTime(tsSec: number, tsNsec: number): string {
  if (tsSec !== cachedSec) {
    const date = new Date(tsSec * 1000);
    cachedBase = Number.isNaN(date.getTime()) ? '1970-01-01T00:00:00' : date.toISOString().slice(0, 19);
    cachedSec = tsSec;
  }
  const base = cachedBase;
  const fraction = tsNsec % 1000 === 0 ? String(tsNsec / 1000).padStart(6, '0') : String(tsNsec).padStart(9, '0');
  return `${base}.${fraction}Z`;
}

/** Seconds between two timestamps, as tshark's relative time column prints them. */
export function relativeSeconds(tsSec: number, tsNsec: number, baseSec: number, baseNsec: number): string {
  let sec = tsSec - baseSec;
  let nsec = tsNsec - baseNsec;
  if (nsec < 0) {
    nsec += 1e9;
    sec -= 1;
  }
  const negative = sec < 0;
  if (negative) {
    // Earlier than the first frame (files need not be in time order).
    const total = -(sec * 1e9 + nsec);
    return `-${Math.floor(total / 1e9)}.${String(Math.floor((total % 1e9) / 1000)).padStart(6, '0')}`;
  }
  return `${sec}.${String(Math.floor(nsec / 1000)).padStart(6, '0')}`;
}
