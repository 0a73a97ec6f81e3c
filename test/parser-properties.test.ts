// Property-based tests (fast-check) of every parser: link/IP/TCP/UDP/ICMP, the capture readers,
// DCE/RPC CL and CO, NDR through the MS-MSRP operations, SMB1, SMB2, NetBIOS (names, NBSS,
// NBDGM, NBNS), the MSNP framer, MIME/P2P/SLP payloads, the HTTP gateway head and content
// detection. Inputs are random bytes and mutations of valid seeds (bit flips, byte overwrites,
// truncation, extension). Invariants: no throw, output bounded by the input's size, round trips
// where they exist (NetBIOS names, MSNP command lines, pcapng written then read).
//
// The normal run uses a fixed seed and small counts (a few seconds). A long campaign:
//   FC_RUNS=100000 FC_SEED=$RANDOM node --test dist/test/parser-properties.test.js
// or scripts/fuzz-campaign.sh. A failure prints the seed and the shrunk input: add it to
// REGRESSIONS below so it runs every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { Packet } from '../src/model/packet.js';
import type { Frame } from '../src/capture/frame.js';
import { LINKTYPE } from '../src/capture/frame.js';
import { PcapParser } from '../src/capture/pcap.js';
import { PcapngParser } from '../src/capture/pcapng.js';
import { SnoopParser } from '../src/capture/snoop.js';
import { NetmonParser } from '../src/capture/netmon.js';
import { PcapngWriter } from '../src/capture/pcapng-writer.js';
import { decodeLink } from '../src/net/link.js';
import { decodeArp } from '../src/net/arp.js';
import { decodeIpx } from '../src/net/ipx.js';
import { parseIpv4 } from '../src/net/ipv4.js';
import { parseIpv6 } from '../src/net/ipv6.js';
import { parseTcp, parseUdp } from '../src/net/transport.js';
import { looksLikeCl, parseCancel, parseClHeader, parseClHeaderPrefix, parseClPdu, parseFack } from '../src/protocols/dcerpc/cl-parse.js';
import { parseAuthTrailer, parseBind, parseBindAck, parseBindNak, parseCoHeader, parseFault, parseRequest, parseResponse } from '../src/protocols/dcerpc/co-parse.js';
import { DREP_BE, DREP_LE } from '../src/protocols/dcerpc/ndr.js';
import { decodeRequest, decodeResponse, NAME_OPS, SEND_OPS } from '../src/protocols/msrp/parse.js';
import { decodeSmb } from '../src/protocols/smb/decode.js';
import { parseHeader as parseSmbHeader } from '../src/protocols/smb/parse.js';
import { parseMessngr } from '../src/protocols/smb/mailslot.js';
import { ntlmsspType, parseBody, parseHeader as parseSmb2Header, parseTransform, splitCompound } from '../src/protocols/smb2/parse.js';
import { decodeName, encodeName, suffixOf } from '../src/protocols/nbt/names.js';
import { parseNbssHeader, parseSessionRequest } from '../src/protocols/nbt/nbss-parse.js';
import { parseNbdgm } from '../src/protocols/nbt/nbdgm-parse.js';
import { parseNbns } from '../src/protocols/nbt/nbns-parse.js';
import { frameCommand } from '../src/protocols/msnp/parse.js';
import { allCommands, payloadIndex } from '../src/protocols/msnp/commands.js';
import { parseHeaderBlock, parseImFormat, parseMime, parseP2pV1, parseP2pV2, parseRouted, parseSlp } from '../src/protocols/msnp/mime.js';
import { parseHttpHead } from '../src/protocols/msnp/http.js';
import { interpretPayload } from '../src/protocols/msnp/payload.js';
import { looksLikeMsnp } from '../src/protocols/msnp/register.js';
import { MsnpEvidence } from '../src/protocols/msnp/evidence.js';
import { decodeFrames, eth, ipv4, udp, bytes } from './capture-builders.js';
import { FIXTURES, exists } from './helpers.js';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 20261130;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 150;
const params = (share = 1): fc.Parameters<unknown> => ({ seed: SEED, numRuns: Math.max(1, Math.round(RUNS * share)) });

