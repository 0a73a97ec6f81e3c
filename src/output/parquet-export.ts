// Parquet exports (`--parquet DIR` of audit, timeline and read): rows go into a scratch DuckDB
// file through appenders (data, never SQL text), then each export query is written with
// COPY … (FORMAT PARQUET, PARTITION_BY (date, protocol)) into hive-style directories under DIR.
// The scratch file lives in the system's temporary directory and is removed at the end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBAppender } from '@duckdb/node-api';
import { appendRow, Database, type Cell } from './duckdb.js';

export interface ParquetExportSpec {
  /** Directory (partitioned) or file stem under DIR. */
  readonly name: string;
  /** The rows to write; a partitioned export has `date` and `protocol` columns. */
  readonly query: string;
  readonly partitioned: boolean;
}

export class ParquetScratch {
  private constructor(private readonly scratch: string, readonly db: Database) {}

  /** A fresh scratch database with the given tables (fixed DDL, never data). */
  static async open(tables: readonly string[]): Promise<ParquetScratch> {
    const scratch = mkdtempSync(join(tmpdir(), 'msgscope-parquet-'));
    let db: Database | undefined;
    try {
      db = await Database.open(join(scratch, 'export.duckdb'));
      for (const sql of tables) await db.run(sql);
      return new ParquetScratch(scratch, db);
    } catch (err) {
      db?.close();
      rmSync(scratch, { recursive: true, force: true });
      throw err;
    }
  }

  appender(table: string): Promise<DuckDBAppender> {
    return this.db.appender(table);
  }

  /** Writes every export under `dir` (`dir/<name>/date=…/protocol=…/data_0.parquet` or `dir/<name>.parquet`), replacing earlier ones. */
  async export(dir: string, exports: readonly ParquetExportSpec[]): Promise<void> {
    for (const e of exports) {
      const target = join(dir, e.partitioned ? e.name : `${e.name}.parquet`);
      rmSync(target, { recursive: true, force: true });
      await this.db.copyToParquet(e.query, target, e.partitioned ? ['date', 'protocol'] : []);
    }
  }

  /** Closes and removes the scratch database. */
  close(): void {
    try {
      this.db.close();
    } finally {
      rmSync(this.scratch, { recursive: true, force: true });
    }
  }
}

/**
 * One table written row by row and exported partitioned by date and protocol at the end
 * (`dir/<table>/date=…/protocol=…/`): the whole of `read --parquet` and `timeline --parquet`.
 * The table needs a `time` TIMESTAMP and a `protocol` column.
 */
export class ParquetTableWriter {
  private constructor(private readonly dir: string, private readonly table: string, private readonly scratch: ParquetScratch, private readonly rows: DuckDBAppender) {}

  /** Opens the scratch database now, so a problem shows before any capture is read. */
  static async open(dir: string, table: string, ddl: string): Promise<ParquetTableWriter> {
    const scratch = await ParquetScratch.open([ddl]);
    try {
      return new ParquetTableWriter(dir, table, scratch, await scratch.appender(table));
    } catch (err) {
      scratch.close();
      throw err;
    }
  }

  add(cells: readonly Cell[]): void {
    appendRow(this.rows, cells);
  }

  async finish(): Promise<void> {
    try {
      this.rows.closeSync();
      await this.scratch.export(this.dir, [{ name: this.table, query: `SELECT *, CAST(time AS DATE) AS date FROM ${this.table}`, partitioned: true }]);
    } finally {
      this.scratch.close();
    }
  }
}
