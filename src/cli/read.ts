// `msgscope read`: one summary line per frame like tshark, or the detail tree (-V), hex (-x),
// or one JSON object per frame.
import type { Argv } from 'yargs';
import type { Packet } from '../engine/packet.js';
import { Output } from '../output/writer.js';
import { makeStyle, wantColour } from '../output/style.js';
import { detailTree, hexView, packetJson, summaryColumns, summaryLine } from '../output/packet-view.js';
import { runCaptures, withCommonOptions, type CommonArgs, StopReading, UsageError } from './common.js';

export interface ReadArgs extends CommonArgs {
  captures: string[];
  verbose: boolean;
  hex: boolean;
  count?: number;
  wide: boolean;
}

export function readBuilder(y: Argv) {
  return withCommonOptions(y, ['text', 'json', 'ndjson'])
    .positional('captures', { type: 'string', array: true, demandOption: true, describe: 'pcap, pcapng, snoop or NetMon files (gzip ok), or - for stdin' })
    .option('verbose', { alias: 'V', type: 'boolean', default: false, describe: 'Detail tree of every layer and field' })
    .option('hex', { alias: 'x', type: 'boolean', default: false, describe: 'Hex and ASCII dump' })
    .option('count', { alias: 'c', type: 'number', describe: 'Stop after this many frames' })
    .option('wide', { alias: 'w', type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 read samples/smb-winpopup.pcap', 'summary lines')
    .example('$0 read -V -c 3 capture.pcapng', 'detail tree of the first three frames')
    .example('$0 read --format ndjson capture.pcap | jq .fields', 'one JSON object per frame');
}

export async function readCommand(args: ReadArgs): Promise<void> {
  const out = new Output();
  const style = makeStyle(wantColour(args.color));
  const width = args.wide || args.format !== 'text' || process.stdout.isTTY !== true ? undefined : process.stdout.columns;
  const limit = args.count;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new UsageError('-c takes a whole number of frames');
  let shown = 0;
  let firstArray = true;
  if (args.format === 'json') out.line('[');
  await runCaptures(args.captures, args, (file) => {
    let first: { tsSec: number; tsNsec: number } | undefined;
    const multi = args.captures.length > 1;
    return {
      packet: (packet: Packet) => {
        if (limit !== undefined && shown >= limit) throw new StopReading();
        first ??= { tsSec: packet.frame.tsSec, tsNsec: packet.frame.tsNsec };
        shown++;
        if (args.format === 'text') {
          if (args.verbose) out.line(detailTree(packet, style));
          else out.line(summaryLine(summaryColumns(packet, first), style, width));
          if (args.hex) out.line(`${args.verbose ? '' : '\n'}${hexView(packet)}\n`);
          else if (args.verbose) out.line('');
          return;
        }
        const obj = packetJson(packet, first, { tree: args.verbose, hex: args.hex });
        const text = JSON.stringify(multi ? { file, ...obj } : obj);
        if (args.format === 'ndjson') out.line(text);
        else {
          out.line(`${firstArray ? '' : ','}${text}`);
          firstArray = false;
        }
      },
    };
  });
  if (args.format === 'json') out.line(']');
  await out.close();
}
