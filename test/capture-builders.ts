// Builders for hand-made capture files and packets (edge cases the public captures lack),
// and a runner that pushes frames through the engine and copies out what each frame became.
import type { CaptureSink, Frame } from '../src/capture/frame.js';
import { parserFor } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { infoColumn, protocolColumn } from '../src/output/columns.js';
import type { Finding } from '../src/model/findings.js';
import type { TimelineEvent } from '../src/model/events.js';
import { flatFields, type JsonScalar } from '../src/output/packet-view.js';

// ---- bytes ----

export function bytes(...parts: (Uint8Array | number[] | string)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

export function u16(v: number, little = false): number[] {
  return little ? [v & 0xff, (v >> 8) & 0xff] : [(v >> 8) & 0xff, v & 0xff];
}

export function u32(v: number, little = false): number[] {
  const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  return little ? b.reverse() : b;
}

function pad4(a: Uint8Array): Uint8Array {
  const n = (a.length + 3) & ~3;
  return n === a.length ? a : bytes(a, new Array<number>(n - a.length).fill(0));
}

// ---- capture files ----

export interface PcapRecord {
  sec: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  frac: number;
  data: Uint8Array;
  len?: number;
}

export function pcapFile(records: PcapRecord[], opts: { nanos?: boolean; little?: boolean; linkType?: number; snaplen?: number } = {}): Uint8Array {
  const little = opts.little ?? true;
  const magic = opts.nanos === true ? 0xa1b23c4d : 0xa1b2c3d4;
  const parts: (number[] | Uint8Array)[] = [u32(magic, little), u16(2, little), u16(4, little), u32(0, little), u32(0, little), u32(opts.snaplen ?? 65535, little), u32(opts.linkType ?? 1, little)];
  for (const r of records) parts.push(u32(r.sec, little), u32(r.frac, little), u32(r.data.length, little), u32(r.len ?? r.data.length, little), r.data);
  return bytes(...parts);
}

export type Option = [code: number, value: Uint8Array | string];

function options(list: Option[], little: boolean): Uint8Array {
  if (list.length === 0) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  for (const [code, value] of list) {
    const v = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    parts.push(bytes(u16(code, little), u16(v.length, little)), pad4(v));
  }
  parts.push(bytes(u16(0, little), u16(0, little)));
  return bytes(...parts);
}

export function pcapngBlock(type: number, body: Uint8Array, little: boolean): Uint8Array {
  const padded = pad4(body);
  const total = 12 + padded.length;
  return bytes(u32(type, little), u32(total, little), padded, u32(total, little));
}

export const ng = {
  shb(little: boolean, opts: Option[] = []): Uint8Array {
    return pcapngBlock(0x0a0d0d0a, bytes(u32(0x1a2b3c4d, little), u16(1, little), u16(0, little), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], options(opts, little)), little);
  },
  idb(little: boolean, linkType: number, opts: Option[] = [], snaplen = 0): Uint8Array {
    return pcapngBlock(1, bytes(u16(linkType, little), u16(0, little), u32(snaplen, little), options(opts, little)), little);
  },
  epb(little: boolean, ifId: number, ticks: bigint, data: Uint8Array, opts: Option[] = [], len = data.length): Uint8Array {
    const high = Number(ticks >> 32n);
    const low = Number(ticks & 0xffffffffn);
    return pcapngBlock(6, bytes(u32(ifId, little), u32(high, little), u32(low, little), u32(data.length, little), u32(len, little), pad4(data), options(opts, little)), little);
  },
  /** The obsolete Packet Block (type 2): a 16-bit interface id and a drops count. */
  pb(little: boolean, ifId: number, ticks: bigint, data: Uint8Array, opts: Option[] = []): Uint8Array {
    const high = Number(ticks >> 32n);
    const low = Number(ticks & 0xffffffffn);
    return pcapngBlock(2, bytes(u16(ifId, little), u16(0, little), u32(high, little), u32(low, little), u32(data.length, little), u32(data.length, little), pad4(data), options(opts, little)), little);
  },
  spb(little: boolean, data: Uint8Array, len = data.length): Uint8Array {
    return pcapngBlock(3, bytes(u32(len, little), pad4(data)), little);
  },
  tsresol(v: number): Option {
    return [9, Uint8Array.of(v)];
  },
  tsoffset(seconds: bigint, little: boolean): Option {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, seconds, little);
    return [14, b];
  },
};

