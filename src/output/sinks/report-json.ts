// Reports as one pretty-printed JSON object: the analysis's documented contract.
import type { Report } from '../report.js';
import type { Output } from '../writer.js';
import type { ReportSink } from './types.js';
import { jsonText } from '../escape.js';

export class ReportJsonSink implements ReportSink {
  constructor(private readonly out: Output) {}

  write(report: Report): void {
    this.out.line(jsonText(report.json, 2));
  }
}
