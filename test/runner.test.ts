// The runner, its reorder window and the analysis contract: events in frame order from a
// bounded window, late events noted, several analyses in one pass, sinks per format.
import { DEFAULT_OPTIONS } from '../src/engine/context.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TimelineEvent } from '../src/model/events.js';
import { ReorderWindow } from '../src/runner/reorder.js';
import { Runner } from '../src/runner/runner.js';
import { fileSource } from '../src/runner/sources.js';
import { defaultProtocols } from '../src/protocols/index.js';
import type { Analysis, FileInfo } from '../src/runner/analysis.js';
import type { Packet } from '../src/model/packet.js';
import { StatsAnalysis } from '../src/analysis/stats.js';
import { DEFAULT_STATS_TABLES } from '../src/analysis/stats-report.js';
import type { Report } from '../src/output/report.js';
import { exists, publicCapture, cli, FIXTURES } from './helpers.js';
import { join } from 'node:path';

function event(frame: number | undefined, tsSec: number): TimelineEvent {
  return { kind: 'finding', tsSec, tsNsec: 0, frames: frame === undefined ? [] : [frame], protocol: 'x', transport: 'udp', src: '', dst: '', findings: [] };
}

function collect(limits: { maxEvents: number; maxSeconds: number }): { window: ReorderWindow; out: TimelineEvent[] } {
  const out: TimelineEvent[] = [];
  return { window: new ReorderWindow((e) => out.push(e), limits), out };
}

test('reorder window: events come out by first frame, ties in arrival order, file-level events last', () => {
  const { window, out } = collect({ maxEvents: 100, maxSeconds: 1000 });
  const a = event(5, 10);
  const b = event(2, 10);
  const c = event(5, 11);
  const d = event(undefined, 9);
  const e = event(1, 12);
  for (const x of [a, b, c, d, e]) window.push(x);
  assert.equal(out.length, 0);
  window.flush();
  assert.deepEqual(out, [e, b, a, c, d]);
});

test('reorder window: released after maxSeconds of capture time; a late event is released at the end of its frame with a note', () => {
  const { window, out } = collect({ maxEvents: 100, maxSeconds: 60 });
  window.push(event(10, 100));
  window.push(event(20, 130));
  window.advance(159);
  assert.equal(out.length, 0);
  window.advance(160);
  assert.deepEqual(out.map((x) => x.frames[0]), [10]);
  const late = event(5, 95);
  window.push(late);
  assert.equal(out.length, 1, 'held until the frame ends');
  window.releaseLate();
  assert.equal(out.at(-1), late);
  assert.deepEqual(late.findings.map((f) => [f.id, f.severity, f.frame]), [['timeline.late', 'note', 5]]);
  assert.equal(window.lateEvents, 1);
  // Not late: the same frame as the last released one, or later.
  window.push(event(10, 101));
  window.flush();
  assert.deepEqual(out.map((x) => x.frames[0]), [10, 5, 10, 20]);
  assert.equal(out[2]!.findings.length, 0);
});

test('reorder window: never holds more than maxEvents', () => {
  const { window, out } = collect({ maxEvents: 3, maxSeconds: Number.POSITIVE_INFINITY });
  for (let i = 100; i > 90; i--) window.push(event(i, 0));
  assert.equal(window.size, 3);
  // 97 was pushed out by the bound; 96 to 91 came late, and leave at the end of the frame, in first-frame order.
  assert.equal(out.length, 1);
  window.releaseLate();
  assert.deepEqual(out.map((x) => x.frames[0]), [97, 91, 92, 93, 94, 95, 96]);
  window.flush();
  assert.equal(window.size, 0);
});

test('reorder window: maxEvents 0 passes events through unchanged (live capture)', () => {
  const { window, out } = collect({ maxEvents: 0, maxSeconds: 0 });
  window.push(event(9, 0));
  window.push(event(3, 0));
  assert.deepEqual(out.map((x) => x.frames[0]), [9, 3]);
  assert.equal(out[1]!.findings.length, 0);
});

