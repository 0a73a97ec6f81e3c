// `msgscope audit` end to end: the grouping, senders, sweeps and outcomes of the spam-wave
// fixtures equal their sidecars (test/fixtures/audit/*.json); the public spam captures; the text,
// JSON and CSV outputs; the HTML report in a real browser (Debian's chromium, offline); the
// DuckDB history (create, re-run, compare, migrate, corrupt, foreign, newer, locked, killed
// mid-run); the Parquet export read back by DuckDB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readCapture } from '../src/capture/open.js';
import { migrate } from '../src/analysis/audit/history.js';
import { Database } from '../src/output/duckdb.js';
import { BIN, cli, FIXTURES, publicCapture } from './helpers.js';
import { udp, writePcap } from './nbt-builder.js';

const DIR = join(FIXTURES, 'audit');
const FIXTURE_NAMES = ['sweep-msrp', 'botnet-msrp', 'netsend-smb', 'broadcast-mailslot', 'contacts-msnp', 'combined'];

type Status = 'ok' | 'error' | 'no-response' | 'unknown';

interface SidecarMessage {
  index: number;
  src: string;
  dst: string;
  frames: number[];
  status: Status;
  error?: string;
  role: 'campaign' | 'benign' | 'textless';
  campaign: string | null;
  known_gap?: string;
  timeline?: { status?: Status; error?: string | null };
}

interface Sidecar {
  messages: SidecarMessage[];
  campaigns: { id: string; size: number; members: number[]; protocols: string[]; senders: string[]; recipient_count: number; hosts: number; kind: string }[];
  senders: { src: string; messages: number; names: string[]; recipient_count: number; hosts: number; dst_ports: number[]; campaigns: string[]; sweeps: { first: string; last: string; hosts: number; ports: number[]; messages: number }[] }[];
}

interface Member { capture: string; frame: number; src: string; dst: string; from: string; to: string[]; status: string; error?: string }
interface Campaign { id: string; key: string; kind: string; size: number; protocols: string[]; senders: string[]; sender_count: number; recipients: number; hosts: number; template: string; outcomes: Record<string, number>; errors: Record<string, number>; messages: Member[]; messages_truncated: boolean; new?: boolean; timeline: { time: string; messages: number }[] }
interface Sweep { first: string; last: string; hosts: number; ports: number[]; messages: number }
interface Sender { src: string; messages: number; recipients: number; names: string[]; hosts: number; dst_ports: number[]; campaigns: string[]; outcomes: Record<string, number>; sweeps: Sweep[]; new?: boolean }
interface Audit {
  captures: { path: string; sha256?: string; messages: number }[];
  summary: { messages: number; textless: number; campaigns: number; campaign_messages: number; outcomes: Record<string, number>; bounced: number; bucket_seconds: number };
  campaigns: Campaign[];
  senders: Sender[];
  indicators: { kind: string; value: string; messages: number; campaigns: string[] }[];
  alerts: { kind: string; src: string; count: number }[];
  history?: { run: number; new_messages: number; new_campaigns: string[]; new_senders: string[]; captures_seen_before: string[]; growth: { campaign: string; before: number; now: number }[] };
}

function auditJson(args: string[]): Audit {
  const r = cli(['audit', '--format', 'json', '-q', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Audit;
}

function sidecar(name: string): Sidecar {
  return JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Sidecar;
}

function hostOf(endpoint: string): string {
  return endpoint.replace(/:\d+$/, '');
}

/** What the timeline says a message's outcome is (the sidecar's intended one unless it marks a known gap). */
function expectedStatus(m: SidecarMessage): { status: Status; error: string | undefined } {
  if (m.known_gap !== undefined && m.timeline?.status !== undefined) return { status: m.timeline.status, error: m.timeline.error ?? undefined };
  return { status: m.status, error: m.error };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'msgscope-audit-test-'));
}

