#!/usr/bin/env node
// `npm run bench`: msgscope against tshark on the same large captures, command by command.
//
//   npm run bench [-- --capture spam|long|PATH] [--frames N] [--only read,timeline]
//                 [--jobs N] [--no-tshark] [--protocols] [--json]
//
// --jobs N: msgscope runs with --jobs N (read in every format, timeline and audit then split the
// capture by flow across N lanes; stats and verify read one capture in one engine whatever N).
// --json: the results as JSON on stdout (the tables then go to stderr).
//
// Captures (built once in bench-data/, reused; --capture may be given more than once, default
// both built ones):
//   spam  traffic shaped like what users audit: spam waves of one short TCP connection or UDP
//         exchange per message, long MSNP sessions, LAN noise (make-spam-capture.mjs);
//   long  every frame of the public captures replicated: few, long flows (make-bench-capture.mjs).
// --frames N sizes the built captures (default 1,000,000).
//
// Jobs (--only picks some), each next to the tshark command that does the same job:
//   read         msgscope read                      tshark -n -r F
//   read-V       msgscope read -V                   tshark -n -V -r F
//   read-ndjson  msgscope read --format ndjson      tshark -n -T ek -r F
//   timeline     msgscope timeline --format ndjson  tshark -n -r F -Y <messenger filter> -T fields -e …
//   stats        msgscope stats                     tshark -n -q -z io,phs -z conv,tcp -z conv,udp -z endpoints,ip -r F
//   audit        msgscope audit (when it exists)    the same field extraction as for timeline
// Output goes to /dev/null. Measured per run: wall seconds, CPU seconds (user+sys) and peak
// RSS of the child, from /usr/bin/time (Debian package `time`); without it, wall time only.
// The floors (scripts/floor.mjs, run in this process): the pcap records walked; read's floor
// (headers, a flow table, one summary line per frame); the timeline's floor (headers, a flow
// table, the messenger messages as JSON lines). What the least JavaScript reader pays.
// --protocols: each job again with every protocol of `--disable-protocol` switched off in turn,
// and with ALL of them: what each protocol costs that job (meant with --only; nine runs a job).
// It reports, it never asserts: timings depend on the machine and on what else runs (the load
// average is printed; CPU seconds are the steadier figure).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runFloor } from './floor.mjs';
import { makeBenchCapture } from './make-bench-capture.mjs';
import { makeSpamCapture } from './make-spam-capture.mjs';
import { measure, TIME } from './lib/measure.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MSGSCOPE = join(ROOT, 'bin', 'msgscope');

// ---- options ----

const argv = process.argv.slice(2);
const values = (name) => argv.flatMap((a, i) => (a === name && argv[i + 1] !== undefined ? [argv[i + 1]] : []));
const flag = (name) => argv.includes(name);
const known = new Set(['--capture', '--frames', '--only', '--jobs', '--no-tshark', '--protocols', '--json']);
for (const [i, a] of argv.entries()) {
  if (a.startsWith('--') && !known.has(a)) usage(`unknown option ${a}`);
  if (!a.startsWith('--') && !['--capture', '--frames', '--only', '--jobs'].includes(argv[i - 1])) usage(`unexpected argument ${a}`);
}
const frames = Number(values('--frames').at(-1) ?? 1_000_000);
if (!Number.isInteger(frames) || frames <= 0) usage('--frames wants a positive integer');
const captureArgs = values('--capture').flatMap((v) => v.split(','));
const only = values('--only').flatMap((v) => v.split(','));
const workers = Number(values('--jobs').at(-1) ?? 1);
if (!Number.isInteger(workers) || workers <= 0) usage('--jobs wants a positive integer');
const json = flag('--json');
const protocolCosts = flag('--protocols');

function usage(message) {
  console.error(`bench: ${message}\nusage: npm run bench -- [--capture spam|long|PATH] [--frames N] [--only read,read-V,read-ndjson,timeline,stats,audit] [--jobs N] [--no-tshark] [--protocols] [--json]`);
  process.exit(2);
}

