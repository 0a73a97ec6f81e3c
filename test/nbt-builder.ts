// Builds small Ethernet/IPv4 pcap files in memory for edge-case tests of the NetBIOS and SMB
// dissectors (hand-built bytes; the real-software evidence is in the fixture tests).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeName } from '../src/protocols/nbt/names.js';

export interface RawFrame {
  readonly data: Uint8Array;
  readonly ts?: number;
}

function ip4(a: string): number[] {
  return a.split('.').map(Number);
}

function ipv4Frame(src: string, dst: string, proto: number, payload: Uint8Array): Uint8Array {
  const total = 20 + payload.length;
  const eth = [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 6, 0x08, 0x00];
  const ip = [0x45, 0, total >> 8, total & 0xff, 0, 1, 0, 0, 64, proto, 0, 0, ...ip4(src), ...ip4(dst)];
  const out = new Uint8Array(eth.length + ip.length + payload.length);
  out.set(eth, 0);
  out.set(ip, eth.length);
  out.set(payload, eth.length + ip.length);
  return out;
}

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH = 0x08;
export const FIN = 0x01;
export const RST = 0x04;

export function tcp(src: string, sp: number, dst: string, dp: number, seq: number, ack: number, flags: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = new Uint8Array(20 + payload.length);
  const v = new DataView(h.buffer);
  v.setUint16(0, sp);
  v.setUint16(2, dp);
  v.setUint32(4, seq >>> 0);
  v.setUint32(8, ack >>> 0);
  h[12] = 5 << 4;
  h[13] = flags;
  v.setUint16(14, 65535);
  h.set(payload, 20);
  return ipv4Frame(src, dst, 6, h);
}

export function udp(src: string, sp: number, dst: string, dp: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(8 + payload.length);
  const v = new DataView(h.buffer);
  v.setUint16(0, sp);
  v.setUint16(2, dp);
  v.setUint16(4, 8 + payload.length);
  h.set(payload, 8);
  return ipv4Frame(src, dst, 17, h);
}

export function writePcap(frames: (Uint8Array | RawFrame)[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-nbt-'));
  const path = join(dir, 'test.pcap');
  const parts: Uint8Array[] = [];
  const gh = new Uint8Array(24);
  const gv = new DataView(gh.buffer);
  gv.setUint32(0, 0xa1b2c3d4, true);
  gv.setUint16(4, 2, true);
  gv.setUint16(6, 4, true);
  gv.setUint32(16, 65535, true);
  gv.setUint32(20, 1, true);
  parts.push(gh);
  frames.forEach((fr, i) => {
    const data = fr instanceof Uint8Array ? fr : fr.data;
    const ts = fr instanceof Uint8Array ? 1_000_000_000 + i * 0.001 : fr.ts ?? 1_000_000_000 + i * 0.001;
    const rh = new Uint8Array(16);
    const rv = new DataView(rh.buffer);
    rv.setUint32(0, Math.floor(ts), true);
    rv.setUint32(4, Math.round((ts % 1) * 1e6), true);
    rv.setUint32(8, data.length, true);
    rv.setUint32(12, data.length, true);
    parts.push(rh, data);
  });
  writeFileSync(path, Buffer.concat(parts));
  return path;
}

export function bytes(...parts: (number[] | Uint8Array | string)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === 'string' ? Uint8Array.from(Buffer.from(p, 'latin1')) : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

export function le16(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff];
}

/** An NBSS message: type, E bit and 16-bit length (RFC 1002 §4.3.1). */
export function nbss(type: number, body: Uint8Array): Uint8Array {
  const len = body.length;
  return bytes([type, (len >> 16) & 1, (len >> 8) & 0xff, len & 0xff], body);
}

export function sessionRequest(called: string, calledSuffix: number, calling: string): Uint8Array {
  return nbss(0x81, bytes(encodeName(called, calledSuffix), encodeName(calling, 0)));
}

export interface SmbOpts {
  response?: boolean;
  status?: number;
  flags2?: number;
  mid?: number;
  pid?: number;
  tid?: number;
  uid?: number;
}

/** An SMB1 message: header, then WordCount, words, ByteCount, bytes. */
export function smb(cmd: number, words: number[], data: Uint8Array, o: SmbOpts = {}): Uint8Array {
  const h = new Uint8Array(32);
  h.set([0xff, 0x53, 0x4d, 0x42, cmd]);
  new DataView(h.buffer).setUint32(5, o.status ?? 0, true);
  h[9] = o.response === true ? 0x80 : 0;
  h.set(le16(o.flags2 ?? 0), 10);
  h.set(le16(o.tid ?? 0), 24);
  h.set(le16(o.pid ?? 0), 26);
  h.set(le16(o.uid ?? 0), 28);
  h.set(le16(o.mid ?? 0), 30);
  return bytes(h, [words.length], ...words.map(le16), le16(data.length), data);
}

/** A TCP conversation builder that keeps sequence numbers. */
export class Conversation {
  readonly frames: Uint8Array[] = [];
  private seq: [number, number];

  constructor(readonly client: string, readonly cport: number, readonly server: string, readonly sport: number, isn: [number, number] = [1000, 5000], handshake = true) {
    this.seq = [isn[0], isn[1]];
    if (handshake) {
      this.frames.push(tcp(client, cport, server, sport, this.seq[0], 0, SYN));
      this.seq[0]++;
      this.frames.push(tcp(server, sport, client, cport, this.seq[1], this.seq[0], SYN | ACK));
      this.seq[1]++;
      this.frames.push(tcp(client, cport, server, sport, this.seq[0], this.seq[1], ACK));
    }
  }

  /** Sends `payload` from the client (0) or the server (1), cut into the given segment sizes. */
  send(dir: 0 | 1, payload: Uint8Array, cuts: number[] = []): this {
    let off = 0;
    const sizes = [...cuts, payload.length];
    for (const size of sizes) {
      const piece = payload.subarray(off, Math.min(payload.length, off + size));
      if (piece.length === 0) continue;
      this.frames.push(this.segment(dir, piece));
      off += piece.length;
    }
    return this;
  }

  segment(dir: 0 | 1, piece: Uint8Array, seqOverride?: number): Uint8Array {
    const [a, ap, b, bp] = dir === 0 ? [this.client, this.cport, this.server, this.sport] : [this.server, this.sport, this.client, this.cport];
    const seq = seqOverride ?? this.seq[dir];
    const fr = tcp(a, ap, b, bp, seq, this.seq[dir === 0 ? 1 : 0], ACK | PSH, piece);
    if (seqOverride === undefined) this.seq[dir] = (this.seq[dir] + piece.length) >>> 0;
    return fr;
  }

  /** Skips `n` bytes of a direction (the capture missed them). */
  skip(dir: 0 | 1, n: number): this {
    this.seq[dir] = (this.seq[dir] + n) >>> 0;
    return this;
  }

  close(): this {
    this.frames.push(tcp(this.client, this.cport, this.server, this.sport, this.seq[0], this.seq[1], FIN | ACK));
    this.frames.push(tcp(this.server, this.sport, this.client, this.cport, this.seq[1], this.seq[0] + 1, FIN | ACK));
    return this;
  }
}
