// The audit as CSV: one row per message, in capture order, with the campaign it belongs to (empty
// for one-off messages). Cells are escaped and made spreadsheet-safe like every CSV of msgscope.
import type { AuditOutput } from '../../analysis/audit/audit.js';
import type { CaptureJson } from '../../analysis/audit/result.js';
import type { MessageRecord } from '../../analysis/audit/spill.js';
import { csvField } from '../escape.js';
import { isoTime } from '../time.js';
import type { Output } from '../writer.js';

export const AUDIT_CSV_COLUMNS = ['capture', 'frame', 'time', 'protocol', 'transport', 'src', 'dst', 'from', 'to', 'text', 'status', 'error', 'campaign', 'frames'];

export class AuditCsvSink implements AuditOutput {
  private captures: readonly CaptureJson[] = [];

  constructor(private readonly out: Output) {}

  begin(plan: { readonly captures: readonly CaptureJson[] }): void {
    this.captures = plan.captures;
    this.out.line(AUDIT_CSV_COLUMNS.join(','));
  }

  message(r: MessageRecord, campaign: string | undefined): void {
    const cells = [
      this.captures[r.capture]?.path,
      r.frames[0],
      isoTime(r.tsSec, r.tsNsec),
      r.protocol,
      r.transport,
      r.src,
      r.dst,
      r.from,
      r.to.join(';'),
      r.text,
      r.status,
      r.error,
      campaign,
      r.frames.join(' '),
    ];
    this.out.line(cells.map((c) => csvField(c)).join(','));
  }
}