/** Progress and tables: stderr when stdout carries the JSON. */
const say = (text = '') => (json ? process.stderr : process.stdout).write(`${text}\n`);

// ---- the jobs ----

/** Frames that carry messenger traffic, for tshark's side of `timeline`. */
const MESSENGER_FILTER = 'messenger || msnms || (smb.cmd >= 0xd0 && smb.cmd <= 0xd7) || mailslot.name == "\\\\MAILSLOT\\\\MESSNGR"';
const MESSENGER_FIELDS = [
  'frame.number', 'frame.time_epoch', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', '_ws.col.Protocol',
  'smb.cmd', 'smb.originator_name', 'smb.destination_name', 'smb.message', 'messenger.client', 'messenger.server', 'messenger.message',
  'mailslot.name', '_ws.col.Info',
];
const tsharkFields = (f) => ['-n', '-r', f, '-Y', MESSENGER_FILTER, '-T', 'fields', ...MESSENGER_FIELDS.flatMap((e) => ['-e', e])];

const JOBS = [
  { name: 'read', msgscope: (f) => ['read', '-q', f], tshark: (f) => ['-n', '-r', f] },
  { name: 'read-V', msgscope: (f) => ['read', '-V', '-q', f], tshark: (f) => ['-n', '-V', '-r', f] },
  { name: 'read-ndjson', msgscope: (f) => ['read', '--format', 'ndjson', '-q', f], tshark: (f) => ['-n', '-T', 'ek', '-r', f] },
  { name: 'timeline', msgscope: (f) => ['timeline', '--format', 'ndjson', '-q', f], tshark: tsharkFields },
  { name: 'stats', msgscope: (f) => ['stats', '-q', f], tshark: (f) => ['-n', '-q', '-z', 'io,phs', '-z', 'conv,tcp', '-z', 'conv,udp', '-z', 'endpoints,ip', '-r', f] },
  { name: 'audit', msgscope: (f) => ['audit', '-q', f], tshark: tsharkFields, optional: true },
];
for (const name of only) if (!JOBS.some((j) => j.name === name)) usage(`unknown job ${name}`);

// ---- running and measuring ----


// ---- captures ----

async function resolveCapture(name) {
  const suffix = frames % 1_000_000 === 0 ? `${frames / 1_000_000}m` : String(frames);
  if (name === 'spam' || name === 'long') {
    const path = join(ROOT, 'bench-data', `${name}-${suffix}.pcap`);
    if (!existsSync(path)) {
      say(`building ${path} (${frames} frames)…`);
      if (name === 'spam') await makeSpamCapture({ out: path, frames });
      else await makeBenchCapture(path, frames);
    }
    return { name, path };
  }
  if (!existsSync(name)) usage(`no such capture: ${name}`);
  return { name, path: resolve(name) };
}

// ---- main ----

