// Frames as Parquet (`read --parquet DIR`): one row per frame the filter selected, partitioned by
// day and Protocol column (DIR/frames/date=…/protocol=SMB/data_0.parquet), through the shared
// Parquet export. The decoded fields are kept as the JSON text `read --format ndjson` prints for
// them. Schema: docs/schema.md.
import type { DuckDBAppender } from '@duckdb/node-api';
import type { Packet } from '../../model/packet.js';
import type { FileInfo } from '../../runner/analysis.js';
import { appendRow, timestamp } from '../duckdb.js';
import { jsonSafe } from '../escape.js';
import { flatFieldsText, summaryColumns } from '../packet-view.js';
import { ParquetScratch } from '../parquet-export.js';
import type { PacketSink } from './types.js';

const FRAMES_TABLE = `CREATE TABLE frames (capture VARCHAR, frame INTEGER, time TIMESTAMP, time_relative DOUBLE, caplen INTEGER, len INTEGER, interface INTEGER,
  layers VARCHAR[], src VARCHAR, dst VARCHAR, protocol VARCHAR, info VARCHAR, findings VARCHAR[], fields VARCHAR)`;

export class PacketParquetSink implements PacketSink {
  private constructor(private readonly dir: string, private readonly scratch: ParquetScratch, private readonly rows: DuckDBAppender) {}

  /** Opens the scratch database now, so a problem shows before any capture is read. */
  static async open(dir: string): Promise<PacketParquetSink> {
    const scratch = await ParquetScratch.open([FRAMES_TABLE]);
    return new PacketParquetSink(dir, scratch, await scratch.appender('frames'));
  }

  begin(): void {}

  packet(packet: Packet, file: FileInfo): void {
    const frame = packet.frame;
    const columns = summaryColumns(packet, file.start ?? frame);
    appendRow(this.rows, [
      file.path, frame.number, timestamp(frame.tsSec * 1e6 + Math.floor(frame.tsNsec / 1000)), Number(columns.time), frame.caplen, frame.len, frame.interfaceId,
      packet.layers.map((l) => l.name), packet.src, packet.dst, columns.protocol, columns.info, packet.findings.map((f) => f.id), jsonSafe(flatFieldsText(packet)),
    ]);
  }

  async end(): Promise<void> {
    try {
      this.rows.closeSync();
      await this.scratch.export(this.dir, [{ name: 'frames', query: 'SELECT *, CAST(time AS DATE) AS date FROM frames', partitioned: true }]);
    } finally {
      this.scratch.close();
    }
  }
}