for (const name of FIXTURE_NAMES) {
  test(`audit ${name}: campaigns, benign one-offs, senders, sweeps and outcomes as the sidecar says`, () => {
    const side = sidecar(name);
    const a = auditJson([join(DIR, `${name}.pcap`)]);
    assert.equal(a.summary.messages, side.messages.length);
    // Each member message, by its first frame and source address.
    const ours = new Map<string, { campaign: Campaign; member: Member }>();
    for (const c of a.campaigns) {
      assert.equal(c.messages_truncated, false);
      for (const m of c.messages) ours.set(`${m.frame}|${hostOf(m.src)}`, { campaign: c, member: m });
    }
    const key = (m: SidecarMessage): string => `${m.frames[0]}|${m.src}`;
    // Benign and textless messages are in no campaign.
    for (const m of side.messages.filter((x) => x.role !== 'campaign')) assert.equal(ours.get(key(m)), undefined, `message ${m.index} (${m.role}) is in ${ours.get(key(m))?.campaign.id}`);
    // Each intended campaign is exactly one of ours, with the same members.
    const mapping = new Map<string, string>();
    for (const intended of side.campaigns) {
      const found = new Set(intended.members.map((i) => ours.get(key(side.messages[i]!))?.campaign.id));
      assert.equal(found.size, 1, `${intended.id} spread over ${[...found].join(', ')}`);
      const id = [...found][0];
      assert.ok(id !== undefined, `${intended.id} is in no campaign`);
      const c = a.campaigns.find((x) => x.id === id)!;
      mapping.set(intended.id, c.id);
      assert.equal(c.size, intended.size, intended.id);
      assert.deepEqual(c.protocols, [...intended.protocols].sort());
      assert.deepEqual(c.senders, [...intended.senders].sort());
      assert.equal(c.recipients, intended.recipient_count, `${intended.id} recipients`);
      assert.equal(c.hosts, intended.hosts, `${intended.id} hosts`);
      assert.equal(c.kind, intended.kind, `${intended.id} kind`);
      // Outcomes: what the events say for each member.
      const expected: Record<string, number> = {};
      for (const i of intended.members) {
        const e = expectedStatus(side.messages[i]!);
        expected[e.status] = (expected[e.status] ?? 0) + 1;
      }
      assert.deepEqual(c.outcomes, expected, `${intended.id} outcomes`);
    }
    assert.equal(a.campaigns.length, side.campaigns.length, 'no other campaigns');
    // Per message: status and error as the timeline gives them.
    for (const m of side.messages.filter((x) => x.role === 'campaign')) {
      const got = ours.get(key(m))!.member;
      const e = expectedStatus(m);
      assert.equal(got.status, e.status, `message ${m.index}`);
      assert.equal(got.error, e.error, `message ${m.index} error`);
    }
    // Senders by source address.
    assert.deepEqual(a.senders.map((s) => s.src).sort(), side.senders.map((s) => s.src).sort());
    for (const intended of side.senders) {
      const s = a.senders.find((x) => x.src === intended.src)!;
      assert.equal(s.messages, intended.messages, `${s.src} messages`);
      assert.deepEqual(s.names, [...intended.names].sort(), `${s.src} names`);
      assert.equal(s.recipients, intended.recipient_count, `${s.src} recipients`);
      assert.equal(s.hosts, intended.hosts, `${s.src} hosts`);
      assert.deepEqual(s.dst_ports, intended.dst_ports, `${s.src} ports`);
      assert.deepEqual(s.campaigns, intended.campaigns.map((id) => mapping.get(id)).sort(), `${s.src} campaigns`);
      assert.deepEqual(s.sweeps.map((w) => ({ first: w.first, last: w.last, hosts: w.hosts, ports: w.ports, messages: w.messages })), intended.sweeps.map((w) => ({ first: w.first, last: w.last, hosts: w.hosts, ports: w.ports, messages: w.messages })), `${s.src} sweeps`);
    }
  });
}

test('audit: outcomes are what the timeline says, overall and per message (bounces as errors named by ICMP)', () => {
  const capture = join(DIR, 'combined.pcap');
  const t = cli(['timeline', '--format', 'ndjson', '-Y', 'kind == "message"', capture]);
  assert.equal(t.status, 0, t.stderr);
  const events = t.stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: string; error?: string });
  const expected: Record<string, number> = {};
  for (const e of events) expected[e.status] = (expected[e.status] ?? 0) + 1;
  const a = auditJson([capture]);
  assert.deepEqual(a.summary.outcomes, expected);
  assert.equal(a.summary.bounced, events.filter((e) => e.status === 'error' && (e.error ?? '').startsWith('ICMP')).length);
});

