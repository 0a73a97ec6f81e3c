// `msgscope read`: one summary line per frame like tshark, or the detail tree (-V), hex (-x),
// or one JSON object per frame.
import type { Argv } from 'yargs';
import { PACKET_FORMATS, PACKET_SINKS, type PacketFormat } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { PacketListing } from '../analysis/listing.js';
import { FrameExport } from '../analysis/frame-export.js';
import { isStdout, PcapngWriter } from '../capture/pcapng-writer.js';
import type { Analysis } from '../runner/analysis.js';
import type { Runner } from '../runner/runner.js';
import { withTimeFormatOption, withWriteOptions, writeTarget, type WriteArgs, captureList, withFieldsOptions, fileSources, withCaptureOptions, type CaptureArgs, makeRunner, packetFilter, packetParquetSink, sinkSettings, terminalView, withParquetOption, withCommonOptions, withFilterOptions, type CommonArgs, UsageError } from './common.js';
import { runListing } from './jobs.js';

export interface ReadArgs extends CommonArgs, CaptureArgs, WriteArgs {
  format: PacketFormat;
  verbose: boolean;
  hex: boolean;
  count?: number;
  wide: boolean;
  parquet?: string;
}

export function readBuilder(y: Argv) {
  return withParquetOption(withTimeFormatOption(withWriteOptions(withFieldsOptions(withFilterOptions(withCommonOptions(withCaptureOptions(y), PACKET_FORMATS), 'frames'), 'frame'), 'the frames -Y selects'), 'r (seconds since the first frame)'), 'frames')
    .option('verbose', { alias: 'V', type: 'boolean', default: false, describe: 'Detail tree of every layer and field' })
    .option('hex', { alias: 'x', type: 'boolean', default: false, describe: 'Hex and ASCII dump' })
    .option('count', { alias: 'c', type: 'number', describe: 'Stop after this many frames (shown frames, when -Y is given)' })
    .option('wide', { type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 read samples/messenger-mix.pcapng', 'summary lines')
    .example('$0 read -V -c 3 samples/messenger-mix.pcapng', 'detail tree of the first three frames')
    .example('$0 read -Y "udp.port == 1026 || udp.port == 1027" samples/messenger-mix.pcapng', 'only the Messenger Service datagrams')
    .example('$0 read -Y \'ip.addr == 10.0.0.0/8 && !tcp.port in {80 443}\' samples/messenger-mix.pcapng', 'CIDR and sets, Wireshark syntax')
    .example('$0 read -Y \'expert.severity == "error"\' --fail-on-error samples/messenger-mix.pcapng', 'frames with spec violations; exit 1 if any')
    .example('$0 read --format ndjson samples/messenger-mix.pcapng | jq .fields', 'one JSON object per frame')
    .example('$0 read -r samples/messenger-mix.pcapng -Y smb -w smb-only.pcapng', 'save the selected frames (findings as packet comments)')
    .example('$0 read --parquet export/ samples/messenger-mix.pcapng', 'export/frames/date=…/protocol=…/*.parquet');
}

export async function readCommand(args: ReadArgs): Promise<void> {
  const limit = args.count;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new UsageError('-c takes a whole number of frames');
  const captures = captureList(args, 'read');
  const write = writeTarget(args, captures);
  const out = new Output();
  let writer: PcapngWriter | undefined;
  let runner: Runner;
  if (write === undefined && args.parquet === undefined) {
    runner = await runListing({ command: 'read', args, view: terminalView(args) }, captures, out);
  } else {
    // -w and --parquet write files in one pass over the captures in turn (--jobs does not apply).
    const sink = args.parquet !== undefined ? await packetParquetSink(args.parquet) : PACKET_SINKS[args.format](sinkSettings(out, args));
    const analyses: Analysis[] = [];
    if (write === undefined || args.print === true || args.parquet !== undefined) analyses.push(new PacketListing([sink]));
    if (write !== undefined) {
      writer = new PcapngWriter(write);
      analyses.push(new FrameExport(writer));
    }
    runner = makeRunner(analyses, args, { frameFilter: await packetFilter(args), frameLimit: limit, progress: true });
    await runner.run(fileSources(captures));
  }
  await out.close();
  if (writer !== undefined && write !== undefined && !args.quiet && !isStdout(write)) process.stderr.write(`msgscope: ${writer.count} frame(s) written to ${write}\n`);
  runner.settle(args['fail-on-error']);
}
