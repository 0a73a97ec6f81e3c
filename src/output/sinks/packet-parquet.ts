// Frames as Parquet (`read --parquet DIR`): one row per frame the filter selected, partitioned by
// day and Protocol column (DIR/frames/date=…/protocol=SMB/data_0.parquet), through the shared
// Parquet export. The decoded fields are kept as the JSON text `read --format ndjson` prints for
// them. Schema: docs/schema.md.
import type { Packet } from '../../model/packet.js';
import type { FileInfo } from '../../runner/analysis.js';
import { timestamp } from '../duckdb.js';
import { jsonSafe } from '../escape.js';
import { flatFieldsText, summaryColumns } from '../packet-view.js';
import { ParquetTableWriter } from '../parquet-export.js';
import type { PacketSink } from './types.js';

const FRAMES_TABLE = `CREATE TABLE frames (capture VARCHAR, frame INTEGER, time TIMESTAMP, time_relative DOUBLE, caplen INTEGER, len INTEGER, interface INTEGER,
  layers VARCHAR[], src VARCHAR, dst VARCHAR, protocol VARCHAR, info VARCHAR, findings VARCHAR[], fields VARCHAR)`;

export class PacketParquetSink implements PacketSink {
  private constructor(private readonly writer: ParquetTableWriter) {}

  /** Opens the scratch database now, so a problem shows before any capture is read. */
  static async open(dir: string): Promise<PacketParquetSink> {
    return new PacketParquetSink(await ParquetTableWriter.open(dir, 'frames', FRAMES_TABLE));
  }

  begin(): void {}

  packet(packet: Packet, file: FileInfo): void {
    const frame = packet.frame;
    const columns = summaryColumns(packet, file.start ?? frame);
    this.writer.add([
      file.path, frame.number, timestamp(frame.tsSec * 1e6 + Math.floor(frame.tsNsec / 1000)), Number(columns.time), frame.caplen, frame.len, frame.interfaceId,
      packet.layers.map((l) => l.name), packet.src, packet.dst, columns.protocol, columns.info, packet.findings.map((f) => f.id), jsonSafe(flatFieldsText(packet)),
    ]);
  }

  end(): Promise<void> {
    return this.writer.finish();
  }
}
