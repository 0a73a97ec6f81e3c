// The other file formats (snoop, NetMon 1.x/2.x, gzip, stdin), and the same capture written
// by editcap in every format we read giving the same frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readCapture } from '../src/capture/open.js';
import type { Frame } from '../src/capture/frame.js';
import { bytes, parseBytes, pcapFile, u16, u32 } from './capture-builders.js';
import { cli, dissect, publicCapture } from './helpers.js';

function hasEditcap(): boolean {
  return spawnSync('editcap', ['-h'], { stdio: 'ignore' }).status === 0;
}

interface Summary {
  number: number;
  tsSec: number;
  tsNsec: number;
  caplen: number;
  len: number;
  linkType: number;
  sha: string;
}

async function frames(path: string): Promise<{ frames: Summary[]; warnings: string[]; format: string }> {
  const out: Summary[] = [];
  const warnings: string[] = [];
  const info = await readCapture(path, {
    frame: (f: Frame) => out.push({ number: f.number, tsSec: f.tsSec, tsNsec: f.tsNsec, caplen: f.caplen, len: f.len, linkType: f.linkType, sha: createHash('sha1').update(f.data).digest('hex') }),
    warning: (w) => warnings.push(w),
  });
  return { frames: out, warnings, format: info.format };
}

const SOURCES = ['ajbanjara__Wireshark/messenger.pcap', 'ajbanjara__Wireshark/SkypeIRC.cap', 'ajbanjara__Wireshark/FTPv6-1.cap', 'ntop__nDPI/netbios.pcap'];
const FORMATS: [string, string][] = [['pcap', 'pcap'], ['nsecpcap', 'pcap-ns'], ['pcapng', 'pcapng'], ['netmon2', 'netmon'], ['netmon1', 'netmon'], ['snoop', 'snoop']];

