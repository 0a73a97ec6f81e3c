// Timeline events as CSV: one header row, one row per event, cells made spreadsheet-safe.
import type { TimelineEvent } from '../../model/events.js';
import { CSV_COLUMNS, eventCsvRow } from '../event-view.js';
import type { Output } from '../writer.js';
import type { EventSink } from './types.js';

export class EventCsvSink implements EventSink {
  constructor(private readonly out: Output) {}

  begin(): void {
    this.out.line(CSV_COLUMNS.join(','));
  }

  event(event: TimelineEvent): void {
    this.out.line(eventCsvRow(event));
  }

  end(): void {}
}
