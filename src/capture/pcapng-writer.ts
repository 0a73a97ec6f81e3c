// Writes pcapng: one section, an interface block per (link type, name) as frames need them,
// enhanced packet blocks with nanosecond timestamps (if_tsresol 9, so no precision is lost
// whatever the source had) and packet comments (opt_comment). Used by `live -w` (every captured
// frame) and by `read -w` / `timeline -w` (the frames selected). Blocks are gathered in memory up
// to a bounded size, then written.
import { closeSync, openSync, writeSync } from 'node:fs';

/** What a packet block needs of a frame. */
export interface FrameToWrite {
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly data: Uint8Array;
  /** Length on the wire. */
  readonly len: number;
}

const BUFFER_LIMIT = 1 << 20;

/** How the CLI passes `-w -` (yargs drops a lone `-`). */
export const STDOUT_PATH = '/dev/stdout';

export function isStdout(target: string): boolean {
  return target === '-' || target === STDOUT_PATH;
}

export class PcapngWriter {
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private readonly interfaces = new Map<string, number>();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;

  /**
   * `target` is a path, or `-` for standard output. `flushEach` writes every block at once
   * (live capture: what was captured is on disk even if the process is killed).
   */
  constructor(target: string, private readonly flushEach = false) {
    this.ownsFd = !isStdout(target);
    this.fd = this.ownsFd ? openSync(target, 'w') : 1;
    this.put(block(0x0a0d0d0a, concat([u32(0x1a2b3c4d), u16(1), u16(0), u32(0xffffffff), u32(0xffffffff), options([[4, utf8('msgscope')]])])));
  }

  /** The interface id for frames of this link type (and capture interface name), declared on first use. */
  interfaceFor(linkType: number, name: string): number {
    const key = `${linkType}\0${name}`;
    let id = this.interfaces.get(key);
    if (id === undefined) {
      id = this.interfaces.size;
      this.interfaces.set(key, id);
      const opts: [number, Buffer][] = [[9, Buffer.from([9])]];
      if (name !== '') opts.unshift([2, utf8(name)]);
      this.put(block(1, concat([u16(linkType), u16(0), u32(262144), options(opts)])));
    }
    return id;
  }

  /** One enhanced packet block; each comment becomes an opt_comment. */
  packet(interfaceId: number, frame: FrameToWrite, comments: readonly string[] = []): void {
    const nanos = BigInt(frame.tsSec) * 1_000_000_000n + BigInt(frame.tsNsec);
    const high = Number((nanos >> 32n) & 0xffffffffn);
    const low = Number(nanos & 0xffffffffn);
    const padded = Buffer.alloc((frame.data.length + 3) & ~3);
    padded.set(frame.data);
    const opts = comments.length > 0 ? options(comments.map((c) => [1, utf8(c)])) : Buffer.alloc(0);
    this.put(block(6, concat([u32(interfaceId), u32(high), u32(low), u32(frame.data.length), u32(frame.len), padded, opts])));
    this.written++;
  }

  /** Packets written so far. */
  get count(): number {
    return this.written;
  }

  close(): void {
    this.flush();
    if (this.ownsFd) closeSync(this.fd);
  }

  private put(buffer: Buffer): void {
    this.pending.push(buffer);
    this.pendingBytes += buffer.length;
    if (this.flushEach || this.pendingBytes >= BUFFER_LIMIT) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const all = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    let offset = 0;
    while (offset < all.length) offset += writeSync(this.fd, all, offset);
  }
}

function utf8(text: string): Buffer {
  return Buffer.from(text, 'utf8');
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

/** Options (a comment is cut to the 65535 bytes an option can hold), then opt_endofopt. */
function options(list: [number, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  for (const [code, whole] of list) {
    const value = whole.length > 0xffff ? whole.subarray(0, 0xffff) : whole;
    parts.push(u16(code), u16(value.length), value, Buffer.alloc(((value.length + 3) & ~3) - value.length));
  }
  parts.push(u16(0), u16(0));
  return concat(parts);
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length;
  return concat([u32(type), u32(total), body, u32(total)]);
}
