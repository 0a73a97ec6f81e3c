// The start-up bundle (scripts/bundle.mjs) must behave exactly as the compiled sources it is
// made from: the same output for frames, events, reports, SARIF (which reads the package
// version from disk) and --jobs (whose worker is a second entry point of the bundle).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, SAMPLES } from './helpers.js';

const BUNDLE = join(ROOT, 'dist', 'bundle', 'main.js');
const SOURCES = join(ROOT, 'dist', 'src', 'cli', 'main.js');

function runner(entry: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-bundle-'));
  const path = join(dir, 'run.mjs');
  writeFileSync(path, `import { main } from ${JSON.stringify(pathToFileURL(entry).href)};\nawait main(process.argv);\n`);
  return path;
}

test('the bundle gives the same output as the compiled sources', { skip: existsSync(BUNDLE) ? false : 'no bundle (esbuild not installed)' }, () => {
  const bundled = runner(BUNDLE);
  const plain = runner(SOURCES);
  const sample = join(SAMPLES, 'messenger-mix.pcapng');
  const commands = [
    ['read', sample],
    ['read', '-V', '-c', '40', sample],
    ['timeline', '--format', 'ndjson', sample],
    ['stats', '--format', 'json', sample],
    ['verify', '--format', 'sarif', sample],
    ['read', '--jobs', '2', sample, sample],
    ['--version'],
  ];
  for (const args of commands) {
    const run = (script: string) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
    const a = run(bundled);
    const b = run(plain);
    // A run killed (status null: spawnSync's buffer, a signal) must not pass as equal output.
    assert.notEqual(a.status, null, `${args.join(' ')}: ${a.error?.message ?? a.stderr}`);
    assert.equal(a.status, b.status, args.join(' '));
    assert.equal(a.stdout, b.stdout, args.join(' '));
    assert.ok(a.stdout.length > 0, args.join(' '));
  }
});
