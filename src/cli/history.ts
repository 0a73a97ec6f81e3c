// `msgscope history`: what an audit history database (--db) holds — every run with its captures
// and counts — and what one run brought that was new (campaigns, senders, growth).
import type { Argv } from 'yargs';
import type { RunRow } from '../analysis/audit/history.js';
import type { HistoryJson } from '../analysis/audit/result.js';
import { escapeText } from '../output/escape.js';
import { Output } from '../output/writer.js';
import { asUsage } from './audit.js';
import { UsageError } from './common.js';
import { jsonText } from '../output/escape.js';

export interface HistoryArgs {
  db: string;
  run?: number;
  format: 'text' | 'json';
  quiet: boolean;
}

export function historyBuilder(y: Argv) {
  return y
    .option('db', { type: 'string', demandOption: true, describe: 'The history database written by audit --db' })
    .option('run', { type: 'number', describe: 'The run to describe (default: the last)' })
    .option('format', { alias: 'T', choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Output format' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No warnings on stderr' })
    .example('$0 history --db audit.duckdb', 'every run, and what the last one brought')
    .example('$0 history --db audit.duckdb --run 1 --format json', 'run 1 as JSON');
}

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, '').replace(/Z$/, '');
}

export async function historyCommand(args: HistoryArgs): Promise<void> {
  const { openHistory, listRuns, describeRun } = await import('../analysis/audit/history.js');
  let runs: RunRow[];
  let described: HistoryJson | undefined;
  try {
    const db = await openHistory(args.db, (m) => {
      if (!args.quiet) process.stderr.write(`msgscope: warning: ${m}\n`);
    });
    try {
      runs = await listRuns(db);
      const which = args.run ?? runs[runs.length - 1]?.run;
      if (args.run !== undefined && !runs.some((r) => r.run === args.run)) throw new UsageError(`${args.db}: no run ${args.run} (runs: ${runs.map((r) => r.run).join(', ') || 'none'})`);
      described = which !== undefined ? await describeRun(db, which) : undefined;
    } finally {
      db.close();
    }
  } catch (err) {
    throw asUsage(err);
  }
  const out = new Output();
  if (args.format === 'json') out.line(jsonText({ runs, ...(described !== undefined ? { run: described } : {}) }, 2));
  else {
    out.line(`${runs.length} run(s) in ${escapeText(args.db)}`);
    for (const r of runs) {
      out.line(`  run ${r.run}  ${when(r.started)} UTC  ${r.messages} messages (${r.new_messages} new), ${r.campaigns} campaigns, ${r.senders} senders  ${r.captures.map(escapeText).join(', ')}`);
    }
    if (described !== undefined) {
      const d = described;
      out.line('');
      out.line(`Run ${d.run}${d.previous !== undefined ? ` against run ${d.previous.run}` : ' (the first)'}:`);
      for (const p of d.captures_seen_before) out.line(`  already audited before: ${escapeText(p)}`);
      out.line(`  new messages: ${d.new_messages}`);
      out.line(`  new campaigns: ${d.new_campaigns.join(', ') || 'none'}`);
      out.line(`  new senders: ${d.new_senders.join(', ') || 'none'}`);
      for (const g of d.growth) out.line(`  ${g.campaign} grew: ${g.before} → ${g.now} messages`);
    }
  }
  await out.close();
}