test('audit of the public spam captures: waves grouped, one-offs left alone, bounces counted', () => {
  const messenger = auditJson([publicCapture('ajbanjara__Wireshark/messenger.pcap')]);
  assert.equal(messenger.summary.messages, 6);
  // "…browser is infected with Spyware…" from two sources (3 messages) and "STOP!…" (2); the MSOFT notice is a one-off.
  assert.deepEqual(messenger.campaigns.map((c) => [c.size, c.sender_count]), [[3, 2], [2, 1]]);
  assert.match(messenger.campaigns[0]!.template, /Spyware/);
  const skype = auditJson([publicCapture('ajbanjara__Wireshark/SkypeIRC.cap')]);
  assert.deepEqual(skype.summary.outcomes, { error: 2 });
  assert.equal(skype.summary.bounced, 2);
  assert.deepEqual(skype.campaigns[0]!.errors, { 'ICMP Port unreachable': 2 });
  const dameware = auditJson([publicCapture('ajbanjara__Wireshark/startmenu_Dameware.pcap')]);
  assert.deepEqual(dameware.campaigns.map((c) => [c.size, c.hosts, c.senders]), [[5, 5, ['221.208.208.92']]]);
  // Several captures in one run: a campaign across files, each member naming its capture.
  const both = auditJson([publicCapture('ajbanjara__Wireshark/SkypeIRC.cap'), publicCapture('ajbanjara__Wireshark/startmenu_Dameware.pcap'), publicCapture('ajbanjara__Wireshark/MyFirstTeste.pcap'), publicCapture('ajbanjara__Wireshark/FTPv6-1.cap'), publicCapture('ajbanjara__Wireshark/packet_capture.pcap')]);
  const stop = both.campaigns.find((c) => /STOP! WINDOWS REQUIRES/.test(c.template))!;
  assert.ok(stop.size >= 7, `STOP! wave of ${stop.size}`);
  assert.ok(new Set(stop.messages.map((m) => m.capture)).size >= 2);
});

test('audit --format text: summary, campaigns with templates, senders, sweeps, outcomes', () => {
  const r = cli(['audit', join(DIR, 'combined.pcap')]);
  assert.equal(r.status, 0, r.stderr);
  for (const heading of ['Campaigns', 'Campaign templates', 'Senders', 'Sweeps (consecutive destination addresses)', 'Errors', 'Indicators']) assert.match(r.stdout, new RegExp(`^${heading.replace(/[()]/g, '\\$&')}`, 'm'));
  assert.match(r.stdout, /^Audit of 1 capture: 248 messages \(2 without text\)/m);
  assert.match(r.stdout, /Dear <name>, your computer is infected with <number> viruses!/);
  assert.match(r.stdout, /hey <name> <\*> is this really you in this picture\?\? <url>/);
  assert.match(r.stdout, /203\.0\.113\.66 +198\.51\.100\.1 +198\.51\.100\.60 +60 +1026,1027 +120/);
});

test('audit --format csv: one row per message with its campaign id, the same grouping as the JSON', () => {
  const capture = join(DIR, 'combined.pcap');
  const r = cli(['audit', '--format', 'csv', capture]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'capture,frame,time,protocol,transport,src,dst,from,to,text,status,error,campaign,frames');
  const a = auditJson([capture]);
  // Texts hold no raw line breaks (escaped): one line per message.
  assert.equal(lines.length - 1, a.summary.messages);
  const byFrame = new Map<string, string>();
  for (const c of a.campaigns) for (const m of c.messages) byFrame.set(`${m.frame}|${m.src}`, c.id);
  const parse = (line: string): string[] => {
    const cells: string[] = [];
    const re = /("(?:[^"]|"")*"|[^,]*)(,|$)/g;
    for (let m = re.exec(line); m !== null && m.index < line.length; m = re.exec(line)) cells.push(m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replace(/""/g, '"') : m[1]!);
    return cells;
  };
  let inCampaigns = 0;
  for (const line of lines.slice(1)) {
    const cells = parse(line);
    const campaign = cells[12] ?? '';
    assert.equal(campaign, byFrame.get(`${cells[1]}|${cells[5]}`) ?? '', line);
    if (campaign !== '') inCampaigns++;
  }
  assert.equal(inCampaigns, a.summary.campaign_messages);
});