/** A rough size of what a parser returned (strings by length, containers by entries), stopping at `cap`. */
function sizeOf(v: unknown, cap: number, seen = new Set<unknown>()): number {
  if (v === null || v === undefined || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint') return 1;
  if (typeof v === 'string') return v.length;
  if (typeof v === 'function') return 1;
  if (seen.has(v)) return 1;
  seen.add(v);
  if (v instanceof Uint8Array) return 1; // views into the input, not copies
  let n = 1;
  const items: Iterable<unknown> = v instanceof Map ? [...v.entries()].flat() : v instanceof Set ? v : Array.isArray(v) ? v : Object.values(v as object);
  for (const x of items) {
    n += sizeOf(x, cap, seen);
    if (n > cap) return n;
  }
  return n;
}

/** The output of a parser must not outgrow its input by more than a constant factor. */
function bounded(out: unknown, input: number, what: string): void {
  const cap = 64 * input + 8192;
  const n = sizeOf(out, cap);
  assert.ok(n <= cap, `${what}: output size ${n} for ${input} input bytes`);
}

/** Random bytes, or a seed mutated: bytes overwritten, bits flipped, cut short or extended. */
function mutated(seeds: readonly Uint8Array[], maxLen = 1024): fc.Arbitrary<Uint8Array> {
  const random = fc.uint8Array({ maxLength: maxLen });
  if (seeds.length === 0) return random;
  const edit = fc.record({
    seed: fc.nat({ max: seeds.length - 1 }),
    writes: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { maxLength: 4 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 64 }),
  }).map(({ seed, writes, flips, cut, tail }) => {
    const s = seeds[seed]!;
    const b = new Uint8Array(s.length + tail.length);
    b.set(s);
    b.set(tail, s.length);
    if (b.length > 0) {
      for (const [at, v] of writes) b[at % b.length] = v;
      for (const [at, bit] of flips) b[at % b.length]! ^= 1 << bit;
    }
    return cut === undefined ? b : b.subarray(0, cut % (b.length + 1));
  });
  return fc.oneof(random, edit, fc.constantFrom(...seeds));
}

function check(name: string, arb: fc.Arbitrary<Uint8Array>, fn: (b: Uint8Array) => unknown, share = 1): void {
  fc.assert(fc.property(arb, (b) => {
    const out = fn(b);
    bounded(out, b.length, name);
  }), params(share));
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const le16 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff];
const le32 = (v: number): number[] => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

function scratchPacket(data: Uint8Array): Packet {
  const frame: Frame = { number: 1, tsSec: 0, tsNsec: 0, caplen: data.length, len: data.length, linkType: 1, data, interfaceId: 0 };
  return { frame, layers: [], src: '', dst: '', findings: [] };
}

// ---- seeds ----

/** A connectionless DCE/RPC request header (80 bytes, little-endian) and a body. */
function clRequest(body: Uint8Array, ptype = 0): Uint8Array {
  const h = new Uint8Array(80);
  h[0] = 4; h[1] = ptype; h[2] = 0x28; h[4] = 0x10;
  h.set([0xf8, 0x91, 0x7b, 0x5a, 0x00, 0xff, 0xd0, 0x11, 0xa9, 0xb2, 0x00, 0xc0, 0x4f, 0xb6, 0xe6, 0xfc], 24);
  for (let i = 40; i < 56; i++) h[i] = i;
  h[74] = body.length & 0xff; h[75] = body.length >> 8;
  h[76] = 0xff; h[77] = 0xff;
  return bytes(h, body);
}
const ndrString = (s: string): number[] => {
  const units = [...s, '\0'].map((c) => c.charCodeAt(0));
  const out = [...le32(units.length), ...le32(0), ...le32(units.length)];
  for (const u of units) out.push(...le16(u));
  while (out.length % 4 !== 0) out.push(0);
  return out;
};
const sendStub = Uint8Array.from([...ndrString('ALICE'), ...ndrString('BOB'), ...le32(5), ...le32(5), ...enc('hello')]);
const CL_SEEDS = [clRequest(sendStub), clRequest(new Uint8Array(0), 2), clRequest(Uint8Array.from(le32(0)), 9)];

