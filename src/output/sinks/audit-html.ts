// The audit as one self-contained HTML file (--report): summary figures, charts as inline SVG
// (rendered now, no script), campaign, sender, sweep, outcome, indicator and alert tables. It
// loads nothing — a Content-Security-Policy of `default-src 'none'` says so to the browser — and
// prints to PDF. Every text from the wire is escaped for HTML (and its control characters shown).
import type { AuditOutput } from '../../analysis/audit/audit.js';
import { protocolsOffText } from '../../analysis/audit/report.js';
import type { AuditResult, CampaignJson, SenderJson } from '../../analysis/audit/result.js';
import { barChart, pieChart, timeSeriesChart, type Series } from '../charts.js';
import { escapeText } from '../escape.js';
import { PendingFile } from '../files.js';

/** Campaigns drawn in the time chart (the rest are summed as "other"). */
const CHART_CAMPAIGNS = 8;
/** Bars in the sender charts. */
const CHART_SENDERS = 15;
/** Member messages shown per campaign in the HTML (JSON, CSV and the database have more). */
const HTML_MEMBERS = 100;

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Wire text for HTML: control characters made visible (line breaks kept when asked), then entities. */
export function html(text: string | number | undefined, keepLines = false): string {
  if (text === undefined) return '';
  const s = String(text);
  const shown = keepLines ? s.replace(/\r\n?/g, '\n').split('\n').map(escapeText).join('\n') : escapeText(s);
  return shown.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

function when(iso: string | undefined): string {
  return iso === undefined ? '' : iso.replace('T', ' ').replace(/\.\d+Z$/, '');
}

function outcomes(o: Record<string, number>, bounced: number): string {
  return Object.entries(o).map(([k, v]) => `${html(k)} ${v}${k === 'error' && bounced > 0 ? ` (bounced ${bounced})` : ''}`).join(', ');
}

function table(id: string, headers: readonly string[], rows: readonly string[][], numeric: ReadonlySet<number> = new Set()): string {
  if (rows.length === 0) return `<p class="none" id="${id}">None.</p>`;
  const head = headers.map((h, i) => `<th${numeric.has(i) ? ' class="n"' : ''}>${html(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${numeric.has(i) ? ' class="n"' : ''}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function figure(id: string, svg: string, caption: string): string {
  return `<figure class="chart" id="${id}">${svg}<figcaption>${html(caption)}</figcaption></figure>`;
}

function campaignSeries(r: AuditResult): Series[] {
  const top = r.campaigns.slice(0, CHART_CAMPAIGNS);
  const series: Series[] = top.map((c) => ({ name: c.id, points: c.timeline.map((b) => [Date.parse(b.time), b.messages] as const) }));
  const rest = r.campaigns.slice(CHART_CAMPAIGNS);
  if (rest.length > 0) {
    const sum = new Map<number, number>();
    for (const c of rest) for (const b of c.timeline) sum.set(Date.parse(b.time), (sum.get(Date.parse(b.time)) ?? 0) + b.messages);
    series.push({ name: 'other', points: [...sum].sort((a, b) => a[0] - b[0]) });
  }
  return series;
}

function charts(r: AuditResult): string {
  const out: string[] = [];
  const b = r.summary.bucket_seconds;
  const perUnit = b === 1 ? 'second' : b === 60 ? 'minute' : b === 3600 ? 'hour' : `${b} s`;
  if (r.campaigns.length > 0) out.push(figure('chart-campaigns', timeSeriesChart(`Messages per ${perUnit} per campaign`, campaignSeries(r), 'messages', b * 1000), `Messages per ${perUnit}, largest ${Math.min(CHART_CAMPAIGNS, r.campaigns.length)} campaigns${r.campaigns.length > CHART_CAMPAIGNS ? ' and the rest as other' : ''}.`));
  const top = r.senders.slice(0, CHART_SENDERS);
  if (top.length > 0) {
    const statuses = ['ok', 'error', 'no-response', 'unknown'];
    out.push(figure('chart-senders', barChart('Top senders (messages by outcome)', top.map((s) => s.src), statuses.map((st) => ({ name: st, values: top.map((s) => s.outcomes[st] ?? 0) }))), 'Messages per source address, by outcome.'));
    const byRecipients = [...r.senders].sort((a, b) => b.recipients - a.recipients || b.hosts - a.hosts).slice(0, CHART_SENDERS);
    out.push(figure('chart-recipients', barChart('Recipients and hosts per sender', byRecipients.map((s) => s.src), [{ name: 'recipients', values: byRecipients.map((s) => s.recipients) }, { name: 'hosts', values: byRecipients.map((s) => s.hosts) }]), 'Distinct recipient names and destination hosts per source address.'));
  }
  const slices = Object.entries(r.summary.outcomes).map(([name, value]) => ({ name, value }));
  if (slices.length > 0) out.push(figure('chart-outcomes', pieChart('Outcomes', slices), `Delivery outcomes of all messages${r.summary.bounced > 0 ? ` (${r.summary.bounced} of the errors are ICMP bounces)` : ''}.`));
  return out.join('\n');
}

function campaignSection(c: CampaignJson): string {
  const members = c.messages.slice(0, HTML_MEMBERS).map((m) => [html(m.time.replace('T', ' ').replace('Z', '')), html(m.frame), html(m.src), html(m.dst), html(m.from), html(m.to.join(', ')), html(m.status + (m.error !== undefined ? ` ${m.error}` : ''))]);
  const shown = members.length < c.size ? ` (first ${members.length} of ${c.size}; the CSV has all)` : '';
  return `<section class="campaign" id="campaign-${html(c.id)}">
<h3>${html(c.id)} — ${c.size} messages, ${html(c.kind)}${c.new === true ? ' <span class="new">new</span>' : ''}</h3>
<p>${html(c.protocols.join(', '))}; ${c.sender_count} sender(s), ${c.recipients} recipient(s), ${c.hosts} host(s); ${html(when(c.first_time))} – ${html(when(c.last_time))}; ${c.rate.per_minute} per minute, peak ${c.rate.peak_per_second} per second; ${outcomes(c.outcomes, c.bounced)}</p>
<p>Template (slots: ${html(c.slots.join(', ') || 'none')}):</p><pre class="template">${html(c.template, true)}</pre>
<details><summary>Representative text, senders, names, indicators</summary>
<pre>${html(c.representative, true)}</pre>
<p>Senders: ${html(c.senders.join(', '))}</p><p>From names: ${html(c.from_names.join(', '))}</p><p>Recipients: ${html(c.recipient_names.join(', '))}</p>
<p>Indicators: ${html(c.indicators.join(', ') || 'none')}</p></details>
<details><summary>Messages${html(shown)}</summary>${table(`members-${html(c.id)}`, ['Time', 'Frame', 'Source', 'Destination', 'From', 'To', 'Outcome'], members, new Set([1]))}</details>
</section>`;
}

function senderRow(s: SenderJson): string[] {
  return [html(s.src) + (s.new === true ? ' <span class="new">new</span>' : ''), html(s.messages), html(s.name_count), html(s.names.join(', ')), html(s.recipients), html(s.hosts), html(s.dst_ports.join(', ')), html(s.campaigns.join(', ')), outcomes(s.outcomes, s.bounced), html(s.sweeps.length)];
}

const STYLE = `body{font:14px/1.4 sans-serif;margin:24px;color:#222;max-width:1200px}h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}
h3{font-size:15px;margin-bottom:4px}table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left}
td.n,th.n{text-align:right}th{background:#f3f3f3}pre{white-space:pre-wrap;word-break:break-word;background:#f8f8f8;padding:6px;border:1px solid #e5e5e5;margin:4px 0}
.figures{display:flex;flex-wrap:wrap;gap:12px}.figure{border:1px solid #ddd;padding:8px 14px;min-width:110px}.figure b{display:block;font-size:22px}
figure.chart{margin:12px 0}figure.chart svg{max-width:100%;height:auto}figcaption{font-size:12px;color:#555}.new{background:#fde8a6;padding:0 4px;border-radius:3px;font-size:12px}
.none{color:#777}.warning{background:#fde8a6;padding:6px 10px;border-left:4px solid #c90}@media print{details{display:block}details>summary{display:none}section.campaign{break-inside:avoid}}`;

export function renderAuditHtml(r: AuditResult): string {
  const s = r.summary;
  const figures = [
    ['Messages', s.messages], ['Campaigns', s.campaigns], ['In campaigns', s.campaign_messages], ['One-off', s.one_off_messages], ['Senders', s.senders],
    ['Delivered', s.outcomes.ok ?? 0], ['Refused / bounced', s.outcomes.error ?? 0], ['No response', s.outcomes['no-response'] ?? 0], ['Unknown', s.outcomes.unknown ?? 0],
  ].map(([k, v]) => `<div class="figure"><b>${html(v)}</b>${html(k)}</div>`).join('');
  const sweeps = r.senders.flatMap((x) => x.sweeps.map((w) => [html(x.src), html(w.first), html(w.last), html(w.hosts), html(w.ports.join(', ')), html(w.messages), html(when(w.first_time)), html(when(w.last_time))]));
  const errors = Object.entries(s.errors).map(([k, v]) => [html(k), html(v)]);
  const history = r.history === undefined ? '' : `<h2 id="history">History</h2>
<p>Run ${r.history.run} in ${html(r.history.database)}${r.history.previous !== undefined ? `, compared with run ${r.history.previous.run} of ${html(when(r.history.previous.started))}` : ' (the first)'}: ${r.history.new_messages} new message(s); new campaigns: ${html(r.history.new_campaigns.join(', ') || 'none')}; new senders: ${html(r.history.new_senders.join(', ') || 'none')}.</p>
${r.history.captures_seen_before.length > 0 ? `<p>Audited before (not counted again): ${html(r.history.captures_seen_before.join(', '))}</p>` : ''}
${table('growth', ['Campaign', 'Messages before', 'Messages now'], r.history.growth.map((g) => [html(g.campaign), html(g.before), html(g.now)]), new Set([1, 2]))}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>msgscope audit</title><style>${STYLE}</style></head>
<body>
<h1>Messenger spam audit</h1>
<p>${html(r.captures.map((c) => c.path).join(', '))}${s.first_time !== undefined ? ` — ${html(when(s.first_time))} to ${html(when(s.last_time))} UTC` : ''}</p>
${s.protocols_off !== undefined ? `<p class="warning" id="protocols-off">${html(protocolsOffText(s.protocols_off))}</p>` : ''}
<div class="figures" id="summary">${figures}</div>
<h2 id="charts">Charts</h2>
${charts(r)}
<h2 id="campaigns">Campaigns</h2>
${table('campaign-table', ['ID', 'Size', 'Kind', 'Protocols', 'Senders', 'Recipients', 'Hosts', 'Per minute', 'Peak/s', 'Outcomes', 'Template'],
    r.campaigns.map((c) => [`<a href="#campaign-${html(c.id)}">${html(c.id)}</a>`, html(c.size), html(c.kind), html(c.protocols.join(', ')), html(c.sender_count), html(c.recipients), html(c.hosts), html(c.rate.per_minute), html(c.rate.peak_per_second), outcomes(c.outcomes, c.bounced), `<pre>${html(c.template.length > 300 ? `${c.template.slice(0, 300)}…` : c.template, true)}</pre>`]),
    new Set([1, 4, 5, 6, 7, 8]))}
${r.campaigns.map(campaignSection).join('\n')}
<h2 id="senders">Senders</h2>
${table('sender-table', ['Source', 'Messages', 'Names', 'From names', 'Recipients', 'Hosts', 'Ports', 'Campaigns', 'Outcomes', 'Sweeps'], r.senders.map(senderRow), new Set([1, 2, 4, 5, 9]))}
<h2 id="sweeps">Sweeps</h2>
${table('sweep-table', ['Source', 'First', 'Last', 'Hosts', 'Ports', 'Messages', 'From', 'To'], sweeps, new Set([3, 5]))}
<h2 id="outcomes">Outcomes</h2>
<p>${outcomes(s.outcomes, s.bounced)}</p>
${table('error-table', ['Error', 'Messages'], errors, new Set([1]))}
<h2 id="indicators">Indicators</h2>
${table('indicator-table', ['Kind', 'Value', 'Messages', 'Campaigns', 'First', 'Last'], r.indicators.map((i) => [html(i.kind), html(i.value), html(i.messages), html(i.campaigns.join(', ')), html(when(i.first_time)), html(when(i.last_time))]), new Set([2]))}
<h2 id="alerts">Alerts</h2>
${table('alert-table', ['Time', 'Kind', 'Source', 'Count', 'Threshold', 'Campaign', 'Frame'], r.alerts.map((a) => [html(when(a.time)), html(a.kind), html(a.src), html(a.count), html(`${a.threshold} in ${a.interval} s`), html(a.campaign ?? ''), html(a.frame)]), new Set([3, 6]))}
${history}
<p class="none">Made by msgscope audit. Texts are shown as decoded from the wire, control characters escaped.</p>
</body></html>
`;
}

/** --report FILE: the path is checked when made; the file appears when the audit ends. */
export class HtmlReportFile implements AuditOutput {
  private readonly file: PendingFile;

  constructor(path: string) {
    this.file = new PendingFile(path);
  }

  end(result: AuditResult): void {
    this.file.write(renderAuditHtml(result));
  }

  abort(): void {
    this.file.discard();
  }
}
