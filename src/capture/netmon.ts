// Microsoft Network Monitor capture files, 1.x ("RTSS") and 2.x ("GMBU"): the Windows capture
// tool of the messenger era. The frames are found through a frame table of offsets that
// usually sits at the end of the file, so the parser holds the file until it has all of it;
// the cap below keeps that bounded.
import { CaptureFormatError, LINKTYPE, type CaptureParser, type CaptureSink } from './frame.js';
import { copyBytes } from '../util/bytes.js';

const MAX_NETMON_FILE = 512 * 1024 * 1024;
const HEADER_2X = 72;
const HEADER_1X = 64;

/** NetMon media types to LINKTYPE_* values. */
const NETMON_LINKS: Record<number, number> = { 1: LINKTYPE.ETHERNET, 2: LINKTYPE.TOKEN_RING, 3: LINKTYPE.FDDI, 0xe000: -1 };

export function isNetmon(magic: Uint8Array): boolean {
  if (magic.length < 4) return false;
  const s = String.fromCharCode(magic[0]!, magic[1]!, magic[2]!, magic[3]!);
  return s === 'GMBU' || s === 'RTSS';
}

export class NetmonParser implements CaptureParser {
  readonly format = 'netmon';
  private readonly chunks: Uint8Array[] = [];
  private size = 0;
  private tooBig = false;

  constructor(private readonly sink: CaptureSink) {}

  push(chunk: Uint8Array): void {
    if (this.tooBig) return;
    this.size += chunk.length;
    if (this.size > MAX_NETMON_FILE) {
      this.tooBig = true;
      throw new CaptureFormatError(`NetMon file larger than ${MAX_NETMON_FILE} bytes is not supported (its frame table is at the end)`);
    }
    this.chunks.push(copyBytes(chunk)); // the caller reuses its buffer
  }

  end(): void {
    if (this.tooBig) return;
    const file = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    const version2 = file.toString('latin1', 0, 4) === 'GMBU';
    const headerSize = version2 ? HEADER_2X : HEADER_1X;
    if (file.length < headerSize) throw new CaptureFormatError('NetMon file header is truncated');
    const minor = file[4]!;
    const media = file.readUInt16LE(6);
    // SYSTEMTIME of the capture start; NetMon writes local time, which we cannot know: treated as UTC.
    const startMs =
      Date.UTC(file.readUInt16LE(8), file.readUInt16LE(10) - 1, file.readUInt16LE(14), file.readUInt16LE(16), file.readUInt16LE(18), file.readUInt16LE(20)) +
      file.readUInt16LE(22);
    const start = Number.isFinite(startMs) ? startMs : 0;
    const tableOffset = file.readUInt32LE(24);
    const tableLength = file.readUInt32LE(28);
    if (tableOffset + tableLength > file.length) {
      this.sink.warning(`NetMon frame table (offset ${tableOffset}, ${tableLength} bytes) runs past the end of the file; reading what is there`);
    }
    const tableEnd = Math.min(file.length, tableOffset + tableLength);
    let number = 0;
    for (let entry = tableOffset; entry + 4 <= tableEnd; entry += 4) {
      const at = file.readUInt32LE(entry);
      number++;
      const headerLength = version2 ? 16 : 8;
      if (at + headerLength > file.length) {
        this.sink.warning(`NetMon frame ${number} at byte offset ${at} lies past the end of the file; skipped`);
        continue;
      }
      let deltaMicros: number;
      let len: number;
      let caplen: number;
      if (version2) {
        deltaMicros = Number(file.readBigUInt64LE(at));
        len = file.readUInt32LE(at + 8);
        caplen = file.readUInt32LE(at + 12);
      } else {
        deltaMicros = file.readUInt32LE(at) * 1000;
        len = file.readUInt16LE(at + 4);
        caplen = file.readUInt16LE(at + 6);
      }
      const dataStart = at + headerLength;
      if (dataStart + caplen > file.length) {
        this.sink.warning(`capture file truncated: NetMon frame ${number} at byte offset ${at} is cut short`);
        continue;
      }
      // 2.1+ files follow each frame with a trailer whose first word is the frame's media type.
      let frameMedia = media;
      if (version2 && minor >= 1 && dataStart + caplen + 2 <= file.length) frameMedia = file.readUInt16LE(dataStart + caplen);
      const totalMicros = start * 1000 + deltaMicros;
      const tsSec = Math.floor(totalMicros / 1e6);
      this.sink.frame({
        number,
        tsSec,
        tsNsec: (totalMicros - tsSec * 1e6) * 1000,
        caplen,
        len,
        linkType: NETMON_LINKS[frameMedia] ?? 0x20000 + frameMedia,
        data: file.subarray(dataStart, dataStart + caplen),
        interfaceId: 0,
      });
    }
  }
}
