// Timeline events keep the warnings of the layers that carried them (issue 13): a mailslot
// datagram whose NetBIOS and UDP lengths lie must not look clean in the timeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, FIXTURES } from './helpers.js';
import { CarrierFindings } from '../src/runner/carriers.js';
import type { MessageEvent } from '../src/model/events.js';
import type { Packet } from '../src/model/packet.js';

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
