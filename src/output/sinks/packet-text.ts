// Frames as text: tshark's summary line, or the detail tree (-V), with a hex dump (-x).
import type { Packet } from '../../model/packet.js';
import type { FileInfo } from '../../runner/analysis.js';
import { detailTree, hexView, summaryColumns, summaryLine, worstSeverity } from '../packet-view.js';
import type { Style } from '../style.js';
import type { Output } from '../writer.js';
import type { PacketSink } from './types.js';

export interface PacketTextOptions {
  readonly style: Style;
  /** Terminal width to cut summary lines to; undefined for no cut. */
  readonly width: number | undefined;
  readonly verbose: boolean;
  readonly hex: boolean;
}

export class PacketTextSink implements PacketSink {
  constructor(private readonly out: Output, private readonly options: PacketTextOptions) {}

  begin(): void {}

  packet(packet: Packet, file: FileInfo): void {
    const { style, width, verbose, hex } = this.options;
    if (verbose) this.out.line(detailTree(packet, style));
    else this.out.line(summaryLine(summaryColumns(packet, file.start ?? packet.frame), style, width, worstSeverity(packet)));
    if (hex) this.out.line(`${verbose ? '' : '\n'}${hexView(packet)}\n`);
    else if (verbose) this.out.line('');
  }

  end(): void {}
}
