// Writes what `live -w` captures as pcapng: one section, one interface, enhanced packet blocks
// with microsecond timestamps.
import { closeSync, openSync, writeSync } from 'node:fs';

export class PcapngWriter {
  private readonly fd: number;

  constructor(path: string, linkType: number, interfaceName: string) {
    this.fd = openSync(path, 'w');
    this.write(block(0x0a0d0d0a, concat([u32(0x1a2b3c4d), u16(1), u16(0), u32(0xffffffff), u32(0xffffffff), options([[4, Buffer.from('msgscope', 'utf8')]])])));
    this.write(block(1, concat([u16(linkType), u16(0), u32(262144), options([[2, Buffer.from(interfaceName, 'utf8')], [9, Buffer.from([6])]])])));
  }

  packet(tsSec: number, tsNsec: number, data: Uint8Array, len: number): void {
    const micros = BigInt(tsSec) * 1_000_000n + BigInt(Math.floor(tsNsec / 1000));
    const high = Number(micros >> 32n);
    const low = Number(micros & 0xffffffffn);
    const padded = Buffer.alloc((data.length + 3) & ~3);
    padded.set(data);
    this.write(block(6, concat([u32(0), u32(high), u32(low), u32(data.length), u32(len), padded])));
  }

  close(): void {
    closeSync(this.fd);
  }

  private write(buffer: Buffer): void {
    writeSync(this.fd, buffer);
  }
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

function concat(parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

function options(list: [number, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [code, value] of list) {
    parts.push(u16(code), u16(value.length), value, Buffer.alloc(((value.length + 3) & ~3) - value.length));
  }
  parts.push(u16(0), u16(0));
  return concat(parts);
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  return concat([u32(type), u32(total), body, u32(total)]);
}
