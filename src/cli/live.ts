// `msgscope live`: the read or timeline view on live traffic, optionally saved as pcapng.
import type { Argv } from 'yargs';
import type { Frame } from '../capture/frame.js';
import { listInterfaces, LiveCaptureUnavailable, startLive } from '../capture/live.js';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import { Engine } from '../engine/engine.js';
import { defaultProtocols } from '../protocols/index.js';
import { Output } from '../output/writer.js';
import { makeStyle, wantColour } from '../output/style.js';
import { packetJson, summaryColumns, summaryLine, detailTree, worstSeverity } from '../output/packet-view.js';
import { TimelinePrinter } from './timeline.js';
import { engineOptions, ErrorTally, packetFilter, UsageError, withCommonOptions, withFilterOptions, type CommonArgs } from './common.js';

export interface LiveArgs extends CommonArgs {
  interface?: string;
  filter: string;
  write?: string;
  list: boolean;
  view: 'read' | 'timeline';
  verbose: boolean;
  count?: number;
  duration?: number;
  wide?: boolean;
}

export function liveBuilder(y: Argv) {
  return withFilterOptions(withCommonOptions(y, ['text', 'json', 'ndjson', 'csv']), 'frames')
    .option('interface', { alias: 'i', type: 'string', describe: 'Interface to capture on' })
    .option('filter', { alias: 'f', type: 'string', default: '', describe: 'Capture filter (BPF syntax, as tcpdump)' })
    .option('write', { alias: 'w', type: 'string', describe: 'Also save the captured frames to this pcapng file' })
    .option('list', { alias: 'D', type: 'boolean', default: false, describe: 'List the interfaces and exit' })
    .option('view', { choices: ['read', 'timeline'] as const, default: 'read' as const, describe: 'Per-frame lines, or the messenger timeline' })
    .option('verbose', { alias: 'V', type: 'boolean', default: false, describe: 'Detail tree (read view)' })
    .option('count', { alias: 'c', type: 'number', describe: 'Stop after this many frames' })
    .option('duration', { alias: 'a', type: 'number', describe: 'Stop after this many seconds' })
    .option('wide', { type: 'boolean', default: false, describe: 'Do not cut lines to the terminal width' })
    .example('$0 live -i eth0 -f "port 139 or udp port 1026"', 'watch messenger traffic')
    .example('$0 live -i lo --view timeline -w out.pcapng', 'timeline of live traffic, saved')
    .example('$0 live -i eth0 -Y \'udp.port in {1026 1027}\'', 'display filter on the read view')
    .example('$0 live -i eth0 --view timeline -Y \'kind == "message"\'', 'event filter on the timeline view');
}

export async function liveCommand(args: LiveArgs): Promise<void> {
  try {
    await live(args);
  } catch (err) {
    if (err instanceof LiveCaptureUnavailable) throw new UsageError(err.message);
    throw err;
  }
}

async function live(args: LiveArgs): Promise<void> {
  const out = new Output();
  if (args.list) {
    for (const dev of listInterfaces()) {
      const addrs = dev.addresses.map((a) => a.addr).filter((a) => a !== undefined).join(', ');
      out.line(`${dev.name}${dev.description ? ` (${dev.description})` : ''}${addrs ? `  ${addrs}` : ''}`);
    }
    await out.close();
    return;
  }
  if (args.interface === undefined) throw new UsageError('live needs -i <interface> (or --list)');
  if (args.view === 'read' && args.format === 'csv') throw new UsageError('csv is available for the timeline view only');
  const style = makeStyle(wantColour(args.color));
  // -Y filters frames on the read view and events on the timeline view.
  const printer = args.view === 'timeline' ? new TimelinePrinter(out, args) : undefined;
  const filter = args.view === 'read' ? packetFilter(args) : undefined;
  const tally = printer?.tally ?? new ErrorTally();
  const width = args.wide === true || args.format !== 'text' || process.stdout.isTTY !== true ? undefined : process.stdout.columns;
  printer?.begin();
  let first: { tsSec: number; tsNsec: number } | undefined;
  const engine = new Engine(
    {
      packet: (packet) => {
        if (args.view !== 'read') return;
        first ??= { tsSec: packet.frame.tsSec, tsNsec: packet.frame.tsNsec };
        if (filter !== undefined && !filter.match(packet)) return;
        tally.add(packet.findings);
        if (args.format === 'text') out.line(args.verbose ? `${detailTree(packet, style)}\n` : summaryLine(summaryColumns(packet, first), style, width, worstSeverity(packet)));
        else out.line(JSON.stringify(packetJson(packet, first, { tree: args.verbose, hex: false })));
        out.flush();
      },
      event: (event) => {
        if (printer === undefined) return;
        if (printer.event(event)) out.flush();
      },
    },
    engineOptions(args),
    defaultProtocols(),
  );
  let seen = 0;
  let writer: PcapngWriter | undefined;
  await new Promise<void>((resolve, reject) => {
    let stopped = false;
    const session = startLive(args.interface!, args.filter, (frame: Frame) => {
      if (stopped) return;
      seen++;
      writer?.packet(frame.tsSec, frame.tsNsec, frame.data, frame.len);
      try {
        engine.frame(frame);
      } catch (err) {
        reject(err);
      }
      if (args.count !== undefined && seen >= args.count) stop();
    });
    if (args.write !== undefined) writer = new PcapngWriter(args.write, session.linkType, args.interface!);
    const timer = args.duration !== undefined ? setTimeout(stop, args.duration * 1000) : undefined;
    function stop(): void {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      session.stop();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    }
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  engine.finish();
  writer?.close();
  printer?.end();
  await out.close();
  tally.settle(args);
  if (!args.quiet) {
    process.stderr.write(`msgscope: ${seen} frame(s) captured on ${args.interface}; kernel drops: not reported (the cap module does not expose pcap_stats)\n`);
  }
}
