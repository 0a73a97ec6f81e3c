// `msgscope timeline`: the annotated, cross-protocol timeline of messenger activity.
import type { Argv } from 'yargs';
import type { TimelineEvent } from '../model/events.js';
import type { EventFilter } from '../filter/index.js';
import { Output } from '../output/writer.js';
import { makeStyle, wantColour } from '../output/style.js';
import { CSV_COLUMNS, eventCsvRow, eventJson, eventTextLine, sortEvents } from '../analysis/timeline.js';
import { ErrorTally, eventFilter, runCaptures, withCommonOptions, withFilterOptions, type CommonArgs } from './common.js';

export interface TimelineArgs extends CommonArgs {
  captures: string[];
  wide?: boolean;
}

export function timelineBuilder(y: Argv) {
  return withFilterOptions(withCommonOptions(y, ['text', 'json', 'ndjson', 'csv']), 'events')
    .positional('captures', { type: 'string', array: true, demandOption: true, describe: 'capture files, or - for stdin' })
    .option('wide', { alias: 'w', type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 timeline samples/smb-winpopup.pcap', 'who sent what to whom')
    .example('$0 timeline -Y \'message.text contains "http"\' capture.pcap', 'messages with a link')
    .example('$0 timeline -Y \'kind == "message" && message.from == "SYSTEM"\' capture.pcap', 'one sender')
    .example('$0 timeline -Y \'finding.severity == "error"\' --fail-on-error capture.pcap', 'events with spec violations; exit 1 if any')
    .example('$0 timeline --format csv capture.pcap > messages.csv', 'a spreadsheet-safe table')
    .example('$0 timeline --format ndjson capture.pcap | jq \'select(.kind=="message")\'', 'messages as JSON lines');
}

/** Writes events in the chosen format, after the -Y filter; shared with `live`. */
export class TimelinePrinter {
  private readonly style;
  private readonly width: number | undefined;
  private readonly filter: EventFilter | undefined;
  readonly tally = new ErrorTally();
  private count = 0;

  constructor(private readonly out: Output, private readonly args: CommonArgs & { wide?: boolean }) {
    this.style = makeStyle(wantColour(args.color));
    this.width = args.wide === true || args.format !== 'text' || process.stdout.isTTY !== true ? undefined : process.stdout.columns;
    this.filter = eventFilter(args);
  }

  begin(): void {
    if (this.args.format === 'json') this.out.line('[');
    if (this.args.format === 'csv') this.out.line(CSV_COLUMNS.join(','));
  }

  /** Prints the event unless the filter rejects it; returns whether it was printed. */
  event(event: TimelineEvent, file?: string): boolean {
    if (this.filter !== undefined && !this.filter.match(event)) return false;
    this.tally.add(event.findings);
    switch (this.args.format) {
      case 'text':
        this.out.line(eventTextLine(event, this.style, this.width));
        break;
      case 'csv':
        this.out.line(eventCsvRow(event));
        break;
      default: {
        const obj = eventJson(event);
        const text = JSON.stringify(file !== undefined ? { file, ...obj } : obj);
        this.out.line(this.args.format === 'json' && this.count > 0 ? `,${text}` : text);
      }
    }
    this.count++;
    return true;
  }

  end(): void {
    if (this.args.format === 'json') this.out.line(']');
  }
}

export async function timelineCommand(args: TimelineArgs): Promise<void> {
  const out = new Output();
  const printer = new TimelinePrinter(out, args);
  printer.begin();
  const multi = args.captures.length > 1;
  await runCaptures(args.captures, args, (file) => {
    const events: TimelineEvent[] = [];
    return {
      event: (event) => events.push(event),
      done: () => {
        for (const event of sortEvents(events)) printer.event(event, multi ? file : undefined);
      },
    };
  });
  printer.end();
  await out.close();
  printer.tally.settle(args);
}