test('audit --format json: the documented contract', () => {
  const a = auditJson([join(DIR, 'netsend-smb.pcap')]);
  const c = a.campaigns[0]!;
  for (const k of ['id', 'size', 'outcomes', 'messages', 'template', 'representative', 'rate', 'timeline']) assert.ok(k in c, k);
  for (const k of ['frame', 'capture', 'src', 'dst', 'from', 'to', 'status']) assert.ok(k in c.messages[0]!, k);
  const s = a.senders[0]!;
  assert.doesNotMatch(s.src, /:\d+$/);
  for (const k of ['src', 'messages', 'recipients', 'names', 'sweeps']) assert.ok(k in s, k);
  assert.deepEqual(Object.keys(s.sweeps[0]!).slice(0, 3), ['first', 'last', 'hosts']);
});

test('audit --members caps each campaign\'s member list and says so', () => {
  const a = auditJson(['--members', '10', join(DIR, 'sweep-msrp.pcap')]);
  assert.equal(a.campaigns[0]!.messages.length, 10);
  assert.equal(a.campaigns[0]!.messages_truncated, true);
  assert.equal(a.campaigns[0]!.size, 120);
});

test('audit: wire text is escaped in the terminal summary', () => {
  const r = cli(['audit', join(FIXTURES, 'smb-crlf.pcap'), join(FIXTURES, 'smb-crlf.pcap')]);
  assert.equal(r.status, 0, r.stderr);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f]/);
});

// --- The HTML report in a real browser -------------------------------------------------------

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_SKIP = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install chromium)';

/**
 * Runs headless chromium on a local file, offline: in a network namespace of its own when root
 * (nothing can leave), and through a closed local proxy port in any case.
 */
function chromium(args: string[], timeout = 90_000): { stdout: string; stderr: string; status: number | null } {
  const profile = tmp();
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--disable-extensions', '--disable-default-apps', '--proxy-server=socks5://127.0.0.1:9', `--user-data-dir=${profile}`, ...args];
  const isolate = process.getuid?.() === 0 && spawnSync('unshare', ['-n', 'true']).status === 0;
  const r = isolate ? spawnSync('unshare', ['-n', CHROMIUM, ...flags], { encoding: 'utf8', timeout, maxBuffer: 64 << 20 }) : spawnSync(CHROMIUM, flags, { encoding: 'utf8', timeout, maxBuffer: 64 << 20 });
  rmSync(profile, { recursive: true, force: true });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}

/** URLs the page itself asked for (the browser's own background requests have no origin). */
function pageRequests(netLog: string): string[] {
  const log = JSON.parse(readFileSync(netLog, 'utf8')) as { constants: { logEventTypes: Record<string, number> }; events: { type: number; params?: { url?: string; initiator?: string } }[] };
  const start = log.constants.logEventTypes.URL_REQUEST_START_JOB;
  return log.events.filter((e) => e.type === start && e.params?.url !== undefined && e.params.initiator !== 'not an origin').map((e) => e.params!.url!);
}