if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) {
  say('building (npx tsc -p .)…');
  spawnSync('npx', ['tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
}
/** What --disable-protocol takes; --protocols switches each off in turn. */
const { PROTOCOL_SWITCHES: PROTOCOL_NAMES } = await import(pathToFileURL(join(ROOT, 'dist', 'src', 'protocols', 'index.js')).href);

const hasTshark = !flag('--no-tshark') && spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const auditHelp = spawnSync(process.execPath, [MSGSCOPE, 'audit', '--help'], { encoding: 'utf8' });
const hasAudit = auditHelp.status === 0 && /msgscope audit/.test(auditHelp.stdout);
const jobs = JOBS.filter((j) => (only.length === 0 ? true : only.includes(j.name)));
const notes = [];
if (!hasAudit && jobs.some((j) => j.name === 'audit')) notes.push('audit: skipped (`msgscope audit --help` does not describe an audit command)');
if (!hasTshark) notes.push('tshark: not run (absent, or --no-tshark)');
if (TIME === undefined) notes.push('/usr/bin/time absent (apt-get install time): wall seconds only');

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  tshark: hasTshark ? spawnSync('tshark', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] : undefined,
  loadBefore: loadavg()[0],
};
say(`machine: ${machine.cpu}, ${machine.cores} cores, node ${machine.node}${machine.tshark ? `, ${machine.tshark}` : ''}; load average ${machine.loadBefore.toFixed(2)}`);

const results = [];
for (const captureName of captureArgs.length > 0 ? captureArgs : ['spam', 'long']) {
  const capture = await resolveCapture(captureName);
  const size = statSync(capture.path).size;
  const floor = runFloor(capture.path, 'walk');
  const floors = ['walk', 'lines', 'messages'].map((stage) => {
    const r = stage === 'walk' ? floor : runFloor(capture.path, stage);
    return { stage, wall: r.wall, cpu: r.cpu };
  });
  let shape;
  if (existsSync(`${capture.path}.json`)) shape = JSON.parse(readFileSync(`${capture.path}.json`, 'utf8')).counts;
  const entry = { capture: capture.name, path: capture.path, frames: floor.frames, bytes: size, minutes: floor.minutes, shape, floors, runs: [] };
  results.push(entry);
  say(`\ncapture ${capture.name}: ${capture.path}: ${floor.frames.toLocaleString('en-US')} frames, ${(size / 1e6).toFixed(1)} MB, ${floor.minutes.toFixed(1)} min`);
  // timeline and audit compare with the same tshark command: measured once per capture.
  const tsharkRuns = new Map();
  for (const job of jobs) {
    if (job.name === 'audit' && !hasAudit) continue;
    const args = [...job.msgscope(capture.path), '--jobs', String(workers)];
    const run = { job: job.name, msgscope: { command: `msgscope ${[...job.msgscope('F'), '--jobs', String(workers)].join(' ')}`, ...measure(process.execPath, [MSGSCOPE, ...args]) } };
    if (hasTshark) {
      const key = job.tshark(capture.path).join('\0');
      if (!tsharkRuns.has(key)) tsharkRuns.set(key, { command: `tshark ${job.tshark('F').map((a) => (/[ |&"()\\]/.test(a) ? `'${a}'` : a)).join(' ')}`, ...measure('tshark', job.tshark(capture.path)) });
      run.tshark = tsharkRuns.get(key);
    }
    entry.runs.push(run);
    say(`  ${job.name.padEnd(12)} msgscope ${brief(run.msgscope)}${run.tshark !== undefined ? `   tshark ${brief(run.tshark)}` : ''}`);
    if (protocolCosts) {
      run.without = {};
      for (const name of ['ALL', ...PROTOCOL_NAMES]) {
        run.without[name] = measure(process.execPath, [MSGSCOPE, ...args, '--disable-protocol', name]);
        say(`  ${' '.repeat(12)} --disable-protocol ${name.padEnd(7)} ${brief(run.without[name])}`);
      }
    }
  }
}
machine.loadAfter = loadavg()[0];

function brief(r) {
  if (r.error !== undefined) return `failed (${r.error})`;
  return `${r.wall.toFixed(1)} s wall${r.cpu !== undefined ? `, ${r.cpu.toFixed(1)} s CPU, ${Math.round(r.rssMb)} MB` : ''}`;
}

// ---- report ----

const num = (x, digits = 1) => (x === undefined ? '' : x.toFixed(digits));
const int = (x) => (x === undefined ? '' : Math.round(x).toLocaleString('en-US'));
const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? '' : `${(a / b).toFixed(2)}×`);

const FLOOR_NAMES = {
  walk: 'pcap records walked',
  lines: "read's (headers, flows, summary lines)",
  messages: "timeline's (headers, flows, messages as JSON)",
};

