// --jobs N: several captures read on worker threads give the same output, byte for byte, as
// reading them in turn — for every format that runs on workers, and for the ones that fall back;
// audit's workers forward events to the one analysis on the main thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { BIN, cli, FIXTURES, SAMPLES } from './helpers.js';

const CAPTURES = [
  ...readdirSync(FIXTURES).filter((name) => name.endsWith('.pcap')).sort().map((name) => join(FIXTURES, name)),
  join(SAMPLES, 'messenger-mix.pcapng'),
];

const RUNS: readonly string[][] = [
  ['read'],
  ['read', '--format', 'ndjson'],
  ['read', '-V', '-x'],
  ['read', '--format', 'json'],
  ['read', '-c', '30'],
  ['read', '-Y', 'udp'],
  ['timeline', '--wide'],
  ['timeline', '--format', 'ndjson'],
  ['timeline', '--format', 'csv'],
  ['timeline', '-Y', 'kind == "message"'],
  ['audit'],
  ['audit', '--format', 'json'],
  ['audit', '--format', 'csv', '-Y', 'protocol == "smb"'],
];

for (const run of RUNS) {
  test(`${run.join(' ')}: --jobs 3 writes what --jobs 1 writes`, () => {
    const one = cli([...run, '--jobs', '1', ...CAPTURES]);
    const three = cli([...run, '--jobs', '3', ...CAPTURES]);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(three.status, 0, three.stderr);
    assert.ok(one.stdout.length > 1000, 'the captures give output');
    assert.equal(three.stdout, one.stdout);
    assert.equal(three.stderr, one.stderr);
  });
}

test('--jobs: output ahead of its turn past the backlog goes to spill files, copied in order and removed', () => {
  // A 4 KiB backlog: every capture but the one being written spills almost at once.
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-spill-test-'));
  try {
    for (const run of [['read', '-V', '-x'], ['timeline', '--format', 'ndjson'], ['audit', '--format', 'csv']]) {
      const one = cli([...run, '--jobs', '1', ...CAPTURES]);
      const three = cli([...run, '--jobs', '3', ...CAPTURES], undefined, { MSGSCOPE_JOBS_BACKLOG: '4096', TMPDIR: dir });
      assert.equal(three.status, 0, three.stderr);
      if (run[0] !== 'audit') assert.ok(one.stdout.length > 20_000, `${run.join(' ')}: output enough to spill`);
      assert.equal(three.stdout, one.stdout);
      assert.equal(three.stderr, one.stderr);
      assert.deepEqual(readdirSync(dir), [], 'the spill directory is removed');
    }
    // No directory for spill files: the workers wait their turn instead, with the same output.
    const waiting = cli(['read', '-V', '--jobs', '3', ...CAPTURES], undefined, { MSGSCOPE_JOBS_BACKLOG: '4096', TMPDIR: join(dir, 'missing') });
    assert.equal(waiting.status, 0, waiting.stderr);
    assert.equal(waiting.stdout, cli(['read', '-V', '--jobs', '1', ...CAPTURES]).stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--jobs: a run killed while it spills leaves no spill files behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-spill-kill-'));
  try {
    // stdout is never read: the pipe fills, the capture being written waits, the others spill.
    const child = spawn(process.execPath, [BIN, 'read', '-V', '-x', '--jobs', '3', ...CAPTURES], {
      env: { ...process.env, MSGSCOPE_JOBS_BACKLOG: '4096', TMPDIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // What the child said, should it end otherwise than by the signal (a failure once seen under load).
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    const spilled = (): boolean => readdirSync(dir).some((sub) => readdirSync(join(dir, sub)).length > 0);
    for (let waited = 0; !spilled(); waited += 50) {
      assert.ok(waited < 20_000, 'a spill file appears');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGTERM');
    const end = await exited;
    assert.equal(end.signal, 'SIGTERM', `the child ended with status ${end.code}; its stderr: ${stderr.slice(0, 2000)}`);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--jobs: the error findings of every worker count for --fail-on-error', () => {
  const one = cli(['read', '--fail-on-error', '--jobs', '1', ...CAPTURES]);
  const two = cli(['read', '--fail-on-error', '--jobs', '2', ...CAPTURES]);
  assert.equal(two.status, one.status);
  assert.equal(two.stderr, one.stderr);
});

test('--jobs: a capture that cannot be read stops the run with its one-line error after the output of the ones before it', () => {
  const r = cli(['read', '--jobs', '2', CAPTURES[0]!, join(FIXTURES, 'no-such.pcap'), CAPTURES[1]!]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^msgscope: .*no-such\.pcap: no such file\n$/);
  assert.equal(r.stdout, cli(['read', CAPTURES[0]!]).stdout);
});

test('--jobs takes a whole number of workers', () => {
  const r = cli(['read', '--jobs', '0', CAPTURES[0]!]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--jobs takes a whole number/);
});
