// read's summary line written in pieces into the output buffer (writeSummaryLine, used without
// colour or a width) must give the bytes of the line built as a string (summaryLine), with the
// same column widths growing line after line, whatever the text: control characters, Latin,
// wide and astral characters, lone surrogates, lines longer than the output's buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { ColumnWidths, summaryLine, writeSummaryLine, type SummaryColumns } from '../src/output/packet-view.js';
import { makeStyle } from '../src/output/style.js';
import { Output } from '../src/output/writer.js';

class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? Buffer.from(chunk) : Buffer.from(chunk, 'utf8'));
    done();
  }
  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('', '10.0.0.1', 'fe80::1', '\u001b[31m', 'Ünïcødé', '漢字テキスト', '\ud83d\ude00', '\ud800', 'a\u202eb', 'x'.repeat(40)),
);

const columns: fc.Arbitrary<SummaryColumns> = fc.record({
  no: fc.integer({ min: 0, max: 20_000_000 }),
  time: fc.oneof(fc.constantFrom('0.000000', '123456.123456789', '-1.000001'), text),
  src: text,
  dst: text,
  protocol: fc.oneof(fc.constantFrom('TCP', 'SMB Mailslot', 'NBSS', 'MSNMS'), text),
  length: fc.integer({ min: 0, max: 70_000 }),
  info: fc.oneof(text, fc.string({ unit: 'binary', maxLength: 300 })),
});

test('writeSummaryLine writes the bytes summaryLine makes, widths growing alike', async () => {
  const plain = makeStyle(false);
  await fc.assert(fc.asyncProperty(fc.array(columns, { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 2 }), async (rows, sized) => {
    // A small buffer (64 bytes) so that some lines do not fit it and go out alone.
    const a = new Collect();
    const b = new Collect();
    const outA = new Output(a, 64);
    const outB = new Output(b, 64);
    const widthsA = new ColumnWidths();
    const widthsB = new ColumnWidths();
    if (sized > 0) {
      widthsA.expectFrames(10 ** (5 + sized));
      widthsB.expectFrames(10 ** (5 + sized));
    }
    for (const row of rows) {
      outA.line(summaryLine(row, plain, undefined, undefined, widthsA));
      writeSummaryLine(outB, row, widthsB);
    }
    await outA.close();
    await outB.close();
    assert.deepEqual(b.bytes, a.bytes);
    assert.deepEqual({ ...widthsB }, { ...widthsA });
  }), { numRuns: 300 });
});

test('writeSummaryLine: a line longer than the output buffer goes out whole', async () => {
  const b = new Collect();
  const out = new Output(b, 16);
  const row: SummaryColumns = { no: 7, time: '0.5', src: '10.0.0.1', dst: '10.0.0.2', protocol: 'SMB', length: 100, info: 'é'.repeat(5000) };
  writeSummaryLine(out, row, new ColumnWidths());
  await out.close();
  assert.equal(b.bytes.toString('utf8'), `${summaryLine(row, makeStyle(false), undefined, undefined, new ColumnWidths())}\n`);
});
