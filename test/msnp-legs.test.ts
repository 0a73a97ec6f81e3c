// One switchboard message, however many legs (src/protocols/msnp/legs.ts): the sender's MSG and
// the server's copy to each participant are one message event. Fixture: msnp-sb-relay.pcap, a
// scripted server relaying to three clients over loopback (make_msnp_fixtures.py relay()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dissect, FIXTURES, exists } from './helpers.js';
import { DEFAULT_OPTIONS, type EngineContext } from '../src/engine/context.js';
import type { MessageEvent, TimelineEvent } from '../src/model/events.js';
import { MessageLegs } from '../src/protocols/msnp/legs.js';

const PCAP = join(FIXTURES, 'msnp', 'msnp-sb-relay.pcap');

test('msnp-sb-relay.pcap: each message is one event covering its three legs, delivered to the other two', { skip: !exists(PCAP) }, async () => {
  const want = (JSON.parse(readFileSync(PCAP.replace(/\.pcap$/, '.json'), 'utf8')) as { messages: { from: string; to: string[]; text: string; legs: number; status: string }[] }).messages;
  const d = await dissect(PCAP);
  const got = d.events.filter((e): e is MessageEvent => e.kind === 'message').sort((a, b) => a.frames[0]! - b.frames[0]!);
  assert.equal(got.length, want.length, 'one event per message, not one per leg');
  got.forEach((m, i) => {
    const w = want[i]!;
    assert.equal(m.from, w.from);
    assert.equal(m.text, w.text);
    assert.equal(m.status, w.status);
    assert.deepEqual([...m.to].sort(), [...w.to].sort());
    assert.equal(m.details?.legs, w.legs);
    assert.deepEqual([...(m.details?.delivered_to as string[])].sort(), [...w.to].sort());
    assert.ok(m.frames.length >= w.legs, 'frames cover every leg');
    assert.deepEqual(m.frames, [...m.frames].sort((a, b) => a - b));
    assert.ok(m.src.startsWith('127.0.0.7'), 'the sender\'s leg gives the route');
  });
});

function collector(): { ctx: EngineContext; out: TimelineEvent[] } {
  const out: TimelineEvent[] = [];
  const ctx: EngineContext = { options: DEFAULT_OPTIONS, packet: undefined, emit: (e) => out.push(e), packetFinding: () => undefined, standaloneFinding: () => undefined, schedule: () => ({ cancel: () => undefined }) };
  return { ctx, out };
}

const msg = (frame: number, sec: number, src: string, dst: string, from: string, to: string[], text = 'hi'): MessageEvent => ({
  kind: 'message', tsSec: sec, tsNsec: 0, frames: [frame], protocol: 'msnp', transport: 'tcp/msnp', src, dst, findings: [], from, to, text, status: 'unknown',
});

test('legs: a lone connection emits at once; legs on one server join; a repeat from the sender is a new message; old legs expire', () => {
  const S = '10.0.0.9:1863';
  const { ctx, out } = collector();
  const legs = new MessageLegs();
  legs.connectionOpened(S);
  legs.offer(ctx, msg(1, 100, '10.0.0.1:1000', S, 'a@x', ['b@x']), S, false, undefined);
  assert.equal(out.length, 1, 'alone on its server: nothing to wait for');

  legs.connectionOpened(S);
  legs.offer(ctx, msg(2, 101, '10.0.0.1:1000', S, 'a@x', ['b@x']), S, false, undefined);
  legs.offer(ctx, msg(3, 101, S, '10.0.0.2:2000', 'a@x', ['b@x']), S, true, 'b@x');
  legs.offer(ctx, msg(4, 101, '10.0.0.1:1000', S, 'a@x', ['b@x']), S, false, undefined);
  assert.equal(out.length, 2, 'the repeat released the joined pair');
  const joined = out[1] as MessageEvent;
  assert.deepEqual(joined.frames, [2, 3]);
  assert.equal(joined.status, 'ok', 'a delivered copy proves delivery');
  assert.deepEqual(joined.details?.delivered_to, ['b@x']);
  legs.expire(110);
  assert.equal(out.length, 3, 'a message waits no longer than the join window');
  assert.deepEqual(out[2]!.frames, [4]);
});

const FANOUT = join(FIXTURES, 'msnp', 'msnp-ns-fanout.pcap');

test('msnp-ns-fanout.pcap: each presence change sent to three watchers is one presence event with its watchers', { skip: !exists(FANOUT) }, async () => {
  const want = (JSON.parse(readFileSync(FANOUT.replace(/\.pcap$/, '.json'), 'utf8')) as { presence: { user: string; status: string; watchers: string[] }[] }).presence;
  const d = await dissect(FANOUT);
  const got = d.events.filter((e) => e.kind === 'presence').sort((a, b) => a.frames[0]! - b.frames[0]!);
  assert.equal(got.length, want.length, 'one event per change, not one per watcher');
  got.forEach((p, i) => {
    assert.ok(p.kind === 'presence');
    assert.equal(p.user, want[i]!.user);
    assert.equal(p.status, want[i]!.status);
    assert.deepEqual([...(p.details?.watchers as string[])].sort(), want[i]!.watchers);
    assert.equal(p.frames.length, 3);
  });
});
