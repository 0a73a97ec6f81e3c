// Timeline events keep the warnings of the layers that carried them (issue 13): a mailslot
// datagram whose NetBIOS and UDP lengths lie must not look clean in the timeline.
import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, FIXTURES } from './helpers.js';
import { CarrierFindings } from '../src/runner/carriers.js';
import type { MessageEvent } from '../src/model/events.js';
import type { Packet } from '../src/model/packet.js';
import { DEFAULT_OPTIONS } from '../src/engine/context.js';
import { defaultProtocols } from '../src/protocols/index.js';
import type { Analysis } from '../src/runner/analysis.js';
import { Runner } from '../src/runner/runner.js';
import { fileSource } from '../src/runner/sources.js';
import { HoldRegistry } from '../src/util/frame-holds.js';
import { udp, writePcap } from './nbt-builder.js';

interface EventJson { kind: string; frames: number[]; findings: { id: string; frame: number }[] }

test('a mailslot datagram whose lengths lie carries the NBDGM and UDP warnings into its timeline event', () => {
  const pcap = Buffer.from(readFileSync(join(FIXTURES, 'mailslot-messngr.pcap')));
  // First record: 24-byte file header, 16-byte record header, Ethernet 14, IPv4 20, UDP 8, NBDGM.
  const udp = 24 + 16 + 14 + 20;
  pcap.writeUInt16BE(pcap.readUInt16BE(udp + 4) + 40, udp + 4); // UDP length: 40 bytes too many
  pcap.writeUInt16BE(pcap.readUInt16BE(udp + 8 + 10) + 7, udp + 8 + 10); // DGM_LENGTH: 7 bytes too many
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-carriers-'));
  try {
    const path = join(dir, 'lying.pcap');
    writeFileSync(path, pcap);
    const r = cli(['timeline', '--format', 'ndjson', '-q', path]);
    assert.equal(r.status, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as EventJson);
    const first = events.find((e) => e.kind === 'message' && e.frames.includes(1));
    assert.ok(first !== undefined);
    const ids = first.findings.map((x) => x.id);
    assert.ok(ids.includes('nbdgm.bad-length'), ids.join(', '));
    assert.ok(ids.includes('udp.bad-length'), ids.join(', '));
    // The other messages' frames were not touched: their events stay clean.
    for (const e of events.filter((x) => x.kind === 'message' && !x.frames.includes(1))) assert.deepEqual(e.findings.filter((x) => x.id.startsWith('udp.') || x.id.startsWith('nbdgm.')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('carrier findings: only the layers of the transport path, warnings and errors, each once', () => {
  const carriers = new CarrierFindings();
  const at = (id: string, severity: 'error' | 'warning' | 'note', frame = 3) => ({ id, severity, summary: id, frame, spec: 'x' });
  const packet = (frame: number, findings: ReturnType<typeof at>[]): Packet => ({ frame: { number: frame, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, linkType: 1, data: new Uint8Array(0), interfaceId: 0 }, layers: [], src: '', dst: '', findings });
  carriers.packet(packet(3, [at('tcp.gap', 'warning'), at('frame.snaplen', 'note'), at('msnp.garbage', 'warning'), at('ip.bad-length', 'error')]));
  carriers.packet(packet(4, [at('tcp.gap', 'warning', 4)]));
  const event: MessageEvent = {
    kind: 'message', tsSec: 0, tsNsec: 0, frames: [3, 4], protocol: 'msnp', transport: 'tcp/msnp', src: 'a', dst: 'b',
    findings: [at('tcp.gap', 'warning', 4)], from: 'x', to: [], text: '', status: 'ok',
  };
  const got = carriers.attach(event).findings.map((x) => `${x.id}@${x.frame}`);
  // the event's own protocol (msnp) is not a carrier, notes are left out, the known one is not doubled
  assert.deepEqual(got, ['tcp.gap@4', 'tcp.gap@3', 'ip.bad-length@3']);
  carriers.clear();
  assert.equal(carriers.attach(event), event);
});

test('carrier findings reach back 65,536 frames whatever the share of frames with a warning, and not much further', () => {
  const carriers = new CarrierFindings();
  const at = (frame: number) => ({ id: 'tcp.gap', severity: 'warning' as const, summary: 'gap', frame, spec: 'anomaly' });
  const packet = (frame: number, warn: boolean): Packet => ({ frame: { number: frame, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, linkType: 1, data: new Uint8Array(0), interfaceId: 0 }, layers: [], src: '', dst: '', findings: warn ? [at(frame)] : [] });
  const event = (frame: number): MessageEvent => ({ kind: 'message', tsSec: 0, tsNsec: 0, frames: [frame], protocol: 'msnp', transport: 'tcp/msnp', src: 'a', dst: 'b', findings: [], from: 'x', to: [], text: '', status: 'ok' });
  // One frame in a hundred has a warning: before, 65,536 of *those* were kept (6.5M frames back).
  for (let n = 1; n <= 200_000; n++) carriers.packet(packet(n, n % 100 === 0));
  assert.equal(carriers.attach(event(200_000 - 60_000)).findings.length, 1, 'within the distance');
  assert.equal(carriers.attach(event(100)).findings.length, 0, 'far back: forgotten');
});

test('carrier findings of frames below every hold are forgotten: a capture where every frame has a warning keeps none of them', async () => {
  // 3,000 datagrams whose UDP length claims 40 bytes more than they carry: a udp.bad-length warning each, no pending state.
  const frames = Array.from({ length: 3000 }, (_, i) => {
    const f = udp('10.0.0.1', 1024 + (i % 1000), '10.0.0.2', 9, new Uint8Array(20));
    const v = new DataView(f.buffer, f.byteOffset);
    v.setUint16(14 + 20 + 4, v.getUint16(14 + 20 + 4) + 40);
    return f;
  });
  const path = writePcap(frames);
  let events = 0;
  const timeline: Analysis = { event: () => void events++ };
  const runner = new Runner([timeline], { engine: DEFAULT_OPTIONS, protocols: defaultProtocols, progress: false, quiet: true });
  await runner.run([fileSource(path)]);
  const warned = cli(['read', '--format', 'ndjson', '-q', path]).stdout.split('\n').filter((l) => l.includes('"udp.bad-length"')).length;
  assert.equal(warned, 3000);
  // Before, the findings of the newest 65,536 such frames were kept whatever events needed.
  assert.equal((runner as unknown as { carriers: CarrierFindings }).carriers.size, 0);
});

test('the oldest hold of any age: holds past the horizon still count for what events may name (HoldRegistry.oldestAny)', () => {
  const holds = new HoldRegistry();
  holds.now = 0;
  holds.hold(5);
  holds.now = 400;
  holds.hold(10);
  // Frame 5 has been held longer than a 300 s horizon: it no longer holds the watermark back…
  assert.equal(holds.oldestSince(100), 10);
  // …but its late event may still name it.
  assert.equal(holds.oldestAny, 5);
  holds.release(5);
  assert.equal(holds.oldestAny, 10);
  holds.release(10);
  assert.equal(holds.oldestAny, Infinity);
});

test('carrier findings (property): the frames kept and attached are those of a map by frame number, forgotten below each bound', () => {
  const at = (frame: number, id: string) => ({ id, severity: 'warning' as const, summary: id, frame, spec: 'anomaly' });
  const packet = (frame: number, ids: string[]): Packet => ({ frame: { number: frame, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, linkType: 1, data: new Uint8Array(0), interfaceId: 0 }, layers: [], src: '', dst: '', findings: ids.map((id) => at(frame, id)) });
  const step = fc.record({
    // Frames advance by 1 to 40,000 (the 65,536-frame distance is crossed now and then).
    gap: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 40_000 })),
    ids: fc.subarray(['tcp.gap', 'udp.bad-length', 'ip.bad-length']),
    forget: fc.option(fc.integer({ min: 0, max: 70_000 }), { nil: undefined }),
    ask: fc.array(fc.integer({ min: 0, max: 70_000 }), { maxLength: 3 }),
  });
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 300 }), (steps) => {
    const carriers = new CarrierFindings();
    const model = new Map<number, string[]>();
    const forget = (below: number): void => {
      for (const k of [...model.keys()]) if (k < below) model.delete(k);
    };
    let frame = 0;
    for (const s of steps) {
      frame += s.gap;
      carriers.packet(packet(frame, s.ids));
      forget(frame - 65_536 + 1);
      if (s.ids.length > 0) model.set(frame, s.ids);
      if (s.forget !== undefined) {
        carriers.forgetBelow(frame - s.forget);
        forget(frame - s.forget);
      }
      assert.equal(carriers.size, model.size);
      for (const back of s.ask) {
        const asked = frame - back;
        const event: MessageEvent = { kind: 'message', tsSec: 0, tsNsec: 0, frames: [asked, asked + 1], protocol: 'smb', transport: 'udp/nbdgm', src: 'a', dst: 'b', findings: [], from: 'x', to: [], text: '', status: 'ok' };
        const want = [asked, asked + 1].flatMap((n) => (model.get(n) ?? []).filter((id) => id !== 'tcp.gap').map((id) => `${id}@${n}`));
        assert.deepEqual(carriers.attach(event).findings.map((x) => `${x.id}@${x.frame}`), want);
      }
    }
  }), { numRuns: 200 });
});
