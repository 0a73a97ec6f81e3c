// Hostile-input campaign over the whole dissector stack: random bytes and mutated real PDUs
// (from the fixtures and the public captures) on every port the dissectors listen on.
// Deterministic (seeded PRNG, bounded iterations). Asserts no throw, no internal-error finding,
// and that dissection time stays roughly linear in input size (a generous ceiling catches hangs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Frame } from '../src/capture/frame.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { bytes, eth, ipv4, pcapFile, parseBytes, tcp, u16, udp, u32, ng } from './capture-builders.js';
import { cli, FIXTURES, PUBLIC, exists } from './helpers.js';
import { infoColumn, protocolColumn } from '../src/output/columns.js';
import { detailTree, flatFields } from '../src/output/packet-view.js';
import { makeStyle } from '../src/output/style.js';

const PLAIN = makeStyle(false);

/** mulberry32: small, seedable, good enough to spread mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Outcome {
  frames: number;
  internal: string[];
  ms: number;
}

/** Runs frames through a fresh engine; records internal-error findings (each is a bug). */
function run(frames: Frame[]): Outcome {
  const internal: string[] = [];
  const start = performance.now();
  const engine = new Engine({
    packet: (p) => {
      for (const f of p.findings) if (f.id === 'msgscope.internal-error') internal.push(`frame ${p.frame.number}: ${f.summary}`);
      // Field trees, columns and flat fields are built lazily by the output views: build them here.
      try {
        infoColumn(p);
        protocolColumn(p);
        flatFields(p);
        detailTree(p, PLAIN);
      } catch (err) {
        internal.push(`frame ${p.frame.number}: presentation threw ${(err as Error).stack ?? String(err)}`);
      }
    },
    event: (e) => {
      if (e.kind === 'finding' && (e as { id?: string }).id === 'msgscope.internal-error') internal.push(JSON.stringify(e));
    },
  }, {}, defaultProtocols());
  let n = 0;
  for (const f of frames) engine.frame({ ...f, number: ++n });
  engine.finish();
  return { frames: n, internal, ms: performance.now() - start };
}

function frame(data: Uint8Array, i: number, linkType = 1): Frame {
  return { number: i + 1, tsSec: 1_000_000 + i, tsNsec: 0, caplen: data.length, len: data.length, linkType, data, interfaceId: 0 };
}

/** Where the L4 header and payload of an Ethernet/IPv4 frame start (undefined for anything else). */
function l4(f: Frame): { proto: number; hdr: number; payload: number } | undefined {
  const d = f.data;
  if (f.linkType !== 1 || d.length < 34 || d[12] !== 0x08 || d[13] !== 0x00) return undefined;
  const ihl = (d[14]! & 0x0f) * 4;
  const proto = d[23]!;
  const hdr = 14 + ihl;
  if (proto === 6 && d.length >= hdr + 20) return { proto, hdr, payload: hdr + ((d[hdr + 12]! >> 4) * 4) };
  if (proto === 17 && d.length >= hdr + 8) return { proto, hdr, payload: hdr + 8 };
  return undefined;
}

function loadFrames(path: string): Frame[] {
  try {
    return parseBytes(new Uint8Array(readFileSync(path))).frames;
  } catch {
    return [];
  }
}

