#!/usr/bin/env node
// Time to the first stdout chunk of a msgscope command: spawns it, reports wall seconds from
// start to the first byte on stdout and to exit, then the child's exit status.
//   node scripts/first-output.mjs -- timeline --format ndjson -q capture.pcap
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
const at = args.indexOf('--');
const cmd = at >= 0 ? args.slice(at + 1) : args;
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'msgscope');
const start = process.hrtime.bigint();
const secs = () => Number(process.hrtime.bigint() - start) / 1e9;
const child = spawn(process.execPath, [bin, ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
let first;
let bytes = 0;
child.stdout.on('data', (chunk) => {
  if (first === undefined) first = secs();
  bytes += chunk.length;
});
child.on('exit', (code) => {
  console.log(JSON.stringify({ command: cmd.join(' '), firstOutputSec: first === undefined ? null : Number(first.toFixed(3)), exitSec: Number(secs().toFixed(3)), bytes, code }));
});
