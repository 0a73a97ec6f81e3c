// read's frames in a lane of a capture split by flow, packed into rows sent after each batch:
// each selected frame's summary (the columns before layout: PacketTextSink lays them out on the
// main thread, in frame order, with the column widths of the whole capture), or the whole text
// of a frame whose output stands alone (-V, JSON: FrameTextSink).
import type { Severity } from '../../model/findings.js';
import type { Packet } from '../../model/packet.js';
import { PATCH_NUMBERS, ROW_NUMBERS, type RowPart, type TextPart } from '../../runner/parallel/protocol.js';
import { grown } from '../../util/typed-arrays.js';
import { MARK_DIGITS, StreamMarks, type StreamCounts } from '../../runner/parallel/stream-numbers.js';
import { frameSummary, hexView, worstSeverity, type FrameSummary } from '../packet-view.js';
import type { FileInfo } from '../../runner/analysis.js';
import type { FrameTextSink, PacketSink } from './types.js';

const SEVERITIES: readonly (Severity | undefined)[] = [undefined, 'note', 'warning', 'error'];

/** Packs the summary of every frame it is given: numbers (frame, seconds, nanoseconds, length, worst severity) and texts (source, destination, protocol, Info, and the hex dump with -x). */
export class SummaryRowSink implements PacketSink {
  private readonly rows = new Rows();
  private readonly scratch = { number: 0, tsSec: 0, tsNsec: 0, len: 0, src: '', dst: '', protocol: '', info: '' };
  private readonly textsPerRow: number;

  constructor(private readonly hex: boolean) {
    this.textsPerRow = hex ? 5 : 4;
  }

  begin(): void {}

  packet(packet: Packet): void {
    const s = frameSummary(packet, this.scratch);
    const texts = this.rows.add(s.number, s.tsSec, s.tsNsec, s.len, SEVERITIES.indexOf(worstSeverity(packet)));
    texts.push(s.src, s.dst, s.protocol, s.info);
    if (this.hex) texts.push(hexView(packet));
  }

  end(): void {}

  /** The rows packed since the last take, with `errors` error findings on them. */
  take(errors: number): RowPart {
    return this.rows.take(this.textsPerRow, errors);
  }
}

/**
 * Packs the text `sink` makes of every frame it is given, encoded as UTF-8 at once: a frame's
 * text (kilobytes with -V) dies young instead of waiting for the batch's end in the heap, and
 * the bytes go to the main thread in one transferred buffer, not as strings to rebuild there. Stream
 * numbers the lane does not know yet are left out of the bytes, their places noted as patches
 * for the main thread (StreamMarks).
 */
export class FrameTextRowSink implements PacketSink {
  private readonly rows = new Rows();
  private bytes = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private ends = new Uint32Array(1024);
  private patches = new Float64Array(PATCH_NUMBERS * 256);
  private patchCount = 0;
  private patchEnds = new Uint32Array(1024);
  private readonly found: number[] = [];

  /** `lane`: the lane's place; `marks`: where the lane's stream numbers leave markers. */
  constructor(private readonly sink: FrameTextSink, private readonly lane: number, private readonly marks: StreamMarks) {}

  begin(): void {}

  packet(packet: Packet, file: FileInfo): void {
    const f = packet.frame;
    const row = this.rows.count;
    this.rows.add(f.number, f.tsSec, f.tsNsec, f.len, SEVERITIES.indexOf(worstSeverity(packet)));
    const marks = this.marks;
    marks.entries.length = 0;
    marks.deferring = true;
    let text: string;
    try {
      text = this.sink.frameText(packet, file);
    } finally {
      marks.deferring = false;
    }
    if (marks.entries.length > 0 && !this.locate(text)) {
      // A marker's digits also stand elsewhere in the text (they came from the wire), or not at
      // all: the text is made again with every number known (the lane waits for the others).
      marks.entries.length = 0;
      text = this.sink.frameText(packet, file);
    }
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.room(text.length * 3);
    const rowStart = this.used;
    let from = 0;
    const entries = marks.entries;
    for (let i = 0; i < this.found.length; i += 2) {
      const at = this.found[i]!;
      const k = this.found[i + 1]!;
      this.used += this.bytes.write(text.slice(from, at), this.used, 'utf8');
      this.patch(this.used - rowStart, entries[3 * k]!, entries[3 * k + 1]!, entries[3 * k + 2]!);
      from = at + MARK_DIGITS;
    }
    this.used += this.bytes.write(from === 0 ? text : text.slice(from), this.used, 'utf8');
    this.found.length = 0;
    marks.entries.length = 0;
    if (row >= this.ends.length) {
      this.ends = grown(this.ends, new Uint32Array(this.ends.length * 2));
      this.patchEnds = grown(this.patchEnds, new Uint32Array(this.patchEnds.length * 2));
    }
    this.ends[row] = this.used;
    this.patchEnds[row] = this.patchCount;
  }

  end(): void {}

  take(errors: number): TextPart {
    const rows = this.rows.count;
    const { numbers } = this.rows.take(0, errors);
    const part: TextPart = {
      rows, numbers, errors, lane: this.lane, ends: this.ends.slice(0, rows), bytes: this.bytes.subarray(0, this.used),
      patches: this.patches.slice(0, this.patchCount * PATCH_NUMBERS), patchEnds: this.patchEnds.slice(0, rows),
    };
    // The bytes go to the main thread as they are (see transferable): packing starts afresh.
    this.bytes = Buffer.allocUnsafe(this.bytes.length);
    this.used = 0;
    this.patchCount = 0;
    return part;
  }

