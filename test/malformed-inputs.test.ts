// Hostile and damaged input: files cut at every byte offset, random byte flips (seeded),
// and files that are not captures. Never a crash or a hang; clean one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaptureSink } from '../src/capture/frame.js';
import { CaptureFormatError } from '../src/capture/frame.js';
import { parserFor } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import type { Packet } from '../src/model/packet.js';
import { detailTree, hexView, packetJson, summaryColumns, summaryLine } from '../src/output/packet-view.js';
import { makeStyle } from '../src/output/style.js';
import { cli, publicCapture } from './helpers.js';

const style = makeStyle(false);

interface Outcome {
  frames: number;
  warnings: string[];
  error?: string;
  engineErrors: string[];
  otherInternalErrors: string[];
}

/**
 * Parses `file` (in small chunks) through the engine and renders every view of every frame;
 * with `readerOnly`, just counts what the capture reader hands on.
 */
function run(file: Uint8Array, chunk = 4096, readerOnly = false): Outcome {
  const outcome: Outcome = { frames: 0, warnings: [], engineErrors: [], otherInternalErrors: [] };
  let first: { tsSec: number; tsNsec: number } | undefined;
  const engine = new Engine({
    packet: (p: Packet) => {
      outcome.frames++;
      first ??= { tsSec: p.frame.tsSec, tsNsec: p.frame.tsNsec };
      // Every lazy tree, column and view is built: a bad length must not throw here either.
      JSON.stringify(packetJson(p, first, { tree: true, hex: true }));
      summaryLine(summaryColumns(p, first), style, 120);
      detailTree(p, style);
      hexView(p);
      for (const item of p.findings) {
        if (item.id !== 'msgscope.internal-error') continue;
        (item.summary.includes('in the engine dissector') ? outcome.engineErrors : outcome.otherInternalErrors).push(`frame ${item.frame}: ${item.summary}`);
      }
    },
  }, {}, defaultProtocols());
  const sink: CaptureSink = {
    frame: (f) => {
      if (readerOnly) outcome.frames++;
      else engine.frame(f);
    },
    warning: (w) => outcome.warnings.push(w),
  };
  try {
    const parser = parserFor(file.subarray(0, 8), sink);
    if (parser === undefined) throw new CaptureFormatError('not a capture file');
    for (let at = 0; at < file.length; at += chunk) parser.push(file.subarray(at, Math.min(file.length, at + chunk)));
    parser.end();
  } catch (err) {
    if (!(err instanceof CaptureFormatError)) throw err;
    outcome.error = err.message;
  }
  engine.finish();
  return outcome;
}

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SMALL: [string, number][] = [
  ['ajbanjara__Wireshark/messenger.pcap', 1], // pcap, PPPoE/PPP/IP/UDP/DCE-RPC
  ['ajbanjara__Wireshark/microsoft_npc_netbios.pcapng', 1], // pcapng, LLC
  ['ajbanjara__Wireshark/dssetup_DsRoleGetPrimaryDomainInformation_ad_dc.cap', 1], // PPP, SMB pipe
  ['ajbanjara__Wireshark/can-2003-0003.pcap', 1], // TCP, NBSS, SMB, DCE/RPC
  ['ajbanjara__Wireshark/genbroad.snoop', 1], // snoop
  ['ajbanjara__Wireshark/FTPv6-1.cap', 97], // NetMon 2.x
];

for (const [name, stride] of SMALL) {
  test(`${name} cut at ${stride === 1 ? 'every' : `every ${stride}th`} byte offset: whole records, then a warning or a clean error`, () => {
    const file = readFileSync(publicCapture(name));
    const whole = run(file);
    assert.deepEqual(whole.warnings, []);
    let lastFrames = 0;
    let quietCuts = 0;
    for (let cut = 0; cut < file.length; cut += stride) {
      const r = run(file.subarray(0, cut), 1000, true);
      assert.deepEqual(r.engineErrors, [], `cut at ${cut}`);
      if (r.error !== undefined) {
        // Only a file cut inside its header (or empty) is refused, with one line saying so.
        assert.equal(r.frames, 0, `cut at ${cut}: ${r.error}`);
        assert.doesNotMatch(r.error, /\n/);
        continue;
      }
      assert.ok(r.frames <= whole.frames);
      if (!name.endsWith('.cap') || name.includes('dssetup')) {
        // Streaming formats: frames only ever grow as the cut moves later.
        assert.ok(r.frames >= lastFrames, `cut at ${cut}: ${r.frames} frames after ${lastFrames}`);
        lastFrames = r.frames;
      }
      if (r.warnings.length === 0) quietCuts++;
      for (const w of r.warnings) assert.match(w, /byte offset \d+|frame table|NetMon frame/, `cut at ${cut}: ${w}`);
    }
    if (stride === 1 && /\.(pcap|snoop)$/.test(name)) {
      // Only a cut at a record boundary goes without a warning: at most one per record, plus the header's end.
      assert.ok(quietCuts <= whole.frames + 1, `${quietCuts} cuts without a warning, ${whole.frames} records`);
    }
  });
}