const SOURCES: string[] = [];
for (const dir of [FIXTURES, join(FIXTURES, 'msnp')]) {
  if (exists(dir)) for (const n of readdirSync(dir)) if (/\.(pcap|pcapng|cap)$/.test(n)) SOURCES.push(join(dir, n));
}
const PUBLIC_SMALL = [
  'ajbanjara__Wireshark/msnms.pcap',
  'ajbanjara__Wireshark/startmenu_Dameware.pcap',
  'ajbanjara__Wireshark/messenger.pcap',
  'ajbanjara__Wireshark/MyFirstTeste.pcap',
  'ajbanjara__Wireshark/can-2003-0003.pcap',
  'ajbanjara__Wireshark/dssetup_DsRoleGetPrimaryDomainInformation_ad_dc.cap',
  'ajbanjara__Wireshark/provabis.pcap',
  'ajbanjara__Wireshark/smb-browser-elections.pcapng',
  'arkime__arkime/smb-smb1-ascii.pcap',
  'arkime__arkime/nbns.pcap',
  'ntop__nDPI/dcerpc.pcap',
  'ntop__nDPI/netbios.pcap',
  'zeek__zeek/netbios-split-session-msg.pcap',
  'the-tcpdump-group__tcpdump/ipx.pcap',
];
if (process.env['FUZZ_BIG'] !== undefined) PUBLIC_SMALL.push('ajbanjara__Wireshark/mapi.cap', 'ajbanjara__Wireshark/packet_capture.pcap', 'ajbanjara__Wireshark/Sanaullah.pcap', 'ajbanjara__Wireshark/SkypeIRC.cap', 'ajbanjara__Wireshark/FTPv6-1.cap', 'ajbanjara__Wireshark/genbroad.snoop', 'ntop__nDPI/dos_win98_smb_netbeui.pcap', 'ajbanjara__Wireshark/smb-legacy-implementation.pcapng');
for (const p of PUBLIC_SMALL) if (exists(join(PUBLIC, p))) SOURCES.push(join(PUBLIC, p));

const TCP_PORTS = [139, 445, 135, 1863, 80, 1025, 49155];
const UDP_PORTS = [137, 138, 1026, 1027, 135, 40000];

/** One mutation of a copy of a frame's payload: flips, 16/32-bit fields set to extremes, truncation. */
function mutate(f: Frame, r: () => number, portSwap: boolean): Frame {
  const d = f.data.slice();
  const at = l4(f);
  const from = at?.payload ?? Math.min(d.length, 14);
  const span = d.length - from;
  const kind = Math.floor(r() * 6);
  if (span > 0) {
    const pos = from + Math.floor(r() * span);
    if (kind === 0) {
      for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) d[from + Math.floor(r() * span)] ^= 1 << Math.floor(r() * 8);
    } else if (kind === 1 || kind === 2) {
      const v = [0, 0xff, 0x7f, 0x80, 0x01][Math.floor(r() * 5)]!;
      const width = kind === 1 ? 2 : 4;
      for (let k = 0; k < width && pos + k < d.length; k++) d[pos + k] = k === 0 ? v : r() < 0.5 ? v : 0;
    } else if (kind === 3) {
      d[pos] = Math.floor(r() * 256);
    } else if (kind === 4) {
      // length-ish field just over the bytes present
      const over = span + 1;
      if (pos + 1 < d.length) {
        d[pos] = over & 0xff;
        d[pos + 1] = (over >> 8) & 0xff;
      }
    }
  }
  let out = d;
  if (kind === 5 && span > 1) out = d.subarray(0, from + Math.floor(r() * span));
  if (portSwap && at !== undefined) {
    const ports = at.proto === 6 ? TCP_PORTS : UDP_PORTS;
    const p = ports[Math.floor(r() * ports.length)]!;
    const which = r() < 0.5 ? 0 : 2;
    out[at.hdr + which] = p >> 8;
    out[at.hdr + which + 1] = p & 0xff;
  }
  return { ...f, data: out, caplen: out.length, len: Math.max(out.length, f.len) };
}

