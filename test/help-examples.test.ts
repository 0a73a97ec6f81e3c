// Every example the help shows runs as printed (from a directory holding the bundled sample and
// docs/), except live capture and the ClickHouse sink, which need an interface or a server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT } from './helpers.js';

const CLI = join(ROOT, 'src', 'cli');

/** The examples of the command files, in file order, as yargs prints them (`$0` is the program). */
function examples(): string[] {
  const found: string[] = [];
  for (const file of readdirSync(CLI).filter((f) => f.endsWith('.ts')).sort()) {
    const text = readFileSync(join(CLI, file), 'utf8');
    for (const m of text.matchAll(/\.example\('((?:[^'\\]|\\.)*)'/g)) found.push(m[1]!.replace(/\\'/g, "'"));
  }
  return found;
}

const hasJq = spawnSync('jq', ['--version']).status === 0;

test('every help example runs as printed', { timeout: 600_000 }, () => {
  const all = examples();
  assert.ok(all.length > 30, `found only ${all.length} examples`);
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-examples-'));
  try {
    symlinkSync(join(ROOT, 'samples'), join(dir, 'samples'));
    symlinkSync(join(ROOT, 'docs'), join(dir, 'docs'));
    let ran = 0;
    for (const example of all) {
      if (/\$0 live\b/.test(example) || example.includes('clickhouse://')) continue;
      let command = example.replace(/\$0/g, `"${process.execPath}" "${BIN}"`);
      if (!hasJq) command = command.replace(/\s*\|\s*jq\b.*$/, '');
      const r = spawnSync('bash', ['-c', `set -o pipefail; ${command}`], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
      const allowed = example.includes('--fail-on-error') || /\$0 verify\b/.test(example) ? [0, 1] : [0];
      assert.ok(allowed.includes(r.status ?? -1), `${example}\nexit ${r.status}: ${r.stderr.slice(0, 400)}`);
      assert.doesNotMatch(r.stderr, /internal error/, example);
      ran++;
    }
    assert.ok(ran > 30, `ran only ${ran} examples`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
