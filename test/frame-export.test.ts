// `-w FILE`: read writes the frames -Y selected, timeline every frame of the selected events, as
// pcapng that tshark reads back with the same bytes and times, findings as packet comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cli, exists, hasTshark, publicCapture, SAMPLES } from './helpers.js';

const SAMPLE = join(SAMPLES, 'messenger-mix.pcapng');
const dir = mkdtempSync(join(tmpdir(), 'msgscope-w-'));
const noTshark = !hasTshark() ? 'tshark missing' : false;

function tshark(args: string[]): string {
  const r = spawnSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Length, epoch time and bytes of every frame, as tshark sees them. */
function frames(path: string, filter?: string): string {
  return tshark(['-r', path, ...(filter === undefined ? [] : ['-Y', filter]), '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.time_epoch', '-e', 'data.data', '-e', 'eth.src', '-e', 'ip.id']);
}

test('read -w writes the frames -Y selects, with their times to the nanosecond, and nothing on stdout', { skip: noTshark }, () => {
  const out = join(dir, 'smb.pcapng');
  const r = cli(['read', '-r', SAMPLE, '-Y', 'smb', '-w', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const numbers = cli(['read', '-r', SAMPLE, '-Y', 'smb', '-T', 'fields', '-e', 'frame.number']).stdout.trim().split('\n');
  assert.match(r.stderr, new RegExp(`^msgscope: ${numbers.length} frame\\(s\\) written to `));
  assert.ok(numbers.length > 10);
  assert.equal(frames(out), frames(SAMPLE, `frame.number in {${numbers.join(', ')}}`));
  // -P prints the listing as well; the file is the same.
  const printed = cli(['read', '-r', SAMPLE, '-Y', 'smb', '-w', join(dir, 'smb2.pcapng'), '-P']);
  assert.equal(printed.stdout, cli(['read', '-r', SAMPLE, '-Y', 'smb']).stdout);
  assert.deepEqual(readFileSync(join(dir, 'smb2.pcapng')), readFileSync(out));
});

test('read -w puts each finding of a frame in a packet comment that tshark shows', { skip: noTshark }, () => {
  const out = join(dir, 'findings.pcapng');
  assert.equal(cli(['read', SAMPLE, '-w', out]).status, 0);
  const ours = cli(['read', SAMPLE, '-Y', 'expert', '-T', 'fields', '-e', 'frame.number', '-e', 'expert.summary', '-E', 'aggregator=|']).stdout.trim().split('\n');
  const theirs = tshark(['-r', out, '-Y', 'frame.comment', '-T', 'fields', '-e', 'frame.number', '-e', 'frame.comment', '-E', 'aggregator=|']).trim().split('\n');
  assert.ok(ours.length > 3);
  assert.equal(theirs.length, ours.length);
  for (const [i, line] of ours.entries()) {
    const [number, summaries] = line.split('\t');
    const [n2, comments] = theirs[i]!.split('\t');
    assert.equal(n2, number);
    for (const s of summaries!.split('|')) assert.ok(comments!.includes(s), `frame ${number}: ${s}`);
    assert.match(comments!, /^msgscope (error|warning|note): /);
  }
});

test('timeline -w writes every frame of the selected events (second pass), in file order', { skip: noTshark }, () => {
  const out = join(dir, 'msrp.pcapng');
  const filter = 'message && protocol == "msrp"';
  const r = cli(['timeline', '-r', SAMPLE, '-Y', filter, '-w', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
  const listed = cli(['timeline', '-r', SAMPLE, '-Y', filter, '-T', 'fields', '-e', 'frames']).stdout.trim().split(/[\n,]/).map(Number);
  const numbers = [...new Set(listed)].sort((a, b) => a - b);
  assert.ok(numbers.length > 5);
  assert.match(r.stderr, new RegExp(`^msgscope: ${numbers.length} frame\\(s\\) of the selected events written to `));
  assert.equal(frames(out), frames(SAMPLE, `frame.number in {${numbers.join(', ')}}`));
  // The written file holds the same events.
  const again = (path: string): string => cli(['timeline', path, '-Y', filter, '-T', 'fields', '-e', 'message.from', '-e', 'message.to', '-e', 'message.text', '-e', 'message.status']).stdout;
  assert.equal(again(out), again(SAMPLE));
});

test('-w merges captures of different link types (an interface block each) and writes to stdout with -w -', { skip: noTshark }, () => {
  const a = publicCapture('ajbanjara__Wireshark/genbroad.snoop');
  const b = publicCapture('ajbanjara__Wireshark/messenger.pcap');
  if (!exists(a) || !exists(b)) return;
  const out = join(dir, 'merged.pcapng');
  assert.equal(cli(['read', '-r', a, '-r', b, '-w', out, '-q']).status, 0);
  const ids = new Set(tshark(['-r', out, '-T', 'fields', '-e', 'frame.interface_id']).trim().split('\n'));
  const links = new Set(tshark(['-r', out, '-T', 'fields', '-e', 'frame.encap_type']).trim().split('\n'));
  assert.equal(ids.size, links.size);
  assert.ok(links.size >= 1);
  assert.equal(frames(out), frames(a) + frames(b));
  const piped = spawnSync(process.execPath, [BIN, 'read', SAMPLE, '-c', '4', '-w', '-'], { maxBuffer: 64 << 20 });
  assert.equal(piped.status, 0);
  // (tshark refuses a socket on stdin, which is what Node's pipes are: read it back from a file.)
  const copy = join(dir, 'piped.pcapng');
  writeFileSync(copy, piped.stdout);
  assert.equal(tshark(['-r', copy, '-T', 'fields', '-e', 'frame.number']), '1\n2\n3\n4\n');
});

test('-w errors: the capture being read, standard input on timeline, -P without -w', () => {
  const cases: [string[], RegExp, Buffer?][] = [
    [['read', SAMPLE, '-w', SAMPLE], /-w .*messenger-mix\.pcapng: that is a capture being read; choose another file/],
    [['timeline', '-', '-w', join(dir, 'x.pcapng')], /timeline -w reads each capture twice .*: give files, not standard input/, readFileSync(SAMPLE)],
    [['read', SAMPLE, '-P'], /-P goes with -w/],
    [['read', SAMPLE, '-w', '-', '-P'], /-w - writes the capture to stdout: -P would mix/],
  ];
  for (const [args, expected, input] of cases) {
    const r = cli(args, input);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, expected);
  }
});
