// Timeline events as Parquet (`timeline --parquet DIR`): one row per event, partitioned by day
// and protocol (DIR/events/date=…/protocol=…/data_0.parquet), through the shared Parquet export.
// The common keys and the message keys are columns; the whole event is kept as JSON text too, so
// no kind loses a key. Schema: docs/schema.md.
import type { TimelineEvent } from '../../model/events.js';
import type { FileInfo } from '../../runner/analysis.js';
import { endpointParts } from '../../runner/flow-ids.js';
import { timestamp } from '../duckdb.js';
import { jsonText } from '../escape.js';
import { eventJson } from '../event-view.js';
import { ParquetTableWriter } from '../parquet-export.js';
import type { EventSink } from './types.js';

const EVENTS_TABLE = `CREATE TABLE events (capture VARCHAR, uid VARCHAR, community_id VARCHAR, kind VARCHAR, time TIMESTAMP, frame INTEGER, frames INTEGER[],
  protocol VARCHAR, transport VARCHAR, src VARCHAR, dst VARCHAR, src_ip VARCHAR, src_port INTEGER, dst_ip VARCHAR, dst_port INTEGER,
  from_name VARCHAR, to_names VARCHAR[], text VARCHAR, status VARCHAR, error VARCHAR, findings VARCHAR[], event VARCHAR)`;

export class EventParquetSink implements EventSink {
  private constructor(private readonly writer: ParquetTableWriter) {}

  /** Opens the scratch database now, so a problem shows before any capture is read. */
  static async open(dir: string): Promise<EventParquetSink> {
    return new EventParquetSink(await ParquetTableWriter.open(dir, 'events', EVENTS_TABLE));
  }

  begin(): void {}

  event(event: TimelineEvent, file: FileInfo): void {
    const src = endpointParts(event.src);
    const dst = endpointParts(event.dst);
    const message = event.kind === 'message' ? event : undefined;
    const notice = event.kind === 'notice' ? event : undefined;
    this.writer.add([
      file.path, event.uid, event.communityId, event.kind, timestamp(event.tsSec * 1e6 + Math.floor(event.tsNsec / 1000)), event.frames[0], event.frames,
      event.protocol, event.transport, event.src, event.dst, src?.ip, src?.port, dst?.ip, dst?.port,
      message?.from ?? notice?.from, message?.to ?? notice?.to, message?.text, message?.status ?? (event.kind === 'presence' ? event.status : undefined), message?.error,
      event.findings.map((f) => f.id), jsonText(eventJson(event)),
    ]);
  }

  end(): Promise<void> {
    return this.writer.finish();
  }
}