test('a record cut short is reported with the offset where it starts', () => {
  const file = readFileSync(publicCapture('ajbanjara__Wireshark/messenger.pcap'));
  // Records: 24-byte header, then 16-byte headers + 488-byte frames (six of them).
  const third = 24 + 2 * (16 + 488);
  const r = run(file.subarray(0, third + 100));
  assert.equal(r.frames, 2);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, new RegExp(`truncated: incomplete pcap record at byte offset ${third}\\b`));
});

const FUZZ: string[] = [
  'ajbanjara__Wireshark/messenger.pcap',
  'ajbanjara__Wireshark/can-2003-0003.pcap',
  'ajbanjara__Wireshark/microsoft_npc_netbios.pcapng',
  'ajbanjara__Wireshark/MyFirstTeste.pcap',
  'zeek__zeek/netbios-split-session-msg.pcap',
  'arkime__arkime/smb-smb1-ascii.pcap',
  'ajbanjara__Wireshark/genbroad.snoop',
];

for (const [index, name] of FUZZ.entries()) {
  test(`${name} with random byte flips (seeded): no crash, no hang`, (t) => {
    const original = readFileSync(publicCapture(name));
    const random = prng(0x5eed + index);
    const others = new Set<string>();
    const started = Date.now();
    for (let round = 0; round < 150; round++) {
      const file = Uint8Array.from(original);
      const flips = 1 + Math.floor(random() * 24);
      // Spare the magic number half the time so the damage reaches the records and packets.
      const from = round % 2 === 0 ? 4 : 0;
      for (let i = 0; i < flips; i++) file[from + Math.floor(random() * (file.length - from))] = Math.floor(random() * 256);
      const r = run(file, 1 + Math.floor(random() * 3000));
      assert.deepEqual(r.engineErrors, [], `seed ${0x5eed + index} round ${round}`);
      for (const e of r.otherInternalErrors) others.add(e.replace(/^frame \d+: /, ''));
    }
    assert.ok(Date.now() - started < 60_000, 'fuzz rounds took too long');
    if (others.size > 0) t.diagnostic(`internal errors caught in application dissectors (not ours): ${[...others].slice(0, 5).join(' | ')}`);
  });
}

test('random bytes with a capture magic in front: no crash, no hang', () => {
  const random = prng(42);
  const magics = [[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d], [0x0a, 0x0d, 0x0d, 0x0a], [0x73, 0x6e, 0x6f, 0x6f, 0x70, 0, 0, 0], [0x47, 0x4d, 0x42, 0x55], [0x52, 0x54, 0x53, 0x53]];
  for (let round = 0; round < 300; round++) {
    const magic = magics[round % magics.length]!;
    const body = new Uint8Array(Math.floor(random() * 4000));
    for (let i = 0; i < body.length; i++) body[i] = random() < 0.3 ? 0 : Math.floor(random() * 256);
    const file = new Uint8Array(magic.length + body.length);
    file.set(magic);
    file.set(body, magic.length);
    const r = run(file, 512);
    assert.deepEqual(r.engineErrors, [], `round ${round}`);
  }
});

// ---- the CLI's answers ----

test('CLI: a file that is not a capture gives one line on stderr and exit status 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-bad-'));
  try {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'this is not a capture file\n'.repeat(50));
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    for (const [path, pattern] of [[text, /not a capture file/], [empty, /empty file/], [join(dir, 'missing.pcap'), /no such file/], [dir, /not a regular file/]] as const) {
      const r = cli(['read', path]);
      assert.equal(r.status, 2, `${path}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, /^msgscope: /);
      assert.match(lines[0]!, pattern);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: a truncated capture prints every whole frame, then warns with the byte offset, exit 0', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-cut-'));
  try {
    const file = readFileSync(publicCapture('ajbanjara__Wireshark/messenger.pcap'));
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, file.subarray(0, 24 + 3 * 504 + 10));
    const r = cli(['read', cut]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split('\n').length, 3);
    assert.match(r.stderr, new RegExp(`warning: .*truncated.*byte offset ${24 + 3 * 504}\\b`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