/** Frame-level reshuffles: duplicate and reorder a few frames (TCP retransmissions, reordering). */
function reshuffle(frames: Frame[], r: () => number): Frame[] {
  const out = frames.slice();
  for (let k = 0, n = Math.max(1, Math.floor(out.length / 10)); k < n; k++) {
    const i = Math.floor(r() * out.length);
    if (r() < 0.5) out.splice(i, 0, out[i]!);
    else {
      const j = Math.min(out.length - 1, i + 1 + Math.floor(r() * 3));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
  }
  return out;
}

function check(name: string, o: Outcome, bytesIn: number): void {
  assert.deepEqual(o.internal, [], `${name}: internal errors`);
  // Hang detector only: ~30 s for anything, scaled mildly by size.
  assert.ok(o.ms < 30_000 + bytesIn / 100, `${name}: took ${o.ms.toFixed(0)} ms`);
}

const MUTANT_DIR = mkdtempSync(join(tmpdir(), 'msgscope-fuzz-'));
const mutantFiles: string[] = [];

test('mutated real PDUs from fixtures and public captures', () => {
  // FUZZ_SEED / FUZZ_ROUNDS widen a manual campaign; the defaults keep the suite deterministic and quick.
  const r = prng(Number(process.env['FUZZ_SEED'] ?? 0x5eed));
  let runs = 0;
  for (const src of SOURCES) {
    const base = loadFrames(src).slice(0, Number(process.env['FUZZ_FRAMES'] ?? 400));
    if (base.length === 0) continue;
    const rounds = Number(process.env['FUZZ_ROUNDS'] ?? 30);
    for (let round = 0; round < rounds; round++) {
      const rate = [0.05, 0.3, 1][round % 3]!;
      let frames = base.map((f) => (r() < rate ? mutate(f, r, round % 4 === 3) : f));
      if (round % 2 === 1) frames = reshuffle(frames, r);
      const o = run(frames);
      runs++;
      check(`${src} round ${round}`, o, frames.reduce((n, f) => n + f.data.length, 0));
      if (round === 5 && mutantFiles.length < 6 && frames.every((f) => f.linkType === frames[0]!.linkType)) {
        const path = join(MUTANT_DIR, `m${mutantFiles.length}.pcap`);
        writeFileSync(path, pcapFile(frames.map((f) => ({ sec: f.tsSec, frac: 0, data: f.data })), { linkType: frames[0]!.linkType }));
        mutantFiles.push(path);
      }
    }
  }
  assert.ok(runs > 50);
});

test('random payloads on every protocol port', () => {
  const r = prng(42);
  const rand = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(r() * 256));
  for (let round = 0; round < 150; round++) {
    const frames: Frame[] = [];
    let seqA = 1000;
    let seqB = 5000;
    const tp = TCP_PORTS[round % TCP_PORTS.length]!;
    const up = UDP_PORTS[round % UDP_PORTS.length]!;
    for (let i = 0; i < 60; i++) {
      const len = Math.floor(r() * (r() < 0.2 ? 1400 : 80));
      const body = rand(len);
      // Bias some payloads toward protocol magics so deeper code runs.
      if (len > 8 && r() < 0.5) body.set([[0x00], [0xff, 0x53, 0x4d, 0x42], [0xfe, 0x53, 0x4d, 0x42], [0x05, 0x00], [0x04, 0x00]][Math.floor(r() * 5)]!, r() < 0.5 ? 0 : 4);
      if (r() < 0.5) {
        const toServer = r() < 0.5;
        const seg = tcp({ sp: toServer ? 3000 : tp, dp: toServer ? tp : 3000, seq: toServer ? seqA : seqB, ack: 1, flags: 0x18 }, body);
        if (toServer) seqA += len;
        else seqB += len;
        frames.push(frame(eth(0x0800, ipv4({ proto: 6 }, seg)), i));
      } else {
        frames.push(frame(eth(0x0800, ipv4({ proto: 17 }, udp(r() < 0.5 ? up : 1024 + Math.floor(r() * 60000), up, body))), i));
      }
    }
    check(`random round ${round}`, run(frames), 0);
  }
});

// ---- pathological inputs by hand ----

const CLIENT = [192, 0, 2, 1];
const SERVER = [192, 0, 2, 2];

