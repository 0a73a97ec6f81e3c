// Timeline events rendered for people (text) or programs (json, ndjson, csv). Schema:
// docs/schema.md.
import type { TimelineEvent } from '../model/events.js';
import { csvField, displayWidth, escapeText, fitWidth } from './escape.js';
import type { Severity } from '../model/findings.js';
import { isoTime } from './time.js';
import type { Style } from './style.js';
import type { ColumnWidths } from './packet-view.js';

/** The contract's JSON form: `time` as ISO-8601 in place of the internal seconds/nanoseconds. */
export function eventJson(event: TimelineEvent): Record<string, unknown> {
  const { tsSec, tsNsec, kind, frames, protocol, transport, src, dst, uid, communityId, findings } = event;
  const out: Record<string, unknown> = { kind, time: isoTime(tsSec, tsNsec), frames, protocol, transport, src, dst };
  if (uid !== undefined) out.uid = uid;
  if (communityId !== undefined) out.community_id = communityId;
  // The kind's own keys, in the event's order (a loop over its keys: no rest copy, no entry pairs).
  const fields = event as unknown as Record<string, unknown>;
  for (const key in fields) {
    if (COMMON_KEYS.has(key)) continue;
    const value = fields[key];
    if (value !== undefined) out[key] = value;
  }
  out.findings = findings;
  return out;
}

/** The keys every event has, placed first (or renamed) by eventJson. */
const COMMON_KEYS: ReadonlySet<string> = new Set(['tsSec', 'tsNsec', 'kind', 'frames', 'protocol', 'transport', 'src', 'dst', 'uid', 'communityId', 'findings']);

function quote(text: string): string {
  return `"${escapeText(text)}"`;
}

/** What the event says, after its common columns: one line of text. */
export function eventSummary(event: TimelineEvent): string {
  switch (event.kind) {
    case 'message': {
      const status = event.status === 'error' && event.error !== undefined ? `error ${escapeText(event.error)}` : event.status;
      // The status first: a line cut to the terminal width still shows it.
      return `[${status}] ${escapeText(event.from)} → ${event.to.map(escapeText).join(', ')}: ${quote(event.text)}`;
    }
    case 'session':
      return `${escapeText(event.action)}${event.details !== undefined ? ` ${escapeText(detailsText(event.details))}` : ''}`;
    case 'presence':
      return `${escapeText(event.user)} ${escapeText(event.status)}${event.details !== undefined ? ` ${escapeText(detailsText(event.details))}` : ''}`;
    case 'name': {
      const result = event.result !== undefined ? ` → ${escapeText(event.result.name)}` : '';
      const names = event.names !== undefined ? ` [${event.names.map(escapeText).join(', ')}]` : '';
      const level = event.level !== undefined ? ` level ${event.level}` : '';
      return `${escapeText(event.operation)}${event.name !== '' ? ` ${escapeText(event.name)}` : ''}${level}${names}${result}`;
    }
    case 'call': {
      const result = event.result !== undefined ? ` → ${escapeText(event.result.name)}` : '';
      return `${escapeText(event.interface)} ${escapeText(event.operation)}${result}`;
    }
    case 'notice': {
      const who = event.from !== undefined ? ` ${escapeText(event.from)}${event.to !== undefined ? ` → ${event.to.map(escapeText).join(', ')}` : ''}` : '';
      return `${escapeText(event.notice)}${who}`;
    }
    case 'finding':
      return '';
  }
}

function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

/**
 * The event as text: one aligned line, then one indented line per finding. With a width (a
 * terminal, no --wide) each line is cut to fit, before colouring.
 */
export function eventTextLine(event: TimelineEvent, style: Style, width?: number, timeText?: string, widths?: ColumnWidths): string {
  const fit = (text: string, used = 0): string => (width !== undefined && width > 0 ? fitWidth(text, Math.max(1, width - used)) : text);
  const plainTime = timeText ?? isoTime(event.tsSec, event.tsNsec).replace('T', ' ').replace('Z', '');
  const time = widths === undefined ? plainTime : widths.fit('time', plainTime, true);
  const route = event.src !== '' || event.dst !== '' ? `${escapeText(event.src)} → ${escapeText(event.dst)}` : '';
  const protocol = widths === undefined ? escapeText(event.protocol).padEnd(8) : widths.fit('protocol', escapeText(event.protocol), false);
  const rest = `${widths === undefined ? escapeText(event.kind).padEnd(8) : widths.fit('kind', escapeText(event.kind), false)} ${route}`;
  const summary = eventSummary(event);
  const prefix = `${time}  `;
  const body = fit(`${rest}${summary !== '' ? `  ${summary}` : ''}`, displayWidth(prefix) + displayWidth(protocol) + 1);
  let worst: Severity | undefined;
  for (const item of event.findings) if (item.severity === 'error' || (item.severity === 'warning' && worst !== 'error')) worst = item.severity;
  // A message's status gets its own colour: delivered apart from failed, bounced and unanswered.
  const statusAt = event.kind === 'message' ? rest.length + 2 : -1;
  const tag = statusAt >= 0 ? /^\[[^\]]*\]/.exec(body.slice(statusAt)) : null;
  const shown = tag !== null && event.kind === 'message'
    ? `${style.tint(body.slice(0, statusAt), worst)}${style.status(tag[0], event.status)}${style.tint(body.slice(statusAt + tag[0].length), worst)}`
    : style.tint(body, worst);
  const lines = [`${prefix}${style.protocol(protocol, event.protocol)} ${shown}`];
  for (const item of event.findings) {
    const label = item.severity === 'error' ? '[error]' : item.severity === 'warning' ? '[warning]' : '[note]';
    const text = fit(`${escapeText(item.summary)}${item.spec !== '' ? ` [${escapeText(item.spec)}]` : ''} (frame ${item.frame})`, 4 + label.length + 1);
    lines.push(`    ${style.severity(item.severity)} ${text}`);
  }
  return lines.join('\n');
}

export const CSV_COLUMNS = ['time', 'kind', 'protocol', 'transport', 'src', 'dst', 'from', 'to', 'text', 'status', 'error', 'frames', 'findings'];

export function eventCsvRow(event: TimelineEvent): string {
  const isMessage = event.kind === 'message';
  const cells: (string | number | undefined)[] = [
    isoTime(event.tsSec, event.tsNsec),
    event.kind,
    event.protocol,
    event.transport,
    event.src,
    event.dst,
    isMessage ? event.from : event.kind === 'notice' ? event.from : event.kind === 'presence' ? event.user : undefined,
    isMessage ? event.to.join(';') : event.kind === 'notice' ? event.to?.join(';') : undefined,
    isMessage ? event.text : eventSummary(event),
    isMessage ? event.status : event.kind === 'name' || event.kind === 'call' ? event.result?.name : undefined,
    isMessage ? event.error : undefined,
    event.frames.join(' '),
    event.findings.map((x) => x.id).join(' '),
  ];
  return cells.map((c) => csvField(c)).join(',');
}
