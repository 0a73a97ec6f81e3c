// tshark's -t time formats on read and timeline text; the message status placed before the text
// (visible when a line is cut) and coloured apart from the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, cli, hasTshark, SAMPLES } from './helpers.js';

const SAMPLE = join(SAMPLES, 'messenger-mix.pcapng');

function timeColumn(args: string[]): string[] {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => /^\s*\d+\s+(.*?)\s+\d+\.\d+\.\d+\.\d+ /.exec(l)?.[1] ?? l);
}

test('read -t a|ad|u|ud|e|r|d prints the times tshark prints (to the microsecond)', { skip: !hasTshark() ? 'tshark missing' : false }, () => {
  for (const t of ['a', 'ad', 'u', 'ud', 'e', 'r', 'd']) {
    const ours = timeColumn(['read', '-r', SAMPLE, '-c', '12', '-t', t]);
    const r = spawnSync('tshark', ['-n', '-r', SAMPLE, '-c', '12', '-t', t, '-T', 'fields', '-e', '_ws.col.Time'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    // tshark prints nanoseconds for this pcapng; ours shows the capture's microseconds.
    const theirs = r.stdout.trim().split('\n').map((s) => s.replace(/(\.\d{6})\d{3}$/, '$1'));
    assert.deepEqual(ours, theirs, `-t ${t}`);
  }
});

test('timeline -t r counts from the first frame; -t e gives epoch seconds; a wrong -t lists the formats', () => {
  const rel = cli(['timeline', SAMPLE, '-t', 'r']).stdout.split('\n')[0]!;
  assert.match(rel, /^0\.\d{6}  nbss/);
  const epoch = cli(['timeline', SAMPLE, '-t', 'e']).stdout.split('\n')[0]!;
  assert.match(epoch, /^1\d{9}\.\d{6}  nbss/);
  const bad = cli(['read', SAMPLE, '-t', 'x']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /-t x: unknown time format; accepted: a, ad, r, d, dd, e, u, ud/);
});

test('timeline text: the status comes before the text, so a cut line keeps it; colour tells delivered from failed', () => {
  const plain = cli(['timeline', SAMPLE, '-Y', 'kind == "message"']).stdout.split('\n').filter((l) => !l.startsWith('    '));
  assert.ok(plain.length > 5);
  for (const line of plain.filter((l) => l !== '')) assert.match(line, /^\S+ \S+  \S+ +message  .*?  \[(ok|error [^\]]+|no-response|unknown)\] /);
  const coloured = cli(['timeline', SAMPLE, '-Y', 'kind == "message"', '--color']).stdout;
  assert.match(coloured, /\x1b\[32m\[ok\]\x1b\[39m/);
  assert.match(coloured, /\x1b\[31m\x1b\[1m\[error [^\]]+\]\x1b\[22m\x1b\[39m/);
});
