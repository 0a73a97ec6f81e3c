// `msgscope timeline`: the annotated, cross-protocol timeline of messenger activity.
import type { Argv } from 'yargs';
import { Timeline } from '../analysis/timeline.js';
import { EVENT_FORMATS, type EventFormat } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { EventClickHouseSink } from '../output/sinks/event-clickhouse.js';
import { openClickHouse, withClickHouseOptions, type ClickHouseArgs } from './clickhouse.js';
import { EventFrames, writeEventFrames } from '../analysis/frame-export.js';
import { isStdout, PcapngWriter } from '../capture/pcapng-writer.js';
import { isStdin } from '../capture/open.js';
import type { Analysis } from '../runner/analysis.js';
import type { Runner } from '../runner/runner.js';
import { UsageError, withTimeFormatOption, withWriteOptions, writeTarget, type WriteArgs, captureList, withFieldsOptions, eventFilter, eventSinks, fileSources, withCaptureOptions, type CaptureArgs, makeRunner, terminalView, withCommonOptions, withFilterOptions, withLogDirOption, withParquetOption, warn, type CommonArgs } from './common.js';
import { runListing } from './jobs.js';

export interface TimelineArgs extends CommonArgs, CaptureArgs, WriteArgs, ClickHouseArgs {
  format: EventFormat;
  wide?: boolean;
  'log-dir'?: string;
  parquet?: string;
}

export function timelineBuilder(y: Argv) {
  return withClickHouseOptions(withParquetOption(withLogDirOption(withTimeFormatOption(withWriteOptions(withFieldsOptions(withFilterOptions(withCommonOptions(withCaptureOptions(y), EVENT_FORMATS), 'events'), 'event'), 'every frame of the events -Y selects'), 'ud (UTC date and time)')), 'events'))
    .option('wide', { type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 timeline samples/messenger-mix.pcapng', 'who sent what to whom')
    .example('$0 timeline -Y \'message.text contains "http"\' samples/messenger-mix.pcapng', 'messages with a link')
    .example('$0 timeline -Y \'kind == "message" && message.from == "SYSTEM"\' samples/messenger-mix.pcapng', 'one sender')
    .example('$0 timeline -Y \'finding.severity == "error"\' --fail-on-error samples/messenger-mix.pcapng', 'events with spec violations; exit 1 if any')
    .example('$0 timeline --format csv samples/messenger-mix.pcapng > messages.csv', 'a spreadsheet-safe table')
    .example('$0 timeline --format ndjson samples/messenger-mix.pcapng | jq \'select(.kind=="message")\'', 'messages as JSON lines')
    .example('$0 timeline -r samples/messenger-mix.pcapng -Y \'message.from == "SYSTEM"\' -w system.pcapng', 'save every frame of those messages')
    .example('$0 timeline --log-dir logs samples/messenger-mix.pcapng', 'logs/message.log, logs/session.log, … like Zeek')
    .example('$0 timeline --format eve samples/messenger-mix.pcapng', 'Suricata eve records (flow_id, community_id)')
    .example('$0 timeline --parquet export/ samples/messenger-mix.pcapng', 'export/events/date=…/protocol=…/*.parquet')
    .example('$0 timeline --jobs 2 samples/messenger-mix.pcapng', 'the capture split by flow across 2 worker threads: the same output as --jobs 1')
    .example('$0 timeline --sink clickhouse://127.0.0.1:8123/msgscope samples/messenger-mix.pcapng', 'events into ClickHouse (batched, spooled when it is down)');
}

export async function timelineCommand(args: TimelineArgs): Promise<void> {
  const captures = captureList(args, 'timeline');
  const write = writeTarget(args, captures);
  // The frames of the selected events are copied in a second pass over each file.
  if (write !== undefined && captures.some(isStdin)) throw new UsageError('timeline -w reads each capture twice (the events first, then their frames): give files, not standard input');
  const out = new Output();
  const clickhouse = await openClickHouse(args, 'events', captures, (m) => warn(args, m));
  const also = clickhouse !== undefined ? [new EventClickHouseSink(clickhouse.sink, clickhouse.runId, clickhouse.hashes)] : [];
  const toFiles = also.length > 0 || args['log-dir'] !== undefined || args.parquet !== undefined;
  const collected = write === undefined ? undefined : new EventFrames();
  let runner: Runner;
  if (collected === undefined && !toFiles) {
    runner = await runListing({ command: 'timeline', args, view: terminalView(args) }, captures, out);
  } else {
    // -w and the file and database outputs run over the captures in turn (--jobs does not apply).
    const analyses: Analysis[] = [];
    // -w alone prints nothing (as tshark); the file and ClickHouse outputs are written whatever -w says.
    if (write === undefined || args.print === true || toFiles) analyses.push(new Timeline(await eventSinks(out, args, also)));
    if (collected !== undefined) analyses.push(collected);
    runner = makeRunner(analyses, args, { eventFilter: await eventFilter(args) });
    await runner.run(fileSources(captures));
  }
  await out.close();
  if (collected !== undefined && write !== undefined) {
    const count = await writeEventFrames(collected, new PcapngWriter(write));
    if (!args.quiet && !isStdout(write)) process.stderr.write(`msgscope: ${count} frame(s) of the selected events written to ${write}\n`);
  }
  runner.settle(args['fail-on-error']);
}
