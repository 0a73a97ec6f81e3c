// read's frames in a lane of a capture split by flow: each selected frame's summary (the columns
// before layout: PacketTextSink lays them out on the main thread, in frame order, with the
// column widths of the whole capture) packed into columns, sent after each batch.
import type { Severity } from '../../model/findings.js';
import type { Packet } from '../../model/packet.js';
import { ROW_NUMBERS, type RowPart } from '../../runner/parallel/protocol.js';
import { frameSummary, hexView, worstSeverity, type FrameSummary } from '../packet-view.js';
import type { PacketSink } from './types.js';

const SEVERITIES: readonly (Severity | undefined)[] = [undefined, 'note', 'warning', 'error'];

/** Packs the summary of every frame it is given: numbers (frame, seconds, nanoseconds, length, worst severity) and texts (source, destination, protocol, Info, and the hex dump with -x). */
export class SummaryRowSink implements PacketSink {
  private numbers = new Float64Array(ROW_NUMBERS * 1024);
  private texts: string[] = [];
  private rows = 0;
  private readonly scratch = { number: 0, tsSec: 0, tsNsec: 0, len: 0, src: '', dst: '', protocol: '', info: '' };
  private readonly textsPerRow: number;

  constructor(private readonly hex: boolean) {
    this.textsPerRow = hex ? 5 : 4;
  }

  begin(): void {}

  packet(packet: Packet): void {
    const s = frameSummary(packet, this.scratch);
    if ((this.rows + 1) * ROW_NUMBERS > this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    const at = this.rows * ROW_NUMBERS;
    const n = this.numbers;
    n[at] = s.number;
    n[at + 1] = s.tsSec;
    n[at + 2] = s.tsNsec;
    n[at + 3] = s.len;
    n[at + 4] = SEVERITIES.indexOf(worstSeverity(packet));
    this.texts.push(s.src, s.dst, s.protocol, s.info);
    if (this.hex) this.texts.push(hexView(packet));
    this.rows++;
  }

  end(): void {}

  /** The rows packed since the last take, with `errors` error findings on them. */
  take(errors: number): RowPart {
    const part: RowPart = { rows: this.rows, numbers: this.numbers.slice(0, this.rows * ROW_NUMBERS), texts: this.texts, textsPerRow: this.textsPerRow, errors };
    this.texts = [];
    this.rows = 0;
    return part;
  }
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