/** A one-directional TCP stream cut into segments of `seg` bytes, with the handshake first. */
function tcpStream(dport: number, chunks: Iterable<Uint8Array>, sport = 40001): Frame[] {
  const frames: Frame[] = [];
  let seq = 1000;
  const push = (flags: number, body: Uint8Array, up = true) =>
    frames.push(frame(eth(0x0800, ipv4({ proto: 6, src: up ? CLIENT : SERVER, dst: up ? SERVER : CLIENT }, tcp({ sp: up ? sport : dport, dp: up ? dport : sport, seq: up ? seq : 9000, ack: up ? 9001 : seq, flags }, body))), frames.length));
  push(0x02, new Uint8Array(0));
  seq++;
  push(0x12, new Uint8Array(0), false);
  for (const c of chunks) {
    push(0x18, c);
    seq += c.length;
  }
  return frames;
}

function* repeat(chunk: Uint8Array, total: number): Generator<Uint8Array> {
  for (let n = 0; n < total; n += chunk.length) yield chunk;
}

function timed(name: string, frames: Frame[], size: number): Outcome {
  const o = run(frames);
  check(name, o, size);
  // Measured, reported, not tightly asserted (hang detector above).
  console.log(`# ${name}: ${(size / 1e6).toFixed(1)} MB in ${o.ms.toFixed(0)} ms`);
  return o;
}

test('50 MB MSNP line without CRLF, on 1863 and on the HTTP gateway port', () => {
  const chunk = new Uint8Array(60_000).fill(0x41);
  chunk.set(Buffer.from('MSG 1 U 99 '), 0);
  for (const port of [1863, 80]) {
    const first = Buffer.from(port === 80 ? 'POST /gateway/gateway.dll?Action=open&Server=NS HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nVER 1 ' : 'VER 1 MSNP8 CVR0 ');
    const frames = tcpStream(port, [new Uint8Array(first), ...repeat(chunk, 50_000_000)]);
    timed(`msnp ${port} 50MB line`, frames, 50_000_000);
  }
});

test('NBSS length 0x1FFFF repeated on 139 and 445', () => {
  for (const port of [139, 445]) {
    const pdu = new Uint8Array(4 + 0x1ffff);
    pdu.set([0x00, 0x01, 0xff, 0xff]);
    pdu.set([0xff, 0x53, 0x4d, 0x42, 0x25], 4);
    const segs: Uint8Array[] = [];
    for (const p of repeat(pdu, 8_000_000)) for (let at = 0; at < p.length; at += 60_000) segs.push(p.subarray(at, at + 60_000));
    timed(`nbss ${port} 0x1FFFF`, tcpStream(port, segs), 8_000_000);
    // Header only, endlessly: four bytes each, every one claiming 0x1FFFF.
    const hdrs = new Uint8Array(4 * 15_000);
    for (let i = 0; i < hdrs.length; i += 4) hdrs.set([0x00, 0x01, 0xff, 0xff], i);
    timed(`nbss ${port} headers`, tcpStream(port, [hdrs]), hdrs.length);
  }
});

const MSGSVCSEND = [0xf8, 0x91, 0x7b, 0x5a, 0x00, 0xff, 0xd0, 0x11, 0xa9, 0xb2, 0x00, 0xc0, 0x4f, 0xb6, 0xe6, 0xfc];

