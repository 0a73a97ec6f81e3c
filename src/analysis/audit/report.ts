// The audit result as a Report: the JSON contract object as is, and the terminal summary (top
// campaigns with their templates, top senders, sweeps, outcomes, indicators, alerts, history).
import { escapeText, fitWidth } from '../../output/escape.js';
import type { Cell, Report, ReportBlock, ReportTable } from '../../output/report.js';
import type { AlertJson, AuditResult, CampaignJson } from './result.js';

/** Rows the terminal summary shows per table (JSON, CSV and the HTML report have them all). */
export const TEXT_ROWS = 20;
const TEMPLATE_WIDTH = 100;

function when(iso: string | undefined): string {
  return iso === undefined ? '' : iso.replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** A wire text on one line, cut to `width` columns (escaped again by the text sink, harmlessly). */
export function oneLine(text: string, width: number): string {
  return fitWidth(escapeText(text), width);
}

export function outcomeText(outcomes: Record<string, number>, bounced: number): string {
  const parts = Object.entries(outcomes).map(([k, v]) => (k === 'error' && bounced > 0 ? `error ${v} (bounced ${bounced})` : `${k} ${v}`));
  return parts.length > 0 ? parts.join(', ') : 'none';
}

function table(title: string, name: string, columns: readonly [string, 'l' | 'r'][], rows: Cell[][], total: number): ReportTable {
  const shown = rows.slice(0, TEXT_ROWS);
  return {
    title: total > shown.length ? `${title} (top ${shown.length} of ${total})` : title,
    name,
    headers: columns.map((c) => c[0]),
    csvHeaders: columns.map((c) => c[0].toLowerCase().replace(/[^a-z0-9]+/g, '_')),
    align: columns.map((c) => c[1]),
    rows: shown,
  };
}

function campaignRow(c: CampaignJson): Cell[] {
  return [c.id, c.size, c.kind, c.protocols.join(','), c.sender_count, c.recipients, c.hosts, c.rate.per_minute, c.rate.peak_per_second, outcomeText(c.outcomes, c.bounced), when(c.first_time)];
}

/** What a run with protocols switched off did not see (the report is handed on: it must say). */
export function protocolsOffText(off: readonly string[]): string {
  return `Not dissected (--disable-protocol): ${off.join(', ')}; messages they carry are not in this audit`;
}

/** @param compare show what is new since the previous run (history, with --db) */
export function auditReport(r: AuditResult, compare = false): Report {
  const s = r.summary;
  const blocks: ReportBlock[] = [];
  const line = (text: string, heading = false): void => {
    blocks.push({ kind: 'line', text, ...(heading ? { heading } : {}) });
  };
  const push = (t: ReportTable): void => {
    blocks.push({ kind: 'table', table: t });
  };
  const captures = r.captures.length === 1 ? '1 capture' : `${r.captures.length} captures`;
  line(`Audit of ${captures}: ${s.messages} messages${s.textless > 0 ? ` (${s.textless} without text)` : ''}${s.first_time !== undefined ? `, ${when(s.first_time)} – ${when(s.last_time)} UTC` : ''}`, true);
  line(`Campaigns: ${s.campaigns} (${s.campaign_messages} messages); one-off messages: ${s.one_off_messages}; senders: ${s.senders}`);
  line(`Outcomes: ${outcomeText(s.outcomes, s.bounced)}`);
  if (s.protocols_off !== undefined) line(protocolsOffText(s.protocols_off));
  line('');
  push(table('Campaigns', 'campaigns', [['ID', 'l'], ['Size', 'r'], ['Kind', 'l'], ['Protocols', 'l'], ['Senders', 'r'], ['Recipients', 'r'], ['Hosts', 'r'], ['Per min', 'r'], ['Peak/s', 'r'], ['Outcomes', 'l'], ['First', 'l']], r.campaigns.map(campaignRow), r.campaigns.length));
  if (r.campaigns.length > 0) {
    line('Campaign templates', true);
    for (const c of r.campaigns.slice(0, TEXT_ROWS)) line(`  ${c.id}${c.new === true ? ' (new)' : ''}: ${oneLine(c.template, TEMPLATE_WIDTH)}`);
    line('');
  }
  push(table('Senders', 'senders', [['Source', 'l'], ['Messages', 'r'], ['Names', 'r'], ['Recipients', 'r'], ['Hosts', 'r'], ['Ports', 'l'], ['Campaigns', 'l'], ['Outcomes', 'l'], ['From names', 'l']],
    r.senders.map((x) => [x.src, x.messages, x.name_count, x.recipients, x.hosts, x.dst_ports.join(','), x.campaigns.join(','), outcomeText(x.outcomes, x.bounced), oneLine(x.names.join(', '), 60)]), r.senders.length));
  const sweeps = r.senders.flatMap((x) => x.sweeps.map((w) => [x.src, w.first, w.last, w.hosts, w.ports.join(','), w.messages, when(w.first_time), when(w.last_time)] as Cell[]));
  push({ ...table('Sweeps (consecutive destination addresses)', 'sweeps', [['Source', 'l'], ['First', 'l'], ['Last', 'l'], ['Hosts', 'r'], ['Ports', 'l'], ['Messages', 'r'], ['From', 'l'], ['To', 'l']], sweeps, sweeps.length), optional: false });
  const errors = Object.entries(s.errors).map(([name, n]) => [name, n] as Cell[]);
  push({ ...table('Errors', 'errors', [['Error', 'l'], ['Messages', 'r']], errors, errors.length), optional: true });
  push({ ...table('Indicators', 'indicators', [['Kind', 'l'], ['Value', 'l'], ['Messages', 'r'], ['Campaigns', 'l']], r.indicators.map((i) => [i.kind, oneLine(i.value, 80), i.messages, i.campaigns.join(',')]), r.indicators.length), optional: true });
  push({
    ...table('Alerts', 'alerts', [['Time', 'l'], ['Kind', 'l'], ['Source', 'l'], ['Count', 'r'], ['Threshold', 'r'], ['Campaign', 'l'], ['Frame', 'r']],
      r.alerts.map((a) => [when(a.time), a.kind, a.src, a.count, `${a.threshold}/${a.interval}s`, a.campaign ?? '', a.frame]), r.alerts.length),
    optional: true,
  });
  if (r.history !== undefined) {
    if (compare) historyBlocks(r, line);
    else line(`Stored in ${escapeText(r.history.database)} as run ${r.history.run} (${r.history.new_messages} new messages; --compare for what is new)`);
  }
  const warnings: string[] = [];
  const l = r.limits;
  if (l.templates_forgotten > 0) warnings.push(`template table full (${l.max_templates}): ${l.templates_forgotten} one-off template(s) forgotten`);
  if (l.messages_without_room > 0) warnings.push(`${l.messages_without_room} message(s) with a new text found no room in the template table and are in no campaign`);
  if (l.senders_untracked_messages > 0) warnings.push(`sender table full: ${l.senders_untracked_messages} message(s) from further sources not tracked per sender`);
  if (l.sweep_messages_untracked > 0) warnings.push(`sweep tables full: ${l.sweep_messages_untracked} message(s) to further IPv4 destinations do not extend sweeps`);
  if ((l.distinct_estimated_early ?? 0) > 0) warnings.push(`distinct counters' exact values full: ${l.distinct_estimated_early} count(s) of recipients, hosts, names or senders estimated before 1,024 values`);
  if ((l.distinct_cut ?? 0) > 0) warnings.push(`distinct counters' sketches full: ${l.distinct_cut} count(s) of recipients, hosts, names or senders stopped counting new values (lower bounds)`);
  if ((l.values_unlisted ?? 0) > 0) warnings.push(`listed values' budget full: ${l.values_unlisted} name(s), recipient(s) or sender(s) counted but not listed`);
  if (l.indicators_untracked > 0) warnings.push(`indicator table full: ${l.indicators_untracked} indicator(s) not tracked`);
  if (l.alerts_dropped > 0) warnings.push(`${l.alerts_dropped} alert(s) past the first ${r.alerts.length} left out of the report`);
  return { json: r, blocks, warnings };
}

/** One alert as a line for a person (live output). */
export function alertLine(a: AlertJson): string {
  const what = a.kind === 'hosts' ? 'distinct destination hosts' : a.kind === 'recipients' ? 'distinct recipients' : `recipients of one text (${a.sources ?? 0} source(s))`;
  const text = a.text !== undefined ? `: ${oneLine(a.text, 60)}` : '';
  return `${when(a.time)}  ALERT ${a.kind} ${a.src} reached ${a.count} ${what} within ${a.interval} s (threshold ${a.threshold}, frame ${a.frame})${text}`;
}

function historyBlocks(r: AuditResult, line: (text: string, heading?: boolean) => void): void {
  const h = r.history!;
  line(`History (${escapeText(h.database)}): run ${h.run}${h.previous !== undefined ? `, compared with run ${h.previous.run} of ${when(h.previous.started)} UTC` : ', the first'}`, true);
  for (const path of h.captures_seen_before) line(`  already audited: ${escapeText(path)} (its messages are not counted again)`);
  line(`  new messages stored: ${h.new_messages}`);
  line(`  new campaigns: ${h.new_campaigns.length > 0 ? h.new_campaigns.join(', ') : 'none'}`);
  line(`  new senders: ${h.new_senders.length > 0 ? h.new_senders.join(', ') : 'none'}`);
  for (const g of h.growth) line(`  ${g.campaign} grew: ${g.before} → ${g.now} messages`);
  line('');
}
