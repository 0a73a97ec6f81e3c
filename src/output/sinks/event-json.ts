// Timeline events as JSON: one array (json) or one object per line (ndjson). Schema:
// docs/schema.md.
import { displayName } from '../../capture/display-name.js';
import type { TimelineEvent } from '../../model/events.js';
import type { FileInfo } from '../../runner/analysis.js';
import { eventJson } from '../event-view.js';
import type { Output } from '../writer.js';
import type { EventSink } from './types.js';
import { jsonText } from '../escape.js';

/** One event as one line of JSON; with several captures it names its file first. */
export function eventJsonLine(event: TimelineEvent, file: FileInfo): string {
  const obj = eventJson(event);
  return jsonText(file.multi ? { file: displayName(file.path), ...obj } : obj);
}

export class EventJsonSink implements EventSink {
  private count = 0;

  /** @param lines one object per line (ndjson) instead of one array (json) */
  constructor(private readonly out: Output, private readonly lines: boolean) {}

  begin(): void {
    if (!this.lines) this.out.line('[');
  }

  event(event: TimelineEvent, file: FileInfo): void {
    const text = eventJsonLine(event, file);
    this.out.line(!this.lines && this.count > 0 ? `,${text}` : text);
    this.count++;
  }

  end(): void {
    if (!this.lines) this.out.line(']');
  }
}
