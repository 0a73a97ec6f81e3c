// A streaming writer of classic pcap files (microsecond timestamps, little-endian): records
// are copied into one reused 8 MiB buffer that is flushed to the file when full, so writing a
// capture of any size holds only that buffer.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const FLUSH_AT = 8 * 1024 * 1024;

export class PcapWriter {
  /** @param {string} path @param {number} linkType LINKTYPE_* (1 = Ethernet) */
  constructor(path, linkType = 1) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'w');
    this.buf = Buffer.alloc(FLUSH_AT + 16 + 262144);
    this.used = 0;
    this.frames = 0;
    this.bytes = 0;
    const header = this.buf;
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(262144, 16);
    header.writeUInt32LE(linkType, 20);
    this.used = 24;
  }

  /**
   * Appends one record. `timeUs` is microseconds since the epoch; `origLen` the length on the
   * wire (defaults to the bytes given).
   * @param {number} timeUs @param {Uint8Array} data @param {number} [origLen]
   */
  write(timeUs, data, origLen = data.length) {
    if (this.used + 16 + data.length > this.buf.length) this.flush();
    const b = this.buf;
    const sec = Math.floor(timeUs / 1e6);
    b.writeUInt32LE(sec, this.used);
    b.writeUInt32LE(timeUs - sec * 1e6, this.used + 4);
    b.writeUInt32LE(data.length, this.used + 8);
    b.writeUInt32LE(origLen, this.used + 12);
    b.set(data, this.used + 16);
    this.used += 16 + data.length;
    this.frames++;
    if (this.used >= FLUSH_AT) this.flush();
  }

  flush() {
    if (this.used === 0) return;
    writeSync(this.fd, this.buf, 0, this.used);
    this.bytes += this.used;
    this.used = 0;
  }

  /** Flushes and closes; returns the file's size in bytes and its record count. */
  close() {
    this.flush();
    closeSync(this.fd);
    return { frames: this.frames, bytes: this.bytes };
  }
}