/** What switching each protocol off saves, per job: CPU seconds without it, and the saving. */
function protocolTable(entry) {
  const runs = entry.runs.filter((run) => run.without !== undefined);
  if (runs.length === 0) return undefined;
  const names = ['ALL', ...PROTOCOL_NAMES];
  const lines = [
    `| job | all on, CPU s | ${names.map((n) => `${n} off`).join(' | ')} |`,
    `|---|--:|${names.map(() => '--:').join('|')}|`,
  ];
  for (const run of runs) {
    const full = run.msgscope.cpu;
    const cells = names.map((n) => {
      const r = run.without[n];
      if (r.error !== undefined) return 'failed';
      if (r.cpu === undefined || full === undefined) return num(r.wall);
      const saved = full - r.cpu;
      return `${num(r.cpu)} (${saved >= 0 ? "−" : "+"}${num(Math.abs(saved))})`;
    });
    lines.push(`| ${run.job} | ${num(full)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function table(entry) {
  const mb = entry.bytes / 1e6;
  const lines = [
    '| job | msgscope wall s | CPU s | frames/s | MB/s | peak RSS MB | tshark wall s | CPU s | frames/s | peak RSS MB | msgscope/tshark wall | CPU | RSS |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...entry.floors.map((f) => `| floor: ${FLOOR_NAMES[f.stage]} | ${num(f.wall)} | ${num(f.cpu)} | ${int(entry.frames / f.wall)} | ${int(mb / f.wall)} | | | | | | | | |`),
  ];
  for (const run of entry.runs) {
    const m = run.msgscope;
    const t = run.tshark ?? {};
    const cell = (r, fn) => (r.error !== undefined ? 'failed' : fn());
    lines.push(`| ${run.job} | ${cell(m, () => num(m.wall))} | ${num(m.cpu)} | ${m.wall ? int(entry.frames / m.wall) : ''} | ${m.wall ? num(mb / m.wall) : ''} | ${int(m.rssMb)} | ${cell(t, () => num(t.wall))} | ${num(t.cpu)} | ${t.wall ? int(entry.frames / t.wall) : ''} | ${int(t.rssMb)} | ${ratio(m.wall, t.wall)} | ${ratio(m.cpu, t.cpu)} | ${ratio(m.rssMb, t.rssMb)} |`);
  }
  return lines.join('\n');
}

// With --json the tables go to stderr, beside the progress lines, and stdout carries the JSON.
if (json) process.stdout.write(`${JSON.stringify({ machine, notes, results }, null, 2)}\n`);
{
  say(`\nload average ${machine.loadBefore.toFixed(2)} before, ${machine.loadAfter.toFixed(2)} after`);
  for (const entry of results) {
    say(`\n### ${entry.capture}: ${entry.frames.toLocaleString('en-US')} frames, ${(entry.bytes / 1e6).toFixed(1)} MB, ${entry.minutes.toFixed(1)} min (${entry.path})\n`);
    say(table(entry));
    const costs = protocolTable(entry);
    if (costs !== undefined) say(`\nCPU seconds with each protocol switched off (--disable-protocol; in brackets, what that saves):\n\n${costs}`);
  }
  if (results.length > 1) {
    say('\n### msgscope/tshark, CPU seconds (wall), side by side\n');
    say(`| job | ${results.map((e) => e.capture).join(' | ')} |`);
    say(`|---|${results.map(() => '--:').join('|')}|`);
    for (const job of jobs) {
      const cells = results.map((e) => {
        const run = e.runs.find((r) => r.job === job.name);
        if (run === undefined || run.tshark === undefined) return '';
        if (run.msgscope.error !== undefined) return 'msgscope failed';
        if (run.tshark.error !== undefined) return 'tshark failed';
        return `${ratio(run.msgscope.cpu, run.tshark.cpu)} (${ratio(run.msgscope.wall, run.tshark.wall)})`;
      });
      if (cells.some((c) => c !== '')) say(`| ${job.name} | ${cells.join(' | ')} |`);
    }
  }
  say('\ncommands (F = the capture; output to /dev/null):');
  for (const run of results[0]?.runs ?? []) {
    say(`  ${run.job}: ${run.msgscope.command}`);
    if (run.tshark !== undefined) say(`  ${' '.repeat(run.job.length)}  ${run.tshark.command}`);
  }
  for (const note of notes) say(`note: ${note}`);
}