function coPdu(ptype: number, body: number[]): Uint8Array {
  const len = 16 + body.length;
  return Uint8Array.from([5, 0, ptype, 3, 0x10, 0, 0, 0, ...le16(len), 0, 0, ...le32(1), ...body]);
}
const bindBody = [...le16(4280), ...le16(4280), ...le32(0), 1, 0, 0, 0, ...le16(0), 1, 0,
  0xf8, 0x91, 0x7b, 0x5a, 0x00, 0xff, 0xd0, 0x11, 0xa9, 0xb2, 0x00, 0xc0, 0x4f, 0xb6, 0xe6, 0xfc, ...le16(1), ...le16(0),
  0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, ...le32(2)];
const CO_SEEDS = [coPdu(11, bindBody), coPdu(0, [...le32(sendStub.length), ...le16(0), ...le16(0), ...sendStub]), coPdu(2, [...le32(8), ...le16(0), 0, 0, ...le32(0), ...le32(0)])];

const smbHeader = (cmd: number, flags = 0): number[] => [0xff, 0x53, 0x4d, 0x42, cmd, 0, 0, 0, 0, flags, 0, 0, ...new Array<number>(12).fill(0), 0, 0, 0, 0, 0, 0, 0, 0];
const SMB_SEEDS = [
  Uint8Array.from([...smbHeader(0xd0), 0, ...le16(14), 4, ...enc('ALICE\0'), 4, ...enc('BOB\0')]),
  Uint8Array.from([...smbHeader(0xd5), 0, ...le16(14), 4, ...enc('ALICE\0'), 4, ...enc('BOB\0')]),
  Uint8Array.from([...smbHeader(0xd7), 1, ...le16(0), ...le16(8), 1, ...le16(5), ...enc('hello')]),
];
const SMB2_SEEDS = [Uint8Array.from([0xfe, 0x53, 0x4d, 0x42, ...le16(64), ...le16(0), ...le32(0), ...le16(5), ...le16(1), ...le32(0), ...le32(0),
  ...new Array<number>(8).fill(0), ...le32(0), ...le32(0), ...new Array<number>(8).fill(0), ...new Array<number>(16).fill(0), ...le16(57), ...new Array<number>(55).fill(0)])];

const nbName = (n: string, s: number): number[] => [...encodeName(n, s)];
const NBNS_SEEDS = [
  Uint8Array.from([0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1, ...nbName('ALICE', 3), 0, 0x20, 0, 1, 0xc0, 12, 0, 0x20, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 0, 0, 10, 0, 0, 1]),
  Uint8Array.from([0x00, 0x07, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0, ...nbName('BOB', 3), 0, 0x20, 0, 1]),
];
const messngr = Uint8Array.from([...enc('ALICE\0BOB\0hello there\0')]);
const NBDGM_SEEDS = [Uint8Array.from([0x10, 0x02, 0x01, 0x01, 10, 0, 0, 1, 0, 138, ...le16(0).reverse(), 0, 0,
  ...nbName('SENDER', 0), ...nbName('VICTIM', 3), ...SMB_SEEDS[2]!])];
NBDGM_SEEDS[0]![10] = 0; NBDGM_SEEDS[0]![11] = NBDGM_SEEDS[0]!.length - 14;
const NBSS_SEEDS = [Uint8Array.from([0x81, 0, 0, 68, ...nbName('VICTIM', 3), ...nbName('SENDER', 0)]), Uint8Array.from([0, 0, 0, 4, 1, 2, 3, 4])];

