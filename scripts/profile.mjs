#!/usr/bin/env node
// Where msgscope's time and memory go, on a benchmark capture (docs/performance.md).
//
//   node scripts/profile.mjs cpu  [--capture F] [--top N] -- <msgscope command and options>
//   node scripts/profile.mjs heap [--capture F] [--at FRAMES] [--top N] -- <command and options>
//   node scripts/profile.mjs rss  [--capture F] -- <command and options>
//
// cpu:  runs the command under `node --cpu-prof` (output to /dev/null) and lists the
//       functions by self time, the files by self time, the time by layer (source folder), and
//       the functions by inclusive time.
// heap: runs the command until frame FRAMES (default 250,000) has been through the engine,
//       then takes a heap snapshot (scripts/lib/snapshot-at-frame.mjs) and lists what holds
//       the bytes: per kind of object (count, self, retained, bytes per frame) and the largest
//       retainers with the field that holds them; also the engine's table sizes at that frame.
// rss:  peak RSS, CPU and wall of the whole run (/usr/bin/time).
// The capture defaults to bench-data/spam-1m.pcap (`npm run bench` or make-spam-capture.mjs
// builds it). Profiles are kept in bench-data/profiles/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readHeapSnapshot, summariseHeap } from './lib/heap-snapshot.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MSGSCOPE = join(ROOT, 'bin', 'msgscope');
const OUT = join(ROOT, 'bench-data', 'profiles');

const argv = process.argv.slice(2);
const dashes = argv.indexOf('--');
const own = dashes >= 0 ? argv.slice(0, dashes) : argv;
const command = dashes >= 0 ? argv.slice(dashes + 1) : [];
const mode = own[0];
const opt = (name, fallback) => {
  const i = own.indexOf(name);
  return i >= 0 && own[i + 1] !== undefined ? own[i + 1] : fallback;
};
if (!['cpu', 'heap', 'rss'].includes(mode) || command.length === 0) {
  console.error('usage: node scripts/profile.mjs cpu|heap|rss [--capture F] [--at FRAMES] [--top N] -- <msgscope command and options>');
  process.exit(2);
}
const capture = resolve(opt('--capture', join(ROOT, 'bench-data', 'spam-1m.pcap')));
if (!existsSync(capture)) {
  console.error(`${capture}: not found (node scripts/make-spam-capture.mjs builds it)`);
  process.exit(2);
}
const top = Number(opt('--top', 25));
const label = `${command.join('_').replace(/[^A-Za-z0-9_-]+/g, '')}-${basename(capture, '.pcap')}`;
mkdirSync(OUT, { recursive: true });

