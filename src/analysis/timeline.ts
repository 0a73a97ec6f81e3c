// The timeline (`timeline`, `live --view timeline`): every event, in frame order (the runner's
// reorder window), handed to the sinks as it comes.
import type { TimelineEvent } from '../model/events.js';
import type { EventSink } from '../output/sinks/index.js';
import type { Analysis, FileInfo } from '../runner/analysis.js';

export class Timeline implements Analysis {
  constructor(private readonly sinks: readonly EventSink[]) {}

  start(): void {
    for (const sink of this.sinks) sink.begin();
  }

  event(event: TimelineEvent, file: FileInfo): void {
    for (const sink of this.sinks) sink.event(event, file);
  }

  async finish(): Promise<void> {
    for (const sink of this.sinks) await sink.end();
  }
}