const MSNP_LINES = [
  'VER 1 MSNP8 CVR0\r\n', 'USR 3 TWN I carol@hotmail.com\r\n', 'NLN NLN bob@example.com Bob 0\r\n', '911 4\r\n',
  'MSG 5 A 14\r\nMIME-Version:1', 'MSG bob@example.com Bob 80\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial\r\n\r\nhi',
  'UBX bob@example.com 20\r\n<Data><PSM>x</PSM></Data>', 'GCF 1 30\r\n<Policies><Policy/></Policies>',
];
const MSNP_SEEDS = MSNP_LINES.map(enc);
const MIME_SEEDS = [
  enc('MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=I; CO=0; CS=0; PF=22\r\n\r\nhello'),
  enc('MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: a@b.c\r\n\r\n\r\n'),
  enc('Routing: 1.0\r\nTo: 1:a@b.c\r\nFrom: 1:c@d.e\r\n\r\nReliability: 1.0\r\n\r\nMessaging: 2.0\r\nContent-Type: Text/plain\r\n\r\nhi'),
  enc('INVITE MSNMSGR:a@b.c MSNSLP/1.0\r\nTo: <msnmsgr:a@b.c>\r\nFrom: <msnmsgr:c@d.e>\r\nCSeq: 0\r\nCall-ID: {x}\r\nContent-Length: 2\r\n\r\n\r\n'),
];
const HTTP_SEEDS = [
  enc('POST /gateway/gateway.dll?Action=open&Server=NS&IP=1.2.3.4 HTTP/1.1\r\nContent-Length: 3\r\n\r\nVER'),
  enc('HTTP/1.1 200 OK\r\nX-MSN-Messenger: SessionID=1.2; GW-IP=1.2.3.4\r\nContent-Length: 0\r\n\r\n'),
];

function captureFiles(): Uint8Array[] {
  const names = ['msnp/msnp2-draft.pcap', 'bounce-quotes.pcap', 'msnp/msnp-detection.pcap'];
  return names.map((n) => join(FIXTURES, n)).filter((p) => exists(p)).map((p) => readFileSync(p).subarray(0, 4096));
}

// ---- network layers ----

test('link, IPv4, IPv6, TCP, UDP, ARP and IPX parsers: no throw, bounded output', () => {
  const frameSeeds = [eth(0x0800, ipv4({ proto: 17 }, udp(138, 138, NBDGM_SEEDS[0]!))), eth(0x0806, new Uint8Array(28))];
  const linkTypes = Object.values(LINKTYPE);
  fc.assert(fc.property(mutated(frameSeeds, 512), fc.constantFrom(...linkTypes), (b, linkType) => {
    const packet = scratchPacket(b);
    const start = decodeLink(packet, b, linkType);
    bounded({ start, layers: packet.layers.map((l) => [l.name, l.info, l.tree()]) }, b.length, 'decodeLink');
  }), params());
  const ipSeeds = frameSeeds.map((f) => f.subarray(14));
  check('parseIpv4', mutated(ipSeeds), (b) => parseIpv4(b, 0));
  check('parseIpv6', mutated([]), (b) => parseIpv6(b, 0), 0.5);
  check('parseUdp', mutated(ipSeeds.map((s) => s.subarray(20))), (b) => parseUdp(b, 0), 0.5);
  check('parseTcp', mutated([Uint8Array.from([0, 139, 4, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0x80, 0x18, 0xff, 0xff, 0, 0, 0, 0, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2])]), (b) => parseTcp(b, 0), 0.5);
  check('decodeArp', mutated([new Uint8Array(28)]), (b) => {
    const p = scratchPacket(b);
    decodeArp(p, b, 0);
    return p.layers.map((l) => [l.info, l.tree()]);
  }, 0.3);
  check('decodeIpx', mutated([]), (b) => {
    const p = scratchPacket(b);
    decodeIpx(p, b, 0);
    return p.layers.map((l) => [l.info, l.tree()]);
  }, 0.3);
});

