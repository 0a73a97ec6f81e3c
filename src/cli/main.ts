// The msgscope command line.
import { recoverRawArguments } from './raw-args.js';
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { isInputError, UsageError } from './errors.js';
import { STDIN_PATH } from '../capture/open.js';
import { STDOUT_PATH } from '../capture/pcapng-writer.js';

const WRITE_OPTIONS = new Set(['-w', '--write']);
import { cleanCompletions, usageMessage, type OptionInfo } from './usage.js';

import type { ReadArgs } from './read.js';
import type { TimelineArgs } from './timeline.js';
import type { FieldsArgs } from './fields.js';
import type { LiveArgs } from './live.js';
import type { StatsArgs } from './stats.js';
import type { AuditCommandArgs } from './audit.js';
import type { HistoryArgs } from './history.js';
import type { VerifyArgs } from './verify.js';

// yargs' CommonJS build: its help layout wraps at word boundaries (the ESM build cuts words).
const yargs = createRequire(import.meta.url)('yargs/yargs') as (args: string[]) => Argv;

/** A command whose code (and what it imports: engine, analyses, sinks) loads only when it runs. */
interface CommandSpec {
  readonly name: string;
  /** yargs' command string: name and positionals. */
  readonly usage: string;
  readonly describe: string;
  readonly load: () => Promise<LoadedCommand>;
}

interface LoadedCommand {
  readonly builder: (y: Argv) => Argv<unknown>;
  readonly handler: (args: unknown) => Promise<void>;
}

const SPECS: readonly CommandSpec[] = [
  {
    name: 'read', usage: 'read [captures..]', describe: 'One summary line per frame, like tshark (-V detail, -x hex, -T fields)',
    load: async () => { const m = await import('./read.js'); return { builder: m.readBuilder, handler: (a) => m.readCommand(a as ReadArgs) }; },
  },
  {
    name: 'timeline', usage: 'timeline [captures..]', describe: 'The annotated timeline of messenger activity',
    load: async () => { const m = await import('./timeline.js'); return { builder: m.timelineBuilder, handler: (a) => m.timelineCommand(a as TimelineArgs) }; },
  },
  {
    name: 'live', usage: 'live', describe: 'Capture live traffic and show it (read or timeline view)',
    load: async () => { const m = await import('./live.js'); return { builder: m.liveBuilder, handler: (a) => m.liveCommand(a as LiveArgs) }; },
  },
  {
    name: 'stats', usage: 'stats [captures..]', describe: 'Protocol hierarchy, conversations, endpoints, commands and messages',
    load: async () => { const m = await import('./stats.js'); return { builder: m.statsBuilder, handler: (a) => m.statsCommand(a as StatsArgs) }; },
  },
  {
    name: 'audit', usage: 'audit [captures..]', describe: 'Spam audit: campaigns, senders, sweeps, outcomes, indicators; HTML report, history, Parquet',
    load: async () => { const m = await import('./audit.js'); return { builder: m.auditBuilder, handler: (a) => m.auditCommand(a as AuditCommandArgs) }; },
  },
  {
    name: 'verify', usage: 'verify [captures..]', describe: 'Conformance verdicts per rule and spec clause (text, json, junit, sarif); --baseline of accepted deviations',
    load: async () => { const m = await import('./verify.js'); return { builder: m.verifyBuilder, handler: (a) => m.verifyCommand(a as VerifyArgs) }; },
  },
  {
    name: 'history', usage: 'history', describe: 'Runs stored by audit --db, and what the last (or --run N) brought that was new',
    load: async () => { const m = await import('./history.js'); return { builder: m.historyBuilder, handler: (a) => m.historyCommand(a as HistoryArgs) }; },
  },
  {
    name: 'fields', usage: 'fields [protocol]', describe: 'The field catalogue (names for -Y filters, -e and JSON)',
    load: async () => { const m = await import('./fields.js'); return { builder: m.fieldsBuilder, handler: (a) => m.fieldsCommand(a as FieldsArgs) }; },
  },
];

const COMMANDS = [...SPECS.map((spec) => spec.name), 'completion'];

/**
 * The command yargs will run: the first word that is not an option (the top level has no
 * options that take a value). Only its module is loaded; shell completion loads them all.
 */
