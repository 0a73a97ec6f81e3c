// The audit's message log read back: every record, in order, whatever falls on a chunk boundary
// (multi-byte characters, a line longer than a chunk, the last line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MessageLog, type MessageRecord } from '../src/analysis/audit/spill.js';

function record(seq: number, text: string): MessageRecord {
  return {
    seq, capture: 0, frames: [seq + 1], tsSec: 1_000_000_000 + seq, tsNsec: 0, protocol: 'smb', transport: 'tcp',
    src: '10.0.0.1:1025', dst: '10.0.0.2:139', from: 'SPAM', to: ['ADMIN'], text, status: 'ok', template: seq % 7 - 1,
  };
}

async function roundTrip(texts: readonly string[]): Promise<void> {
  const log = new MessageLog();
  try {
    const written = texts.map((t, i) => record(i, t));
    for (const r of written) log.append(r);
    const read: MessageRecord[] = [];
    for await (const r of log.replay()) read.push(r);
    assert.deepEqual(read, written);
  } finally {
    log.remove();
  }
}

test('MessageLog: texts of 3 MB, multi-byte characters and line breaks across 1 MB chunks', async () => {
  await roundTrip(['é'.repeat(700_000), 'short', `a\nb\r\n${'\u{1F4E7}'.repeat(300_000)}`, 'x'.repeat(3 << 20), '', 'last']);
});

test('MessageLog (property): what is appended is replayed, in order', async () => {
  const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', minLength: 100_000, maxLength: 300_000 }));
  await fc.assert(fc.asyncProperty(fc.array(text, { maxLength: 30 }), async (texts) => roundTrip(texts)), { numRuns: 20 });
});

test('MessageLog: an empty log replays nothing', async () => {
  await roundTrip([]);
});