test('ICMP errors quoting anything, through the engine: no internal error', () => {
  const quoteSeeds = [ipv4({ proto: 17 }, udp(40001, 1026, CL_SEEDS[0]!)), ipv4({ proto: 17 }, udp(138, 138, NBDGM_SEEDS[0]!))];
  fc.assert(fc.property(mutated(quoteSeeds, 600), fc.constantFrom(0, 3, 4, 5, 11, 12), fc.integer({ min: 0, max: 15 }), (quote, type, code) => {
    const icmp = bytes([type, code, 0, 0, 0, 0, 0, 0], quote);
    const { packets } = decodeFrames([{ data: eth(0x0800, ipv4({ proto: 1, src: [10, 0, 0, 2], dst: [10, 0, 0, 1] }, icmp)) }]);
    for (const p of packets) assert.ok(p.findings.every((f) => f.id !== 'internal.error'), JSON.stringify(p.findings));
  }), params(0.5));
});

// ---- capture readers ----

test('capture readers (pcap, pcapng, snoop, NetMon) on mutated files: no throw, frames bounded by the bytes', () => {
  const files = captureFiles();
  const magic: Record<string, number[]> = {
    pcap: [0xd4, 0xc3, 0xb2, 0xa1], pcapng: [0x0a, 0x0d, 0x0d, 0x0a], snoop: [...enc('snoop\0\0\0')], netmon: [...enc('RTSS')],
  };
  const readers = { pcap: PcapParser, pcapng: PcapngParser, snoop: SnoopParser, netmon: NetmonParser };
  fc.assert(fc.property(fc.constantFrom(...(Object.keys(readers) as (keyof typeof readers)[])), mutated(files, 2048), fc.integer({ min: 1, max: 700 }),
    (format, body, chunk) => {
      const file = bytes(magic[format]!, body.subarray(Math.min(body.length, magic[format]!.length)));
      let frames = 0;
      let warnings = 0;
      const parser = new readers[format]({ frame: (f) => { frames++; assert.ok(f.data.length <= file.length); }, warning: () => { warnings++; } });
      try {
        for (let at = 0; at < file.length; at += chunk) parser.push(file.subarray(at, at + chunk));
        parser.end();
      } catch (err) {
        // A file whose header is not the format's is refused with a CaptureFormatError, never anything else.
        assert.equal((err as Error).constructor.name, 'CaptureFormatError', String(err));
      }
      assert.ok(frames <= file.length / 8 + 1, `${frames} frames from ${file.length} bytes`);
      assert.ok(warnings <= file.length + 2);
    }), params());
});

