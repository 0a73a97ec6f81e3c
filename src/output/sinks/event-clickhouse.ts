// Timeline events into ClickHouse (`timeline --sink clickhouse://…`): one row per event in the
// `events` table, batched and spooled by src/output/clickhouse.ts. Schema: docs/schema.md.
import type { TimelineEvent } from '../../model/events.js';
import type { FileInfo } from '../../runner/analysis.js';
import type { ClickHouseSink } from '../clickhouse.js';
import { jsonText } from '../escape.js';
import { eventJson } from '../event-view.js';
import type { EventSink } from './types.js';

export class EventClickHouseSink implements EventSink {
  private seq = 0;

  /** @param hashes SHA-256 of each capture of the run, by index */
  constructor(private readonly sink: ClickHouseSink, private readonly runId: string, private readonly hashes: readonly string[]) {}

  begin(): void {}

  event(event: TimelineEvent, file: FileInfo): void {
    const message = event.kind === 'message' ? event : undefined;
    const notice = event.kind === 'notice' ? event : undefined;
    this.sink.add({
      run_id: this.runId,
      capture: file.path,
      capture_sha256: this.hashes[file.index] ?? '',
      seq: this.seq++,
      frame: event.frames[0] ?? 0,
      frames: event.frames,
      time: event.tsSec,
      time_us: Math.floor(event.tsNsec / 1000),
      kind: event.kind,
      protocol: event.protocol,
      transport: event.transport,
      src: event.src,
      dst: event.dst,
      uid: event.uid,
      community_id: event.communityId,
      from_name: message?.from ?? notice?.from,
      to_names: message?.to ?? notice?.to,
      text: message?.text,
      status: message?.status ?? (event.kind === 'presence' ? event.status : undefined),
      error: message?.error,
      findings: event.findings.map((f) => f.id),
      event: jsonText(eventJson(event)),
    });
  }

  end(): Promise<void> {
    return this.sink.close();
  }
}
