// Timeline events as aligned text lines for people (colour on a terminal).
import type { TimelineEvent } from '../../model/events.js';
import { eventTextLine } from '../event-view.js';
import { ColumnWidths } from '../packet-view.js';
import type { Style } from '../style.js';
import type { FileInfo } from '../../runner/analysis.js';
import { TimeColumn, type TimeFormat } from '../time-format.js';
import type { Output } from '../writer.js';
import type { EventSink } from './types.js';

export class EventTextSink implements EventSink {
  private readonly clock: TimeColumn | undefined;
  // Time, protocol and kind columns only grow, so the lines stay aligned (-t r past 27 hours,
  // long names); afresh with each capture, as read's, so a capture's lines do not depend on the
  // ones before it (--jobs).
  private widths = new ColumnWidths();
  private widthsFile = -1;

  /** `time`: tshark's -t; undefined for the date and time in UTC. */
  constructor(private readonly out: Output, private readonly style: Style, private readonly width: number | undefined, time?: TimeFormat) {
    this.clock = time === undefined ? undefined : new TimeColumn(time);
  }

  begin(): void {}

  event(event: TimelineEvent, file: FileInfo): void {
    if (file.index !== this.widthsFile) {
      this.widthsFile = file.index;
      this.widths = new ColumnWidths();
      // The time column is as wide as its first value (no padding of its own), then grows.
      this.widths.time = 0;
    }
    this.out.line(eventTextLine(event, this.style, this.width, this.clock?.text(event, file.start ?? event), this.widths));
  }

  end(): void {}
}