  /** The buffer a part's bytes are in: it goes to the main thread without a copy (nothing else views it). */
  static transferable(part: TextPart): ArrayBuffer[] {
    const buffer = part.bytes.buffer;
    return buffer instanceof ArrayBuffer ? [buffer] : [];
  }

  /**
   * Finds each marker the text holds (into `found`: place, marker, by place); false when one is
   * missing or stands twice.
   */
  private locate(text: string): boolean {
    const found = this.found;
    found.length = 0;
    const markers = this.marks.entries.length / 3;
    for (let k = 0; k < markers; k++) {
      const digits = StreamMarks.text(k);
      const at = text.indexOf(digits);
      if (at < 0 || text.indexOf(digits, at + 1) >= 0) {
        found.length = 0;
        return false;
      }
      found.push(at, k);
    }
    // By place (pairs): markers are few, an insertion sort is enough.
    for (let i = 2; i < found.length; i += 2) {
      for (let j = i; j > 0 && found[j - 2]! > found[j]!; j -= 2) {
        [found[j - 2], found[j], found[j - 1], found[j + 1]] = [found[j]!, found[j - 2]!, found[j + 1]!, found[j - 1]!];
      }
    }
    return true;
  }

  private room(bytes: number): void {
    if (this.used + bytes <= this.bytes.length) return;
    const larger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + bytes));
    this.bytes.copy(larger, 0, 0, this.used);
    this.bytes = larger;
  }

  private patch(at: number, transport: number, index: number, first: number): void {
    if ((this.patchCount + 1) * PATCH_NUMBERS > this.patches.length) this.patches = grown(this.patches, new Float64Array(this.patches.length * 2));
    const p = this.patchCount * PATCH_NUMBERS;
    this.patches[p] = at;
    this.patches[p + 1] = transport;
    this.patches[p + 2] = index;
    this.patches[p + 3] = first;
    this.patchCount++;
  }
}

/** Rows being packed: ROW_NUMBERS numbers each in one typed array, their texts in one array. */
class Rows {
  private numbers = new Float64Array(ROW_NUMBERS * 1024);
  private texts: string[] = [];
  private packed = 0;

  get count(): number {
    return this.packed;
  }

  /** A row with these numbers; returns the array its texts go to. */
  add(number: number, tsSec: number, tsNsec: number, len: number, severity: number): string[] {
    if ((this.packed + 1) * ROW_NUMBERS > this.numbers.length) this.numbers = grown(this.numbers, new Float64Array(this.numbers.length * 2));
    const at = this.packed * ROW_NUMBERS;
    const n = this.numbers;
    n[at] = number;
    n[at + 1] = tsSec;
    n[at + 2] = tsNsec;
    n[at + 3] = len;
    n[at + 4] = severity;
    this.packed++;
    return this.texts;
  }

  take(textsPerRow: number, errors: number): RowPart {
    const part: RowPart = { rows: this.packed, numbers: this.numbers.slice(0, this.packed * ROW_NUMBERS), texts: this.texts, textsPerRow, errors };
    this.texts = [];
    this.packed = 0;
    return part;
  }
}

/**
 * Row `row`'s text as UTF-8, of a part made by FrameTextRowSink, its stream numbers put in by
 * `numbers` (the main thread's StreamCounts, once every lane has read past the row's frame).
 */
export function rowBytes(part: TextPart, row: number, numbers: StreamCounts): Uint8Array {
  const bytes = part.bytes.subarray(row === 0 ? 0 : part.ends[row - 1]!, part.ends[row]!);
  const first = row === 0 ? 0 : part.patchEnds[row - 1]!;
  const last = part.patchEnds[row]!;
  if (first === last) return bytes;
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (let i = first; i < last; i++) {
    const p = part.patches.subarray(i * PATCH_NUMBERS, (i + 1) * PATCH_NUMBERS);
    pieces.push(bytes.subarray(from, p[0]!), Buffer.from(String(numbers.number(part.lane, p[1]!, p[2]!, p[3]!)), 'latin1'));
    from = p[0]!;
  }
  pieces.push(bytes.subarray(from));
  return Buffer.concat(pieces);
}

/** Row `row` of a part, as the summary a text sink lays out (written into `into`, reused). */
export function rowSummary(part: RowPart, row: number, into: { -readonly [K in keyof FrameSummary]: FrameSummary[K] }): FrameSummary {
  const at = row * ROW_NUMBERS;
  const t = row * part.textsPerRow;
  into.number = part.numbers[at]!;
  into.tsSec = part.numbers[at + 1]!;
  into.tsNsec = part.numbers[at + 2]!;
  into.len = part.numbers[at + 3]!;
  into.src = part.texts[t]!;
  into.dst = part.texts[t + 1]!;
  into.protocol = part.texts[t + 2]!;
  into.info = part.texts[t + 3]!;
  return into;
}

/** Row `row`'s worst severity. */
export function rowSeverity(part: RowPart, row: number): Severity | undefined {
  return SEVERITIES[part.numbers[row * ROW_NUMBERS + 4]!];
}

/** Row `row`'s hex dump (-x), if the rows have one. */
export function rowHex(part: RowPart, row: number): string | undefined {
  return part.textsPerRow > 4 ? part.texts[row * part.textsPerRow + 4] : undefined;
}