test('audit --report: a self-contained HTML file; chromium renders its charts offline and fetches nothing', { skip: CHROMIUM_SKIP, timeout: 300_000 }, () => {
  const dir = tmp();
  try {
    const report = join(dir, 'audit.html');
    const r = cli(['audit', '-q', '--report', report, join(DIR, 'combined.pcap')]);
    assert.equal(r.status, 0, r.stderr);
    const html = readFileSync(report, 'utf8');
    // Nothing to load: no script, no external reference, and the browser is told so.
    assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">/);
    assert.doesNotMatch(html, /<script|<link|<iframe|@import|url\((?!#)/i);
    assert.doesNotMatch(html, /(src|href)="(?!#)/i);
    const url = `file://${report}`;
    const dom = chromium(['--dump-dom', url]);
    assert.equal(dom.status, 0, dom.stderr);
    for (const id of ['chart-campaigns', 'chart-senders', 'chart-recipients', 'chart-outcomes']) {
      const m = new RegExp(`<figure class="chart" id="${id}"><svg[^>]*>([\\s\\S]*?)</svg>`).exec(dom.stdout);
      assert.ok(m !== null, `${id} is not in the rendered page`);
      assert.ok((m[1]!.match(/<path/g) ?? []).length >= 3, `${id} has no drawing`);
    }
    assert.match(dom.stdout, /hey &lt;name&gt; &lt;\*&gt; is this really you in this picture\?\? &lt;url&gt;/);
    const shot = join(dir, 'shot.png');
    const net = join(dir, 'net.json');
    const s = chromium(['--window-size=1280,2400', `--screenshot=${shot}`, `--log-net-log=${net}`, url]);
    assert.equal(s.status, 0, s.stderr);
    const png = readFileSync(shot);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.equal(png.readUInt32BE(16), 1280);
    assert.equal(png.readUInt32BE(20), 2400);
    assert.ok(png.length > 50_000, `screenshot of ${png.length} bytes looks empty`);
    assert.deepEqual(pageRequests(net).filter((u) => u !== url), []);
    // The check can fail: the same page without its policy and with a remote image asks for it.
    const leaky = join(dir, 'leaky.html');
    writeFileSync(leaky, html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('<body>', '<body><img src="http://127.0.0.1:9/pixel.png">'));
    const net2 = join(dir, 'net2.json');
    chromium(['--window-size=800,600', `--screenshot=${join(dir, 'leaky.png')}`, `--log-net-log=${net2}`, `file://${leaky}`]);
    assert.ok(pageRequests(net2).includes('http://127.0.0.1:9/pixel.png'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit --report: texts from the wire are escaped in the HTML', () => {
  const dir = tmp();
  try {
    const report = join(dir, 'r.html');
    const capture = join(dir, 'evil.pcap');
    writeFileSync(capture, netrSendMessagePcap(['<script>alert(1)</script> & "x" <img src=x onerror=alert(2)>', '<script>alert(1)</script> & "x" <img src=x onerror=alert(2)>'], '<b>FROM</b>'));
    const r = cli(['audit', '-q', '--report', report, capture]);
    assert.equal(r.status, 0, r.stderr);
    const html = readFileSync(report, 'utf8');
    assert.doesNotMatch(html, /<script|<img|<b>FROM/);
    assert.match(html, /&lt;script&gt;alert\(&lt;number&gt;\)&lt;\/script&gt; &amp; &quot;x&quot; &lt;img src=x onerror=alert\(&lt;number&gt;\)&gt;/);
    assert.match(html, /&lt;b&gt;FROM&lt;\/b&gt;/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A pcap of NetrSendMessage datagrams (copied from sweep-msrp.pcap's first request, text replaced by re-encoding the stub). */
function netrSendMessagePcap(texts: string[], from: string): Buffer {
  const ndrString = (s: string): number[] => {
    const b = Buffer.from(`${s}\0`, 'latin1');
    const out = [...le32(b.length), ...le32(0), ...le32(b.length), ...b];
    while (out.length % 4 !== 0) out.push(0);
    return out;
  };
  const frames = texts.map((text, i) => {
    const stub = [...ndrString(from), ...ndrString('ALICE'), ...ndrString(text)];
    const header = Buffer.alloc(80);
    header[0] = 4; // version
    header[1] = 0; // request
    header[2] = 0x28; // idempotent | nofack
    header[4] = 0x10; // little-endian, ASCII
    Buffer.from('f8917b5a00ffd011a9b200c04fb6e6fc', 'hex').copy(header, 24); // msgsvcsend (5a7b91f8-ff00-11d0-a9b2-00c04fb6e6fc), as NDR bytes
    Buffer.from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, i]).copy(header, 40);
    header.writeUInt32LE(1, 56); // interface version
    header.writeUInt16LE(0, 68); // opnum 0
    header.writeUInt16LE(0xffff, 70);
    header.writeUInt16LE(0xffff, 72);
    header.writeUInt16LE(stub.length, 74);
    const payload = Buffer.concat([header, Buffer.from(stub)]);
    return udp('192.0.2.66', 40000, `198.51.100.${i + 1}`, 1026, payload);
  });
  return Buffer.from(readFileSync(writePcap(frames)));
}

function le32(n: number): number[] {
  return [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255];
}

// --- The history database ---------------------------------------------------------------------

async function query(path: string, sql: string): Promise<Record<string, unknown>[]> {
  const db = await Database.open(path);
  try {
    return await db.all(sql);
  } finally {
    db.close();
  }
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

test('audit --db: runs stored with their captures; the same capture again is recognised, not counted twice; --compare says what is new', async () => {
  const dir = tmp();
  try {
    const db = join(dir, 'audit.duckdb');
    const first = auditJson(['--db', db, join(DIR, 'botnet-msrp.pcap')]);
    assert.equal(first.history!.run, 1);
    assert.equal(first.history!.new_messages, 62);
    assert.deepEqual(first.history!.new_campaigns, first.campaigns.map((c) => c.id));
    assert.ok(first.campaigns.every((c) => c.new === true));
    assert.equal(first.captures[0]!.sha256, sha(join(DIR, 'botnet-msrp.pcap')));
    // Again: nothing new.
    const again = auditJson(['--db', db, join(DIR, 'botnet-msrp.pcap')]);
    assert.equal(again.history!.run, 2);
    assert.equal(again.history!.new_messages, 0);
    assert.deepEqual(again.history!.new_campaigns, []);
    assert.deepEqual(again.history!.new_senders, []);
    assert.deepEqual(again.history!.captures_seen_before, [join(DIR, 'botnet-msrp.pcap')]);
    assert.deepEqual(again.history!.growth, []);
    // The combined capture: the botnet campaign grows (the same texts, new messages), the others are new.
    const text = cli(['audit', '--db', db, '--compare', join(DIR, 'combined.pcap')]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^History \(.*\): run 3, compared with run 2 of /m);
    assert.match(text.stdout, /^ {2}new messages stored: 248$/m);
    assert.match(text.stdout, /^ {2}new campaigns: C1, C2, C4$/m);
    assert.match(text.stdout, /^ {2}C3 grew: 60 → 120 messages$/m);
    assert.match(text.stdout, /^ {2}new senders: .*203\.0\.113\.66/m);
    assert.doesNotMatch(text.stdout, /new senders: .*192\.0\.2\.11/);
    const counts = await query(db, 'SELECT (SELECT count(*) FROM runs) AS runs, (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM captures) AS captures, (SELECT sum(new_messages) FROM runs) AS stored');
    assert.deepEqual(counts[0], { runs: 3n, messages: 310n, captures: 2n, stored: 310n });
    const campaign = await query(db, "SELECT messages, first_run, last_run FROM campaigns WHERE template LIKE 'Dear <name>%'");
    assert.deepEqual(campaign, [{ messages: 120n, first_run: 1, last_run: 3 }]);
    // The history command describes the same, from the tables alone.
    const h = cli(['history', '--db', db]);
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /^3 run\(s\) in /);
    assert.match(h.stdout, /^ {2}C3 grew: 60 → 120 messages$/m);
    const hj = JSON.parse(cli(['history', '--db', db, '--run', '2', '--format', 'json']).stdout) as { runs: unknown[]; run: { new_messages: number; captures_seen_before: string[] } };
    assert.equal(hj.runs.length, 3);
    assert.equal(hj.run.new_messages, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit --db: an older schema is migrated and its runs kept', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'old.duckdb');
    const db = await Database.open(path);
    await migrate(db, 0, 1);
    await db.run("INSERT INTO runs VALUES (1, TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2020-01-01 00:01:00', '0.0.1', 5, 5, 1, 1)");
    db.close();
    const r = cli(['audit', '--format', 'json', '--db', path, join(DIR, 'contacts-msnp.pcap')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /history schema migrated from version 1 to 2/);
    const a = JSON.parse(r.stdout) as Audit;
    assert.equal(a.history!.run, 2);
    const rows = await query(path, 'SELECT run_id, options IS NULL AS old FROM runs ORDER BY run_id');
    assert.deepEqual(rows, [{ run_id: 1, old: true }, { run_id: 2, old: false }]);
    assert.deepEqual(await query(path, 'SELECT list(version ORDER BY version) AS v FROM msgscope_schema'), [{ v: [1, 2] }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit --db: a corrupt file, another program\'s database, a non-database, a newer schema: one line, exit 2, the file untouched', async () => {
  const dir = tmp();
  try {
    const capture = join(DIR, 'contacts-msnp.pcap');
    const good = join(dir, 'good.duckdb');
    assert.equal(cli(['audit', '-q', '--db', good, join(DIR, 'combined.pcap')]).status, 0);
    const cases: [string, (path: string) => Promise<void>, RegExp][] = [
      ['corrupt', async (p) => {
        copyFileSync(good, p);
        const bytes = readFileSync(p);
        for (let i = 4096 * 3; i < bytes.length; i += 61) bytes[i] = bytes[i]! ^ 0x5a;
        writeFileSync(p, bytes);
      }, /corrupt database|not a DuckDB database|cannot open/],
      ['foreign', async (p) => {
        const db = await Database.open(p);
        await db.run('CREATE TABLE orders (id INTEGER, total DOUBLE)');
        db.close();
      }, /a DuckDB database of another program/],
      ['not-a-database', async (p) => copyFileSync(capture, p), /not a DuckDB database/],
      ['newer', async (p) => {
        copyFileSync(good, p);
        const db = await Database.open(p);
        await db.run("INSERT INTO msgscope_schema VALUES (99, now()::TIMESTAMP, 'from the future')");
        db.close();
      }, /written by a newer msgscope \(schema version 99; this one knows up to 2\)/],
    ];
    for (const [name, make, message] of cases) {
      const path = join(dir, `${name}.duckdb`);
      await make(path);
      const before = sha(path);
      const r = cli(['audit', '--db', path, capture]);
      assert.equal(r.status, 2, `${name}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${name}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^msgscope: ${path.replace(/[.]/g, '\\.')}: `), name);
      assert.match(r.stderr, message, name);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      assert.equal(r.stdout, '', name);
      if (name !== 'corrupt') assert.equal(sha(path), before, `${name}: file changed`);
    }
    // The newer one's history is intact.
    assert.deepEqual(await query(join(dir, 'newer.duckdb'), 'SELECT count(*) AS n FROM runs'), [{ n: 1n }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit --db: a database locked by a concurrent run gets one line and exit 2; the holder\'s history is intact', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'locked.duckdb');
    assert.equal(cli(['audit', '-q', '--db', path, join(DIR, 'contacts-msnp.pcap')]).status, 0);
    const holder = await DuckDBInstance.create(path);
    try {
      const r = cli(['audit', '--db', path, join(DIR, 'botnet-msrp.pcap')]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^msgscope: .*locked\.duckdb: in use by another process \(pid \d+\); try again when it has finished\n$/);
    } finally {
      holder.closeSync();
    }
    assert.deepEqual(await query(path, 'SELECT count(*) AS runs, sum(new_messages) AS messages FROM runs'), [{ runs: 1n, messages: 9n }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit --db: a run that fails (a capture that is not one) stores nothing; a run killed mid-way leaves whole runs only', async () => {
  const dir = tmp();
  try {
    const path = join(dir, 'h.duckdb');
    assert.equal(cli(['audit', '-q', '--db', path, join(DIR, 'contacts-msnp.pcap')]).status, 0);
    const notCapture = join(dir, 'notes.txt');
    writeFileSync(notCapture, 'these are not packets\n');
    const bad = cli(['audit', '--db', path, join(DIR, 'botnet-msrp.pcap'), notCapture]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /notes\.txt: not a capture file/);
    assert.deepEqual(await query(path, 'SELECT count(*) AS runs FROM runs'), [{ runs: 1n }]);
    // A larger capture (the sweep repeated with shifted times), killed at some point of its run.
    const big = join(dir, 'big.pcap');
    const frames: { data: Uint8Array; ts: number }[] = [];
    await readCapture(join(DIR, 'sweep-msrp.pcap'), { frame: (f) => frames.push({ data: Uint8Array.from(f.data), ts: f.tsSec + f.tsNsec / 1e9 }), warning: () => {} });
    const copies: { data: Uint8Array; ts: number }[] = [];
    for (let k = 0; k < 150; k++) for (const f of frames) copies.push({ data: f.data, ts: f.ts + k * 10 });
    copyFileSync(writePcap(copies), big);
    for (const delay of [300, 1500, 3000]) {
      const child = spawn(process.execPath, [BIN, 'audit', '-q', '--db', path, big], { stdio: 'ignore' });
      // Listen before waiting: a run that finishes before the kill must not be missed.
      const closed = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await closed;
      const rows = await query(path, 'SELECT (SELECT count(*) FROM runs) AS runs, (SELECT sum(new_messages) FROM runs) AS stored, (SELECT count(*) FROM messages) AS messages, (SELECT count(*) FROM messages WHERE run_id NOT IN (SELECT run_id FROM runs)) AS orphans');
      const row = rows[0]!;
      assert.equal(row.stored, row.messages, `after a kill at ${delay} ms: ${JSON.stringify(row, (_, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`);
      assert.equal(row.orphans, 0n);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit: a report, database or export path that cannot be written fails before any capture is read', () => {
  const dir = tmp();
  try {
    const missing = join(dir, 'no-such-capture.pcap');
    for (const [args, path] of [
      [['--report', join(dir, 'nope', 'r.html')], join(dir, 'nope', 'r.html')],
      [['--report', dir], dir],
      [['--db', join(dir, 'nope', 'a.duckdb')], join(dir, 'nope', 'a.duckdb')],
      [['--parquet', join(DIR, 'combined.pcap')], join(DIR, 'combined.pcap')],
    ] as const) {
      const r = cli(['audit', ...args, missing]);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.ok(r.stderr.includes(path), r.stderr);
      assert.ok(!r.stderr.includes('no-such-capture'), r.stderr);
    }
    assert.deepEqual(readdirSync(dir), []);
    const r = cli(['audit', '--compare', missing]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--compare needs --db/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit --parquet: messages, campaigns and senders partitioned by date and protocol, read back by DuckDB', async () => {
  const dir = tmp();
  try {
    const out = join(dir, 'export');
    const a = auditJson(['--parquet', out, join(DIR, 'combined.pcap')]);
    for (const table of ['messages', 'campaigns', 'senders']) {
      assert.deepEqual(readdirSync(join(out, table)), ['date=2026-11-30']);
      assert.deepEqual(readdirSync(join(out, table, 'date=2026-11-30')).sort(), ['protocol=mailslot', 'protocol=msnp', 'protocol=msrp', 'protocol=smb']);
    }
    assert.ok(statSync(join(out, 'indicators.parquet')).size > 0);
    const db = await Database.open(':memory:');
    try {
      const read = async (table: string, sql: string): Promise<Record<string, unknown>> =>
        (await db.all(sql.replace('{T}', `read_parquet('${join(out, table)}/**/*.parquet', hive_partitioning = true)`)))[0]!;
      const m = await read('messages', 'SELECT count(*) AS n, count(campaign) AS in_campaigns, count(DISTINCT protocol) AS protocols, min(date)::VARCHAR AS date FROM {T}');
      assert.deepEqual(m, { n: BigInt(a.summary.messages), in_campaigns: BigInt(a.summary.campaign_messages), protocols: 4n, date: '2026-11-30' });
      const c = await read('campaigns', 'SELECT count(DISTINCT campaign) AS n, sum(day_messages) AS messages FROM {T}');
      assert.deepEqual(c, { n: BigInt(a.campaigns.length), messages: BigInt(a.summary.campaign_messages) });
      const s = await read('senders', "SELECT sum(day_messages) AS messages, max(sweeps) AS sweeps FROM {T} WHERE src_ip = '198.51.100.180'");
      assert.deepEqual(s, { messages: 51n, sweeps: 2 });
      // Texts arrive as data: quotes and backslashes intact.
      const t = await read('messages', "SELECT count(*) AS n FROM {T} WHERE text LIKE '%Ticket #%' AND to_names[1] IS NOT NULL");
      assert.deepEqual(t, { n: 60n });
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
