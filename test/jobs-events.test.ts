// --jobs for audit: the events a worker forwards reach the main thread's analysis as the runner
// would have handed them, however the byte stream is cut (spill files are copied a megabyte at
// a time, so a record may arrive in pieces).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { TimelineEvent } from '../src/model/events.js';
import { Output } from '../src/output/writer.js';
import type { Analysis, FileInfo } from '../src/runner/analysis.js';
import { EventForwarder, EventRecordSink } from '../src/runner/parallel/events.js';

/** What an analysis was called with, in order. */
function recorder(calls: unknown[]): Analysis {
  return {
    beginFile: (file: FileInfo) => calls.push(['begin', file.index, file.path, file.start]),
    event: (event: TimelineEvent, file: FileInfo) => calls.push(['event', file.index, file.start, event]),
    endFile: (file: FileInfo) => calls.push(['end', file.index, file.start]),
  };
}

function message(i: number, text: string): TimelineEvent {
  return {
    kind: 'message', tsSec: 1_000_000 + i, tsNsec: i, frames: [i + 1, i + 2], protocol: 'msrp', transport: 'udp/dcerpc/msrp',
    src: '10.0.0.1:1026', dst: '10.0.0.2:135', from: 'SPAMMER', to: ['VICTIM'], text, status: i % 2 === 0 ? 'ok' : 'no-response',
    findings: i % 3 === 0 ? [{ id: 'x.y', severity: 'warning', summary: 's', frame: i + 1, spec: 'bound' }] : [],
    details: { n: i, undef: undefined, list: [1, 'two'] },
  };
}

test('forwarded events reach the analysis unchanged and in order, whatever the cuts in the byte stream', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.string({ maxLength: 40 }), { maxLength: 1500 }), fc.array(fc.nat(), { maxLength: 20 }), async (texts, cuts) => {
      const chunks: Buffer[] = [];
      const stream = new Writable({ write(chunk: Buffer, _e, cb) { chunks.push(Buffer.from(chunk)); cb(); } });
      const out = new Output(stream);
      const file: FileInfo & { start: FileInfo['start'] } = { path: 'a.pcap', label: 'a.pcap', index: 1, multi: true, size: 10, start: undefined };
      const forwarder = new EventForwarder(out, (e) => e.kind === 'message');
      const expected: unknown[] = [];
      const direct = recorder(expected);
      forwarder.beginFile(file);
      direct.beginFile!(file);
      file.start = { tsSec: 5, tsNsec: 6 };
      texts.forEach((text, i) => {
        const e = message(i, text);
        forwarder.event(e, file);
        direct.event!(e, file);
      });
      forwarder.endFile(file);
      direct.endFile!(file);
      await out.close();
      const bytes = Buffer.concat(chunks);
      const calls: unknown[] = [];
      const sink = new EventRecordSink(recorder(calls));
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
      let from = 0;
      for (const to of [...points, bytes.length]) {
        await new Promise<void>((done) => sink.write(bytes.subarray(from, to), done));
        from = to;
      }
      assert.deepEqual(calls, expected);
    }),
    { seed: 20261201, numRuns: 40 },
  );
});
