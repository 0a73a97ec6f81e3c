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
    if (t.optional === true && t.rows.length === 0) return;
    out.line(this.style.heading(t.title));
    if (t.rows.length === 0) {
      out.line('  (none)');
      out.line('');
      return;
    }
    const cells = t.rows.map((row) => row.map((c: Cell) => escapeText(c === undefined ? '' : String(c))));
    // A loop, not Math.max(...cells): a table of 200,000 rows would pass as many arguments and overflow the stack.
    const widths = t.headers.map((h) => displayWidth(h));
    for (const row of cells) {
      for (let i = 0; i < widths.length; i++) {
        const w = displayWidth(row[i] ?? '');
        if (w > widths[i]!) widths[i] = w;
      }
    }
    const pad = (text: string, i: number): string => {
      const gap = ' '.repeat(Math.max(0, widths[i]! - displayWidth(text)));
      return t.align[i] === 'r' ? `${gap}${text}` : `${text}${gap}`;
    };
    out.line(`  ${t.headers.map((h, i) => pad(h, i)).join('  ')}`.trimEnd());
    for (const row of cells) out.line(`  ${row.map((c, i) => pad(c, i)).join('  ')}`.trimEnd());
    out.line('');
  }
}