for (const source of SOURCES) {
  test(`same frames from ${source} as pcap, nanosecond pcap, pcapng, NetMon 1.x/2.x and snoop (editcap -F)`, { skip: hasEditcap() ? false : 'editcap (Wireshark) is not installed' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'msgscope-formats-'));
    try {
      const reference = await frames(publicCapture(source));
      assert.deepEqual(reference.warnings, []);
      const layers = (await dissect(publicCapture(source))).frames.map((f) => f.layers.join(':'));
      for (const [editcapFormat, ourFormat] of FORMATS) {
        const path = join(dir, `converted.${editcapFormat}`);
        const r = spawnSync('editcap', ['-F', editcapFormat, publicCapture(source), path], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const got = await frames(path);
        assert.equal(got.format, ourFormat);
        assert.deepEqual(got.warnings, [], editcapFormat);
        assert.equal(got.frames.length, reference.frames.length, editcapFormat);
        for (let i = 0; i < got.frames.length; i++) {
          const a = got.frames[i]!;
          const b = reference.frames[i]!;
          assert.equal(a.number, b.number);
          assert.equal(a.sha, b.sha, `${editcapFormat} frame ${a.number} bytes`);
          assert.equal(a.caplen, b.caplen);
          assert.equal(a.len, b.len);
          assert.equal(a.linkType, b.linkType);
          // NetMon 1.x keeps 32-bit millisecond offsets: editcap rounds to the nearest one, and
          // an offset past 2^32 ms (netbios.pcap's last frame is 6 years late) cannot be written.
          if (editcapFormat === 'netmon1' && (b.tsSec - reference.frames[0]!.tsSec) * 1000 >= 2 ** 32) continue;
          const expectNs = editcapFormat === 'netmon1' ? b.tsSec * 1e9 + Math.round(b.tsNsec / 1e6) * 1e6 : b.tsSec * 1e9 + b.tsNsec;
          assert.equal(a.tsSec * 1e9 + a.tsNsec, expectNs, `${editcapFormat} frame ${a.number} time`);
        }
        assert.deepEqual((await dissect(path)).frames.map((f) => f.layers.join(':')), layers, `${editcapFormat} layer chains`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---- snoop (RFC 1761) by hand: padding to the record length, datalink mapping ----

function snoopFile(records: { data: Uint8Array; len?: number; pad?: number; sec: number; usec: number }[], datalink = 4): Uint8Array {
  const parts: (number[] | Uint8Array)[] = [bytes('snoop\0\0\0'), u32(2), u32(datalink)];
  for (const r of records) {
    const recordLength = 24 + r.data.length + (r.pad ?? (4 - (r.data.length % 4)) % 4);
    parts.push(u32(r.len ?? r.data.length), u32(r.data.length), u32(recordLength), u32(0), u32(r.sec), u32(r.usec), r.data, new Array<number>(recordLength - 24 - r.data.length).fill(0xee));
  }
  return bytes(...parts);
}

test('snoop: records padded to their record length, Ethernet datalink, microseconds', () => {
  const file = snoopFile([
    { data: bytes('abcde'), sec: 900000000, usec: 123456, len: 60 },
    { data: bytes('12345678'), sec: 900000001, usec: 1, pad: 12 },
  ]);
  const { frames, warnings, format } = parseBytes(file, 3);
  assert.equal(format, 'snoop');
  assert.deepEqual(warnings, []);
  assert.deepEqual(frames.map((f) => [f.number, f.linkType, f.tsSec, f.tsNsec, f.caplen, f.len]), [[1, 1, 900000000, 123456000, 5, 60], [2, 1, 900000001, 1000, 8, 8]]);
  assert.equal(new TextDecoder().decode(frames[1]!.data), '12345678');
});

test('snoop: a record length shorter than its data stops with a warning', () => {
  const file = snoopFile([{ data: bytes('abcd'), sec: 1, usec: 0 }]);
  const bad = bytes(file, u32(4), u32(40), u32(30), u32(0), u32(2), u32(0));
  const { frames, warnings } = parseBytes(bad);
  assert.equal(frames.length, 1);
  assert.match(warnings[0]!, /byte offset 44 has an invalid record length 30/);
});

// ---- NetMon by hand: frame table at the end, 2.x 64-bit µs offsets, 1.x ms offsets ----

function systemTime(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number[] {
  return [...u16(y, true), ...u16(mo, true), ...u16(0, true), ...u16(d, true), ...u16(h, true), ...u16(mi, true), ...u16(s, true), ...u16(ms, true)];
}

function netmonFile(version: 1 | 2, frames: { delta: number; data: Uint8Array; len?: number }[], tableTrim = 0): Uint8Array {
  const headerSize = version === 2 ? 72 : 64;
  const bodies: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = headerSize;
  for (const fr of frames) {
    const head = version === 2 ? bytes(u32(fr.delta, true), u32(0, true), u32(fr.len ?? fr.data.length, true), u32(fr.data.length, true)) : bytes(u32(fr.delta, true), u16(fr.len ?? fr.data.length, true), u16(fr.data.length, true));
    const trailer = version === 2 ? bytes(u16(1, true), u32(0, true)) : new Uint8Array(0);
    const body = bytes(head, fr.data, trailer);
    offsets.push(at);
    bodies.push(body);
    at += body.length;
  }
  const table = bytes(...offsets.map((o) => u32(o, true)));
  const header = new Uint8Array(headerSize);
  header.set(bytes(version === 2 ? 'GMBU' : 'RTSS', [version === 2 ? 1 : 1, version], u16(1, true), systemTime(2003, 10, 14, 9, 12, 1, 250), u32(at, true), u32(table.length, true)));
  return bytes(header, ...bodies, table.subarray(0, table.length - tableTrim));
}

test('NetMon 2.x: frames found through the frame table, times from the start SYSTEMTIME plus µs offsets', () => {
  const file = netmonFile(2, [{ delta: 0, data: bytes('first') }, { delta: 1_500_001, data: bytes('second'), len: 1514 }]);
  const { frames, warnings, format } = parseBytes(file, 10);
  assert.equal(format, 'netmon');
  assert.deepEqual(warnings, []);
  const start = Date.UTC(2003, 9, 14, 9, 12, 1) / 1000;
  assert.deepEqual(frames.map((f) => [f.number, f.linkType, f.tsSec, f.tsNsec, f.caplen, f.len]), [[1, 1, start, 250_000_000, 5, 5], [2, 1, start + 1, 750_001_000, 6, 1514]]);
});

test('NetMon 1.x: millisecond offsets and 16-bit lengths', () => {
  const file = netmonFile(1, [{ delta: 0, data: bytes('a') }, { delta: 2250, data: bytes('bb') }]);
  const { frames, warnings } = parseBytes(file);
  assert.deepEqual(warnings, []);
  const start = Date.UTC(2003, 9, 14, 9, 12, 1) / 1000;
  assert.deepEqual(frames.map((f) => [f.tsSec, f.tsNsec, f.caplen]), [[start, 250_000_000, 1], [start + 2, 500_000_000, 2]]);
});

test('NetMon: a frame table running past the end of the file is read as far as it goes, with a warning', () => {
  const file = netmonFile(2, [{ delta: 0, data: bytes('first') }, { delta: 1, data: bytes('second') }], 2);
  const { frames, warnings } = parseBytes(file);
  assert.equal(frames.length, 1);
  assert.match(warnings[0]!, /frame table .* runs past the end/);
});

// ---- gzip and standard input ----

test('gzip-compressed captures read the same as the plain file; a cut gzip keeps the frames before the cut', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-gz-'));
  try {
    const plain = publicCapture('ajbanjara__Wireshark/SkypeIRC.cap');
    const zipped = join(dir, 'c.pcap.gz');
    const gz = gzipSync(readFileSync(plain));
    writeFileSync(zipped, gz);
    const a = await frames(plain);
    const b = await frames(zipped);
    assert.equal(b.format, 'pcap+gzip');
    assert.deepEqual(b.frames, a.frames);
    writeFileSync(zipped, gz.subarray(0, Math.floor(gz.length / 2)));
    const cut = await frames(zipped);
    assert.ok(cut.frames.length > 100 && cut.frames.length < a.frames.length, `${cut.frames.length} frames`);
    assert.deepEqual(cut.frames, a.frames.slice(0, cut.frames.length));
    assert.ok(cut.warnings.some((w) => /gzip stream is truncated/.test(w) || /truncated/.test(w)), cut.warnings.join('; '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`-` reads the capture from standard input, plain or gzipped', () => {
  const data = readFileSync(publicCapture('ajbanjara__Wireshark/messenger.pcap'));
  const fromFile = cli(['read', '--format', 'ndjson', publicCapture('ajbanjara__Wireshark/messenger.pcap')]);
  assert.equal(fromFile.status, 0, fromFile.stderr);
  for (const input of [data, gzipSync(data)]) {
    const r = cli(['read', '--format', 'ndjson', '-'], input);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, fromFile.stdout);
    assert.equal(r.stdout.trim().split('\n').length, 6);
  }
});

test('a pcap built in memory reads back through the CLI with tshark-style snap-length lengths', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-cli-'));
  try {
    const path = join(dir, 'cut.pcap');
    writeFileSync(path, pcapFile([{ sec: 1, frac: 5, data: bytes(new Array<number>(20).fill(0xff)), len: 1514 }]));
    const r = cli(['read', '--format', 'ndjson', path]);
    assert.equal(r.status, 0, r.stderr);
    const obj = JSON.parse(r.stdout) as { caplen: number; len: number; time: string };
    assert.deepEqual([obj.caplen, obj.len, obj.time], [20, 1514, '1970-01-01T00:00:01.000005Z']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
