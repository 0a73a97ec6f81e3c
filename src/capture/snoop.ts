// Sun snoop files (RFC 1761): big-endian records padded to a declared record length.
import { ChunkJoiner } from './chunked.js';
import { CaptureFormatError, LINKTYPE, MAX_RECORD, type CaptureParser, type CaptureSink } from './frame.js';

const MAGIC = [0x73, 0x6e, 0x6f, 0x6f, 0x70, 0, 0, 0]; // "snoop\0\0\0"
const FILE_HEADER = 16;
const RECORD_HEADER = 24;

/** RFC 1761 datalink types to LINKTYPE_* values. */
const SNOOP_LINKS: Record<number, number> = { 0: LINKTYPE.ETHERNET, 4: LINKTYPE.ETHERNET, 2: LINKTYPE.TOKEN_RING, 8: LINKTYPE.FDDI };

export function isSnoop(magic: Uint8Array): boolean {
  return magic.length >= 8 && MAGIC.every((b, i) => magic[i] === b);
}

export class SnoopParser implements CaptureParser {
  readonly format = 'snoop';
  private readonly joiner = new ChunkJoiner();
  private linkType = -1;
  private frameNumber = 0;
  private failed = false;

  constructor(private readonly sink: CaptureSink) {}

  push(chunk: Uint8Array): void {
    if (this.failed) return;
    const { buffer, base } = this.joiner.join(chunk);
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let pos = 0;
    if (this.linkType < 0) {
      if (buffer.length < FILE_HEADER) return this.joiner.keep(buffer, base, 0);
      const datalink = view.getUint32(12, false);
      this.linkType = SNOOP_LINKS[datalink] ?? 0x10000 + datalink; // unknown types stay undecoded
      pos = FILE_HEADER;
    }
    while (buffer.length - pos >= RECORD_HEADER) {
      const len = view.getUint32(pos, false);
      const caplen = view.getUint32(pos + 4, false);
      const recordLength = view.getUint32(pos + 8, false);
      if (recordLength < RECORD_HEADER + caplen || recordLength > MAX_RECORD) {
        this.failed = true;
        this.sink.warning(`snoop record at byte offset ${base + pos} has an invalid record length ${recordLength}; the rest of the file is skipped`);
        return;
      }
      if (buffer.length - pos < recordLength) break;
      const start = pos + RECORD_HEADER;
      this.sink.frame({
        number: ++this.frameNumber,
        tsSec: view.getUint32(pos + 16, false),
        tsNsec: view.getUint32(pos + 20, false) * 1000,
        caplen,
        len,
        linkType: this.linkType,
        data: buffer.subarray(start, start + caplen),
        interfaceId: 0,
      });
      pos += recordLength;
    }
    this.joiner.keep(buffer, base, pos);
  }

  end(): void {
    if (this.failed) return;
    if (this.linkType < 0) throw new CaptureFormatError('snoop file header is truncated');
    if (this.joiner.pendingBytes > 0) {
      this.sink.warning(`capture file truncated: incomplete snoop record at byte offset ${this.joiner.offset} (${this.joiner.pendingBytes} bytes left over)`);
    }
  }
}
