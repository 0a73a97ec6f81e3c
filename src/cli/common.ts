// Shared CLI pieces: options every record-printing command takes, errors, and the loop that
// streams captures through an engine.
import { statSync } from 'node:fs';
import iconv from 'iconv-lite';
import type { Argv } from 'yargs';
import { readCapture } from '../capture/open.js';
import { CaptureFormatError } from '../capture/frame.js';
import { Engine, type EngineHandlers } from '../engine/engine.js';
import type { EngineOptions } from '../engine/context.js';
import type { Finding } from '../model/findings.js';
import { EventFilter, FilterError, PacketFilter } from '../filter/index.js';
import { Progress, wantProgress } from '../output/progress.js';
import { defaultProtocols } from '../protocols/index.js';

/** Thrown by a frame handler to stop reading (e.g. `-c N` reached); not an error. */
export class StopReading extends Error {}

/** A problem with how the command was called or with its input: one line on stderr, exit 2. */
export class UsageError extends Error {}

export type Format = 'text' | 'json' | 'ndjson' | 'csv';

export interface CommonArgs {
  format: Format;
  color?: boolean;
  'oem-codepage': string;
  quiet: boolean;
  'display-filter'?: string;
  'fail-on-error'?: boolean;
}

export function withCommonOptions<T>(y: Argv<T>, formats: readonly Format[]) {
  return y
    .option('format', { alias: 'T', choices: formats, default: 'text' as Format, describe: 'Output format' })
    .option('color', { type: 'boolean', describe: 'Colour the text output (default: when stdout is a terminal)' })
    .option('oem-codepage', { type: 'string', default: 'cp437', describe: 'OEM code page of SMB, mailslot and MS-MSRP strings (cp437, cp850, 850, cp1252, …)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No warnings or progress on stderr' });
}

/** `-Y <filter>` and `--fail-on-error`, for the commands that print frames or events. */
export function withFilterOptions<T>(y: Argv<T>, what: 'frames' | 'events') {
  return y
    .option('display-filter', {
      alias: 'Y',
      type: 'string',
      describe: what === 'frames' ? 'Display filter (Wireshark syntax, e.g. "udp.port == 1026 && ip.src == 10.0.0.0/8"); see docs/filters.md' : 'Event filter (e.g. \'message.text contains "http"\', \'kind == "name"\'); see docs/filters.md',
    })
    .option('fail-on-error', { type: 'boolean', default: false, describe: 'Exit with status 1 when a shown record has a finding of error severity' });
}

function filterUsage(text: string, err: unknown): never {
  if (err instanceof FilterError) throw new UsageError(`invalid display filter at column ${err.column}: ${err.detail} (in: ${JSON.stringify(text)})`);
  throw err;
}

/** The `-Y` filter for frames, or undefined when none was given; a bad one is a usage error. */
export function packetFilter(args: CommonArgs): PacketFilter | undefined {
  const text = args['display-filter'];
  if (text === undefined) return undefined;
  try {
    return new PacketFilter(text);
  } catch (err) {
    return filterUsage(text, err);
  }
}

/** The `-Y` filter for timeline events, or undefined when none was given. */
export function eventFilter(args: CommonArgs): EventFilter | undefined {
  const text = args['display-filter'];
  if (text === undefined) return undefined;
  try {
    return new EventFilter(text);
  } catch (err) {
    return filterUsage(text, err);
  }
}

/** Remembers whether a shown record had an error finding, for `--fail-on-error` (exit status 1). */
export class ErrorTally {
  errors = 0;

  add(findings: readonly Finding[]): void {
    for (const item of findings) if (item.severity === 'error') this.errors++;
  }

  /** Sets the exit status when asked to fail on errors and there were some. */
  settle(args: CommonArgs): void {
    if (args['fail-on-error'] === true && this.errors > 0) {
      process.exitCode = 1;
      warn(args, `${this.errors} finding(s) of error severity`);
    }
  }
}

/** Accepts `cp850`, `850`, `CP-850`, `ibm850`, `windows-1252`…; rejects what iconv-lite cannot decode. */
export function normaliseCodepage(name: string): string {
  const trimmed = name.trim().toLowerCase();
  const candidates = /^\d+$/.test(trimmed) ? [`cp${trimmed}`, `windows-${trimmed}`] : [trimmed, trimmed.replace(/[-_ ]/g, '')];
  for (const candidate of candidates) if (iconv.encodingExists(candidate)) return candidate;
  throw new UsageError(`unknown OEM code page '${name}' (try cp437, cp850, cp1252)`);
}

export function engineOptions(args: CommonArgs): EngineOptions {
  return { oemCodepage: normaliseCodepage(args['oem-codepage']) };
}

export function warn(args: { quiet: boolean }, message: string): void {
  if (!args.quiet) process.stderr.write(`msgscope: warning: ${message}\n`);
}

/**
 * Streams each capture through a fresh engine (frame numbers start at 1 in every file, as
 * tshark numbers them) and returns when all are done.
 */
export async function runCaptures(
  paths: readonly string[],
  args: CommonArgs,
  handlers: (file: string) => EngineHandlers & { done?(): void },
  engineOpts: EngineOptions = engineOptions(args),
  options: { progress?: boolean } = {},
): Promise<void> {
  for (const path of paths) {
    const h = handlers(path);
    const engine = new Engine(h, engineOpts, defaultProtocols());
    let stopped = false;
    const progress = options.progress !== false && wantProgress(args.quiet) ? new Progress(path === '-' ? 'standard input' : path, fileSize(path)) : undefined;
    try {
      await readCapture(
        path,
        {
          frame: (frame) => engine.frame(frame),
          warning: (message) => {
            progress?.done();
            warn(args, `${path === '-' ? 'standard input' : path}: ${message}`);
          },
        },
        progress !== undefined ? (bytes) => progress.update(bytes) : undefined,
      );
    } catch (err) {
      progress?.done();
      if (!(err instanceof StopReading)) throw err;
      stopped = true;
    }
    progress?.done();
    engine.finish();
    h.done?.();
    if (stopped) return;
  }
}

function fileSize(path: string): number | undefined {
  if (path === '-') return undefined;
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

export function isInputError(err: unknown): err is Error {
  return err instanceof CaptureFormatError || err instanceof UsageError;
}
