// pcapng (draft-ietf-opsawg-pcapng): several sections in either byte order, interfaces with
// their own link types, if_tsresol and if_tsoffset; enhanced, simple and obsolete packet
// blocks; every other block skipped by its length; comments kept.
import { ChunkJoiner } from './chunked.js';
import { CaptureFormatError, MAX_RECORD, type CaptureParser, type CaptureSink } from './frame.js';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const OBSOLETE_PB = 2;
const SPB = 3;
const EPB = 6;
const OPT_COMMENT = 1;
/** Fixed part of each block type, header and trailer included: a shorter block is corrupt. */
const MIN_LENGTH: Record<number, number> = { [SHB]: 28, [IDB]: 20, [OBSOLETE_PB]: 32, [SPB]: 16, [EPB]: 32 };
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

interface Interface {
  linkType: number;
  snapLen: number;
  /** Ticks per second as a power of 10 (decimal) or 2 (binary). */
  unitsPerSecond: number;
  decimal: boolean;
  resolutionDigits: number;
  offsetSeconds: number;
}

export function isPcapng(magic: Uint8Array): boolean {
  return magic.length >= 4 && magic[0] === 0x0a && magic[1] === 0x0d && magic[2] === 0x0d && magic[3] === 0x0a;
}

const decoder = new TextDecoder('utf-8');

export class PcapngParser implements CaptureParser {
  readonly format = 'pcapng';
  private readonly joiner = new ChunkJoiner();
  private little = true;
  private interfaces: Interface[] = [];
  private frameNumber = 0;
  private failed = false;
  private sawSection = false;
  /** Comments of the section header blocks (capture-level comments). */
  readonly sectionComments: string[] = [];

  constructor(private readonly sink: CaptureSink) {}

  push(chunk: Uint8Array): void {
    if (this.failed) return;
    const { buffer, base } = this.joiner.join(chunk);
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let pos = 0;
    while (buffer.length - pos >= 12) {
      let type = view.getUint32(pos, this.little);
      if (type === SHB) {
        // The byte-order magic decides how to read this section, including its own length.
        const bom = view.getUint32(pos + 8, true);
        if (bom === 0x1a2b3c4d) this.little = true;
        else if (bom === 0x4d3c2b1a) this.little = false;
        else return this.fail(`pcapng section header at byte offset ${base + pos} has a bad byte-order magic`);
        type = SHB;
      } else if (!this.sawSection) {
        return this.fail('pcapng file does not start with a section header block');
      }
      const total = view.getUint32(pos + 4, this.little);
      if (total < 12 || total % 4 !== 0 || total > MAX_RECORD) {
        return this.fail(`pcapng block at byte offset ${base + pos} has an invalid length ${total}`);
      }
      if (buffer.length - pos < total) break;
      if (view.getUint32(pos + total - 4, this.little) !== total) {
        return this.fail(`pcapng block at byte offset ${base + pos} has a trailing length that differs from its leading length ${total}`);
      }
      const minimum = MIN_LENGTH[type] ?? 12;
      if (total < minimum) {
        if (type === SHB) return this.fail(`pcapng section header at byte offset ${base + pos} is shorter than ${minimum} bytes`);
        this.sink.warning(`pcapng block of type ${type} at byte offset ${base + pos} is ${total} bytes, shorter than its fixed part (${minimum}); skipped`);
        pos += total;
        continue;
      }
      this.block(type, buffer.subarray(pos, pos + total), view, pos, base + pos);
      if (this.failed) return;
      pos += total;
    }
    this.joiner.keep(buffer, base, pos);
  }

  end(): void {
    if (this.failed) return;
    if (!this.sawSection) throw new CaptureFormatError('pcapng file is truncated before its first block');
    if (this.joiner.pendingBytes > 0) {
      this.sink.warning(`capture file truncated: incomplete pcapng block at byte offset ${this.joiner.offset} (${this.joiner.pendingBytes} bytes left over)`);
    }
  }

  private fail(message: string): void {
    this.failed = true;
    if (!this.sawSection) throw new CaptureFormatError(message);
    this.sink.warning(`${message}; the rest of the file is skipped`);
  }

