// Runs a command the way the benchmarks measure it: stdout to /dev/null, wall seconds always,
// CPU seconds (user+sys) and peak RSS (MB) of the child from /usr/bin/time (Debian package
// `time`) when it exists.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** @param {string} command @param {string[]} args */
export function measure(command, args) {
  const out = openSync('/dev/null', 'w');
  const timeFile = join(tmpdir(), `msgscope-measure-${process.pid}.time`);
  try {
    const full = TIME !== undefined ? [TIME, '-f', '%e %U %S %M', '-o', timeFile, command, ...args] : [command, ...args];
    const t0 = process.hrtime.bigint();
    const r = spawnSync(full[0], full.slice(1), { stdio: ['ignore', out, 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) return { error: `exit ${r.status ?? r.signal}: ${String(r.stderr).trim().split('\n').slice(-3).join(' / ').slice(0, 300)}` };
    if (TIME === undefined) return { wall };
    const [, user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    return { wall, cpu: user + sys, rssMb: rssKb / 1024 };
  } finally {
    closeSync(out);
    rmSync(timeFile, { force: true });
  }
}