test('pcapng round trip: packets written by PcapngWriter read back unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-pcapng-'));
  try {
    fc.assert(fc.property(fc.array(fc.record({ sec: fc.integer({ min: 0, max: 2 ** 31 }), usec: fc.integer({ min: 0, max: 999_999 }), data: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 8 }), (pkts) => {
      const path = join(dir, 'x.pcapng');
      const w = new PcapngWriter(path);
      const iface = w.interfaceFor(LINKTYPE.ETHERNET, 'lo');
      for (const p of pkts) w.packet(iface, { tsSec: p.sec, tsNsec: p.usec * 1000, data: p.data, len: p.data.length });
      w.close();
      const got: Frame[] = [];
      const parser = new PcapngParser({ frame: (f) => got.push({ ...f, data: f.data.slice() }), warning: (m) => assert.fail(m) });
      parser.push(readFileSync(path));
      parser.end();
      assert.deepEqual(got.map((f) => [f.tsSec, f.tsNsec, [...f.data]]), pkts.map((p) => [p.sec, p.usec * 1000, [...p.data]]));
    }), params(0.2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- DCE/RPC and NDR ----

test('DCE/RPC CL parsers: no throw, bounded; a recognised header has its fixed fields', () => {
  check('parseClPdu', mutated(CL_SEEDS), (b) => {
    const prefix = parseClHeaderPrefix(b);
    if (looksLikeCl(b)) assert.ok(prefix !== undefined && b[0] === 4);
    const pdu = parseClPdu(b);
    if (typeof pdu !== 'string') {
      parseFack(pdu.body, DREP_LE);
      parseCancel(pdu.body, DREP_BE, true);
    }
    return [prefix, parseClHeader(b), pdu];
  });
});

test('DCE/RPC CO parsers: no throw, bounded', () => {
  check('parseCoHeader', mutated(CO_SEEDS), (b) => {
    const h = parseCoHeader(b, 0);
    if (typeof h === 'string') return h;
    const end = Math.min(b.length, h.fragLength);
    return [h, parseAuthTrailer(b, h), parseBind(b, h, end), parseBindAck(b, h, end), parseBindNak(b, h, end), parseRequest(b, h), parseResponse(b, h), parseFault(b, h)];
  });
});

test('NDR through every MS-MSRP operation, both byte orders: no throw, bounded', () => {
  const ops = [...SEND_OPS.values(), ...NAME_OPS.values()];
  fc.assert(fc.property(mutated([sendStub, Uint8Array.from([...ndrString('X'), ...le32(0), ...le32(1), ...le32(0x20000), ...le32(0)])], 1024), fc.nat({ max: ops.length - 1 }), fc.boolean(), (stub, i, little) => {
    const op = ops[i]!;
    const drep = little ? DREP_LE : DREP_BE;
    const req = decodeRequest(op, stub, drep);
    const resp = decodeResponse(op, stub, drep, req);
    bounded([req, resp], stub.length, `NDR ${op.name}`);
  }), params());
});

// ---- SMB ----

test('SMB1 and \\MAILSLOT\\MESSNGR parsers: no throw, bounded', () => {
  check('decodeSmb', mutated(SMB_SEEDS), (b) => [parseSmbHeader(b), decodeSmb(b, 'cp437')]);
  check('parseMessngr', mutated([messngr]), (b) => parseMessngr(b), 0.5);
});

test('SMB2 parsers: no throw, bounded', () => {
  check('smb2', mutated(SMB2_SEEDS), (b) => {
    const h = parseSmb2Header(b);
    const split = splitCompound(b);
    return [h, parseTransform(b), split, typeof h === 'string' ? undefined : parseBody(b, h), ntlmsspType(b)];
  });
});

// ---- NetBIOS ----

test('NetBIOS names: any name and suffix round-trips through encode/decode; any bytes decode or give a reason', () => {
  fc.assert(fc.property(fc.stringMatching(/^[A-Z0-9!#$%&'()\-.@^_{}~]{1,15}$/), fc.integer({ min: 0, max: 255 }), (name, suffix) => {
    const d = decodeName(encodeName(name, suffix), 0, false);
    assert.ok(typeof d !== 'string', String(d));
    assert.ok(d.wellFormed);
    assert.equal(suffixOf(d), suffix);
    assert.equal(String.fromCharCode(...d.raw.subarray(0, 15)).replace(/ +$/, ''), name === '*' ? '*' : name);
  }), params());
  check('decodeName', mutated(NBNS_SEEDS.map((s) => s.subarray(12))), (b) => [decodeName(b, 0, true), decodeName(b, 0, false)], 0.5);
});

test('NBNS, NBDGM and NBSS parsers: no throw, bounded', () => {
  check('parseNbns', mutated(NBNS_SEEDS), (b) => parseNbns(b));
  check('parseNbdgm', mutated(NBDGM_SEEDS), (b) => parseNbdgm(b));
  check('parseNbss', mutated(NBSS_SEEDS), (b) => [parseNbssHeader(b, 0, false), parseNbssHeader(b, 0, true), parseSessionRequest(b.subarray(Math.min(4, b.length)))]);
});

// ---- MSNP ----

test('MSNP framer: no throw, a framed command never claims more bytes than it was given', () => {
  fc.assert(fc.property(mutated(MSNP_SEEDS, 512), fc.constantFrom('c' as const, 's' as const), fc.option(fc.integer({ min: 2, max: 21 }), { nil: undefined }), fc.boolean(), (b, side, version, strict) => {
    const r = frameCommand(b, side, version, strict);
    if (r.kind === 'command') assert.ok(r.cmd.total <= b.length && r.cmd.lineLength <= r.cmd.total);
    if (r.kind === 'garbage') assert.ok(r.skip > 0 && r.skip <= b.length);
    bounded(r, b.length, 'frameCommand');
    looksLikeMsnp(b);
  }), params());
});

test('MSNP framer round trip: a command line built from a known name and parameters frames back to them', () => {
  const names = allCommands().map((c) => c.name);
  const token = fc.stringMatching(/^[A-Za-z0-9@.%:_-]{1,20}$/);
  fc.assert(fc.property(fc.constantFrom(...names), fc.nat({ max: 1_000_000 }), fc.array(token, { maxLength: 6 }), fc.constantFrom('c' as const, 's' as const), (name, trid, rest, side) => {
    const params = [String(trid), ...rest];
    if (payloadIndex(name, side, params, undefined) >= 0) return; // payload commands carry a length: not this property
    const line = `${name} ${params.join(' ')}\r\n`;
    const r = frameCommand(enc(line), side, undefined, true);
    assert.equal(r.kind, 'command', line);
    if (r.kind !== 'command') return;
    assert.equal(r.cmd.name, name);
    assert.deepEqual(r.cmd.params, params);
    assert.equal(r.cmd.total, enc(line).length);
  }), params());
});

test('MIME, IM format, P2P, SLP, routed payloads and the gateway head: no throw, bounded', () => {
  check('parseMime', mutated(MIME_SEEDS), (b) => [parseMime(b), parseHeaderBlock(b, 0), parseRouted(b), parseSlp(b), parseP2pV1(b), parseP2pV2(b)]);
  check('parseHttpHead', mutated(HTTP_SEEDS), (b) => parseHttpHead(b), 0.5);
  fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => bounded(parseImFormat(s), s.length, 'parseImFormat')), params(0.5));
  const names = allCommands().map((c) => c.name);
  fc.assert(fc.property(fc.constantFrom(...names), mutated(MIME_SEEDS, 512), (name, payload) => bounded(interpretPayload(name, payload), payload.length, `interpretPayload ${name}`)), params());
});

test('MSNP content evidence: no throw, and held bytes stay within the bound', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom(0 as const, 1 as const), mutated(MSNP_SEEDS, 2048)), { maxLength: 16 }), (segments) => {
    const e = new MsnpEvidence<number>();
    let verdict = 'undecided';
    for (const [dir, b] of segments) {
      verdict = e.add(dir, b, 0);
      if (verdict !== 'undecided') break;
    }
    const held = e.segments().reduce((n, s) => n + s.bytes.length, 0);
    assert.ok(held <= 2 * 8192, `${held} bytes held`);
  }), params());
});

// Inputs that once failed a property above: each runs every time.
const REGRESSIONS: readonly { readonly what: string; readonly hex: string; readonly run: (b: Uint8Array) => unknown }[] = [
  {
    // A bind whose auth_length points the sec_trailer past the bytes given: DataView threw RangeError.
    what: 'parseAuthTrailer past the end', hex: '05000b03100000004800010001000000',
    run: (b) => {
      const h = parseCoHeader(b, 0);
      assert.ok(typeof h !== 'string');
      const a = parseAuthTrailer(b, h);
      assert.equal(typeof a, 'string');
      return a;
    },
  },
];

test('regression inputs found by the campaigns', () => {
  for (const r of REGRESSIONS) {
    const b = Uint8Array.from(Buffer.from(r.hex, 'hex'));
    bounded(r.run(b), b.length, r.what);
  }
});
