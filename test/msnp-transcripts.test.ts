// Transcript tests: pcaps built from the draft's and msnp-notes.md's examples
// (scripts/fixtures/msnp/make_msnp_fixtures.py), checked against their sidecars.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dissect, FIXTURES, cli } from './helpers.js';
import type { MessageEvent, TimelineEvent } from '../src/model/events.js';
import { GatewayTable } from '../src/protocols/msnp/gateway.js';
import type { MsnpConnection } from '../src/protocols/msnp/connection.js';

const dir = join(FIXTURES, 'msnp');
const sidecar = (name: string): { messages?: { from: string; to: string[]; text: string; status?: string; error?: string }[] } =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { messages?: { from: string; to: string[]; text: string; status?: string; error?: string }[] };
const messages = (events: TimelineEvent[]): MessageEvent[] =>
  events.filter((e): e is MessageEvent => e.kind === 'message').sort((a, b) => a.frames[0]! - b.frames[0]!);
const findingIds = (events: TimelineEvent[]): string[] => events.flatMap((e) => e.findings.map((x) => x.id));

test('MSNP2 draft transcript: login, switchboards, messages with sender, recipients, status', async () => {
  const d = await dissect(join(dir, 'msnp2-draft.pcap'));
  const got = messages(d.events);
  const want = sidecar('msnp2-draft').messages!;
  assert.equal(got.length, want.length);
  got.forEach((m, i) => {
    assert.equal(m.from, want[i]!.from);
    assert.deepEqual(m.to, want[i]!.to);
    assert.equal(m.text, want[i]!.text);
    assert.equal(m.protocol, 'msnp');
    assert.equal(m.transport, 'tcp/msnp');
    if (want[i]!.status !== undefined) assert.equal(m.status, want[i]!.status);
    if (want[i]!.error !== undefined) assert.equal(m.error, want[i]!.error);
  });
  // The command split over four segments lists all four frames, first one first, then the ACK's.
  assert.equal(got[0]!.frames.length, 5);
  assert.deepEqual(got[0]!.frames, [...got[0]!.frames].sort((a, b) => a - b));
  const login = d.events.find((e) => e.kind === 'session' && e.action === 'login');
  assert.deepEqual(login?.kind === 'session' ? [login.details?.handle, login.details?.version, login.details?.auth] : [], ['alice@hotmail.com', 'MSNP2', 'MD5']);
  const ids = findingIds(d.events);
  for (const id of ['msnp.auth.md5', 'msnp.trid-unanswered', 'msnp.bare-lf', 'msnp.garbage']) assert.ok(ids.includes(id), id);
  assert.equal(ids.filter((x) => x === 'msnp.trid-unanswered').length, 1, 'only BLP 9 is unanswered');
  // Switchboard on a non-standard port, found through the RNG referral.
  const sb2 = d.events.find((e) => e.kind === 'session' && e.action === 'accepted');
  assert.equal(sb2?.src, '10.0.0.5:4000');
  assert.equal(sb2?.kind === 'session' ? sb2.details?.caller : '', 'carol@hotmail.com');
  // Every MSNP frame is labelled MSNP; the packed segment lists its three commands.
  const packed = d.frames.find((f) => f.info.startsWith('ACK 14'));
  assert.equal(packed?.protocol, 'MSNP');
  assert.equal(packed?.info, 'ACK 14 ; MSG bob@hotmail.com Bob 139 ; JOI carol@hotmail.com Carol');
  const logout = d.events.filter((e) => e.kind === 'session' && e.action === 'logout');
  assert.equal(logout.length, 2);
});

test('MSNP11 TWN transcript: challenge checked, payload summaries, notices', async () => {
  const d = await dissect(join(dir, 'msnp11-twn.pcap'));
  const got = messages(d.events);
  const want = sidecar('msnp11-twn').messages!;
  assert.deepEqual(got.map((m) => [m.from, m.to, m.text, m.status]), want.map((m) => [m.from, m.to, m.text, m.status]));
  const ids = findingIds(d.events);
  assert.equal(ids.filter((x) => x === 'msnp.challenge.wrong').length, 1);
  const notices = d.events.filter((e) => e.kind === 'notice').map((e) => (e.kind === 'notice' ? e.notice : ''));
  for (const n of ['profile', 'email', 'typing', 'nudge', 'emoticons', 'p2p-invite', 'invitation']) assert.ok(notices.includes(n), n);
  // NS "MSG Hotmail" is a notification, never chat.
  assert.ok(got.every((m) => m.from !== 'Hotmail'));
  const qry = d.frames.find((f) => f.info.startsWith('QRY 5 PROD'));
  assert.deepEqual(qry?.fields['msnp.challenge_ok'], [true]);
  const ubx = d.events.find((e) => e.kind === 'presence' && e.status === 'personal message' && e.user === 'bob@hotmail.com');
  assert.equal(ubx?.kind === 'presence' ? ubx.details?.psm : '', 'Busy & happy');
  const logout = d.events.find((e) => e.kind === 'session' && e.action === 'logout');
  assert.match(String(logout?.kind === 'session' ? logout.details?.reason : ''), /^OTH/);
  const gcf = d.frames.find((f) => f.info.startsWith('GCF 8 Shields.xml '));
  assert.ok(gcf?.fields['msnp.xml_summary']?.[0]?.toString().startsWith('<'));
});

