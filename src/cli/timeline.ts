// `msgscope timeline`: the annotated, cross-protocol timeline of messenger activity.
import type { Argv } from 'yargs';
import type { TimelineEvent } from '../model/events.js';
import { Output } from '../output/writer.js';
import { makeStyle, wantColour } from '../output/style.js';
import { CSV_COLUMNS, eventCsvRow, eventJson, eventTextLine, sortEvents } from '../analysis/timeline.js';
import { runCaptures, withCommonOptions, type CommonArgs } from './common.js';

export interface TimelineArgs extends CommonArgs {
  captures: string[];
}

export function timelineBuilder(y: Argv) {
  return withCommonOptions(y, ['text', 'json', 'ndjson', 'csv'])
    .positional('captures', { type: 'string', array: true, demandOption: true, describe: 'capture files, or - for stdin' })
    .example('$0 timeline samples/smb-winpopup.pcap', 'who sent what to whom')
    .example('$0 timeline --format ndjson capture.pcap | jq \'select(.kind=="message")\'', 'messages as JSON lines');
}

/** Writes events in the chosen format; shared with `live`. */
export class TimelinePrinter {
  private readonly style;
  private count = 0;

  constructor(private readonly out: Output, private readonly args: CommonArgs) {
    this.style = makeStyle(wantColour(args.color));
  }

  begin(): void {
    if (this.args.format === 'json') this.out.line('[');
    if (this.args.format === 'csv') this.out.line(CSV_COLUMNS.join(','));
  }

  event(event: TimelineEvent, file?: string): void {
    switch (this.args.format) {
      case 'text':
        this.out.line(eventTextLine(event, this.style));
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
}
