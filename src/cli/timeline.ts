// `msgscope timeline`: the annotated, cross-protocol timeline of messenger activity.
import type { Argv } from 'yargs';
import { EVENT_FORMATS, type EventFormat } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { Timeline } from '../analysis/timeline.js';
import { EVENT_SINKS } from '../output/sinks/index.js';
import { EventFrames, writeEventFrames } from '../analysis/frame-export.js';
import { isStdout, PcapngWriter } from '../capture/pcapng-writer.js';
import { isStdin } from '../capture/open.js';
import type { Analysis } from '../runner/analysis.js';
import { UsageError, withTimeFormatOption, withWriteOptions, writeTarget, type WriteArgs, captureList, withFieldsOptions, eventFilter, fileSources, withCaptureOptions, type CaptureArgs, makeRunner, sinkSettings, terminalView, withCommonOptions, withFilterOptions, type CommonArgs } from './common.js';
import { runListing } from './jobs.js';

export interface TimelineArgs extends CommonArgs, CaptureArgs, WriteArgs {
  format: EventFormat;
  wide?: boolean;
}

export function timelineBuilder(y: Argv) {
  return withTimeFormatOption(withWriteOptions(withFieldsOptions(withFilterOptions(withCommonOptions(withCaptureOptions(y), EVENT_FORMATS), 'events'), 'event'), 'every frame of the events -Y selects'), 'ud (UTC date and time)')
    .option('wide', { type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 timeline samples/smb-winpopup.pcap', 'who sent what to whom')
    .example('$0 timeline -Y \'message.text contains "http"\' capture.pcap', 'messages with a link')
    .example('$0 timeline -Y \'kind == "message" && message.from == "SYSTEM"\' capture.pcap', 'one sender')
    .example('$0 timeline -Y \'finding.severity == "error"\' --fail-on-error capture.pcap', 'events with spec violations; exit 1 if any')
    .example('$0 timeline --format csv capture.pcap > messages.csv', 'a spreadsheet-safe table')
    .example('$0 timeline --format ndjson capture.pcap | jq \'select(.kind=="message")\'', 'messages as JSON lines')
    .example('$0 timeline -r capture.pcap -Y \'message.from == "SYSTEM"\' -w system.pcapng', 'save every frame of those messages');
}

export async function timelineCommand(args: TimelineArgs): Promise<void> {
  const captures = captureList(args, 'timeline');
  const write = writeTarget(args, captures);
  // The frames of the selected events are copied in a second pass over each file.
  if (write !== undefined && captures.some(isStdin)) throw new UsageError('timeline -w reads each capture twice (the events first, then their frames): give files, not standard input');
  const out = new Output();
  const collected = write === undefined ? undefined : new EventFrames();
  let runner;
  if (collected === undefined) {
    runner = await runListing({ command: 'timeline', args, view: terminalView(args) }, captures, out);
  } else {
    // -w: one pass over the captures in turn collects the events' frame numbers (--jobs does not apply).
    const analyses: Analysis[] = [collected];
    if (args.print === true) analyses.unshift(new Timeline([EVENT_SINKS[args.format](sinkSettings(out, args))]));
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