test('MSNP15 SSO: ADL/RML forms and payload errors framed by direction', async () => {
  const d = await dissect(join(dir, 'msnp15-sso.pcap'));
  const infos = d.frames.filter((f) => f.protocol === 'MSNP').map((f) => f.info);
  assert.deepEqual(infos.slice(6), ['ADL 4 87', 'ADL 4 OK', 'RML 5 56', '241 5 56 (ERR_INVALID_XML_DATA)', 'ADL 0 64', 'GCF 0 66', 'NOT 196', 'UUX 6 0', 'UUX 6 0']);
  const err = d.frames.find((f) => f.info.startsWith('241'));
  assert.match(String(err?.fields['msnp.xml_summary']?.[0]), /1 contact\(s\) in 1 domain/);
  assert.equal(findingIds(d.events).filter((x) => x.startsWith('msnp.') && x !== 'msnp.version-inferred').length, 0);
  const login = d.events.find((e) => e.kind === 'session' && e.action === 'login');
  assert.equal(login?.kind === 'session' ? login.details?.auth : '', 'SSO');
});

test('MSNP21 SDG: messages from routing headers', async () => {
  const d = await dissect(join(dir, 'msnp21-sdg.pcap'));
  const got = messages(d.events);
  assert.deepEqual(got.map((m) => [m.from, m.to, m.text]), sidecar('msnp21-sdg').messages!.map((m) => [m.from, m.to, m.text]));
  assert.ok(d.events.some((e) => e.kind === 'notice' && e.notice === 'typing'));
});

test('HTTP gateway: bodies chained by SessionID across two TCP connections into one MSNP stream', async () => {
  const d = await dissect(join(dir, 'msnp-gateway.pcap'));
  const got = messages(d.events);
  assert.deepEqual(got.map((m) => [m.from, m.to, m.text, m.status, m.transport]), sidecar('msnp-gateway').messages!.map((m) => [m.from, m.to, m.text, m.status, 'tcp/http/msnp']));
  const login = d.events.find((e) => e.kind === 'session' && e.action === 'login');
  assert.equal(login?.kind === 'session' ? login.details?.handle : '', 'alice@hotmail.com');
  assert.equal(login?.kind === 'session' ? login.details?.version : '', 'MSNP8');
  assert.equal(login?.transport, 'tcp/http/msnp');
  // The login spans both TCP connections: VER on the first, USR OK on the second.
  const usrOk = d.frames.find((f) => f.info.includes('USR 4 OK'));
  assert.ok(usrOk !== undefined && usrOk.layers.includes('msnpgw') && usrOk.layers.includes('msnp'));
  assert.equal(findingIds(d.events).filter((x) => x.startsWith('msnp')).length, 0);
});

test('malformed stream: findings, no crash, framing continues', async () => {
  const d = await dissect(join(dir, 'msnp-malformed.pcap'));
  const ids = findingIds(d.events);
  for (const id of ['msnp.invalid-for-version', 'msnp.invalid-for-role', 'msnp.malformed', 'msnp.unknown-command', 'msnp.garbage', 'msnp.payload-truncated']) {
    assert.ok(ids.includes(id), id);
  }
  assert.ok(!ids.includes('msgscope.internal-error'));
  assert.ok(d.frames.some((f) => f.info === 'QNG 50'), 'resynchronised after binary junk');
});

test('CLI: read shows MSNP frames, timeline prints the chat as ndjson', () => {
  const r = cli(['read', join(dir, 'msnp2-draft.pcap'), '-Y', 'msnp']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /MSNP .* USR 6 OK alice@hotmail.com Alice%20A\./);
  const t = cli(['timeline', '--format', 'ndjson', join(dir, 'msnp2-draft.pcap')]);
  assert.equal(t.status, 0, t.stderr);
  const events = t.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(events.some((e) => e.kind === 'message' && e.text === 'Hello, Bob! How are you?' && e.from === 'alice@hotmail.com'));
});

test('HTTP gateway sessions: ended when idle ten minutes, when the gateway says Session=close, or when the table is full', () => {
  const ended: string[] = [];
  const session = (name: string, lastSec: number): { conn: MsnpConnection; ids: Set<string>; lastSec: number; ended?: boolean } => ({
    conn: { end: () => ended.push(name) } as unknown as MsnpConnection,
    ids: new Set([`${name}.1`]),
    lastSec,
  });
  const table = new GatewayTable();
  const a = session('a', 0);
  const b = session('b', 500);
  table.add(a);
  table.add(b);
  table.alias(b, 'b.2');
  table.expire(601);
  assert.deepEqual(ended, ['a']);
  assert.equal(table.get('a.1'), undefined);
  assert.equal(table.get('b.2'), b);
  table.expire(1100); // b: idle 600 s, not past the limit
  assert.deepEqual(ended, ['a']);
  table.close(b); // a response with Session=close
  table.close(b);
  assert.deepEqual(ended, ['a', 'b'], 'closed once');
  assert.equal(b.ended, true, 'a response still queued for it is not fed to its connection');
  assert.equal(table.get('b.1'), undefined);
  for (let i = 0; i < 4097; i++) table.add(session(`s${i}`, 2000));
  assert.equal(table.full, true);
  assert.deepEqual(ended.slice(2), ['s0'], 'the oldest gives way');
});
