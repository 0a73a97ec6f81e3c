// Aligned text columns with 6- and 7-digit frame numbers, long times and long protocol names,
// in `read`'s summary lines and in the timeline.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes, eth, ipv4, pcapFile, udp } from './capture-builders.js';
import { cli } from './helpers.js';
import { ColumnWidths, summaryLine } from '../src/output/packet-view.js';
import { makeStyle } from '../src/output/style.js';

const plain = makeStyle(false);
const row = (no: number, protocol = 'UDP', time = '0.000001') => ({ no, time, src: '10.0.0.1', dst: '10.0.0.2', protocol, length: 60, info: 'info' });

test('summary lines: 6- and 7-digit frame numbers and a long protocol name widen their column for every later line', () => {
  const widths = new ColumnWidths();
  const lines = [row(1), row(99_999), row(100_000), row(1_234_567, 'SMB Mailslot'), row(1_234_568)].map((r) => summaryLine(r, plain, undefined, undefined, widths));
  assert.equal(lines[0]!.indexOf('0.000001'), 9);
  // From the 7-digit number on, the time column starts one place further than the 6-digit line's, and stays there.
  assert.equal(lines[2]!.indexOf('0.000001'), 10);
  assert.equal(lines[3]!.indexOf('0.000001'), 11);
  assert.equal(lines[4]!.indexOf('0.000001'), 11);
  // The Length column after the 12-character protocol name keeps its place on the next UDP line.
  assert.equal(lines[4]!.indexOf(' 60 '), lines[3]!.indexOf(' 60 '));
  // With the frame count known in advance (a file's size), the first line is already as wide as the last.
  const sized = new ColumnWidths();
  sized.expectFrames(2_000_000);
  const a = summaryLine(row(1), plain, undefined, undefined, sized);
  const b = summaryLine(row(1_999_999), plain, undefined, undefined, sized);
  assert.equal(a.indexOf('0.000001'), b.indexOf('0.000001'));
  assert.equal(a.indexOf('→'), b.indexOf('→'));
});

test('read: a synthetic capture of 100,005 frames keeps every summary line aligned, from a file and from a pipe after frame 100000', () => {
  // One record per frame after the file header of a one-record file, the timestamps rewritten.
  const frame = eth(0x0800, ipv4({ proto: 17 }, udp(5000, 5001, bytes('x'))));
  const one = Buffer.from(pcapFile([{ sec: 0, frac: 0, data: frame }]));
  const header = one.subarray(0, 24);
  const parts: Buffer[] = [header];
  for (let i = 0; i < 100_005; i++) {
    const record = Buffer.from(one.subarray(24));
    record.writeUInt32LE(1_100_000_000 + Math.floor(i / 1000), 0);
    record.writeUInt32LE((i % 1000) * 1000, 4);
    parts.push(record);
  }
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-cols-'));
  try {
    const path = join(dir, 'many.pcap');
    writeFileSync(path, Buffer.concat(parts));
    const r = cli(['read', '-q', path]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 100_005);
    const arrow = lines[0]!.indexOf('→');
    const udpAt = lines[0]!.indexOf(' UDP ');
    for (const i of [0, 9, 99_998, 99_999, 100_000, 100_004]) {
      assert.equal(lines[i]!.indexOf('→'), arrow, `line ${i + 1}`);
      assert.equal(lines[i]!.indexOf(' UDP '), udpAt, `line ${i + 1}`);
    }
    assert.match(lines[0]!, /^ {5}1 /);
    assert.match(lines[100_004]!, /^100005 /);
    // From standard input the size is unknown: the column grows at frame 100000 and stays grown.
    const piped = cli(['read', '-q', '-'], readFileSync(path)).stdout.trimEnd().split('\n');
    assert.match(piped[99_998]!, /^99999 /);
    assert.equal(piped[100_000]!.indexOf('→'), piped[100_004]!.indexOf('→'));
    assert.equal(piped[100_000]!.indexOf('→'), piped[99_998]!.indexOf('→') + 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('timeline text: -t r past 99999 seconds keeps the protocol column in place', () => {
  const widths = new ColumnWidths();
  const a = widths.fit('time', '9.000001', true);
  const b = widths.fit('time', '123456.000001', true);
  const c = widths.fit('time', '9.000002', true);
  assert.equal(a.length, 11);
  assert.equal(b.length, 13);
  assert.equal(c.length, 13);
});
