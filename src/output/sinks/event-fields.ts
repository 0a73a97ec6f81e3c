// Timeline events as tshark's `-T fields`: one line per event with the `-e` event fields' values.
import { EventFieldReader } from '../../filter/event-fields.js';
import type { TimelineEvent } from '../../model/events.js';
import { fieldsLine, fieldsPreamble, fieldText, type FieldsSelection } from '../fields-text.js';
import type { Output } from '../writer.js';
import type { EventSink } from './types.js';

export class EventFieldsSink implements EventSink {
  private readonly reader: EventFieldReader;

  constructor(private readonly out: Output, private readonly selection: FieldsSelection) {
    this.reader = new EventFieldReader(selection.names);
  }

  begin(): void {
    const first = fieldsPreamble(this.selection);
    if (first !== undefined) this.out.line(first);
  }

  event(event: TimelineEvent): void {
    const cells = this.reader.read(event).map((values) => values.map((v) => fieldText(undefined, v)));
    this.out.line(fieldsLine(cells, this.selection.options));
  }

  end(): void {}
}
