// --jobs N on one capture of read, timeline or audit: the capture is split by flow across lanes
// and the output is byte for byte what one engine gives — on spam-shaped traffic made by the repo's
// generator and on the captures whose events depend on state across the capture: late events
// (msnms.pcap), tcp.stream numbers in findings, named pipes, MSNP, NetBIOS. Batches of a
// few kilobytes (MSGSCOPE_SPLIT_BATCH) make the lanes' reports interleave as on a large capture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { cli, exists, FIXTURES, publicCapture, ROOT, SAMPLES } from './helpers.js';
import { parseBytes } from './capture-builders.js';
import { writePcap } from './nbt-builder.js';

// Small batches, and a sample of 2,000 frames: most frames are dispatched as they are read.
const SMALL_BATCHES = { MSGSCOPE_SPLIT_BATCH: '3000', MSGSCOPE_SPLIT_SAMPLE: '2000' };
let dir = '';
let spam = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'msgscope-split-'));
  spam = join(dir, 'spam-60k.pcap');
  const made = spawnSync(process.execPath, [join(ROOT, 'scripts', 'make-spam-capture.mjs'), '--frames', '60000', '--out', spam], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const CAPTURES = (): string[] => [
  spam,
  join(SAMPLES, 'messenger-mix.pcapng'),
  join(FIXTURES, 'audit', 'combined.pcap'),
  join(FIXTURES, 'msgsvc-smb1.pcap'),
  join(FIXTURES, 'msgsvc-smb2.pcap'),
  join(FIXTURES, 'verify', 'one-sided.pcap'),
  ...['msnms.pcap', 'Sanaullah.pcap', 'packet_capture.pcap', 'mapi.cap', 'can-2003-0003.pcap'].map((name) => publicCapture(`ajbanjara__Wireshark/${name}`)),
].filter(exists);

const RUNS: readonly string[][] = [
  ['timeline', '--format', 'ndjson'],
  ['timeline', '--wide', '-Y', 'kind == "message" || kind == "finding"'],
  ['audit', '--format', 'json'],
  ['read'],
  // Colour (severity from the lanes), -t dd (the time since the previous line shown), the hex dump, a filter.
  ['read', '--color', '-x', '-t', 'dd', '-Y', 'smb || msnp || dcerpc || expert.severity == "warning"'],
  // Detail trees and JSON: every TCP and UDP frame shows its capture-wide stream number.
  ['read', '-V'],
  // Fields: stream numbers (from the tree, as -V shows them) split; a field timed across frames read by one engine.
  ['read', '-T', 'fields', '-E', 'header=y', '-e', 'frame.number', '-e', 'tcp.stream', '-e', 'udp.stream', '-e', 'ip.src', '-e', 'smb.cmd'],
  ['read', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_delta', '-e', 'tcp.stream'],
  ['read', '--format', 'json', '-V', '-x', '-Y', 'smb || udp || expert.severity == "warning"'],
  // Capture-wide fields: stream numbers, times since the first and the previous frame (read by one engine).
  ['read', '-Y', '(tcp.stream >= 2 && tcp.stream <= 60) || udp.stream == 5 || frame.time_delta > 0.5 || frame.time_relative < 0.001'],
];

for (const run of RUNS) {
  test(`split by flow: ${run.join(' ')} --jobs 3 on one capture writes what --jobs 1 writes`, () => {
    for (const capture of CAPTURES()) {
      const one = cli([...run, '--jobs', '1', capture]);
      assert.equal(one.status, 0, one.stderr);
      for (const jobs of capture === spam ? ['2', '3'] : ['3']) {
        const split = cli([...run, '--jobs', jobs, capture], undefined, SMALL_BATCHES);
        assert.equal(split.status, 0, split.stderr);
        assert.equal(split.stdout, one.stdout, `${capture} with --jobs ${jobs}`);
        assert.equal(split.stderr, one.stderr, `${capture} with --jobs ${jobs}`);
      }
    }
  });
}

test('split by flow: the generated spam capture exercises the merge: thousands of events of SMB, MS-MSRP and MSNP', () => {
  // The capture must exercise the merge: events from several kinds of traffic, thousands of them.
  const out = cli(['timeline', '--format', 'ndjson', '--jobs', '1', spam]).stdout.trim().split('\n');
  assert.ok(out.length > 5000, `${out.length} events`);
  for (const protocol of ['"protocol":"smb"', '"protocol":"msrp"', '"protocol":"msnp"']) assert.ok(out.some((line) => line.includes(protocol)), protocol);
});

test('split by flow: standard input, --fail-on-error, an empty capture and a capture that is not one', () => {
  const capture = join(FIXTURES, 'audit', 'combined.pcap');
  const piped = spawnSync(process.execPath, [join(ROOT, 'bin', 'msgscope'), 'timeline', '--jobs', '2', '-'], { input: spawnSync('cat', [capture]).stdout, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stdout, cli(['timeline', capture]).stdout);

  const errors = publicCapture('ajbanjara__Wireshark/msnms.pcap');
  const one = cli(['timeline', '--fail-on-error', '--jobs', '1', errors]);
  const two = cli(['timeline', '--fail-on-error', '--jobs', '2', errors], undefined, SMALL_BATCHES);
  assert.equal(two.status, one.status);
  assert.equal(two.stderr, one.stderr);

  const empty = join(dir, 'empty.pcap');
  writeFileSync(empty, Buffer.from('d4c3b2a1020004000000000000000000ffff000001000000', 'hex'));
  const none = cli(['audit', '--format', 'json', '--jobs', '2', empty]);
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout, cli(['audit', '--format', 'json', '--jobs', '1', empty]).stdout);

  const notCapture = join(dir, 'not.pcap');
  writeFileSync(notCapture, 'hello, this is not a capture\n');
  const bad = cli(['timeline', '--jobs', '2', notCapture]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^msgscope: .*not\.pcap: not a capture file.*\n$/);
});

test('split by flow: a lane with no frames for an hour still times out its request when one engine would (ticks)', () => {
  // A NetrSendMessage request nobody answers, then \MAILSLOT\MESSNGR datagrams (lane 0) every
  // 100 s for 75 minutes. One engine finishes the request on its 60 s timeout, at the first
  // datagram. A lane that saw only the request would finish it at the end of the capture, after
  // the window had let an hour of events go: shown late. Ticks move its time on as one engine's.
  const request = parseBytes(readFileSync(join(FIXTURES, 'msrp-udp.pcap'))).frames[0]!;
  const mail = parseBytes(readFileSync(join(FIXTURES, 'mailslot-messngr.pcap'))).frames;
  const frames = [{ data: request.data.slice(), ts: request.tsSec }];
  for (let i = 1; i <= 45; i++) frames.push({ data: mail[i % mail.length]!.data.slice(), ts: request.tsSec + 100 * i });
  const capture = writePcap(frames);
  const one = cli(['timeline', '--jobs', '1', capture]);
  assert.equal(one.status, 0, one.stderr);
  assert.doesNotMatch(one.stdout, /shown out of order/);
  // Three lanes: the request's pair is never in lane 0 with the datagrams.
  assert.equal(cli(['timeline', '--jobs', '3', capture]).stdout, one.stdout);
});