test('reorder window: a seeded random arrival order within the window comes out sorted', () => {
  let seed = 7;
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const { window, out } = collect({ maxEvents: 1000, maxSeconds: 50 });
  // Each event arrives at most 40 s after its own time: within the window, so nothing is late.
  const pending: { at: number; e: TimelineEvent }[] = [];
  for (let frame = 1; frame <= 2000; frame++) pending.push({ at: frame + rand() * 40, e: event(frame, frame) });
  pending.sort((x, y) => x.at - y.at);
  for (const p of pending) {
    window.advance(Math.floor(p.at));
    window.push(p.e);
  }
  window.flush();
  assert.equal(window.lateEvents, 0);
  assert.deepEqual(out.map((x) => x.frames[0]), Array.from({ length: 2000 }, (_, i) => i + 1));
});

const messenger = publicCapture('ajbanjara__Wireshark/packet_capture.pcap');

test('runner: timeline and stats in one pass equal the separate runs; events stream before the file ends', { skip: !exists(messenger) }, async () => {
  const order: string[] = [];
  const events: TimelineEvent[] = [];
  let packets = 0;
  const listing: Analysis = {
    packet: (p: Packet) => {
      packets++;
      order.push(`p${p.frame.number}`);
    },
    event: (e: TimelineEvent, file: FileInfo) => {
      assert.equal(file.multi, false);
      events.push(e);
      order.push('e');
    },
  };
  const reports: Report[] = [];
  const stats = new StatsAnalysis(new Set(DEFAULT_STATS_TABLES), [{ write: (r) => void reports.push(r) }], () => {});
  const runner = new Runner([listing, stats], { engine: DEFAULT_OPTIONS, protocols: defaultProtocols, progress: false, quiet: true, reorder: { maxEvents: 1000, maxSeconds: 30 } });
  await runner.run([fileSource(messenger)]);
  assert.equal(packets, 7453);
  // With a 30 s window the first events come out while frames are still being read.
  const firstEvent = order.indexOf('e');
  assert.ok(firstEvent > 0 && firstEvent < order.length - events.length, `first event at position ${firstEvent} of ${order.length}`);
  const separate = cli(['stats', '--format', 'json', messenger]);
  assert.equal(JSON.stringify(reports[0]!.json, null, 2), separate.stdout.trim());
  const timeline = cli(['timeline', '--format', 'ndjson', messenger]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { frames: number[] });
  assert.equal(events.length, timeline.length);
});

test('runner: -c stops after N shown frames; --fail-on-error exits 1 on an error finding', { skip: !exists(join(FIXTURES, 'msrp-malformed.pcap')) }, () => {
  const limited = cli(['read', '-c', '3', '--format', 'ndjson', join(FIXTURES, 'smb-burst.pcap')]);
  assert.equal(limited.stdout.trim().split('\n').length, 3);
  const failing = cli(['timeline', '--fail-on-error', join(FIXTURES, 'msrp-malformed.pcap')]);
  assert.equal(failing.status, 1);
  assert.match(failing.stderr, /finding\(s\) of error severity/);
});

test('runner: flow ids are worked out only when an analysis or the event filter may read them', { skip: !exists(messenger) }, async () => {
  const run = async (analyses: Analysis[]): Promise<void> => {
    await new Runner(analyses, { engine: DEFAULT_OPTIONS, protocols: defaultProtocols, progress: false, quiet: true }).run([fileSource(messenger)]);
  };
  const without: TimelineEvent[] = [];
  const blind: Analysis = { flowIds: false, event: (e) => void without.push(e) };
  await run([blind]);
  assert.ok(without.length > 10, `${without.length} events`);
  assert.ok(without.every((e) => e.uid === undefined && e.communityId === undefined));
  const seen: TimelineEvent[] = [];
  const reading: Analysis = { event: (e) => void seen.push(e) };
  without.length = 0;
  await run([blind, reading]);
  assert.equal(seen.length, without.length);
  assert.ok(seen.every((e) => typeof e.uid === 'string'));
  // stats reads none: its report is the same either way.
  const reports: Report[] = [];
  const stats = (): StatsAnalysis => new StatsAnalysis(new Set(DEFAULT_STATS_TABLES), [{ write: (r) => void reports.push(r) }], () => {});
  await run([stats()]);
  await run([stats(), reading]);
  assert.equal(JSON.stringify(reports[0]!.json), JSON.stringify(reports[1]!.json));
});
