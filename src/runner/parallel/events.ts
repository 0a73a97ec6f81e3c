// --jobs for the report commands that consume events only (audit): each worker runs the engine
// and the runner over its capture and forwards the events its analysis would get, in batches;
// the main thread hands them to the one real analysis in file order, so the report is the one
// reading the captures in turn gives. The records travel in the same chunk stream as `read`'s
// output (backlog, spill files and all), framed as a 4-byte length and a V8-serialised value
// (structured clone: the plain-data events arrive as they left).
import { deserialize, serialize } from 'node:v8';
import type { TimelineEvent } from '../../model/events.js';
import type { Output } from '../../output/writer.js';
import type { Analysis, FileInfo, Timestamp } from '../analysis.js';
import type { ChunkSink } from './pool.js';

/** What the worker forwards: a capture's start, a batch of its events, its end (with the time of its first frame). */
type EventRecord =
  | { readonly kind: 'begin'; readonly file: FileInfo }
  | { readonly kind: 'events'; readonly start: Timestamp | undefined; readonly events: TimelineEvent[] }
  | { readonly kind: 'end'; readonly file: FileInfo };

/** Events per record: few messages per V8 serialisation, not one per event. */
const BATCH = 512;

/** The FileInfo as plain data (the runner's is a class instance, whose `start` comes with the first frame). */
function snapshot(file: FileInfo): FileInfo {
  return { path: file.path, label: file.label, index: file.index, multi: file.multi, size: file.size, start: file.start };
}

/** The worker's analysis: forwards the events `wanted` keeps (all by default) to the main thread. */
export class EventForwarder implements Analysis {
  private batch: TimelineEvent[] = [];

  constructor(private readonly out: Output, private readonly wanted: (event: TimelineEvent) => boolean = () => true) {}

  beginFile(file: FileInfo): void {
    this.send({ kind: 'begin', file: snapshot(file) });
  }

  event(event: TimelineEvent, file: FileInfo): void {
    if (!this.wanted(event)) return;
    this.batch.push(event);
    if (this.batch.length >= BATCH) this.flushBatch(file);
  }

  endFile(file: FileInfo): void {
    this.flushBatch(file);
    this.send({ kind: 'end', file: snapshot(file) });
  }

  private flushBatch(file: FileInfo): void {
    if (this.batch.length === 0) return;
    this.send({ kind: 'events', start: file.start, events: this.batch });
    this.batch = [];
  }

  private send(record: EventRecord): void {
    const body = serialize(record);
    const framed = Buffer.allocUnsafe(4 + body.length);
    framed.writeUInt32LE(body.length, 0);
    body.copy(framed, 4);
    this.out.bytes(framed, () => {});
  }
}

/**
 * The main thread's end: takes the chunk stream of the captures in file order (chunks need not
 * end on a record boundary: a spill file is copied a megabyte at a time) and calls the
 * analysis as the runner would have.
 */
export class EventRecordSink implements ChunkSink {
  private pending: Buffer = Buffer.alloc(0);
  /** The capture being delivered: its FileInfo, whose `start` is known at its end, as the runner's is. */
  private file: { -readonly [K in keyof FileInfo]: FileInfo[K] } | undefined;

  constructor(private readonly analysis: Analysis) {}

  write(data: Uint8Array, done: () => void): void {
    let buf = this.pending.length === 0 ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.concat([this.pending, data]);
    let at = 0;
    while (buf.length - at >= 4) {
      const length = buf.readUInt32LE(at);
      if (buf.length - at - 4 < length) break;
      this.deliver(deserialize(buf.subarray(at + 4, at + 4 + length)) as EventRecord);
      at += 4 + length;
    }
    // What is left is the start of a record: kept (copied: the chunk's memory goes back to the pool's caller).
    buf = buf.subarray(at);
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    // Asynchronously, as stdout's callback is: the spill copy's loop must not recurse.
    setImmediate(done);
  }

  private deliver(record: EventRecord): void {
    switch (record.kind) {
      case 'begin':
        this.file = { ...record.file };
        this.analysis.beginFile?.(this.file);
        break;
      case 'events':
        this.file!.start = record.start;
        for (const event of record.events) this.analysis.event?.(event, this.file!);
        break;
      case 'end':
        this.file!.start = record.file.start;
        this.analysis.endFile?.(this.file!);
        this.file = undefined;
        break;
    }
  }
}
