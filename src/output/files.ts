// Output files written at the end of a run (HTML report, Parquet directory), checked at its start:
// a path that cannot be written fails before any capture is read, and a report appears whole or
// not at all (written beside its target, then renamed over it).
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { OutputPathError } from './output-errors.js';

export { OutputPathError };

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}

/** A file that will be written at the end: its temporary twin is created now (so a bad path fails now). */
export class PendingFile {
  private readonly temp: string;
  private done = false;

  constructor(readonly path: string) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // Not there yet: fine.
    }
    if (isDir) throw new OutputPathError(`${path}: is a directory`);
    this.temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    try {
      closeSync(openSync(this.temp, 'w', 0o644));
    } catch (err) {
      throw new OutputPathError(`${path}: cannot write (${reason(err)})`);
    }
  }

  /** Writes the content and puts it in place. */
  write(content: string): void {
    const fd = openSync(this.temp, 'w', 0o644);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    renameSync(this.temp, this.path);
    this.done = true;
  }

  /** Gives up: removes the temporary twin (the target is left as it was). */
  discard(): void {
    if (!this.done) rmSync(this.temp, { force: true });
    this.done = true;
  }
}

/** Creates a directory for output (and its parents) and checks that files can be made in it. */
export function prepareDirectory(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw new OutputPathError(`${dir}: not a directory`);
    const probe = join(dir, `.msgscope-probe-${process.pid}`);
    closeSync(openSync(probe, 'w'));
    rmSync(probe, { force: true });
  } catch (err) {
    if (err instanceof OutputPathError) throw err;
    throw new OutputPathError(`${dir}: cannot write there (${reason(err)})`);
  }
  return dir;
}