function cl(o: { ptype?: number; flags1?: number; act: number; seq?: number; fragnum: number; opnum?: number; len?: number; body: Uint8Array }): Uint8Array {
  const act = [...u32(o.act, true), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  return bytes(
    [4, o.ptype ?? 0, o.flags1 ?? 0x2c, 0, 0x10, 0, 0, 0],
    new Array<number>(16).fill(0),
    MSGSVCSEND,
    act,
    u32(0, true), u32(1, true), u32(o.seq ?? 0, true), u16(o.opnum ?? 0, true), u16(0xffff, true), u16(0xffff, true), u16(o.len ?? o.body.length, true), u16(o.fragnum, true),
    [0, 0],
    o.body,
  );
}

function clFrame(pdu: Uint8Array, i: number, dport = 1026): Frame {
  return frame(eth(0x0800, ipv4({ proto: 17, src: CLIENT, dst: SERVER }, udp(40000 + (i % 7), dport, pdu))), i);
}

test('DCE/RPC CL: fragnum 65535, huge fragment counts, many activities, lying lengths', () => {
  const r = prng(7);
  const body = new Uint8Array(1000).fill(0x41);
  const frames: Frame[] = [];
  // One activity with fragments 0..65535 in random order, never a last fragment (flags1 frag bit only).
  for (let i = 0; i < 20_000; i++) frames.push(clFrame(cl({ act: 1, fragnum: i === 0 ? 65535 : Math.floor(r() * 65536), body, flags1: 0x04 }), frames.length));
  // The last fragment claims number 65535.
  frames.push(clFrame(cl({ act: 1, fragnum: 65535, body, flags1: 0x06 }), frames.length));
  // 20k distinct activities each with one open fragment.
  for (let i = 0; i < 20_000; i++) frames.push(clFrame(cl({ act: 100 + i, seq: i, fragnum: 1 + (i % 3), body: body.subarray(0, 100), flags1: 0x04 }), frames.length, i % 2 === 0 ? 1026 : 30000 + (i % 1000)));
  // Lengths claiming more and less than present.
  for (const len of [0, 1, 0xffff, 1001]) frames.push(clFrame(cl({ act: 9, fragnum: 0, body, len, flags1: 0x28 }), frames.length));
  timed('dcerpc-cl fragments', frames, frames.reduce((n, f) => n + f.data.length, 0));
});

test('NDR: conformant strings claiming 2^32 elements, offsets past the end, nested junk', () => {
  const frames: Frame[] = [];
  const variants: number[][] = [
    [...u32(0xffffffff, true), ...u32(0, true), ...u32(0xffffffff, true)],
    [...u32(0x80000000, true), ...u32(0x7fffffff, true), ...u32(0x80000000, true)],
    [...u32(4, true), ...u32(0xfffffffe, true), ...u32(4, true), 0x41, 0, 0x42, 0],
    [...u32(2, true), ...u32(0, true), ...u32(3, true), 0x41, 0, 0x42, 0],
    [...u32(0x40000000, true), ...u32(0, true), ...u32(1, true), 0x41, 0, 0, 0],
  ];
  let i = 0;
  for (const a of variants) for (const b of variants) for (const c of variants) {
    const stub = Uint8Array.from([...a, ...b, ...c]);
    frames.push(clFrame(cl({ act: 1000 + i, fragnum: 0, body: stub, flags1: 0x28 }), i++));
  }
  // Deeply nested pointer-looking referents: long runs of non-zero referent ids.
  const deep = new Uint8Array(60_000);
  for (let k = 0; k < deep.length; k += 4) deep.set(u32(0x20000 + k, true), k);
  frames.push(clFrame(cl({ act: 5000, fragnum: 0, body: deep, flags1: 0x28 }), i++));
  timed('ndr counts', frames, 0);
});

function smbHeader(cmd: number): number[] {
  return [0xff, 0x53, 0x4d, 0x42, cmd, 0, 0, 0, 0, 0x18, 0x01, 0xc8, ...new Array<number>(20).fill(0)];
}

test('SMB1 AndX chains that loop back, point at themselves or past the end', () => {
  const pdus: Uint8Array[] = [];
  for (const off of [0, 32, 33, 35, 39, 0xffff, 0x1000]) {
    // Session Setup AndX (0x73) → Tree Connect AndX (0x75) at `off`; the second block points back to 32.
    const first = [12, 0x75, 0, ...u16(off, true), ...new Array<number>(20).fill(0), 0, 0];
    const second = [4, 0x73, 0, ...u16(32, true), 0, 0, 0, 0, 0, 0];
    const smb = Uint8Array.from([...smbHeader(0x73), ...first, ...second]);
    pdus.push(bytes([0, 0, ...u16(smb.length)], smb));
    // A Read AndX chain pointing at itself.
    const self = Uint8Array.from([...smbHeader(0x2e), 12, 0x2e, 0, ...u16(32, true), ...new Array<number>(20).fill(0), 0, 0]);
    pdus.push(bytes([0, 0, ...u16(self.length)], self));
  }
  for (const port of [139, 445]) timed(`smb andx ${port}`, tcpStream(port, pdus), 0);
});

test('SMB2 compounds: NextCommand 1, misaligned, past the end, and self-referencing', () => {
  const pdus: Uint8Array[] = [];
  for (const next of [1, 8, 64, 0xffffffff, 0x80000000]) {
    const h = new Uint8Array(64 + 16);
    h.set([0xfe, 0x53, 0x4d, 0x42, 64, 0]);
    h.set([0x09, 0], 12); // WRITE
    h.set(u32(next, true), 20);
    h.set([49, 0, ...u16(0xffff, true), ...u32(0xffffffff, true)], 64);
    pdus.push(bytes([0, 0, ...u16(h.length)], h));
  }
  timed('smb2 compounds', tcpStream(445, pdus), 0);
});

test('DCE/RPC CO: frag lengths 0/short/max, first fragments that never end, huge context lists', () => {
  const pdus: Uint8Array[] = [];
  const co = (ptype: number, flags: number, fragLen: number, body: number[]) => Uint8Array.from([5, 0, ptype, flags, 0x10, 0, 0, 0, ...u16(fragLen, true), 0, 0, ...u32(1, true), ...body]);
  pdus.push(co(0, 0x03, 0, []), co(0, 0x03, 10, []), co(0, 0x03, 0xffff, new Array<number>(100).fill(0)));
  // Bind with 255 context items claimed, a few present.
  pdus.push(co(11, 0x03, 16 + 12 + 8, [...u16(4280, true), ...u16(4280, true), 0, 0, 0, 0, 255, 0, 0, 0, ...new Array<number>(8).fill(0)]));
  // Requests: first fragment only, forever, with alloc_hint 0xffffffff.
  const req = new Uint8Array(4000).fill(0x42);
  const body = [...u32(0xffffffff, true), 0, 0, 0, 0, ...req];
  for (let i = 0; i < 2000; i++) pdus.push(co(0, i === 0 ? 0x01 : 0x00, 16 + body.length, body));
  const size = pdus.reduce((n, p) => n + p.length, 0);
  for (const port of [135, 49155]) timed(`dcerpc-co ${port}`, tcpStream(port, pdus), size);
});

test('NetBIOS name compression loops and pointer chains (NBNS/NBDGM)', () => {
  const frames: Frame[] = [];
  const hdr = [0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0];
  const cases: number[][] = [
    [...hdr, 0xc0, 0x0c, 0, 0x20, 0, 1],
    [...hdr, 0x20, ...new Array<number>(32).fill(0x41), 0xc0, 0x0c, 0, 0x20, 0, 1],
    [...hdr, 0x01, 0x41, 0xc0, 0x0c, 0, 0x20, 0, 1],
    [...hdr, 0xc0, 0x0e, 0xc0, 0x0c, 0, 0x20, 0, 1],
    [...hdr, 0x3f, ...new Array<number>(63).fill(0x41), 0x3f, ...new Array<number>(63).fill(0x42), 0x3f, ...new Array<number>(63).fill(0x43), 0x3f, ...new Array<number>(63).fill(0x44), 0x3f, ...new Array<number>(63).fill(0x45), 0, 0, 0x20, 0, 1],
    [0x12, 0x34, 0x85, 0x00, 0, 0, 0, 0xff, 0, 0, 0, 0, 0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0, 0, 0xff, 0xff],
  ];
  for (const c of cases) for (const port of [137, 138]) frames.push(frame(eth(0x0800, ipv4({ proto: 17, src: CLIENT, dst: SERVER }, udp(port, port, Uint8Array.from(c)))), frames.length));
  // NBDGM direct group datagram whose names are pointers to themselves.
  const dgm = [0x11, 0x02, 0, 1, 192, 0, 2, 1, 0, 138, 0, 40, 0, 0, 0xc0, 0x0e, 0xc0, 0x0e, 0xff, 0x53, 0x4d, 0x42];
  frames.push(frame(eth(0x0800, ipv4({ proto: 17, src: CLIENT, dst: SERVER }, udp(138, 138, Uint8Array.from(dgm)))), frames.length));
  timed('nbt names', frames, 0);
});

test('ICMP errors quoting mutated UDP and TCP PDUs', () => {
  const r = prng(99);
  const base = loadFrames(join(PUBLIC, 'ajbanjara__Wireshark/messenger.pcap')).concat(loadFrames(join(FIXTURES, 'msrp-udp.pcap')), loadFrames(join(FIXTURES, 'mailslot-messngr.pcap')));
  const frames: Frame[] = [];
  for (let i = 0; i < 600 && base.length > 0; i++) {
    const src = mutate(base[i % base.length]!, r, i % 3 === 0);
    // Quote the IP datagram from wherever it starts (skip link layers we know).
    let ipAt = src.data.indexOf(0x45, 12);
    if (ipAt < 0) ipAt = 14;
    const quoted = src.data.subarray(ipAt, ipAt + Math.floor(r() * (src.data.length - ipAt + 1)));
    const icmp = bytes([3, 3, 0, 0, 0, 0, 0, 0], quoted);
    frames.push(frame(eth(0x0800, ipv4({ proto: 1, src: SERVER, dst: CLIENT }, icmp)), i));
  }
  timed('icmp quoting', frames, 0);
});

test('pcapng with 100k interfaces', () => {
  const parts: Uint8Array[] = [ng.shb(true)];
  for (let i = 0; i < 100_000; i++) parts.push(ng.idb(true, i % 2 === 0 ? 1 : 0xffff));
  const pkt = eth(0x0800, ipv4({ proto: 17, src: CLIENT, dst: SERVER }, udp(137, 137, new Uint8Array(20))));
  for (const id of [0, 1, 99_998, 99_999, 100_000, 0xffffffff]) parts.push(ng.epb(true, id, 1n, pkt));
  const file = bytes(...parts);
  const start = performance.now();
  const parsed = parseBytes(file, 65536);
  const o = run(parsed.frames);
  check('pcapng 100k', o, file.length);
  console.log(`# pcapng 100k interfaces: ${(file.length / 1e6).toFixed(1)} MB parsed+dissected in ${(performance.now() - start).toFixed(0)} ms, ${parsed.frames.length} frames, ${parsed.warnings.length} warnings`);
  const path = join(MUTANT_DIR, 'ifaces.pcapng');
  writeFileSync(path, file);
  mutantFiles.push(path);
});

test('every output view on mutated captures: exit 0 or 2, never 70', () => {
  assert.ok(mutantFiles.length >= 2, 'mutant files were written');
  const views: string[][] = [['read'], ['read', '-V'], ['read', '-x'], ['read', '-T', 'json'], ['timeline'], ['timeline', '-T', 'json'], ['timeline', '-T', 'csv'], ['stats']];
  for (const path of [...mutantFiles.slice(0, 2), mutantFiles[mutantFiles.length - 1]!]) {
    for (const v of views) {
      const res = cli([...v, path]);
      assert.ok(res.status === 0 || res.status === 2, `${v.join(' ')} ${path}: exit ${res.status}\n${res.stderr.slice(0, 2000)}`);
      assert.doesNotMatch(res.stderr + res.stdout, /internal error|msgscope\.internal-error/, `${v.join(' ')} ${path}`);
    }
  }
});
