// DuckDB for msgscope's outputs (audit history, Parquet exports): opening a database file with
// errors a person can act on, transactions, appenders, and COPY to partitioned Parquet. Values
// from captures always go in as data — appender cells or bound parameters — never into SQL text.
import { DuckDBInstance, listValue, timestampValue, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

import { DatabaseError } from './output-errors.js';

export { DatabaseError };

/** Turns DuckDB's messages into one line naming the file. */
export function databaseError(path: string, err: unknown): DatabaseError {
  const text = (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
  let what: string;
  if (/Could not set lock|Conflicting lock/i.test(text)) {
    const pid = /PID (\d+)/.exec(text)?.[1];
    what = `in use by another process${pid !== undefined ? ` (pid ${pid})` : ''}; try again when it has finished`;
  } else if (/not a valid DuckDB database/i.test(text)) what = 'not a DuckDB database';
  else if (/checksum|Corrupt|corrupted|invalid block|Failed to read/i.test(text)) what = `corrupt database (${text.replace(/^[A-Za-z ]*Error: /, '')})`;
  else if (/version|storage format/i.test(text) && /(newer|older|created with|incompatible|upgrade)/i.test(text)) what = `written by an incompatible DuckDB version (${text.replace(/^[A-Za-z ]*Error: /, '')})`;
  else if (/No such file or directory|Permission denied|Read-only|Cannot open/i.test(text)) what = `cannot open (${text.replace(/^[A-Za-z ]*Error: /, '')})`;
  else what = text.replace(/^[A-Za-z ]*Error: /, '');
  return new DatabaseError(`${path}: ${what}`);
}

export type Row = Record<string, unknown>;

/** A cell for appendRow: plain values, lists, or DuckDB values as they are. */
export type Cell = string | number | boolean | null | undefined | readonly string[] | readonly number[] | DuckDBValue;

/** A TIMESTAMP value from microseconds since the epoch. */
export function timestamp(micros: number): DuckDBValue {
  return timestampValue(BigInt(Math.round(micros)));
}

/** Appends one row, each cell converted to its column's type (undefined and null are NULL). */
export function appendRow(a: DuckDBAppender, cells: readonly Cell[]): void {
  cells.forEach((cell, i) => {
    const type = a.columnType(i);
    if (cell === undefined || cell === null) a.appendNull();
    else if (Array.isArray(cell)) a.appendValue(listValue([...(cell as readonly (string | number)[])]), type);
    else if (typeof cell === 'number' && /INT/.test(type.toString()) && type.toString() !== 'INTEGER') a.appendValue(BigInt(cell), type);
    else a.appendValue(cell as DuckDBValue, type);
  });
  a.endRow();
}

export class Database {
  private inTransaction = false;

  private constructor(readonly path: string, private readonly instance: DuckDBInstance, private readonly conn: DuckDBConnection) {}

  /** Opens (or creates) a database file, or an in-memory one for ':memory:'. */
  static async open(path: string): Promise<Database> {
    let instance: DuckDBInstance | undefined;
    try {
      instance = await DuckDBInstance.create(path);
      const conn = await instance.connect();
      return new Database(path, instance, conn);
    } catch (err) {
      instance?.closeSync();
      throw databaseError(path, err);
    }
  }

  /** Runs a statement with bound parameters ($1, $2, …). */
  async run(sql: string, params: DuckDBValue[] = []): Promise<void> {
    try {
      await this.conn.run(sql, params);
    } catch (err) {
      throw databaseError(this.path, err);
    }
  }

  /** Rows of a query as plain objects (JSON-friendly: BIGINTs as numbers where they fit, lists as arrays). */
  async all(sql: string, params: DuckDBValue[] = []): Promise<Row[]> {
    try {
      const reader = await this.conn.runAndReadAll(sql, params);
      return reader.getRowObjectsJS() as Row[];
    } catch (err) {
      throw databaseError(this.path, err);
    }
  }

  /** An appender for bulk inserts into `table` (a fixed identifier, never data). */
  async appender(table: string): Promise<DuckDBAppender> {
    try {
      return await this.conn.createAppender(table);
    } catch (err) {
      throw databaseError(this.path, err);
    }
  }

  async begin(): Promise<void> {
    await this.run('BEGIN TRANSACTION');
    this.inTransaction = true;
  }

  async commit(): Promise<void> {
    await this.run('COMMIT');
    this.inTransaction = false;
  }

  /** Rolls back an open transaction; quiet when none is open or the database is gone. */
  async rollback(): Promise<void> {
    if (!this.inTransaction) return;
    this.inTransaction = false;
    try {
      await this.conn.run('ROLLBACK');
    } catch {
      // A failed commit may have ended the transaction already; nothing is left to undo.
    }
  }

  /** `fn` inside one transaction: committed when it returns, rolled back when it throws. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.begin();
    try {
      const value = await fn();
      await this.commit();
      return value;
    } catch (err) {
      await this.rollback();
      throw err;
    }
  }

  /**
   * Writes a query's rows as Parquet files under `dir`, hive-partitioned by the given columns
   * (`dir/date=2003-10-14/protocol=msrp/data_0.parquet`); earlier files there are replaced.
   */
  async copyToParquet(query: string, dir: string, partitionBy: readonly string[], params: DuckDBValue[] = []): Promise<void> {
    const partitions = partitionBy.length > 0 ? `, PARTITION_BY (${partitionBy.join(', ')}), OVERWRITE_OR_IGNORE true` : '';
    // The target is a bound parameter too (DuckDB accepts one for COPY … TO).
    await this.run(`COPY (${query}) TO $${params.length + 1} (FORMAT PARQUET${partitions})`, [...params, dir]);
  }

  close(): void {
    try {
      this.conn.closeSync();
    } finally {
      this.instance.closeSync();
    }
  }
}
