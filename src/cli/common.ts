// Shared CLI pieces: options every record-printing command takes, errors, and how a command
// sets up the runner and its sinks.
import iconv from 'iconv-lite';
import type { Argv } from 'yargs';
import { CaptureFormatError } from '../capture/frame.js';
import type { EngineOptions } from '../engine/context.js';
import { EventFilter, FilterError, PacketFilter } from '../filter/index.js';
import { EVENT_SINKS, eventLogDirSink, type EventFormat, type EventSink, type PacketSink, type SinkSettings } from '../output/sinks/index.js';
import { prepareDirectory } from '../output/files.js';
import { DatabaseError, OutputPathError } from '../output/output-errors.js';
import { makeStyle, wantColour } from '../output/style.js';
import type { Output } from '../output/writer.js';
import type { Analysis } from '../runner/analysis.js';
import { Runner, type RunnerOptions } from '../runner/runner.js';
import { fileSource, type FrameSource } from '../runner/sources.js';
import { defaultProtocols } from '../protocols/index.js';

/** A problem with how the command was called or with its input: one line on stderr, exit 2. */
export class UsageError extends Error {}

export type Format = 'text' | 'json' | 'ndjson' | 'csv' | 'eve' | 'junit' | 'sarif';

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

/** Sink settings from the common options: colour, terminal width, -V and -x. */
export function sinkSettings(out: Output, args: CommonArgs & { wide?: boolean; verbose?: boolean; hex?: boolean }): SinkSettings {
  return {
    out,
    style: makeStyle(wantColour(args.color)),
    width: args.wide === true || args.format !== 'text' || process.stdout.isTTY !== true ? undefined : process.stdout.columns,
    verbose: args.verbose === true,
    hex: args.hex === true,
  };
}

/** A runner over the analyses with the common options (-Y goes where the command says). */
export function makeRunner(analyses: readonly Analysis[], args: CommonArgs, options: Partial<RunnerOptions> = {}): Runner {
  return new Runner(analyses, { engine: engineOptions(args), protocols: defaultProtocols, progress: true, quiet: args.quiet, ...options });
}

export function fileSources(paths: readonly string[]): FrameSource[] {
  return paths.map(fileSource);
}

/** The capture arguments: positional names and `-r FILE` (repeatable, as tshark's). */
export interface CaptureArgs {
  captures?: string[];
  'read-file'?: string | string[];
  n?: boolean;
}

/**
 * Positional capture names and tshark's `-r FILE` (repeatable; a string option, not an array:
 * a yargs array would swallow the capture names that follow it) and `-n` (accepted: msgscope
 * never resolves names, so it is always in effect).
 */
export function withCaptureOptions<T>(y: Argv<T>) {
  return y
    .positional('captures', { type: 'string', array: true, describe: 'capture files (pcap, pcapng, snoop, NetMon; gzip ok), or - for stdin' })
    .option('read-file', { alias: 'r', type: 'string', requiresArg: true, describe: 'Read this capture (repeat for several), as tshark -r' })
    .option('n', { type: 'boolean', describe: 'Disable name resolution, as tshark -n (msgscope never resolves names)' });
}

/** Every capture the command was given, positional ones first, then the -r ones; none is a usage error. */
export function captureList(args: CaptureArgs, command: string): string[] {
  const named = args['read-file'] === undefined ? [] : Array.isArray(args['read-file']) ? args['read-file'] : [args['read-file']];
  for (const name of named) if (name === '') throw new UsageError('-r needs a capture file name');
  const all = [...(args.captures ?? []), ...named];
  if (all.length === 0) throw new UsageError(`${command} needs a capture file: msgscope ${command} FILE… or msgscope ${command} -r FILE (- for stdin)`);
  return all;
}

export function isInputError(err: unknown): err is Error {
  return err instanceof CaptureFormatError || err instanceof UsageError || err instanceof OutputPathError || err instanceof DatabaseError;
}

/** `--log-dir DIR`, for the commands that print timeline events. */
export function withLogDirOption<T>(y: Argv<T>) {
  return y.option('log-dir', {
    type: 'string',
    requiresArg: true,
    describe: 'Write the events into DIR as one NDJSON file per kind (message.log, session.log, name.log, …), like Zeek\'s logs, instead of to standard output; eve records with --format eve',
  });
}

/** `--parquet DIR`, for `read` and `timeline`. */
export function withParquetOption<T>(y: Argv<T>, what: 'frames' | 'events') {
  return y.option('parquet', {
    type: 'string',
    requiresArg: true,
    describe: `Write the ${what} as Parquet under DIR (DIR/${what}/date=…/protocol=…/), instead of to standard output`,
  });
}

/** The Parquet export of frames (DuckDB is loaded only when asked for). */
export async function packetParquetSink(dir: string): Promise<PacketSink> {
  const { PacketParquetSink } = await import('../output/sinks/packet-parquet.js');
  return PacketParquetSink.open(prepareDirectory(dir));
}

/**
 * Where a command's timeline events go: standard output in the chosen format, or the files and
 * sinks asked for (--log-dir, --parquet, `also`: --sink) instead.
 */
export async function eventSinks(out: Output, args: CommonArgs & { format: EventFormat; 'log-dir'?: string; parquet?: string; wide?: boolean }, also: readonly EventSink[] = []): Promise<EventSink[]> {
  const dir = args['log-dir'];
  const sinks: EventSink[] = [...also];
  if (dir !== undefined) {
    // The default text format means the log files' own form, ndjson.
    if (args.format === 'json' || args.format === 'csv') throw new UsageError(`--log-dir writes ndjson or eve records (--format ndjson|eve), not ${args.format}`);
    sinks.push(eventLogDirSink(dir, args.format === 'eve' ? 'eve' : 'ndjson'));
  }
  if (args.parquet !== undefined) {
    const { EventParquetSink } = await import('../output/sinks/event-parquet.js');
    sinks.push(await EventParquetSink.open(prepareDirectory(args.parquet)));
  }
  return sinks.length > 0 ? sinks : [EVENT_SINKS[args.format](sinkSettings(out, args))];
}
