// Frames packed into one buffer, as the main thread sends them to a lane of a capture split by
// flow (and holds its sample): each record a FRAME_HEADER (protocol.ts) and the captured bytes,
// or a tick's header alone. Transferred whole: no message per frame.
import type { Frame } from '../../capture/frame.js';
import { FRAME_HEADER, TICK, type BatchComments } from './protocol.js';

/** Bytes a batch of frames holds before it is sent (MSGSCOPE_SPLIT_BATCH sets it lower, for tests of the merge). */
export const BATCH_BYTES = batchBytes(process.env['MSGSCOPE_SPLIT_BATCH']);

function batchBytes(text: string | undefined): number {
  const n = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(n) && n > 0 ? n : 256 * 1024;
}

/** Frames packed for one lane, until sent. */
export class Batch {
  private buf = new Uint8Array(BATCH_BYTES);
  private view = new DataView(this.buf.buffer);
  private used = 0;
  count = 0;
  private comments: [number, readonly string[]][] | undefined;

  get bytes(): number {
    return this.used;
  }

  add(frame: Frame): void {
    const length = frame.data.byteLength;
    const at = this.header(frame.number, frame.tsSec, frame.tsNsec, length, frame.len, frame.linkType, frame.interfaceId, length);
    this.buf.set(frame.data, at + FRAME_HEADER);
    if (frame.comments !== undefined && frame.comments.length > 0) (this.comments ??= []).push([this.count - 1, frame.comments]);
  }

  /** A frame another lane dissects: its number and seconds (Engine.tick). */
  tick(number: number, tsSec: number): void {
    this.header(number, tsSec, 0, TICK, 0, 0, 0, 0);
  }

  /** Appends a record's header (FRAME_HEADER) with room for `bytes` after it; returns where it starts. */
  private header(number: number, tsSec: number, tsNsec: number, caplen: number, len: number, linkType: number, iface: number, bytes: number): number {
    const need = FRAME_HEADER + bytes;
    if (this.used + need > this.buf.byteLength) this.grow(need);
    const v = this.view;
    const at = this.used;
    v.setFloat64(at, number, true);
    v.setFloat64(at + 8, tsSec, true);
    v.setUint32(at + 16, tsNsec, true);
    v.setUint32(at + 20, caplen, true);
    v.setUint32(at + 24, len, true);
    v.setUint32(at + 28, linkType, true);
    v.setUint32(at + 32, iface, true);
    this.used += need;
    this.count++;
    return at;
  }

  /** Hands every record to `visit`, in order (the batch stays as it is). */
  visit(visit: BatchVisitor): void {
    unpackFrames(this.buf.buffer, this.count, this.comments, visit);
  }

  /** The packed frames (transferred to the lane), and a fresh buffer for the next ones. */
  take(): { readonly data: ArrayBuffer; readonly count: number; readonly comments: BatchComments | undefined } {
    const data = this.buf.buffer.slice(0, this.used);
    const taken = { data, count: this.count, comments: this.comments };
    this.used = 0;
    this.count = 0;
    this.comments = undefined;
    return taken;
  }

  private grow(need: number): void {
    const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.used + need));
    next.set(this.buf.subarray(0, this.used));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** What a batch holds: frames (their bytes are views into the batch, valid during the call) and ticks. */
export interface BatchVisitor {
  frame(frame: Frame): void;
  tick(number: number, tsSec: number): void;
}

/** Hands every record of a batch to `visit`, in order. */
export function unpackFrames(data: ArrayBuffer, count: number, comments: BatchComments | undefined, visit: BatchVisitor): void {
  const view = new DataView(data);
  const bytes = new Uint8Array(data);
  const notes = comments === undefined ? undefined : new Map(comments);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const number = view.getFloat64(at, true);
    const tsSec = view.getFloat64(at + 8, true);
    const caplen = view.getUint32(at + 20, true);
    if (caplen === TICK) {
      visit.tick(number, tsSec);
      at += FRAME_HEADER;
    } else {
      const frame: Frame = {
        number,
        tsSec,
        tsNsec: view.getUint32(at + 16, true),
        caplen,
        len: view.getUint32(at + 24, true),
        linkType: view.getUint32(at + 28, true),
        interfaceId: view.getUint32(at + 32, true),
        data: bytes.subarray(at + FRAME_HEADER, at + FRAME_HEADER + caplen),
        comments: notes?.get(i),
      };
      visit.frame(frame);
      at += FRAME_HEADER + caplen;
    }
  }
}

