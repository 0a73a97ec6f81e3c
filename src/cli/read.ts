// `msgscope read`: one summary line per frame like tshark, or the detail tree (-V), hex (-x),
// or one JSON object per frame.
import type { Argv } from 'yargs';
import type { Packet } from '../model/packet.js';
import { Output } from '../output/writer.js';
import { makeStyle, wantColour } from '../output/style.js';
import { detailTree, hexView, packetJsonText, summaryColumns, summaryLine, worstSeverity } from '../output/packet-view.js';
import { ErrorTally, packetFilter, runCaptures, withCommonOptions, withFilterOptions, type CommonArgs, StopReading, UsageError } from './common.js';

export interface ReadArgs extends CommonArgs {
  captures: string[];
  verbose: boolean;
  hex: boolean;
  count?: number;
  wide: boolean;
}

export function readBuilder(y: Argv) {
  return withFilterOptions(withCommonOptions(y, ['text', 'json', 'ndjson']), 'frames')
    .positional('captures', { type: 'string', array: true, demandOption: true, describe: 'pcap, pcapng, snoop or NetMon files (gzip ok), or - for stdin' })
    .option('verbose', { alias: 'V', type: 'boolean', default: false, describe: 'Detail tree of every layer and field' })
    .option('hex', { alias: 'x', type: 'boolean', default: false, describe: 'Hex and ASCII dump' })
    .option('count', { alias: 'c', type: 'number', describe: 'Stop after this many frames (shown frames, when -Y is given)' })
    .option('wide', { alias: 'w', type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 read samples/smb-winpopup.pcap', 'summary lines')
    .example('$0 read -V -c 3 capture.pcapng', 'detail tree of the first three frames')
    .example('$0 read -Y "udp.port == 1026 || udp.port == 1027" capture.pcap', 'only the Messenger Service datagrams')
    .example('$0 read -Y \'ip.addr == 10.0.0.0/8 && !tcp.port in {80 443}\' capture.pcap', 'CIDR and sets, Wireshark syntax')
    .example('$0 read -Y \'expert.severity == "error"\' --fail-on-error capture.pcap', 'frames with spec violations; exit 1 if any')
    .example('$0 read --format ndjson capture.pcap | jq .fields', 'one JSON object per frame');
}

export async function readCommand(args: ReadArgs): Promise<void> {
  const out = new Output();
  const style = makeStyle(wantColour(args.color));
  const width = args.wide || args.format !== 'text' || process.stdout.isTTY !== true ? undefined : process.stdout.columns;
  const limit = args.count;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new UsageError('-c takes a whole number of frames');
  const filter = packetFilter(args);
  const tally = new ErrorTally();
  let shown = 0;
  let firstArray = true;
  if (args.format === 'json') out.line('[');
  // Progress only when the lines go to a file or a pipe: on a terminal they show progress themselves.
  const progress = process.stdout.isTTY !== true;
  await runCaptures(args.captures, args, (file) => {
    let first: { tsSec: number; tsNsec: number } | undefined;
    const multi = args.captures.length > 1;
    filter?.reset();
    return {
      packet: (packet: Packet) => {
        if (limit !== undefined && shown >= limit) throw new StopReading();
        // Relative times count from the file's first frame, shown or not (as tshark).
        first ??= { tsSec: packet.frame.tsSec, tsNsec: packet.frame.tsNsec };
        if (filter !== undefined && !filter.match(packet)) return;
        shown++;
        if (packet.findings.length > 0) tally.add(packet.findings);
        if (args.format === 'text') {
          if (args.verbose) out.line(detailTree(packet, style));
          else out.line(summaryLine(summaryColumns(packet, first), style, width, worstSeverity(packet)));
          if (args.hex) out.line(`${args.verbose ? '' : '\n'}${hexView(packet)}\n`);
          else if (args.verbose) out.line('');
          return;
        }
        const text = packetJsonText(packet, first, { tree: args.verbose, hex: args.hex }, multi ? file : undefined);
        if (args.format === 'ndjson') out.line(text);
        else {
          out.line(`${firstArray ? '' : ','}${text}`);
          firstArray = false;
        }
      },
    };
  }, undefined, { progress });
  if (args.format === 'json') out.line(']');
  await out.close();
  tally.settle(args);
}
