// Shared CLI pieces: options every record-printing command takes, errors, and how a command
// sets up the runner and its sinks.
import iconv from 'iconv-lite';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { isStdout } from '../capture/pcapng-writer.js';
import type { Argv } from 'yargs';
import { DEFAULT_OPTIONS, type EngineOptions } from '../engine/context.js';
import type { EventFilter, PacketFilter } from '../filter/index.js';
import { EVENT_SINKS, eventLogDirSink, type EventFormat, type EventSink, type PacketSink, type SinkSettings } from '../output/sinks/index.js';
import { prepareDirectory } from '../output/files.js';
import { DEFAULT_FIELDS_OPTIONS, type FieldsOptions, type FieldsSelection } from '../output/fields-text.js';
import { makeStyle, wantColour } from '../output/style.js';
import { decodableNames, decodeAs, type DecodeAs } from '../engine/decode-as.js';
import { printable } from '../filter/errors.js';
import { TIME_FORMATS, type TimeFormat } from '../output/time-format.js';
import type { Output } from '../output/writer.js';
import type { Analysis } from '../runner/analysis.js';
import { Runner, type RunnerOptions } from '../runner/runner.js';
import { fileSource, type FrameSource } from '../runner/sources.js';
import { UsageError } from './errors.js';
import { defaultProtocols, PROTOCOL_SWITCHES, type ProtocolSwitch } from '../protocols/index.js';

export { isInputError, UsageError } from './errors.js';

export type Format = 'text' | 'json' | 'ndjson' | 'csv' | 'eve' | 'junit' | 'sarif' | 'fields';

export interface CommonArgs {
  format: Format;
  field?: string | string[];
  'fields-option'?: string | string[];
  color?: boolean;
  'oem-codepage': string;
  quiet: boolean;
  'display-filter'?: string;
  'fail-on-error'?: boolean;
  'decode-as'?: string | string[];
  'disable-protocol'?: string | string[];
  'enable-protocol'?: string | string[];
  pref?: string | string[];
}

export function withCommonOptions<T>(y: Argv<T>, formats: readonly Format[]) {
  return y
    .option('format', { alias: 'T', choices: formats, default: 'text' as Format, describe: 'Output format' })
    .option('color', { type: 'boolean', describe: 'Colour the text output (default: when stdout is a terminal)' })
    .option('oem-codepage', { type: 'string', default: 'cp437', describe: 'OEM code page of SMB, mailslot and MS-MSRP strings (cp437, cp850, 850, cp1252, …)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No warnings or progress on stderr' })
    .option('decode-as', { alias: 'd', type: 'string', requiresArg: true, describe: 'As tshark -d, repeatable: tcp.port==8000,msnp (tcp: nbss, dcerpc, msnp; udp: nbdgm, nbns, dcerpc)' })
    .option('disable-protocol', { type: 'string', requiresArg: true, describe: `As tshark, repeatable: do not dissect these protocols (comma-separated; ALL for every one): ${PROTOCOL_SWITCHES.join(', ')}` })
    .option('enable-protocol', { type: 'string', requiresArg: true, describe: 'As tshark, repeatable: dissect these protocols after all (wins over --disable-protocol)' })
    .option('pref', { alias: 'o', type: 'string', requiresArg: true, describe: `As tshark -o name:value, repeatable: ${PREFS.join(', ')}` });
}

/** The protocols --disable-protocol switches off and --enable-protocol does not switch back on. */
export type ProtocolSwitchArgs = Pick<CommonArgs, 'disable-protocol' | 'enable-protocol'>;

