// `msgscope timeline`: the annotated, cross-protocol timeline of messenger activity.
import type { Argv } from 'yargs';
import { Timeline } from '../analysis/timeline.js';
import { EVENT_FORMATS, type EventFormat } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { EventClickHouseSink } from '../output/sinks/event-clickhouse.js';
import { openClickHouse, withClickHouseOptions, type ClickHouseArgs } from './clickhouse.js';
import { captureList, eventFilter, eventSinks, fileSources, withCaptureOptions, type CaptureArgs, makeRunner, withCommonOptions, withFilterOptions, withLogDirOption, withParquetOption, warn, type CommonArgs } from './common.js';

export interface TimelineArgs extends CommonArgs, CaptureArgs, ClickHouseArgs {
  format: EventFormat;
  wide?: boolean;
  'log-dir'?: string;
  parquet?: string;
}

export function timelineBuilder(y: Argv) {
  return withClickHouseOptions(withParquetOption(withLogDirOption(withFilterOptions(withCommonOptions(withCaptureOptions(y), EVENT_FORMATS), 'events')), 'events'))
    .option('wide', { type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 timeline samples/smb-winpopup.pcap', 'who sent what to whom')
    .example('$0 timeline -Y \'message.text contains "http"\' capture.pcap', 'messages with a link')
    .example('$0 timeline -Y \'kind == "message" && message.from == "SYSTEM"\' capture.pcap', 'one sender')
    .example('$0 timeline -Y \'finding.severity == "error"\' --fail-on-error capture.pcap', 'events with spec violations; exit 1 if any')
    .example('$0 timeline --format csv capture.pcap > messages.csv', 'a spreadsheet-safe table')
    .example('$0 timeline --format ndjson capture.pcap | jq \'select(.kind=="message")\'', 'messages as JSON lines')
    .example('$0 timeline --log-dir logs capture.pcap', 'logs/message.log, logs/session.log, … like Zeek')
    .example('$0 timeline --format eve capture.pcap', 'Suricata eve records (flow_id, community_id)')
    .example('$0 timeline --parquet export/ capture.pcap', 'export/events/date=…/protocol=…/*.parquet')
    .example('$0 timeline --sink clickhouse://127.0.0.1:8123/msgscope capture.pcap', 'events into ClickHouse (batched, spooled when it is down)');
}

export async function timelineCommand(args: TimelineArgs): Promise<void> {
  const out = new Output();
  const captures = captureList(args, 'timeline');
  const clickhouse = await openClickHouse(args, 'events', captures, (m) => warn(args, m));
  const also = clickhouse !== undefined ? [new EventClickHouseSink(clickhouse.sink, clickhouse.runId, clickhouse.hashes)] : [];
  const runner = makeRunner([new Timeline(await eventSinks(out, args, also))], args, { eventFilter: eventFilter(args) });
  await runner.run(fileSources(captures));
  await out.close();
  runner.settle(args['fail-on-error']);
}
