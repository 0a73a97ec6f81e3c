// Corpus tests on the public MSNP captures (../shared/captures/public): every command framed,
// chat extracted with sender and recipients. Counts and a few exact values only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dissect, exists, publicCapture, type Dissected } from './helpers.js';
import type { MessageEvent, TimelineEvent } from '../src/model/events.js';

const W = (name: string): string => publicCapture(`ajbanjara__Wireshark/${name}`);
const skip = (name: string): false | string => (exists(W(name)) ? false : `${name} not present`);

function msnpFrames(d: Dissected): Dissected['frames'] {
  return d.frames.filter((f) => f.layers.includes('msnp'));
}
function commands(d: Dissected): number {
  return d.frames.reduce((n, f) => n + (f.fields['msnp.command']?.length ?? 0), 0);
}
function continuations(d: Dissected): number {
  return d.frames.reduce((n, f) => n + (f.fields['msnp.continuation']?.length ?? 0), 0);
}
function chat(events: TimelineEvent[]): MessageEvent[] {
  return events.filter((e): e is MessageEvent => e.kind === 'message' && e.protocol === 'msnp').sort((a, b) => a.frames[0]! - b.frames[0]!);
}
function msnpFindings(events: TimelineEvent[]): string[] {
  return events.filter((e) => e.protocol === 'msnp').flatMap((e) => e.findings.map((x) => x.id));
}

test('msnms.pcap (MSNP11, mid-session): 364 commands framed, 34 chat messages, 210 typing notices', { skip: skip('msnms.pcap') }, async () => {
  const d = await dissect(W('msnms.pcap'));
  assert.equal(msnpFrames(d).length, 364);
  assert.ok(msnpFrames(d).every((f) => f.protocol === 'MSNP'));
  assert.equal(commands(d), 364);
  assert.equal(continuations(d), 0);
  const msgs = chat(d.events);
  assert.equal(msgs.length, 34);
  const inbound = msgs.filter((m) => m.from === 'cecile260992@hotmail.com');
  const outbound = msgs.filter((m) => m.from === 'jujurius@msn.com');
  assert.equal(inbound.length, 20);
  assert.equal(outbound.length, 14);
  assert.ok(inbound.every((m) => m.to.length === 1 && m.to[0] === 'jujurius@msn.com' && m.status === 'ok'));
  assert.equal(msgs[1]!.frames[0], 26);
  assert.equal(msgs[1]!.text, 'je te comprend');
  assert.equal(msgs[1]!.transport, 'tcp/msnp');
  assert.equal(d.events.filter((e) => e.kind === 'notice' && e.notice === 'typing').length, 210);
  // The version is inferred (no VER in the capture) and said to be.
  const ids = msnpFindings(d.events);
  assert.ok(ids.includes('msnp.version-inferred'));
  assert.deepEqual(ids.filter((x) => x !== 'msnp.version-inferred'), []);
  const note = d.events.find((e) => e.findings.some((x) => x.id === 'msnp.version-inferred'));
  assert.match(note?.findings[0]?.summary ?? '', /MSNP11\b/);
  // RNG referrals link each answered switchboard to the caller.
  const accepted = d.events.filter((e) => e.kind === 'session' && e.action === 'accepted');
  assert.equal(accepted.length, 3);
  assert.ok(accepted.every((e) => e.kind === 'session' && e.details?.caller === 'cecile260992@hotmail.com' && e.details?.user === 'jujurius@msn.com'));
});

test('Sanaullah.pcap (MSNP18, server half only): 28 commands framed, P2P invitation with sender and recipient', { skip: skip('Sanaullah.pcap') }, async () => {
  const d = await dissect(W('Sanaullah.pcap'));
  assert.equal(msnpFrames(d).length, 28);
  assert.equal(commands(d), 28);
  assert.equal(continuations(d), 0);
  // No text/plain in this capture: its MSGs are P2P and client caps.
  assert.equal(chat(d.events).length, 0);
  const invite = d.events.find((e) => e.kind === 'notice' && e.notice === 'p2p-invite');
  assert.equal(invite?.kind === 'notice' ? invite.from : '', 'riazuldu@hotmail.com');
  assert.deepEqual(invite?.kind === 'notice' ? invite.to : [], ['its_asdaque@hotmail.com']);
  const ids = msnpFindings(d.events);
  assert.deepEqual(ids.filter((x) => x !== 'msnp.version-inferred'), [], 'one-sided streams give no spurious findings');
  const note = d.events.find((e) => e.findings.some((x) => x.id === 'msnp.version-inferred'));
  assert.match(note?.findings[0]?.summary ?? '', /MSNP18\+/);
  // The switchboard is linked to the RNG on the notification server (same server address).
  const accepted = d.events.find((e) => e.kind === 'session' && e.action === 'accepted' && e.protocol === 'msnp');
  assert.equal(accepted?.kind === 'session' ? accepted.details?.caller : '', 'riazuldu@hotmail.com');
});

test('es.pcap: keep-alives and a Hotmail notification that is not chat', { skip: skip('es.pcap') }, async () => {
  const d = await dissect(W('es.pcap'));
  assert.equal(commands(d), 7);
  assert.equal(chat(d.events).length, 0);
  const mail = d.events.filter((e) => e.kind === 'notice' && e.protocol === 'msnp');
  assert.equal(mail.length, 1);
  assert.equal(mail[0]?.kind === 'notice' ? mail[0].notice : '', 'email');
});

test('startmenu_Dameware.pcap: UUN with payload and its OK answer', { skip: skip('startmenu_Dameware.pcap') }, async () => {
  const d = await dissect(W('startmenu_Dameware.pcap'));
  const f = msnpFrames(d);
  assert.equal(f.length, 2);
  assert.deepEqual(f.map((x) => x.fields['msnp.command']?.[0]), ['UUN', 'UUN']);
  assert.equal(f[0]!.fields['msnp.length']?.[0], 609);
  assert.equal(f[1]!.fields['msnp.request_in']?.[0], f[0]!.number);
});

test('mapi.cap: the one stray MSNP frame is a typing notice', { skip: skip('mapi.cap') }, async () => {
  const d = await dissect(W('mapi.cap'));
  const f = msnpFrames(d);
  assert.equal(f.length, 1);
  assert.equal(f[0]!.number, 138);
  assert.equal(f[0]!.info, 'MSG 26 U 97');
  assert.equal(d.events.filter((e) => e.kind === 'notice' && e.notice === 'typing').length, 1);
});
