// Frames as text: tshark's summary line, or the detail tree (-V), with a hex dump (-x).
import type { Packet } from '../../model/packet.js';
import type { FileInfo } from '../../runner/analysis.js';
import type { Severity } from '../../model/findings.js';
import { ColumnWidths, detailTree, frameSummary, hexView, summaryColumnsOf, summaryLine, worstSeverity, writeFrameSummary, writeSummaryLine, type FrameSummary } from '../packet-view.js';
import type { Style } from '../style.js';
import { TimeColumn, type Instant, type TimeFormat } from '../time-format.js';
import type { Output } from '../writer.js';
import type { FrameTextSink } from './types.js';

export interface PacketTextOptions {
  readonly style: Style;
  /** Terminal width to cut summary lines to; undefined for no cut. */
  readonly width: number | undefined;
  readonly verbose: boolean;
  readonly hex: boolean;
  /** tshark's -t; undefined: seconds since the first frame (r). */
  readonly time?: TimeFormat;
}

export class PacketTextSink implements FrameTextSink {
  private readonly clock: TimeColumn | undefined;
  // Widths start afresh with each capture, so a capture's lines do not depend on the ones before
  // it (and --jobs N, one capture per worker, writes what --jobs 1 writes).
  private widths = new ColumnWidths();
  private sizedFile = -1;
  /** The summary of the frame being written (one object, reused). */
  private readonly scratch = { number: 0, tsSec: 0, tsNsec: 0, len: 0, src: '', dst: '', protocol: '', info: '' };

  constructor(private readonly out: Output, private readonly options: PacketTextOptions) {
    this.clock = options.time === undefined ? undefined : new TimeColumn(options.time);
  }

  begin(): void {}

  packet(packet: Packet, file: FileInfo): void {
    const { style, verbose, hex } = this.options;
    if (verbose) {
      // As frameText, without joining the tree to what follows it: one copy of the text fewer
      // (read -V of spam-250k 3% less CPU than through frameText, alternating runs).
      this.out.line(detailTree(packet, style));
      this.out.line(hex ? `${hexView(packet)}\n` : '');
      return;
    }
    this.summary(frameSummary(packet, this.scratch), packet.frame, style.plain === true ? undefined : worstSeverity(packet), file);
    if (hex) this.out.line(`\n${hexView(packet)}\n`);
  }

  /**
   * With -V, a frame's detail tree (and hex dump, with -x) and the blank line after it, but the
   * last newline: one frame's text stands alone. (Summary lines do not: their columns are as wide
   * as the capture's widest, see `row`.)
   */
  frameText(packet: Packet): string {
    const tree = detailTree(packet, this.options.style);
    return this.options.hex ? `${tree}\n${hexView(packet)}\n` : `${tree}\n`;
  }

  writeFrameBytes(bytes: Uint8Array): void {
    this.out.lineBytes(bytes);
  }

  /**
   * A frame's summary line (and hex dump, with -x) from what a lane of a capture split by flow
   * made of it: the same bytes `packet` writes (not with -V).
   */
  row(frame: FrameSummary, severity: Severity | undefined, hex: string | undefined, file: FileInfo): void {
    this.summary(frame, { tsSec: frame.tsSec, tsNsec: frame.tsNsec }, severity, file);
    if (hex !== undefined) this.out.line(`\n${hex}\n`);
  }

  /** `time`: the frame's time, kept by the -t delta formats (not the reused `frame`). */
  private summary(frame: FrameSummary, time: Instant, severity: Severity | undefined, file: FileInfo): void {
    const { style, width } = this.options;
    if (this.sizedFile !== file.index) this.sizeNumberColumn(file);
    const first = file.start ?? time;
    // Without colour or a width to cut to (a pipe or a file), the line is written in pieces.
    if (style.plain === true && width === undefined) {
      if (this.clock === undefined) writeFrameSummary(this.out, frame, first, this.widths);
      else writeSummaryLine(this.out, summaryColumnsOf(frame, first, this.clock.text(time, first)), this.widths);
    } else this.out.line(summaryLine(summaryColumnsOf(frame, first, this.clock?.text(time, first)), style, width, severity, this.widths));
  }

  end(): void {}

  /**
   * A capture file holds at most one frame per 16 bytes (the smallest pcap record header), so
   * its size bounds the frame numbers: the number column is that wide from the first line. A
   * pipe, a compressed file or an interface has no such bound; the column then grows as needed.
   */
  private sizeNumberColumn(file: FileInfo): void {
    this.sizedFile = file.index;
    this.widths = new ColumnWidths();
    if (file.size !== undefined && !/\.(gz|zst|xz|bz2)$/i.test(file.path)) this.widths.expectFrames(file.size / 16);
  }
}
