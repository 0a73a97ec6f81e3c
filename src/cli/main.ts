// The msgscope command line.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { isInputError } from './common.js';
import { STDIN_PATH } from '../capture/open.js';
import { readBuilder, readCommand, type ReadArgs } from './read.js';
import { timelineBuilder, timelineCommand, type TimelineArgs } from './timeline.js';
import { fieldsBuilder, fieldsCommand, type FieldsArgs } from './fields.js';
import { liveBuilder, liveCommand, type LiveArgs } from './live.js';
import { statsBuilder, statsCommand, type StatsArgs } from './stats.js';
import { auditBuilder, auditCommand, type AuditCommandArgs } from './audit.js';
import { historyBuilder, historyCommand, type HistoryArgs } from './history.js';
import { verifyBuilder, verifyCommand, type VerifyArgs } from './verify.js';

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

export async function main(argv: string[]): Promise<void> {
  // yargs drops a lone `-` positional; pass standard input under a name it keeps.
  await yargs(hideBin(argv).map((a) => (a === '-' ? STDIN_PATH : a)))
    .scriptName('msgscope')
    .usage('$0 <command> [options]\n\nA protocol analyzer for the Microsoft messenger protocols: MSNP, MS-MSRP (Messenger Service), SMB messenger and \\MAILSLOT\\MESSNGR.')
    .command('read <captures..>', 'One summary line per frame, like tshark (-V detail, -x hex)', readBuilder, (a) => run(readCommand, a as unknown as ReadArgs))
    .command('timeline <captures..>', 'The annotated timeline of messenger activity', timelineBuilder, (a) => run(timelineCommand, a as unknown as TimelineArgs))
    .command('live', 'Capture live traffic and show it (read or timeline view)', liveBuilder, (a) => run(liveCommand, a as unknown as LiveArgs))
    .command('stats <captures..>', 'Protocol hierarchy, conversations, endpoints, commands and messages', statsBuilder, (a) => run(statsCommand, a as unknown as StatsArgs))
    .command('audit <captures..>', 'Spam audit: campaigns, senders, sweeps, outcomes, indicators; HTML report, history, Parquet', auditBuilder, (a) => run(auditCommand, a as unknown as AuditCommandArgs))
    .command('verify <captures..>', 'Conformance verdicts per rule and spec clause (text, json, junit, sarif); --baseline of accepted deviations', verifyBuilder, (a) => run(verifyCommand, a as unknown as VerifyArgs))
    .command('history', 'Runs stored by audit --db, and what the last (or --run N) brought that was new', historyBuilder, (a) => run(historyCommand, a as unknown as HistoryArgs))
    .command('fields [protocol]', 'The field catalogue (names for -Y filters and JSON)', fieldsBuilder, (a) => run(fieldsCommand, a as unknown as FieldsArgs))
    .demandCommand(1, 'name a command: read, timeline, stats, audit, verify, history, live, fields')
    .strict()
    .completion('completion', 'Print a shell completion script (bash/zsh: msgscope completion >> ~/.bashrc)')
    .example('$0 read -Y "udp.port == 1026" capture.pcap', 'Messenger Service datagrams, Wireshark filter syntax')
    .example('$0 timeline capture.pcap', 'who sent what to whom')
    .example('$0 stats -z messages capture.pcap', 'messages per protocol, sender and recipient')
    .example('$0 audit --report audit.html spam.pcap', 'campaigns, senders, sweeps and outcomes, with an HTML report')
    .example('$0 verify --format junit run.pcap > verify.xml', 'conformance verdicts per spec clause, for CI')
    .example('$0 fields msrp', 'field names for filters and JSON')
    .epilogue('Exit status: 0 ok, 1 error-severity findings with --fail-on-error (verify: an unaccepted failure), 2 usage or input errors. Docs: docs/filters.md, docs/fields.md, docs/schema.md.')
    .help()
    .alias('help', 'h')
    .version()
    .wrap(Math.min(110, process.stdout.columns ?? 80))
    .fail((message, err) => {
      if (err !== undefined && err !== null && !isInputError(err)) throw err;
      fail(message ?? err?.message ?? 'invalid arguments');
    })
    .parseAsync();
}
