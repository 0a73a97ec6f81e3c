// The msgscope command line.
import { createRequire } from 'node:module';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isInputError, UsageError } from './common.js';
import { STDIN_PATH } from '../capture/open.js';
import { STDOUT_PATH } from '../capture/pcapng-writer.js';

const WRITE_OPTIONS = new Set(['-w', '--write']);
import { readBuilder, readCommand, type ReadArgs } from './read.js';
import { timelineBuilder, timelineCommand, type TimelineArgs } from './timeline.js';
import { fieldsBuilder, fieldsCommand, type FieldsArgs } from './fields.js';
import { liveBuilder, liveCommand, type LiveArgs } from './live.js';
import { statsBuilder, statsCommand, type StatsArgs } from './stats.js';
import { auditBuilder, auditCommand, type AuditCommandArgs } from './audit.js';
import { historyBuilder, historyCommand, type HistoryArgs } from './history.js';
import { verifyBuilder, verifyCommand, type VerifyArgs } from './verify.js';
import { cleanCompletions, usageMessage, type OptionInfo } from './usage.js';

// yargs' CommonJS build: its help layout wraps at word boundaries (the ESM build cuts words).
const yargs = createRequire(import.meta.url)('yargs/yargs') as (args: string[]) => Argv;

const COMMANDS = ['read', 'timeline', 'stats', 'audit', 'verify', 'history', 'live', 'fields', 'completion'];

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
  const raw = hideBin(argv);
  const completing = raw.includes('--get-yargs-completions');
  const args = completing ? raw : raw.map((a, i) => (a !== '-' ? a : WRITE_OPTIONS.has(raw[i - 1] ?? '') ? STDOUT_PATH : STDIN_PATH));
  const command = args.find((a) => COMMANDS.includes(a));
  const root = yargs(args);
  active = root;
  await root
    .scriptName('msgscope')
    .usage('$0 <command> [options]\n\nA protocol analyzer for the Microsoft messenger protocols: MSNP, MS-MSRP (Messenger Service), SMB messenger and \\MAILSLOT\\MESSNGR.')
    .command('read [captures..]', 'One summary line per frame, like tshark (-V detail, -x hex, -T fields)', tracked(readBuilder), (a) => run(readCommand, a as unknown as ReadArgs))
    .command('timeline [captures..]', 'The annotated timeline of messenger activity', tracked(timelineBuilder), (a) => run(timelineCommand, a as unknown as TimelineArgs))
    .command('live', 'Capture live traffic and show it (read or timeline view)', tracked(liveBuilder), (a) => run(liveCommand, a as unknown as LiveArgs))
    .command('stats [captures..]', 'Protocol hierarchy, conversations, endpoints, commands and messages', tracked(statsBuilder), (a) => run(statsCommand, a as unknown as StatsArgs))
    .command('audit [captures..]', 'Spam audit: campaigns, senders, sweeps, outcomes, indicators; HTML report, history, Parquet', tracked(auditBuilder), (a) => run(auditCommand, a as unknown as AuditCommandArgs))
    .command('verify [captures..]', 'Conformance verdicts per rule and spec clause (text, json, junit, sarif); --baseline of accepted deviations', tracked(verifyBuilder), (a) => run(verifyCommand, a as unknown as VerifyArgs))
    .command('history', 'Runs stored by audit --db, and what the last (or --run N) brought that was new', tracked(historyBuilder), (a) => run(historyCommand, a as unknown as HistoryArgs))
    .command('fields [protocol]', 'The field catalogue (names for -Y filters, -e and JSON)', tracked(fieldsBuilder), (a) => run(fieldsCommand, a as unknown as FieldsArgs))
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
