// Classic libpcap files: microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) magics, in
// either byte order. Format: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-03.html
import { ChunkJoiner } from './chunked.js';
import { CaptureFormatError, MAX_RECORD, type CaptureParser, type CaptureSink } from './frame.js';

const FILE_HEADER = 24;
const RECORD_HEADER = 16;

export function isPcap(magic: Uint8Array): boolean {
  if (magic.length < 4) return false;
  const be = (magic[0]! << 24 | magic[1]! << 16 | magic[2]! << 8 | magic[3]!) >>> 0;
  return be === 0xa1b2c3d4 || be === 0xd4c3b2a1 || be === 0xa1b23c4d || be === 0x4d3cb2a1;
}

export class PcapParser implements CaptureParser {
  format = 'pcap';
  private readonly joiner = new ChunkJoiner();
  private headerDone = false;
  private little = true;
  private nanos = false;
  private linkType = 1;
  private frameNumber = 0;
  private failed = false;

  constructor(private readonly sink: CaptureSink) {}

  push(chunk: Uint8Array): void {
    if (this.failed) return;
    const { buffer, base } = this.joiner.join(chunk);
    const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let pos = 0;
    if (!this.headerDone) {
      if (buffer.length < FILE_HEADER) return this.joiner.keep(buffer, base, 0);
      this.readHeader(view);
      pos = FILE_HEADER;
    }
    const little = this.little;
    const sink = this.sink;
    while (buffer.length - pos >= RECORD_HEADER) {
      const caplen = view.getUint32(pos + 8, little);
      if (caplen > MAX_RECORD) {
        this.failed = true;
        sink.warning(`pcap record at byte offset ${base + pos} claims ${caplen} captured bytes; the file is corrupt from there on`);
        return;
      }
      if (buffer.length - pos < RECORD_HEADER + caplen) break;
      const tsSec = view.getUint32(pos, little);
      const frac = view.getUint32(pos + 4, little);
      const len = view.getUint32(pos + 12, little);
      const start = pos + RECORD_HEADER;
      sink.frame({
        number: ++this.frameNumber,
        tsSec,
        tsNsec: this.nanos ? frac : frac * 1000,
        caplen,
        len,
        linkType: this.linkType,
        data: buffer.subarray(start, start + caplen),
        interfaceId: 0,
      });
      pos = start + caplen;
    }
    this.joiner.keep(buffer, base, pos);
  }

  end(): void {
    if (this.failed) return;
    if (!this.headerDone) throw new CaptureFormatError('pcap file header is truncated');
    if (this.joiner.pendingBytes > 0) {
      this.sink.warning(`capture file truncated: incomplete pcap record at byte offset ${this.joiner.offset} (${this.joiner.pendingBytes} bytes left over)`);
    }
  }

  private readHeader(view: DataView): void {
    const magic = view.getUint32(0, false);
    this.little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    this.nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
    if (this.nanos) this.format = 'pcap-ns';
    // The top bits of the link-type word carry FCS flags (draft §4), not the type.
    this.linkType = view.getUint32(20, this.little) & 0x0fffffff;
    this.headerDone = true;
  }
}