/** Parses a whole file held in memory, split into chunks of `chunk` bytes (to exercise joins). */
export function parseBytes(file: Uint8Array, chunk = file.length): { frames: Frame[]; warnings: string[]; format: string } {
  const frames: Frame[] = [];
  const warnings: string[] = [];
  const sink: CaptureSink = {
    frame: (f) => frames.push({ ...f, data: f.data.slice() }),
    warning: (w) => warnings.push(w),
  };
  const parser = parserFor(file.subarray(0, 8), sink);
  if (parser === undefined) throw new Error('not a capture');
  for (let at = 0; at < file.length; at += Math.max(1, chunk)) parser.push(file.slice(at, Math.min(file.length, at + Math.max(1, chunk))));
  parser.end();
  return { frames, warnings, format: parser.format };
}

// ---- packets ----

export const MAC_A = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
export const MAC_B = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];

export function eth(type: number, payload: Uint8Array, dst = MAC_B, src = MAC_A): Uint8Array {
  return bytes(dst, src, u16(type), payload);
}

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2 === 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface Ipv4Opts {
  src?: number[];
  dst?: number[];
  proto: number;
  id?: number;
  df?: boolean;
  mf?: boolean;
  /** In bytes (a multiple of 8). */
  offset?: number;
  ttl?: number;
  options?: number[];
  totalLength?: number;
}

export function ipv4(o: Ipv4Opts, payload: Uint8Array): Uint8Array {
  const opts = o.options ?? [];
  const hl = 20 + opts.length;
  const flags = (o.df === true ? 0x4000 : 0) | (o.mf === true ? 0x2000 : 0) | ((o.offset ?? 0) / 8);
  const h = bytes([0x40 | (hl / 4), 0], u16(o.totalLength ?? hl + payload.length), u16(o.id ?? 1), u16(flags), [o.ttl ?? 64, o.proto], [0, 0], o.src ?? [10, 0, 0, 1], o.dst ?? [10, 0, 0, 2], opts);
  const c = checksum(h);
  h[10] = c >> 8;
  h[11] = c & 0xff;
  return bytes(h, payload);
}

export function ipv6(next: number, payload: Uint8Array, src = '20010db8000000000000000000000001', dst = '20010db8000000000000000000000002'): Uint8Array {
  const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((x) => parseInt(x, 16)));
  return bytes([0x60, 0, 0, 0], u16(payload.length), [next, 64], hex(src), hex(dst), payload);
}

export function udp(sp: number, dp: number, payload: Uint8Array, length = 8 + payload.length): Uint8Array {
  return bytes(u16(sp), u16(dp), u16(length), [0, 0], payload);
}

export function tcp(o: { sp: number; dp: number; seq?: number; ack?: number; flags: number; options?: number[]; window?: number }, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const opts = o.options ?? [];
  const hl = 20 + opts.length;
  return bytes(u16(o.sp), u16(o.dp), u32(o.seq ?? 1000), u32(o.ack ?? 0), [(hl / 4) << 4, o.flags], u16(o.window ?? 8192), [0, 0, 0, 0], opts, payload);
}

// ---- running the engine ----

export interface Decoded {
  number: number;
  layers: string[];
  quoted: boolean[];
  src: string;
  dst: string;
  protocol: string;
  info: string;
  fields: Record<string, JsonScalar[]>;
  findings: Finding[];
}

export interface FrameInput {
  data: Uint8Array;
  linkType?: number;
  tsSec?: number;
  len?: number;
}

export function decodeFrames(inputs: FrameInput[]): { packets: Decoded[]; events: TimelineEvent[] } {
  const packets: Decoded[] = [];
  const events: TimelineEvent[] = [];
  const engine = new Engine({
    packet: (p) =>
      packets.push({
        number: p.frame.number,
        layers: p.layers.map((l) => l.name),
        quoted: p.layers.map((l) => l.quoted === true),
        src: p.src,
        dst: p.dst,
        protocol: protocolColumn(p),
        info: infoColumn(p),
        fields: flatFields(p),
        findings: p.findings,
      }),
    event: (e) => events.push(e),
  }, {}, defaultProtocols());
  inputs.forEach((input, i) => {
    engine.frame({
      number: i + 1,
      tsSec: input.tsSec ?? 1_000_000 + i,
      tsNsec: 0,
      caplen: input.data.length,
      len: input.len ?? input.data.length,
      linkType: input.linkType ?? 1,
      data: input.data,
      interfaceId: 0,
    });
  });
  engine.finish();
  return { packets, events };
}

export function decodeOne(data: Uint8Array, linkType = 1): Decoded {
  return decodeFrames([{ data, linkType }]).packets[0]!;
}
