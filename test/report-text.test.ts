// Text reports: column widths over tables of any size (stats tables stop at 200,000 rows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Report } from '../src/output/report.js';
import { ReportTextSink } from '../src/output/sinks/report-text.js';
import { makeStyle } from '../src/output/style.js';
import { Output } from '../src/output/writer.js';

test('a text report table of 200,000 rows is written with its columns aligned (no stack overflow from the widths)', async () => {
  const chunks: Buffer[] = [];
  const out = new Output(new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(Buffer.from(chunk)); cb(); } }));
  const rows = Array.from({ length: 200_000 }, (_, i) => [`10.0.${i >>> 8}.${i & 255}`, i]);
  const report: Report = {
    json: {},
    blocks: [{ kind: 'table', table: { title: 'Endpoints', name: 'endpoints', headers: ['Address', 'Frames'], csvHeaders: ['address', 'frames'], align: ['l', 'r'], rows } }],
  };
  new ReportTextSink(out, makeStyle(false)).write(report);
  await out.close();
  const lines = Buffer.concat(chunks).toString('utf8').split('\n');
  assert.equal(lines[1], '  Address       Frames');
  assert.equal(lines[2], '  10.0.0.0           0');
  assert.equal(lines[200_001], '  10.0.781.63   199999');
});
