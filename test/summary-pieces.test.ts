// read's summary line written in pieces into the output buffer (writeSummaryLine, used without
// colour or a width) must give the bytes of the line built as a string (summaryLine), with the
// same column widths growing line after line, whatever the text: control characters, Latin,
// wide and astral characters, lone surrogates, lines longer than the output's buffer. The same
// for writeFrameSummary, which writes a packet's line without its columns (digits and plain
// ASCII straight into the buffer), whatever the times (before the first frame too) and layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { ColumnWidths, frameSummary, summaryColumns, summaryLine, writeFrameSummary, writeSummaryLine, type SummaryColumns } from '../src/output/packet-view.js';
import type { Layer, Packet } from '../src/model/packet.js';
import { makeStyle } from '../src/output/style.js';
import { Output } from '../src/output/writer.js';
import { escapeText, needsEscapeFrom } from '../src/output/escape.js';
import { infoColumn } from '../src/output/columns.js';

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

const layer: fc.Arbitrary<Layer> = fc.record({
  name: fc.constantFrom('eth', 'ip', 'tcp', 'udp', 'nbss', 'smb', 'dcerpc', 'msrp'),
  info: fc.option(fc.oneof(text, fc.string({ unit: 'binary', maxLength: 300 })), { nil: undefined }),
  column: fc.option(fc.oneof(fc.constantFrom('SMB Mailslot', 'MSNMS'), text), { nil: undefined }),
  quoted: fc.option(fc.boolean(), { nil: undefined }),
}).map((l) => ({ ...l, bytes: new Uint8Array(0), offset: 0, length: 0, tree: () => [] }));

const FIRST = { tsSec: 1_066_122_000, tsNsec: 500_000_000 };

const packet: fc.Arbitrary<Packet> = fc.record({
  number: fc.oneof(fc.integer({ min: 1, max: 20_000_000 }), fc.constantFrom(1, 9, 10, 99_999, 100_000, 2 ** 40)),
  // Seconds from the first frame's: earlier ones too (files need not be in time order), and far later.
  dsec: fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.constantFrom(0, 1, 9, 10, 99_999, 100_000, 2 ** 33)),
  tsNsec: fc.oneof(fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom(0, 499_999_999, 500_000_000, 500_000_999, 999_999_999)),
  len: fc.oneof(fc.integer({ min: 0, max: 70_000 }), fc.constantFrom(0, 9, 10, 99_999, 100_000)),
  src: text,
  dst: text,
  layers: fc.array(layer, { maxLength: 6 }),
}).map((r) => ({
  frame: { number: r.number, tsSec: FIRST.tsSec + r.dsec, tsNsec: r.tsNsec, caplen: r.len, len: r.len, linkType: 1, data: new Uint8Array(0), interfaceId: 0 },
  layers: r.layers, src: r.src, dst: r.dst, findings: [],
}));

test('writeFrameSummary writes the bytes summaryLine makes of the packet\'s columns, widths growing alike', async () => {
  const plain = makeStyle(false);
  await fc.assert(fc.asyncProperty(fc.array(packet, { minLength: 1, maxLength: 20 }), fc.constantFrom(64, 1 << 16), async (packets, threshold) => {
    const a = new Collect();
    const b = new Collect();
    const outA = new Output(a, threshold);
    const outB = new Output(b, threshold);
    const widthsA = new ColumnWidths();
    const widthsB = new ColumnWidths();
    const scratch = { number: 0, tsSec: 0, tsNsec: 0, len: 0, src: '', dst: '', protocol: '', info: '' };
    for (const p of packets) {
      outA.line(summaryLine(summaryColumns(p, FIRST), plain, undefined, undefined, widthsA));
      writeFrameSummary(outB, frameSummary(p, scratch), FIRST, widthsB);
    }
    await outA.close();
    await outB.close();
    assert.deepEqual(b.bytes.toString('utf8'), a.bytes.toString('utf8'));
    assert.deepEqual({ ...widthsB }, { ...widthsA });
  }), { numRuns: 500 });
});

test('needsEscapeFrom says whether escapeText changes the text', () => {
  const unit = fc.oneof(fc.integer({ min: 0, max: 0x2ff }), fc.integer({ min: 0x2000, max: 0x2070 }), fc.integer({ min: 0xfef0, max: 0xffff }));
  fc.assert(fc.property(fc.array(unit, { maxLength: 12 }), (codes) => {
    const s = String.fromCharCode(...codes);
    assert.equal(needsEscapeFrom(s, 0), escapeText(s) !== s);
  }), { numRuns: 2000 });
});

/** The Info column as it was built before (a list of the PDUs' texts, joined): the reference. */
function infoReference(layers: readonly Layer[]): string {
  let transport = -1;
  for (let i = layers.length - 1; i >= 0; i--) {
    if (layers[i]!.quoted !== true && (layers[i]!.name === 'tcp' || layers[i]!.name === 'udp')) {
      transport = i;
      break;
    }
  }
  if (transport >= 0 && transport < layers.length - 1) {
    const parts: string[] = [];
    const groupStart = layers[transport + 1]!.name;
    let pending: string | undefined;
    for (let i = transport + 1; i < layers.length; i++) {
      const layer = layers[i]!;
      if (layer.name === groupStart && i > transport + 1 && pending !== undefined) {
        parts.push(pending);
        pending = undefined;
      }
      if (layer.info !== undefined && layer.quoted !== true) pending = layer.info;
    }
    if (pending !== undefined) parts.push(pending);
    if (parts.length > 0) return parts.join(' ; ');
  }
  for (let i = layers.length - 1; i >= 0; i--) if (layers[i]!.info !== undefined && layers[i]!.quoted !== true) return layers[i]!.info!;
  return '';
}

test('infoColumn (property): one PDU\'s text or several joined, as the list it was built from', () => {
  const few = fc.record({
    name: fc.constantFrom('ip', 'tcp', 'udp', 'nbss', 'smb'),
    info: fc.option(fc.constantFrom('a', 'b c', ''), { nil: undefined }),
    quoted: fc.option(fc.boolean(), { nil: undefined }),
  }).map((l) => ({ ...l, bytes: new Uint8Array(0), offset: 0, length: 0, tree: () => [] }));
  fc.assert(fc.property(fc.array(few, { maxLength: 9 }), (layers) => {
    const p: Packet = { frame: { number: 1, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, linkType: 1, data: new Uint8Array(0), interfaceId: 0 }, layers, src: '', dst: '', findings: [] };
    assert.equal(infoColumn(p), infoReference(layers));
  }), { numRuns: 3000 });
});
