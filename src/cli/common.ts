// Shared CLI pieces: options every record-printing command takes, errors, and the loop that
// streams captures through an engine.
import iconv from 'iconv-lite';
import type { Argv } from 'yargs';
import { readCapture } from '../capture/open.js';
import { CaptureFormatError } from '../capture/frame.js';
import { Engine, type EngineHandlers } from '../engine/engine.js';
import type { EngineOptions } from '../engine/context.js';
import '../protocols/index.js';

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
}

export function withCommonOptions<T>(y: Argv<T>, formats: readonly Format[]) {
  return y
    .option('format', { alias: 'T', choices: formats, default: 'text' as Format, describe: 'Output format' })
    .option('color', { type: 'boolean', describe: 'Colour the text output (default: when stdout is a terminal)' })
    .option('oem-codepage', { type: 'string', default: 'cp437', describe: 'OEM code page of SMB, mailslot and MS-MSRP strings (cp437, cp850, 850, cp1252, …)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No warnings or progress on stderr' });
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
): Promise<void> {
  for (const path of paths) {
    const h = handlers(path);
    const engine = new Engine(h, engineOpts);
    let stopped = false;
    try {
      await readCapture(path, {
        frame: (frame) => engine.frame(frame),
        warning: (message) => warn(args, `${path === '-' ? 'standard input' : path}: ${message}`),
      });
    } catch (err) {
      if (!(err instanceof StopReading)) throw err;
      stopped = true;
    }
    engine.finish();
    h.done?.();
    if (stopped) return;
  }
}

export function isInputError(err: unknown): err is Error {
  return err instanceof CaptureFormatError || err instanceof UsageError;
}
