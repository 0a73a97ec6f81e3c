// Reports as text: lines and aligned tables. Cells are escaped (names and texts come from the wire).
import { displayWidth, escapeText } from '../escape.js';
import type { Cell, Report, ReportTable } from '../report.js';
import type { Style } from '../style.js';
import type { Output } from '../writer.js';
import type { ReportSink } from './types.js';

export class ReportTextSink implements ReportSink {
  constructor(private readonly out: Output, private readonly style: Style) {}

  write(report: Report): void {
    for (const block of report.blocks) {
      if (block.kind === 'line') this.out.line(block.heading === true ? this.style.heading(block.text) : block.text);
      else this.table(block.table);
    }
  }

  private table(t: ReportTable): void {
    const out = this.out;
    // Read once: a table may make its rows when asked (src/analysis/stats-report.ts).
    const rows = t.rows;
    if (t.optional === true && rows.length === 0) return;
    out.line(this.style.heading(t.title));
    if (rows.length === 0) {
      out.line('  (none)');
      out.line('');
      return;
    }
    // Two passes over the rows, escaping each cell in both: the widths, then the lines. Not an
    // array of every escaped cell: on tables of 200,000 rows that was tens of MB at once.
    // A loop, not Math.max(...): a table of 200,000 rows would pass as many arguments and overflow the stack.
    const widths = t.headers.map((h) => displayWidth(h));
    for (const row of rows) {
      for (let i = 0; i < widths.length; i++) {
        const w = displayWidth(cellText(row[i]));
        if (w > widths[i]!) widths[i] = w;
      }
    }
    const pad = (text: string, i: number): string => {
      const gap = ' '.repeat(Math.max(0, widths[i]! - displayWidth(text)));
      return t.align[i] === 'r' ? `${gap}${text}` : `${text}${gap}`;
    };
    out.line(`  ${t.headers.map((h, i) => pad(h, i)).join('  ')}`.trimEnd());
    for (const row of rows) out.line(`  ${row.map((c, i) => pad(cellText(c), i)).join('  ')}`.trimEnd());
    out.line('');
  }
}

function cellText(c: Cell): string {
  return escapeText(c === undefined ? '' : String(c));
}