export function protocolsOff(args: ProtocolSwitchArgs): Set<ProtocolSwitch> {
  const names = (option: 'disable-protocol' | 'enable-protocol'): ProtocolSwitch[] =>
    list(args[option]).flatMap((item) => item.split(',')).flatMap((raw) => {
      const name = raw.trim().toLowerCase();
      if (name === 'all') return PROTOCOL_SWITCHES;
      if (!(PROTOCOL_SWITCHES as readonly string[]).includes(name)) throw new UsageError(`--${option} ${printable(raw)}: no such protocol; accepted: ${PROTOCOL_SWITCHES.join(', ')} or ALL`);
      return [name as ProtocolSwitch];
    });
  const on = new Set(names('enable-protocol'));
  const off = new Set(names('disable-protocol'));
  // In the list's order, whatever the command line's: reports name them alike.
  return new Set(PROTOCOL_SWITCHES.filter((name) => off.has(name) && !on.has(name)));
}

const PREFS = [
  'oem_codepage:CODEPAGE',
  'msnp.tcp.port:PORT[,PORT…]',
  'tcp.reassembly_limit:BYTES',
  'app.buffer_limit:BYTES',
  'tcp.half_open_limit:COUNT',
  'tcp.stalled_limit:COUNT',
  'tcp.app_limit:COUNT',
  'tcp.history_limit:BYTES',
  'flows.limit:COUNT',
];

/** The -o preferences that set an engine bound, and the EngineOptions field each sets. */
const LIMIT_PREFS = {
  'tcp.reassembly_limit': 'reassemblyBytes',
  'app.buffer_limit': 'bufferedBytes',
  'tcp.half_open_limit': 'halfOpenLimit',
  'tcp.stalled_limit': 'stalledLimit',
  'tcp.app_limit': 'appLimit',
  'tcp.history_limit': 'historyBytes',
  'flows.limit': 'conversationLimit',
} as const satisfies Record<string, keyof EngineOptions>;

/** A bound from -o: a whole number, at least 1, with an optional k, M or G (powers of 1024). */
function limitValue(name: string, text: string): number {
  const m = /^(\d{1,12})([kKmMgG]?)$/.exec(text.trim());
  const value = m === null ? NaN : Number(m[1]) * 1024 ** ' kmg'.indexOf((m[2] || ' ').toLowerCase());
  if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`-o ${name}:${printable(text)}: a whole number at least 1, optionally with k, M or G (e.g. 64M)`);
  return value;
}

/** -d rules, checked against the protocols that exist and are on; each wrong one says what is accepted. */
function decodeRules(args: CommonArgs, off: ReadonlySet<ProtocolSwitch>): DecodeAs[] {
  const rules: DecodeAs[] = [];
  const names = decodableNames(defaultProtocols());
  const accepted = `tcp.port==PORT,PROTOCOL (${names.tcp.join(', ')}) or udp.port==PORT,PROTOCOL (${names.udp.join(', ')})`;
  const add = (transport: 'tcp' | 'udp', portText: string, protocol: string, what: string): void => {
    const port = Number(portText);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`${what}: ${portText} is not a port (1-65535)`);
    if (!names[transport].includes(protocol)) throw new UsageError(`${what}: no ${transport} protocol '${printable(protocol)}'; accepted: ${accepted}`);
    if ((off as ReadonlySet<string>).has(protocol)) throw new UsageError(`${what}: ${protocol} is switched off by --disable-protocol`);
    rules.push({ transport, port, protocol });
  };
  for (const rule of list(args['decode-as'])) {
    const m = /^(tcp|udp)\.port\s*==\s*(\d+)\s*,\s*([A-Za-z0-9_-]+)$/.exec(rule.trim());
    if (m === null) throw new UsageError(`-d ${printable(rule)}: accepted ${accepted}`);
    add(m[1] as 'tcp' | 'udp', m[2]!, m[3]!.toLowerCase(), `-d ${rule}`);
  }
  for (const [name, value] of prefs(args)) {
    if (name === 'msnp.tcp.port') for (const port of value.split(',')) add('tcp', port.trim(), 'msnp', `-o ${name}:${value}`);
  }
  return rules;
}