function run(nodeArgs, env = {}) {
  const out = openSync('/dev/null', 'w');
  try {
    const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', '%e %U %S %M'] : [];
    const full = [...time, process.execPath, ...nodeArgs, MSGSCOPE, ...command, capture];
    const r = spawnSync(full[0], full.slice(1), { stdio: ['ignore', out, 'pipe'], env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const last = r.stderr.trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(last);
    if (r.status !== 0) console.error(`exit ${r.status}: ${r.stderr.slice(-500)}`);
    return m ? { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMb: Number(m[4]) / 1024 } : {};
  } finally {
    closeSync(out);
  }
}

const seconds = (us) => `${(us / 1e6).toFixed(1)} s`;
const pct = (x, total) => `${((100 * x) / total).toFixed(1)}%`;
const mb = (x) => `${(x / 1e6).toFixed(1)} MB`;

function where(frame) {
  if (frame.url === '') return '';
  const path = frame.url.startsWith('file://') ? relative(ROOT, fileURLToPath(frame.url)) : frame.url;
  return `${path}:${frame.lineNumber + 1}`;
}

/**
 * A sample's layer: the folder under src/ of the innermost frame of msgscope's own code that is
 * not a shared helper (src/util/, src/model/), e.g. `protocols/msnp`, `engine`, `output`; the
 * collector keeps its name, and Node's own code outside ours is 'Node and start-up'.
 */
function layerOf(leaf, byId, parent) {
  // (garbage collector), (program), (idle): their own; a native function counts for its caller.
  if (leaf.callFrame.functionName.startsWith('(')) return leaf.callFrame.functionName;
  for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
    const m = /\/dist\/src\/(.+)\/[^/]+\.js$/.exec(byId.get(id).callFrame.url);
    if (m !== null && m[1] !== 'util' && m[1] !== 'model') return m[1];
  }
  return 'Node and start-up';
}

function cpuReport() {
  const dir = join(OUT, `cpu-${label}`);
  rmSync(dir, { recursive: true, force: true });
  const r = run(['--cpu-prof', `--cpu-prof-dir=${dir}`], { MSGSCOPE_NO_BUNDLE: '1' });
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame)}`;
  const self = new Map();
  const inclusive = new Map();
  const files = new Map();
  const layers = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(profile.samples[i]);
    total += dt;
    self.set(key(leaf), (self.get(key(leaf)) ?? 0) + dt);
    const file = leaf.callFrame.url === '' ? leaf.callFrame.functionName : where(leaf.callFrame).replace(/:\d+$/, '');
    files.set(file, (files.get(file) ?? 0) + dt);
    const layer = layerOf(leaf, byId, parent);
    layers.set(layer, (layers.get(layer) ?? 0) + dt);
    const onStack = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) onStack.add(key(byId.get(id)));
    for (const k of onStack) inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
  }
  const list = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n);
  // Samples are taken on a wall-clock interval: on a busy machine their sum exceeds the CPU
  // time, so shares are what count; the seconds column is the share of the measured CPU time.
  const cpuOf = (t) => (r.cpu === undefined ? '' : `${((t / total) * r.cpu).toFixed(2)} s`);
  console.log(`msgscope ${command.join(' ')} ${relative(ROOT, capture)}: ${r.cpu?.toFixed(1) ?? '?'} s CPU, ${r.wall?.toFixed(1) ?? '?'} s wall, peak RSS ${r.rssMb?.toFixed(0) ?? '?'} MB; profile ${relative(ROOT, join(dir, file))} (${seconds(total)} sampled)`);
  const print = (title, entries) => {
    console.log(`\n${title} (share of samples, ≈ CPU seconds):`);
    for (const [k, t] of entries) console.log(`  ${pct(t, total).padStart(6)}  ${cpuOf(t).padStart(9)}  ${k}`);
  };
  print('self time by function', list(self, top));
  print('self time by file', list(files, Math.min(top, 20)));
  print('time by layer (the innermost of our source folders on the stack: a helper counts for its caller)', list(layers, Math.min(top, 25)));
  print('inclusive time by function', list(inclusive, top));
}

function heapReport() {
  const at = Number(opt('--at', 250_000));
  const file = join(OUT, `heap-${label}-${at}.heapsnapshot`);
  rmSync(file, { force: true });
  const preload = join(ROOT, 'scripts', 'lib', 'snapshot-at-frame.mjs');
  run([`--import=${preload}`, '--max-old-space-size=8192'], { MSGSCOPE_SNAPSHOT_AT: String(at), MSGSCOPE_SNAPSHOT_FILE: file, MSGSCOPE_NO_BUNDLE: '1' });
  if (!existsSync(file)) {
    console.error(`no snapshot written: the capture has fewer than ${at} frames, or the command stopped early`);
    process.exit(1);
  }
  const facts = JSON.parse(readFileSync(`${file}.json`, 'utf8'));
  const summary = summariseHeap(readHeapSnapshot(file));
  const m = facts.memory;
  console.log(`msgscope ${command.join(' ')} ${relative(ROOT, capture)}, at frame ${at}: rss ${mb(m.rss)}, heap used ${mb(m.heapUsed)}, external ${mb(m.external)} (array buffers ${mb(m.arrayBuffers)}); snapshot ${relative(ROOT, file)} (${mb(statSync(file).size)})`);
  console.log(`reachable: ${mb(summary.reachableBytes)} in ${summary.nodes.toLocaleString('en-US')} nodes = ${Math.round(summary.reachableBytes / at)} B per frame`);
  console.log('\nengine tables at that frame:');
  for (const [path, size] of Object.entries(facts.tables).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${String(size).padStart(9)}  ${path}`);
  console.log('\nby kind (self size; retained = not counting instances inside another of the same kind):');
  console.log(`  ${'count'.padStart(9)} ${'self'.padStart(10)} ${'B/frame'.padStart(8)} ${'retained'.padStart(10)}  kind`);
  for (const k of summary.kinds.slice(0, top)) {
    console.log(`  ${k.count.toLocaleString('en-US').padStart(9)} ${mb(k.self).padStart(10)} ${(k.self / at).toFixed(0).padStart(8)} ${mb(k.retained).padStart(10)}  ${k.name.slice(0, 110)}`);
  }
  console.log('\nwho holds the bytes (dominator tree, holders of 1% or more; retained, per frame, what via which field):');
  for (const t of summary.tree) console.log(`  ${mb(t.retained).padStart(10)} ${(t.retained / at).toFixed(0).padStart(6)} B/f  ${'  '.repeat(t.depth)}${t.what.slice(0, 160)}`);
}

if (mode === 'cpu') cpuReport();
else if (mode === 'heap') heapReport();
else {
  const r = run([]);
  console.log(`msgscope ${command.join(' ')} ${relative(ROOT, capture)}: ${r.wall} s wall, ${r.cpu?.toFixed(1)} s CPU, peak RSS ${r.rssMb?.toFixed(0)} MB`);
}
