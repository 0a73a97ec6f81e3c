#!/usr/bin/env node
// Start-up (issue 12): Node's ESM loader resolves, reads and compiles each of the ~100 modules a
// command loads one by one, which is most of the CPU of a run over a small capture. esbuild
// joins the compiled dist/src/cli entry points into a few files in dist/bundle/ (one chunk per
// lazily loaded command, code shared between them split out); npm packages stay external.
// bin/msgscope runs the bundle when it is at least as new as dist/src/cli/main.js, so a plain
// `tsc` rebuild is never shadowed by a stale bundle. Without esbuild (an install without dev
// dependencies) this does nothing and bin/msgscope runs dist/src directly.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle: esbuild is not installed; bin/msgscope will run dist/src');
  process.exit(0);
}
const outdir = join(ROOT, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await esbuild.build({
  // job-worker.js is the --jobs worker thread's entry (src/cli/jobs.ts names it beside itself).
  entryPoints: [join(ROOT, 'dist', 'src', 'cli', 'main.js'), join(ROOT, 'dist', 'src', 'cli', 'job-worker.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
