// Reports as CSV: one block per table, each with its header row (first column `table`),
// blocks separated by a blank line.
import { csvField } from '../escape.js';
import type { Report } from '../report.js';
import type { Output } from '../writer.js';
import type { ReportSink } from './types.js';

export class ReportCsvSink implements ReportSink {
  constructor(private readonly out: Output) {}

  write(report: Report): void {
    let first = true;
    for (const block of report.blocks) {
      if (block.kind !== 'table') continue;
      const t = block.table;
      if (!first) this.out.line('');
      first = false;
      this.out.line(['table', ...t.csvHeaders].map((h) => csvField(h)).join(','));
      for (const row of t.csvRows ?? t.rows) this.out.line([t.name, ...row].map((c) => csvField(c)).join(','));
    }
  }
}
