#!/usr/bin/env node
// `npm run bench`: frames/s and MB/s of `msgscope read --format ndjson` against a plain
// record-reading loop over the same file and against tshark.
//
//   npm run bench [-- <capture>] [-- --no-tshark] [-- --frames N]
//
// Without a capture (argument or MSGSCOPE_BENCH_CAPTURE), builds bench-data/bench-1m.pcap
// (1,000,000 frames from the public captures, see make-bench-capture.mjs) once and reuses it.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBenchCapture } from './make-bench-capture.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1] === '--frames'));

if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
  console.log('building (npx tsc -p .)…');
  spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
}

let capture = positional[0] ?? process.env.MSGSCOPE_BENCH_CAPTURE;
if (capture === undefined) {
  const frames = Number(option('--frames') ?? 1_000_000);
  capture = join(ROOT, 'bench-data', frames === 1_000_000 ? 'bench-1m.pcap' : `bench-${frames}.pcap`);
  if (!existsSync(capture)) {
    console.log(`building ${capture} (${frames} frames)…`);
    await makeBenchCapture(capture, frames);
  }
}
const size = statSync(capture).size;

/** The floor: read the file with fs in 4 MiB chunks and walk the pcap record headers. */
function plainLoop(path) {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(4 * 1024 * 1024 + 65536);
  let have = 0;
  let frames = 0;
  let headerDone = false;
  let little = true;
  try {
    for (;;) {
      const n = readSync(fd, buf, have, buf.length - have, null);
      if (n === 0) break;
      have += n;
      let pos = 0;
      if (!headerDone) {
        little = buf.readUInt32LE(0) === 0xa1b2c3d4 || buf.readUInt32LE(0) === 0xa1b23c4d;
        if (!little && buf.readUInt32BE(0) !== 0xa1b2c3d4 && buf.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('the plain loop reads classic pcap only');
        pos = 24;
        headerDone = true;
      }
      while (have - pos >= 16) {
        const caplen = little ? buf.readUInt32LE(pos + 8) : buf.readUInt32BE(pos + 8);
        if (have - pos < 16 + caplen) break;
        frames++;
        pos += 16 + caplen;
      }
      buf.copy(buf, 0, pos, have);
      have -= pos;
    }
  } finally {
    closeSync(fd);
  }
  return frames;
}

function timed(fn) {
  const t0 = process.hrtime.bigint();
  const result = fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, result };
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs a command with stdout to /dev/null; wall seconds, and CPU seconds (user+sys) when /usr/bin/time exists. */
function runToNull(command, commandArgs) {
  const out = openSync('/dev/null', 'w');
  const cpuFile = join(tmpdir(), `msgscope-bench-${process.pid}.time`);
  try {
    const argv = TIME !== undefined ? [TIME, '-f', '%U %S', '-o', cpuFile, command, ...commandArgs] : [command, ...commandArgs];
    const run = timed(() => {
      const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', out, 'pipe'], maxBuffer: 64 * 1024 * 1024 });
      if (r.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed (${r.status}): ${String(r.stderr).slice(0, 300)}`);
      return r;
    });
    let cpu;
    if (TIME !== undefined) {
      const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      cpu = user + sys;
    }
    return { seconds: run.seconds, cpu };
  } finally {
    closeSync(out);
    rmSync(cpuFile, { force: true });
  }
}

const hasTshark = !flag('--no-tshark') && spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const msgscope = join(ROOT, 'bin', 'msgscope');
const rows = [];
const add = (label, command, r, frames) => rows.push({ label, command, seconds: r.seconds, cpu: r.cpu, frames });

console.log(`capture: ${capture} (${(size / 1e6).toFixed(1)} MB)`);
const cpu0 = process.cpuUsage();
const plain = timed(() => plainLoop(capture));
const cpu1 = process.cpuUsage(cpu0);
const frames = plain.result;
add('plain read loop (fs, pcap record walk)', 'in-process readSync 4 MiB chunks', { seconds: plain.seconds, cpu: (cpu1.user + cpu1.system) / 1e6 }, frames);
add('msgscope read --format ndjson', `node bin/msgscope read --format ndjson -q ${capture} > /dev/null`, runToNull(process.execPath, [msgscope, 'read', '--format', 'ndjson', '-q', capture]), frames);
add('msgscope read (text summary)', `node bin/msgscope read -q ${capture} > /dev/null`, runToNull(process.execPath, [msgscope, 'read', '-q', capture]), frames);
if (hasTshark) {
  add('tshark -r F (summary)', `tshark -r ${capture} > /dev/null`, runToNull('tshark', ['-r', capture]), frames);
  add('tshark -r F -T ek', `tshark -r ${capture} -T ek > /dev/null`, runToNull('tshark', ['-r', capture, '-T', 'ek']), frames);
} else {
  console.log('tshark: not run (absent, or --no-tshark)');
}

console.log(`frames: ${frames}`);
console.log('');
// Wall time depends on what else the machine runs; CPU time (user+sys) is the steadier figure.
console.log(`${'run'.padEnd(40)} ${'wall s'.padStart(8)} ${'frames/s'.padStart(11)} ${'MB/s'.padStart(7)} ${'cpu s'.padStart(8)} ${'frames/cpu-s'.padStart(13)} ${'MB/cpu-s'.padStart(9)}`);
for (const r of rows) {
  const cpu = r.cpu === undefined ? ['', '', ''] : [r.cpu.toFixed(2), Math.round(r.frames / r.cpu).toLocaleString('en-US'), (size / 1e6 / r.cpu).toFixed(1)];
  console.log(`${r.label.padEnd(40)} ${r.seconds.toFixed(2).padStart(8)} ${Math.round(r.frames / r.seconds).toLocaleString('en-US').padStart(11)} ${(size / 1e6 / r.seconds).toFixed(1).padStart(7)} ${cpu[0].padStart(8)} ${cpu[1].padStart(13)} ${cpu[2].padStart(9)}`);
}
console.log('');
for (const r of rows) console.log(`  ${r.label}: ${r.command}`);
