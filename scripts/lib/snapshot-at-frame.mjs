// Preloaded (node --import) into a msgscope command by scripts/profile.mjs: after frame
// MSGSCOPE_SNAPSHOT_AT has gone through the engine, writes what the process holds at that
// moment — memory figures and the sizes of the engine's tables (every Map, Set and long array
// reachable from the engine through its fields) to MSGSCOPE_SNAPSHOT_FILE.json, and a heap
// snapshot to MSGSCOPE_SNAPSHOT_FILE when it is set — then exits. The CLI runs unchanged:
// only the engine's frame method is wrapped, to count.
import { writeFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';

const { Engine } = await import(new URL('../../dist/src/engine/engine.js', import.meta.url).href);
const at = Number(process.env.MSGSCOPE_SNAPSHOT_AT);
const file = process.env.MSGSCOPE_SNAPSHOT_FILE;
if (!Number.isInteger(at) || at <= 0 || file === undefined) throw new Error('snapshot-at-frame: set MSGSCOPE_SNAPSHOT_AT and MSGSCOPE_SNAPSHOT_FILE');

/** Sizes of the collections reachable from `root` through object fields (not through collection contents). */
function tables(root, maxDepth = 4) {
  const out = {};
  const seen = new Set();
  const walk = (value, path, depth) => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (value instanceof Map || value instanceof Set) {
      out[path] = value.size;
      return;
    }
    if (Array.isArray(value)) {
      if (value.length >= 64) out[path] = value.length;
      if (depth < maxDepth) value.slice(0, 64).forEach((item, i) => walk(item, `${path}[${i}]`, depth + 1));
      return;
    }
    if (ArrayBuffer.isView(value) || depth >= maxDepth) return;
    for (const key of Object.keys(value)) walk(value[key], `${path}.${key}`, depth + 1);
  };
  walk(root, 'engine', 0);
  return out;
}

const frame = Engine.prototype.frame;
let seen = 0;
Engine.prototype.frame = function countedFrame(f) {
  frame.call(this, f);
  if (++seen !== at) return;
  const before = process.memoryUsage();
  const report = { frames: seen, memory: before, tables: tables(this) };
  writeFileSync(`${file}.json`, `${JSON.stringify(report, null, 2)}\n`);
  if (process.env.MSGSCOPE_SNAPSHOT_HEAP !== '0') writeHeapSnapshot(file);
  process.exit(0);
};