  private block(type: number, block: Uint8Array, view: DataView, pos: number, fileOffset: number): void {
    const little = this.little;
    const bodyEnd = pos + block.length - 4;
    switch (type) {
      case SHB: {
        this.sawSection = true;
        this.interfaces = []; // interface ids are per section
        for (const [code, value] of options(view, pos + 24, bodyEnd, little)) {
          if (code === OPT_COMMENT) this.sectionComments.push(decoder.decode(value));
        }
        return;
      }
      case IDB: {
        const iface: Interface = {
          linkType: view.getUint16(pos + 8, little),
          snapLen: view.getUint32(pos + 12, little),
          unitsPerSecond: 1e6,
          decimal: true,
          resolutionDigits: 6,
          offsetSeconds: 0,
        };
        for (const [code, value] of options(view, pos + 16, bodyEnd, little)) {
          if (code === IF_TSRESOL && value.length >= 1) {
            const r = value[0]!;
            iface.decimal = (r & 0x80) === 0;
            iface.resolutionDigits = r & 0x7f;
            iface.unitsPerSecond = iface.decimal ? 10 ** iface.resolutionDigits : 2 ** iface.resolutionDigits;
          } else if (code === IF_TSOFFSET && value.length >= 8) {
            const dv = new DataView(value.buffer, value.byteOffset, 8);
            iface.offsetSeconds = Number(dv.getBigInt64(0, little));
          }
        }
        this.interfaces.push(iface);
        return;
      }
      case EPB:
      case OBSOLETE_PB: {
        const obsolete = type === OBSOLETE_PB;
        const ifId = obsolete ? view.getUint16(pos + 8, little) : view.getUint32(pos + 8, little);
        const iface = this.interfaces[ifId];
        if (iface === undefined) {
          this.sink.warning(`pcapng packet block at byte offset ${fileOffset} names interface ${ifId}, which was not described; skipped`);
          this.frameNumber++; // tshark still counts it as a frame
          return;
        }
        const high = view.getUint32(pos + 12, little);
        const low = view.getUint32(pos + 16, little);
        const caplen = view.getUint32(pos + 20, little);
        const len = view.getUint32(pos + 24, little);
        const dataStart = pos + 28;
        if (dataStart + caplen > bodyEnd) {
          this.sink.warning(`pcapng packet block at byte offset ${fileOffset} claims ${caplen} bytes but holds fewer; skipped`);
          this.frameNumber++;
          return;
        }
        let comments: string[] | undefined;
        for (const [code, value] of options(view, dataStart + pad4(caplen), bodyEnd, little)) {
          if (code === OPT_COMMENT) (comments ??= []).push(decoder.decode(value));
        }
        const [tsSec, tsNsec] = timestamp(iface, high, low);
        this.sink.frame({
          number: ++this.frameNumber,
          tsSec,
          tsNsec,
          caplen,
          len,
          linkType: iface.linkType,
          data: block.subarray(28, 28 + caplen),
          interfaceId: ifId,
          comments,
        });
        return;
      }
      case SPB: {
        const iface = this.interfaces[0];
        if (iface === undefined) {
          this.sink.warning(`pcapng simple packet block at byte offset ${fileOffset} before any interface; skipped`);
          this.frameNumber++;
          return;
        }
        const len = view.getUint32(pos + 8, little);
        const room = block.length - 16;
        const caplen = Math.min(len, room, iface.snapLen > 0 ? iface.snapLen : len);
        this.sink.frame({
          number: ++this.frameNumber,
          tsSec: 0,
          tsNsec: 0,
          caplen,
          len,
          linkType: iface.linkType,
          data: block.subarray(12, 12 + caplen),
          interfaceId: 0,
        });
        return;
      }
      default:
        return; // name resolution, statistics, custom and unknown blocks: skipped by length
    }
  }
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** Iterates the options of a block body, stopping at opt_endofopt or the first malformed one. */
function* options(view: DataView, start: number, end: number, little: boolean): Generator<[number, Uint8Array]> {
  let pos = start;
  while (pos + 4 <= end) {
    const code = view.getUint16(pos, little);
    const length = view.getUint16(pos + 2, little);
    if (code === 0) return;
    if (pos + 4 + length > end) return;
    yield [code, new Uint8Array(view.buffer, view.byteOffset + pos + 4, length)];
    pos += 4 + pad4(length);
  }
}

function timestamp(iface: Interface, high: number, low: number): [number, number] {
  if (iface.decimal && iface.resolutionDigits <= 6) {
    // Fits a double exactly for any realistic date at µs resolution or coarser.
    const ticks = high * 4294967296 + low;
    const sec = Math.floor(ticks / iface.unitsPerSecond);
    const rem = ticks - sec * iface.unitsPerSecond;
    return [sec + iface.offsetSeconds, Math.round((rem * 1e9) / iface.unitsPerSecond)];
  }
  const ticks = (BigInt(high) << 32n) | BigInt(low);
  const units = iface.decimal ? 10n ** BigInt(iface.resolutionDigits) : 1n << BigInt(iface.resolutionDigits);
  const sec = ticks / units;
  const rem = ticks % units;
  return [Number(sec) + iface.offsetSeconds, Number((rem * 1_000_000_000n) / units)];
}
