// A capture whose file name is not valid UTF-8 (byte 0xFF) opens from the CLI, and errors and
// JSON show its name with the bad byte escaped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, SAMPLES } from './helpers.js';
import { escapedName } from '../src/cli/raw-args.js';

/** Runs the CLI from bash with `$'…'` arguments, as a user would type them. */
function bash(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, NODE: process.execPath, MSGSCOPE: BIN, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a capture named with byte 0xFF opens; its name is shown escaped in JSON and errors', { skip: process.platform !== 'linux' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-name-'));
  try {
    const sample = readFileSync(join(SAMPLES, 'messenger-mix.pcapng'));
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/caf`), Buffer.from([0xff]), Buffer.from('.pcapng')]), sample);
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/bad`), Buffer.from([0xfe]), Buffer.from('.pcap')]), 'not a capture');
    const plain = bash(`"$NODE" "$MSGSCOPE" read -c 3 ${join(SAMPLES, 'messenger-mix.pcapng')}`);
    const read = bash(`"$NODE" "$MSGSCOPE" read -c 3 ${dir}/caf$'\\xff'.pcapng`);
    assert.equal(read.status, 0, read.stderr);
    assert.equal(read.stdout, plain.stdout);
    const json = bash(`"$NODE" "$MSGSCOPE" timeline --format ndjson ${dir}/caf$'\\xff'.pcapng ${join(SAMPLES, 'messenger-mix.pcapng')} | head -1`);
    assert.equal((JSON.parse(json.stdout) as { file: string }).file, `${dir}/caf\\xFF.pcapng`);
    const missing = bash(`"$NODE" "$MSGSCOPE" read ${dir}/gone$'\\xff'.pcap`);
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, `msgscope: ${dir}/gone\\xFF.pcap: no such file\n`);
    const bad = bash(`"$NODE" "$MSGSCOPE" read ${dir}/bad$'\\xfe'.pcap`);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^msgscope: .*\/bad\\xFE\.pcap: not a capture file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('escapedName: valid UTF-8 kept, invalid bytes and control characters as \\xHH', () => {
  assert.equal(escapedName(Buffer.from('café.pcap')), 'café.pcap');
  assert.equal(escapedName(Uint8Array.from([0x61, 0xff, 0xc3, 0x0a, 0x1b, 0x62])), 'a\\xFF\\xC3\\x0A\\x1Bb');
  assert.equal(escapedName(Uint8Array.from([0xe2, 0x86, 0x92])), '→');
});
