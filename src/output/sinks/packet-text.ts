// Frames as text: tshark's summary line, or the detail tree (-V), with a hex dump (-x).
import type { Packet } from '../../model/packet.js';
import type { FileInfo } from '../../runner/analysis.js';
import { detailTree, hexView, summaryColumns, summaryLine, worstSeverity } from '../packet-view.js';
import type { Style } from '../style.js';
import { TimeColumn, type TimeFormat } from '../time-format.js';
import type { Output } from '../writer.js';
import type { PacketSink } from './types.js';

export interface PacketTextOptions {
  readonly style: Style;
  /** Terminal width to cut summary lines to; undefined for no cut. */
  readonly width: number | undefined;
  readonly verbose: boolean;
  readonly hex: boolean;
  /** tshark's -t; undefined: seconds since the first frame (r). */
  readonly time?: TimeFormat;
}

export class PacketTextSink implements PacketSink {
  private readonly clock: TimeColumn | undefined;

  constructor(private readonly out: Output, private readonly options: PacketTextOptions) {
    this.clock = options.time === undefined ? undefined : new TimeColumn(options.time);
  }

  begin(): void {}

  packet(packet: Packet, file: FileInfo): void {
    const { style, width, verbose, hex } = this.options;
    if (verbose) this.out.line(detailTree(packet, style));
    else {
      const first = file.start ?? packet.frame;
      const columns = summaryColumns(packet, first);
      const time = this.clock?.text(packet.frame, first) ?? columns.time;
      this.out.line(summaryLine({ ...columns, time }, style, width, worstSeverity(packet)));
    }
    if (hex) this.out.line(`${verbose ? '' : '\n'}${hexView(packet)}\n`);
    else if (verbose) this.out.line('');
  }

  end(): void {}
}