/** -o name:value pairs; an unknown name lists the accepted ones. */
function prefs(args: CommonArgs): [string, string][] {
  return list(args.pref).map((item) => {
    const colon = item.indexOf(':');
    const name = colon < 0 ? item : item.slice(0, colon);
    if (colon < 0 || !PREFS.some((p) => p.startsWith(`${name}:`))) throw new UsageError(`-o ${printable(item)}: accepted ${PREFS.join(', ')}`);
    return [name, item.slice(colon + 1)];
  });
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

/**
 * Compiles `-Y`; a bad filter is a usage error. The filter grammar loads only when a filter is
 * given (start-up time of the commands without one).
 */
async function compileFilter<T>(text: string, make: (filters: typeof import('../filter/index.js')) => T): Promise<T> {
  const filters = await import('../filter/index.js');
  try {
    return make(filters);
  } catch (err) {
    if (err instanceof filters.FilterError) throw new UsageError(`invalid display filter at column ${err.column}: ${err.detail} (in: ${JSON.stringify(text)})`);
    throw err;
  }
}

/** The `-Y` filter for frames, or undefined when none was given; a bad one is a usage error. */
export async function packetFilter(args: CommonArgs): Promise<PacketFilter | undefined> {
  const text = args['display-filter'];
  return text === undefined ? undefined : compileFilter(text, (f) => new f.PacketFilter(text));
}

/** The `-Y` filter for timeline events, or undefined when none was given. */
export async function eventFilter(args: CommonArgs): Promise<EventFilter | undefined> {
  const text = args['display-filter'];
  return text === undefined ? undefined : compileFilter(text, (f) => new f.EventFilter(text));
}

/** Accepts `cp850`, `850`, `CP-850`, `ibm850`, `windows-1252`…; rejects what iconv-lite cannot decode. */
export function normaliseCodepage(name: string): string {
  const trimmed = name.trim().toLowerCase();
  const candidates = /^\d+$/.test(trimmed) ? [`cp${trimmed}`, `windows-${trimmed}`] : [trimmed, trimmed.replace(/[-_ ]/g, '')];
  for (const candidate of candidates) if (iconv.encodingExists(candidate)) return candidate;
  throw new UsageError(`unknown OEM code page '${name}' (try cp437, cp850, cp1252)`);
}

export function engineOptions(args: CommonArgs): EngineOptions {
  const given = prefs(args);
  const fromPref = given.filter(([name]) => name === 'oem_codepage').pop()?.[1];
  const options: { -readonly [K in keyof EngineOptions]: EngineOptions[K] } = { ...DEFAULT_OPTIONS, oemCodepage: normaliseCodepage(fromPref ?? args['oem-codepage']) };
  for (const [name, value] of given) {
    if (name in LIMIT_PREFS) options[LIMIT_PREFS[name as keyof typeof LIMIT_PREFS]] = limitValue(name, value);
  }
  return options;
}

export function warn(args: { quiet: boolean }, message: string): void {
  if (!args.quiet) process.stderr.write(`msgscope: warning: ${message}\n`);
}

/** tshark's `-t`: the time column of the text output. */
export function withTimeFormatOption<T>(y: Argv<T>, fallback: string) {
  return y.option('time-format', { alias: 't', type: 'string', requiresArg: true, describe: `Time column of the text output, as tshark -t: a|ad|u|ud (time of day, with date; local or UTC), e (epoch), r (since the first frame), d|dd (since the previous line). Default: ${fallback}` });
}

function timeFormat(value: string | undefined): TimeFormat | undefined {
  if (value === undefined) return undefined;
  if ((TIME_FORMATS as readonly string[]).includes(value)) return value as TimeFormat;
  throw new UsageError(`-t ${value}: unknown time format; accepted: ${TIME_FORMATS.join(', ')}`);
}

/** `-e FIELD` and `-E key=value` (repeatable), for the commands that print frames or events as `-T fields`. */
export function withFieldsOptions<T>(y: Argv<T>, what: 'frame' | 'event' | 'frame or event (--view timeline)') {
  return y
    .option('field', { alias: 'e', type: 'string', requiresArg: true, describe: `With -T fields: print this ${what} field (repeat for several; names: msgscope fields${what === 'frame' ? '' : ' --events'})` })
    .option('fields-option', {
      alias: 'E',
      type: 'string',
      requiresArg: true,
      describe: 'With -T fields, as tshark: header=y|n, separator=/t|/s|C, quote=d|s|n, occurrence=f|l|a, aggregator=,|/s|C, bom=y|n',
    });
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A separator or aggregator value: /t, /s, or one character. */
function oneCharacter(key: string, value: string, tab: boolean): string {
  if (value === '/s') return ' ';
  if (value === '/t' && tab) return '\t';
  if ([...value].length === 1) return value;
  throw new UsageError(`-E ${key}=${value}: accepted ${tab ? '/t (tab), ' : ''}/s (space) or one character`);
}

const YES_NO: Record<string, boolean> = { y: true, n: false };

/** `-E` options as tshark reads them; each wrong one is named with what it accepts. */
export function fieldsOptions(items: readonly string[]): FieldsOptions {
  const o = { ...DEFAULT_FIELDS_OPTIONS };
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? '' : item.slice(eq + 1);
    const bad = (accepted: string): never => {
      throw new UsageError(`-E ${item}: ${key} accepts ${accepted}`);
    };
    switch (key) {
      case 'header':
      case 'bom': {
        const yes = YES_NO[value.toLowerCase()];
        if (yes === undefined) bad('y or n');
        o[key] = yes!;
        break;
      }
      case 'separator':
        o.separator = oneCharacter(key, value, true);
        break;
      case 'aggregator':
        o.aggregator = oneCharacter(key, value, false);
        break;
      case 'quote': {
        const quote = ({ d: '"', s: "'", n: '' } as Record<string, string>)[value.toLowerCase()];
        if (quote === undefined) bad('d (double quotes), s (single quotes) or n (none)');
        o.quote = quote!;
        break;
      }
      case 'occurrence': {
        const v = value.toLowerCase();
        if (v !== 'f' && v !== 'l' && v !== 'a') bad('f (first), l (last) or a (all)');
        o.occurrence = v as FieldsOptions['occurrence'];
        break;
      }
      default:
        throw new UsageError(`-E ${item}: unknown option '${key}'; accepted: header, separator, quote, occurrence, aggregator, bom (key=value)`);
    }
  }
  return o;
}

/** The -e/-E selection; -e without -T fields, or -T fields without -e, is a usage error (as in tshark). */
export function fieldsSelection(args: CommonArgs): FieldsSelection {
  const names = list(args.field);
  const options = fieldsOptions(list(args['fields-option']));
  if (args.format === 'fields' && names.length === 0) throw new UsageError('-T fields needs at least one -e FIELD (names: msgscope fields)');
  if (args.format !== 'fields' && (names.length > 0 || list(args['fields-option']).length > 0)) throw new UsageError('-e and -E go with -T fields (as in tshark)');
  for (const name of names) if (name === '') throw new UsageError('-e needs a field name');
  return { names, options };
}


type SinkArgs = CommonArgs & { wide?: boolean; verbose?: boolean; hex?: boolean; 'time-format'?: string };

/** What the terminal decides about text output: colour and the width lines are cut to. */
export interface TerminalView {
  readonly colour: boolean;
  readonly width: number | undefined;
}

/** The terminal view of this process's stdout (a --jobs worker gets the main thread's). */
export function terminalView(args: SinkArgs): TerminalView {
  return {
    colour: wantColour(args.color),
    width: args.wide === true || args.format !== 'text' || process.stdout.isTTY !== true ? undefined : process.stdout.columns,
  };
}

/** Sink settings from the common options: colour, terminal width, -V and -x, -t, -T fields. */
export function sinkSettings(out: Output, args: SinkArgs, view: TerminalView = terminalView(args)): SinkSettings {
  return {
    time: timeFormat(args['time-format']),
    fields: fieldsSelection(args),
    out,
    style: makeStyle(view.colour),
    width: view.width,
    verbose: args.verbose === true,
    hex: args.hex === true,
  };
}

/** A runner over the analyses with the common options (-Y goes where the command says). */
export function makeRunner(analyses: readonly Analysis[], args: CommonArgs, options: Partial<RunnerOptions> = {}): Runner {
  const off = protocolsOff(args);
  const rules = decodeRules(args, off);
  const protocols = rules.length === 0 ? () => defaultProtocols(off) : () => decodeAs(defaultProtocols(off), rules);
  return new Runner(analyses, { engine: engineOptions(args), protocols, progress: true, quiet: args.quiet, ...options });
}

export function fileSources(paths: readonly string[]): FrameSource[] {
  return paths.map(fileSource);
}

/** The capture arguments: positional names and `-r FILE` (repeatable, as tshark's), and --jobs. */
export interface CaptureArgs {
  captures?: string[];
  'read-file'?: string | string[];
  n?: boolean;
  jobs: number;
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
    .option('n', { type: 'boolean', describe: 'Disable name resolution, as tshark -n (msgscope never resolves names)' })
    .option('jobs', { type: 'number', default: defaultJobs(), defaultDescription: 'cores / 1.3, at least 1', requiresArg: true, describe: 'Worker threads: read, timeline and audit read several captures at once, one per worker, output in file order; one capture is split by flow across them, with the same output (read: its summary lines, without -c or a filter on stream numbers or relative times; docs/performance.md)' });
}

/**
 * --jobs when not given: one worker per 1.3 cores, since one engine keeps about 1.3 cores busy
 * (its thread and V8's garbage-collector and compiler threads: CPU over wall time of a
 * one-capture run, measured 1.32–1.34). On 2 cores that is 1: there `--jobs 2` cut the wall
 * time of two captures by 8–13% for 25% more CPU and 1.8 times the memory (docs/performance.md).
 */
function defaultJobs(): number {
  return Math.max(1, Math.floor(availableParallelism() / 1.3));
}

/** --jobs checked: a whole number of workers, at least 1. */
export function jobCount(args: CaptureArgs): number {
  const jobs = args.jobs;
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('--jobs takes a whole number of workers, at least 1');
  return jobs;
}

/** Every capture the command was given, positional ones first, then the -r ones; none is a usage error. */
export function captureList(args: CaptureArgs, command: string): string[] {
  const named = args['read-file'] === undefined ? [] : Array.isArray(args['read-file']) ? args['read-file'] : [args['read-file']];
  for (const name of named) if (name === '') throw new UsageError('-r needs a capture file name');
  const all = [...(args.captures ?? []), ...named];
  if (all.length === 0) throw new UsageError(`${command} needs a capture file: msgscope ${command} FILE… or msgscope ${command} -r FILE (- for stdin)`);
  return all;
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

/** `-w FILE` and `-P`, as tshark: save the selected frames; print the records too only with -P. */
export interface WriteArgs {
  write?: string;
  print?: boolean;
}

export function withWriteOptions<T>(y: Argv<T>, what: string) {
  return y
    .option('write', { alias: 'w', type: 'string', requiresArg: true, describe: `Save ${what} to this pcapng file (- for stdout), with a packet comment per finding; nothing is printed unless -P` })
    .option('print', { alias: 'P', type: 'boolean', describe: 'With -w: print the records as well, as tshark -P' });
}

/** Checks -w against the captures: never the file being read (it would be truncated before it is read). */
export function writeTarget(args: WriteArgs, captures: readonly string[]): string | undefined {
  if (args.write === undefined) {
    if (args.print === true) throw new UsageError('-P goes with -w (print the records while saving the frames)');
    return undefined;
  }
  if (args.write === '') throw new UsageError('-w needs a file name (- for stdout)');
  if (isStdout(args.write) && args.print === true) throw new UsageError('-w - writes the capture to stdout: -P would mix the records into it');
  if (!isStdout(args.write)) {
    const target = resolvePath(args.write);
    for (const c of captures) if (resolvePath(c) === target) throw new UsageError(`-w ${args.write}: that is a capture being read; choose another file`);
  }
  return args.write;
}
