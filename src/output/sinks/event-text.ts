// Timeline events as aligned text lines for people (colour on a terminal).
import type { TimelineEvent } from '../../model/events.js';
import { eventTextLine } from '../event-view.js';
import type { Style } from '../style.js';
import type { Output } from '../writer.js';
import type { EventSink } from './types.js';

export class EventTextSink implements EventSink {
  constructor(private readonly out: Output, private readonly style: Style, private readonly width: number | undefined) {}

  begin(): void {}

  event(event: TimelineEvent): void {
    this.out.line(eventTextLine(event, this.style, this.width));
  }

  end(): void {}
}