function chosenCommand(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

function fail(message: string): never {
  process.stderr.write(`msgscope: ${message.split('\n')[0]}\n`);
  process.exit(2);
}

async function run<T>(fn: (args: T) => Promise<void>, args: T): Promise<void> {
  try {
    await fn(args);
  } catch (err) {
    if (isInputError(err)) fail(err.message);
    throw err;
  }
}

/** The parts of a yargs instance the error messages read. */
interface ParserView {
  getOptions(): { key: Record<string, unknown>; alias: Record<string, readonly string[] | undefined>; choices: Record<string, readonly string[] | undefined> };
}

type CompletionDone = (candidates: string[]) => void;
type DefaultCompletion = (onCompleted: (err: Error | null, candidates: string[] | undefined) => void) => void;

/** yargs' completion with real option names: `-q`, never `--q`. */
function completion(current: string, _argv: unknown, defaults: DefaultCompletion, done: CompletionDone): void {
  defaults((err, candidates) => done(err !== null ? [] : cleanCompletions(candidates ?? [], current)));
}

function optionsOf(parser: ParserView | undefined): OptionInfo[] {
  if (parser === undefined) return [];
  const { key, alias, choices } = parser.getOptions();
  return Object.keys(key).map((name) => ({ names: [...new Set([name, ...(alias[name] ?? [])])], choices: choices[name] }));
}

/** Whether yargs reports a problem with the command line (its errors are YError instances). */
function isParserError(err: unknown): boolean {
  return err instanceof Error && err.name === 'YError';
}

/** The parser of the command being parsed (a builder replaces the top-level one), for the messages. */
let active: Argv | undefined;

function tracked<T>(builder: (y: Argv) => Argv<T>): (y: Argv) => Argv<T> {
  return (y) => {
    active = y;
    return builder(y);
  };
}

export async function main(argv: string[]): Promise<void> {
  // yargs drops a lone `-` positional; pass standard input (standard output after -w) under a name it keeps.
  const raw = recoverRawArguments(argv.slice(2));
  const completing = raw.includes('--get-yargs-completions');
  const args = completing ? raw : raw.map((a, i) => (a !== '-' ? a : WRITE_OPTIONS.has(raw[i - 1] ?? '') ? STDOUT_PATH : STDIN_PATH));
  const command = args.find((a) => COMMANDS.includes(a));
  const chosen = chosenCommand(args);
  const root = yargs(args);
  active = root;
  for (const spec of SPECS) {
    if (completing || spec.name === chosen) {
      const { builder, handler } = await spec.load();
      root.command(spec.usage, spec.describe, tracked(builder), (a) => run(handler, a));
    } else {
      root.command(spec.usage, spec.describe);
    }
  }
  await root
    .scriptName('msgscope')
    .usage('$0 <command> [options]\n\nA protocol analyzer for the Microsoft messenger protocols: MSNP, MS-MSRP (Messenger Service), SMB messenger and \\MAILSLOT\\MESSNGR.')
    .demandCommand(1, `name a command: ${COMMANDS.filter((c) => c !== 'completion').join(', ')}`)
    .strict()
    .completion('completion', 'Print a shell completion script (bash/zsh: msgscope completion >> ~/.bashrc)', completion)
    .example('$0 read -r samples/messenger-mix.pcapng -Y "udp.port == 1026"', 'Messenger Service datagrams, Wireshark filter syntax')
    .example('$0 timeline samples/messenger-mix.pcapng', 'who sent what to whom')
    .example('$0 stats -z messages samples/messenger-mix.pcapng', 'messages per protocol, sender and recipient')
    .example('$0 audit --report audit.html samples/messenger-mix.pcapng', 'campaigns, senders, sweeps and outcomes, with an HTML report')
    .example('$0 verify --format junit samples/messenger-mix.pcapng > verify.xml', 'conformance verdicts per spec clause, for CI')
    .example('$0 fields msrp', 'field names for filters, -e and JSON')
    .epilogue('Exit status: 0 ok, 1 error-severity findings with --fail-on-error (verify: an unaccepted failure), 2 usage or input errors. Docs: docs/filters.md, docs/fields.md, docs/schema.md.')
    .help()
    .alias('help', 'h')
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 80))
    .fail((message: string | undefined, err: Error | undefined) => {
      if (err !== undefined && err !== null && !isInputError(err) && !isParserError(err)) throw err;
      const text = message ?? err?.message ?? 'invalid arguments';
      fail(err instanceof UsageError ? text : usageMessage(text, { command, commands: COMMANDS, options: optionsOf(active as unknown as ParserView) }));
    })
    .parseAsync();
}
