// A report: what an analysis that summarises (stats, audit, verify) hands its sinks. The JSON
// form is the analysis's documented contract object; text and CSV are drawn from the same
// blocks (lines and tables), so each report sink renders any report.

export type Cell = string | number | undefined;

/**
 * A table's rows: an array, or rows made one at a time each time they are iterated (a big
 * table then never has all its cells alive at once; a sink may iterate more than once).
 */
export type Rows = readonly Cell[][] | RowList;

export interface RowList extends Iterable<Cell[]> {
  readonly length: number;
}

export interface ReportTable {
  /** Heading in the text output. */
  readonly title: string;
  /** Table name in the CSV output (its first column). */
  readonly name: string;
  readonly headers: readonly string[];
  /** Column names in the CSV output (snake_case). */
  readonly csvHeaders: readonly string[];
  /** Text alignment per column: left or right. */
  readonly align: readonly ('l' | 'r')[];
  readonly rows: Rows;
  /** CSV cells, when they differ from the text cells (more digits, a path instead of indenting). */
  readonly csvRows?: Rows;
  /** Text leaves the table out when it has no rows (CSV always has its block). */
  readonly optional?: boolean;
}

export type ReportBlock =
  | { readonly kind: 'line'; readonly text: string; readonly heading?: boolean }
  | { readonly kind: 'table'; readonly table: ReportTable };

/** `J`: the JSON contract's type, for sinks drawn from it (verify's JUnit and SARIF). */
export interface Report<J = unknown> {
  /** The JSON contract object (printed as is by the JSON sink). */
  readonly json: J;
  /** Text and CSV content, in order. */
  readonly blocks: readonly ReportBlock[];
  /** Problems to mention on stderr after the report (e.g. tables cut at their bound). */
  readonly warnings?: readonly string[];
}
