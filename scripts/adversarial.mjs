#!/usr/bin/env node
// Hostile traffic against msgscope's memory bounds (issue 13, "Memory that grows with hostile
// input"): builds captures of five patterns at the sizes asked for and measures peak RSS and
// time of `read` and `timeline` on each. Memory must come out flat across sizes and time
// linear in the size.
//
//   node scripts/adversarial.mjs [--sizes 10,100,500] [--only syn,msnp-ooo,nbss-open,d7,nbdgm-frag,connect-scan,open-idle,msnp-open,syn-collide,msnp-evidence]
//                                [--dir /tmp/msgscope-adversarial] [--keep] [--generate-only]
//                                [--commands read,timeline]
//
// Patterns:
//   syn         SYN-only connections to port 139, every one from a new address and port
//   msnp-ooo    one MSNP connection whose client segments arrive out of order, one of every 32 never
//   nbss-open   connections to 139 whose NBSS message declares 0x1FFFF bytes, 84 KB sent, left open
//   d7          one SMB messenger group: a 0xD5 start, then 0xD7 text blocks without end
//   nbdgm-frag  NBDGM first fragments (UDP 138) whose other fragments never come
//   connect-scan full TCP handshakes to port 139, every one from a new address and port, then nothing
//   open-idle   connections to 139 that open an NBSS session and then stay silent, open
//   msnp-open   connections to 1863 whose MSG declares a 1 MB payload, 84 KB sent, left open
//   syn-collide  the SYN flood, with sources chosen to collide under the old (public) flow hash
//   msnp-evidence connections to port 5000 sending a command line's start, then 9 KB without a
//               line feed, one byte a segment (MSNP's content detection on a port of its own)
// Captures are written once per pattern and size into --dir and removed afterwards unless
// --keep (--generate-only writes them and measures nothing). Needs a build (bin/msgscope runs dist/) and /usr/bin/time (Debian package `time`)
// for CPU seconds and peak RSS.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ipNum } from './lib/packet-edit.mjs';
import { PcapWriter } from './lib/pcap-writer.mjs';
import { measure } from './lib/measure.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MSGSCOPE = join(ROOT, 'bin', 'msgscope');
const MB = 1024 * 1024;

// ---- options ----

const argv = process.argv.slice(2);
const option = (name, fallback) => {
  const i = argv.lastIndexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
for (const [i, a] of argv.entries()) {
  if (a.startsWith('--') && !['--sizes', '--only', '--dir', '--keep', '--generate-only', '--commands'].includes(a)) usage(`unknown option ${a}`);
  if (!a.startsWith('--') && !['--sizes', '--only', '--dir', '--commands'].includes(argv[i - 1])) usage(`unexpected argument ${a}`);
}
const sizes = option('--sizes', '10,100,500').split(',').map(Number);
if (sizes.some((s) => !Number.isFinite(s) || s <= 0)) usage('--sizes wants sizes in MB, e.g. 10,100,500');
const dir = option('--dir', join(tmpdir(), 'msgscope-adversarial'));
const generateOnly = argv.includes('--generate-only');
const keep = argv.includes('--keep') || generateOnly;
const commands = option('--commands', 'read,timeline').split(',');
if (commands.some((c) => c !== 'read' && c !== 'timeline')) usage('--commands takes read, timeline or both');

function usage(message) {
  console.error(`adversarial: ${message}\nusage: node scripts/adversarial.mjs [--sizes 10,100,500] [--only ${Object.keys(PATTERNS).join(',')}] [--dir DIR] [--keep] [--generate-only] [--commands read,timeline]`);
  process.exit(2);
}

// ---- frames ----

const START_US = Date.UTC(2003, 9, 14, 9, 0, 0) * 1000;
const MAC_A = [0x00, 0x0c, 0x29, 0x11, 0x22, 0x33];
const MAC_B = [0x00, 0x0c, 0x29, 0x44, 0x55, 0x66];
const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

function checksum(b, from, to, initial = 0) {
  let sum = initial;
  for (let i = from; i + 1 < to; i += 2) sum += (b[i] << 8) | b[i + 1];
  if ((to - from) & 1) sum += b[to - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

let ipId = 0;

/** Ethernet + IPv4 around a transport payload (`proto` 6 or 17); fragment fields given raw. */
function ipv4Frame(src, dst, proto, transport, fragField = 0) {
  const b = Buffer.alloc(14 + 20 + transport.length);
  b.set(MAC_B, 0);
  b.set(MAC_A, 6);
  b.writeUInt16BE(0x0800, 12);
  b[14] = 0x45;
  b.writeUInt16BE(20 + transport.length, 16);
  b.writeUInt16BE(ipId++ & 0xffff, 18);
  b.writeUInt16BE(fragField, 20);
  b[22] = 128;
  b[23] = proto;
  b.writeUInt32BE(src >>> 0, 26);
  b.writeUInt32BE(dst >>> 0, 30);
  b.writeUInt16BE(checksum(b, 14, 34), 24);
  b.set(transport, 34);
  // The transport checksum over the pseudo-header (TCP and UDP alike).
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + transport.length;
  const at = 34 + (proto === 6 ? 16 : 6);
  b.writeUInt16BE(checksum(b, 34, b.length, pseudo) || (proto === 17 ? 0xffff : 0), at);
  return b;
}

function tcp(src, dst, sp, dp, seq, ack, flags, payload = Buffer.alloc(0), options = Buffer.alloc(0)) {
  const t = Buffer.alloc(20 + options.length + payload.length);
  t.writeUInt16BE(sp, 0);
  t.writeUInt16BE(dp, 2);
  t.writeUInt32BE(seq >>> 0, 4);
  t.writeUInt32BE(ack >>> 0, 8);
  t[12] = ((20 + options.length) / 4) << 4;
  t[13] = flags;
  t.writeUInt16BE(64240, 14);
  t.set(options, 20);
  t.set(payload, 20 + options.length);
  return ipv4Frame(src, dst, 6, t);
}

function udp(src, dst, sp, dp, payload) {
  const u = Buffer.alloc(8 + payload.length);
  u.writeUInt16BE(sp, 0);
  u.writeUInt16BE(dp, 2);
  u.writeUInt16BE(u.length, 4);
  u.set(payload, 8);
  return ipv4Frame(src, dst, 17, u);
}

/** A NetBIOS name, first-level encoded (RFC 1001 §14.1), with its length byte and root label. */
function netbiosName(name, suffix) {
  const raw = Buffer.alloc(16, 0x20);
  raw.write(name.toUpperCase().slice(0, 15), 'latin1');
  raw[15] = suffix;
  const out = Buffer.alloc(34);
  out[0] = 32;
  for (let i = 0; i < 16; i++) {
    out[1 + 2 * i] = 0x41 + (raw[i] >> 4);
    out[2 + 2 * i] = 0x41 + (raw[i] & 0x0f);
  }
  return out;
}

/** An NBSS packet: type, then the 17-bit length (flags bit 0 extends it). */
function nbss(type, body, declared = body.length) {
  const h = Buffer.alloc(4);
  h[0] = type;
  h[1] = (declared >> 16) & 1;
  h.writeUInt16BE(declared & 0xffff, 2);
  return Buffer.concat([h, body]);
}

/** An SMB1 header (32 bytes) and its words and bytes. */
function smb(command, words, bytes, reply = false) {
  const h = Buffer.alloc(32);
  h.write('\xffSMB', 0, 'latin1');
  h[4] = command;
  h[9] = reply ? 0x80 : 0x00;
  const w = Buffer.alloc(1 + words.length * 2);
  w[0] = words.length;
  words.forEach((v, i) => w.writeUInt16LE(v, 1 + 2 * i));
  const c = Buffer.alloc(2);
  c.writeUInt16LE(bytes.length, 0);
  return Buffer.concat([h, w, c, bytes]);
}

const asciiz = (text) => Buffer.concat([Buffer.from([0x04]), Buffer.from(text, 'latin1'), Buffer.from([0])]);

/**
 * A TCP connection being written: both sides' next sequence numbers, the handshake, data
 * segments in either direction.
 */
class Connection {
  constructor(out, client, server, cport, sport) {
    Object.assign(this, { out, client, server, cport, sport });
    this.cseq = (Math.imul(cport, 2654435761) ^ client) >>> 0;
    this.sseq = (Math.imul(sport, 40503) ^ server ^ cport) >>> 0;
  }

  handshake(t) {
    const o = this.out;
    o.frame(t, tcp(this.client, this.server, this.cport, this.sport, this.cseq, 0, TCP_SYN, undefined, Buffer.from([2, 4, 5, 0xb4, 1, 3, 3, 8])));
    o.frame(t + 100, tcp(this.server, this.client, this.sport, this.cport, this.sseq, this.cseq + 1, TCP_SYN | TCP_ACK, undefined, Buffer.from([2, 4, 5, 0xb4, 1, 3, 3, 8])));
    this.cseq = (this.cseq + 1) >>> 0;
    this.sseq = (this.sseq + 1) >>> 0;
    o.frame(t + 200, tcp(this.client, this.server, this.cport, this.sport, this.cseq, this.sseq, TCP_ACK));
  }

  /** Client data split in 1460-byte segments; returns the time after the last one. */
  fromClient(t, data) {
    for (let at = 0; at < data.length; at += 1460) {
      const seg = data.subarray(at, at + 1460);
      this.out.frame(t, tcp(this.client, this.server, this.cport, this.sport, this.cseq, this.sseq, TCP_ACK | TCP_PSH, seg));
      this.cseq = (this.cseq + seg.length) >>> 0;
      t += 50;
    }
    return t;
  }

  fromServer(t, data) {
    this.out.frame(t, tcp(this.server, this.client, this.sport, this.cport, this.sseq, this.cseq, TCP_ACK | TCP_PSH, data));
    this.sseq = (this.sseq + data.length) >>> 0;
    return t + 50;
  }

  close(t) {
    this.out.frame(t, tcp(this.client, this.server, this.cport, this.sport, this.cseq, this.sseq, TCP_FIN | TCP_ACK));
    this.out.frame(t + 50, tcp(this.server, this.client, this.sport, this.cport, this.sseq, this.cseq + 1, TCP_FIN | TCP_ACK));
  }
}

/** The capture being written, up to a size in bytes. */
class Output {
  constructor(path, limit) {
    this.writer = new PcapWriter(path);
    this.limit = limit;
    this.written = 24;
  }

  frame(timeUs, data) {
    this.writer.write(START_US + timeUs, data);
    this.written += 16 + data.length;
  }

  get full() {
    return this.written >= this.limit;
  }

  close() {
    return this.writer.close();
  }
}

// ---- the patterns ----

const ATTACKER = ipNum('61.128.0.1');
const VICTIM = ipNum('192.168.10.20');

const PATTERNS = {
  /** 2,000 SYNs per second, each from a new address and port, never answered. */
  syn(out) {
    for (let i = 0; !out.full; i++) {
      const src = (ATTACKER + (i >>> 10)) >>> 0;
      const sp = 1024 + (i & 1023);
      out.frame(i * 500, tcp(src, VICTIM, sp, 139, Math.imul(i, 2654435761) >>> 0, 0, TCP_SYN, undefined, Buffer.from([2, 4, 5, 0xb4])));
    }
  },

  /**
   * One MSNP connection: the client sends MSG commands in 1 KB segments, 32 at a time in
   * reverse order, the first of every 32 never (a hole that stays); no ACKs from the server.
   */
  'msnp-ooo'(out) {
    const c = new Connection(out, ipNum('10.0.0.5'), ipNum('207.46.108.39'), 3412, 1863);
    c.handshake(0);
    let t = c.fromClient(1000, Buffer.from('VER 1 MSNP8 CVR0\r\n'));
    t = c.fromServer(t, Buffer.from('VER 1 MSNP8 CVR0\r\n'));
    const body = 'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n' + 'x'.repeat(900);
    for (let trid = 2; !out.full; trid += 32) {
      const segs = [];
      for (let k = 0; k < 32; k++) segs.push(Buffer.from(`MSG ${trid + k} N ${body.length}\r\n${body}`, 'latin1'));
      const base = c.cseq;
      let offset = 0;
      const at = segs.map((s) => {
        const o = offset;
        offset += s.length;
        return o;
      });
      for (let k = 31; k >= 1; k--) {
        out.frame(t, tcp(c.client, c.server, c.cport, c.sport, (base + at[k]) >>> 0, c.sseq, TCP_ACK | TCP_PSH, segs[k]));
        t += 200;
      }
      c.cseq = (base + offset) >>> 0;
    }
  },

  /** Connections to 139: session request, then a message declaring 0x1FFFF bytes, 84 KB of it sent, left open. */
  'nbss-open'(out) {
    const request = nbss(0x81, Buffer.concat([netbiosName('VICTIM', 0x20), netbiosName('SPAMMER', 0x00)]));
    const payload = Buffer.alloc(84 * 1024 - 4, 0x41);
    const message = nbss(0x00, payload, 0x1ffff);
    let t = 0;
    for (let i = 0; !out.full; i++) {
      const c = new Connection(out, (ATTACKER + (i >>> 10)) >>> 0, VICTIM, 1024 + (i & 1023), 139);
      c.handshake(t);
      let u = c.fromClient(t + 1000, request);
      u = c.fromServer(u, nbss(0x82, Buffer.alloc(0)));
      c.fromClient(u, message);
      t += 100_000;
    }
  },

  /** One SMB messenger group: 0xD5 answered with group 1, then 0xD7 text blocks that never end. */
  d7(out) {
    const c = new Connection(out, ATTACKER, VICTIM, 1030, 139);
    c.handshake(0);
    let t = c.fromClient(1000, nbss(0x81, Buffer.concat([netbiosName('VICTIM', 0x03), netbiosName('SPAMMER', 0x00)])));
    t = c.fromServer(t, nbss(0x82, Buffer.alloc(0)));
    t = c.fromClient(t, nbss(0x00, smb(0xd5, [], Buffer.concat([asciiz('SPAMMER'), asciiz('VICTIM')]))));
    t = c.fromServer(t, nbss(0x00, smb(0xd5, [1], Buffer.alloc(0), true)));
    const text = Buffer.from('Buy now! '.repeat(14).slice(0, 120), 'latin1');
    const block = Buffer.alloc(3 + text.length);
    block[0] = 0x01;
    block.writeUInt16LE(text.length, 1);
    block.set(text, 3);
    const request = nbss(0x00, smb(0xd7, [1], block));
    const reply = nbss(0x00, smb(0xd7, [], Buffer.alloc(0), true));
    while (!out.full) {
      t = c.fromClient(t, request);
      t = c.fromServer(t, reply);
      t += 1000;
    }
  },

  /** NBDGM direct-group first fragments (M and F flags) from many senders; the rest never comes. */
  'nbdgm-frag'(out) {
    const names = Buffer.concat([netbiosName('SPAMMER', 0x00), netbiosName('WORKGROUP', 0x03)]);
    const data = Buffer.alloc(400, 0x42);
    for (let i = 0; !out.full; i++) {
      const src = (ipNum('10.1.0.0') + (i & 0xffff)) >>> 0;
      const h = Buffer.alloc(14);
      h[0] = 0x11;
      h[1] = 0x03; // first fragment, more to come
      h.writeUInt16BE((i >>> 16) & 0xffff, 2);
      h.writeUInt32BE(src, 4);
      h.writeUInt16BE(138, 8);
      h.writeUInt16BE(names.length + data.length, 10);
      h.writeUInt16BE(0, 12);
      out.frame(i * 1000, udp(src, ipNum('10.1.255.255'), 138, 138, Buffer.concat([h, names, data])));
    }
  },

  /** Connections to 139 that open an NBSS session (request, positive response) and then stay silent, open. */
  'open-idle'(out) {
    const request = nbss(0x81, Buffer.concat([netbiosName('VICTIM', 0x20), netbiosName('SPAMMER', 0x00)]));
    for (let i = 0; !out.full; i++) {
      const c = new Connection(out, (ATTACKER + (i >>> 10)) >>> 0, VICTIM, 1024 + (i & 1023), 139);
      c.handshake(i * 500);
      c.fromServer(c.fromClient(i * 500 + 100, request), nbss(0x82, Buffer.alloc(0)));
    }
  },

  /** Connections to 1863: VER, then an MSG declaring a 1 MB payload (MSNP's limit), 84 KB of it sent, left open. */
  'msnp-open'(out) {
    const payload = Buffer.concat([Buffer.from('MSG 2 N 1048576\r\n'), Buffer.alloc(84 * 1024, 0x41)]);
    let t = 0;
    for (let i = 0; !out.full; i++) {
      const c = new Connection(out, (ATTACKER + (i >>> 10)) >>> 0, ipNum('207.46.108.39'), 1024 + (i & 1023), 1863);
      c.handshake(t);
      let u = c.fromClient(t + 1000, Buffer.from('VER 1 MSNP8 CVR0\r\n'));
      u = c.fromServer(u, Buffer.from('VER 1 MSNP8 CVR0\r\n'));
      c.fromClient(u, payload);
      t += 100_000;
    }
  },

  /**
   * Connections to port 5000 (neither MSNP's nor another known protocol's, so MSNP's content
   * detection gathers evidence) whose client sends the start of a command line, `USR `, then
   * 9 KB without a line feed, one byte a segment. Detection would hold up to 8 KB and look for
   * the line's end in all of it at each segment; the engine asks it about 16 segments at most.
   */
  'msnp-evidence'(out) {
    const line = Buffer.concat([Buffer.from('USR '), Buffer.alloc(9 * 1024, 0x41)]);
    let t = 0;
    for (let i = 0; !out.full; i++) {
      const c = new Connection(out, (ATTACKER + (i >>> 10)) >>> 0, VICTIM, 1024 + (i & 1023), 5000);
      c.handshake(t);
      let u = t + 1000;
      for (let at = 0; at < line.length && !out.full; at++) u = c.fromClient(u, line.subarray(at, at + 1));
      t = u + 100_000;
    }
  },

  /** 2,000 connections per second to 139, each from a new address and port: SYN, SYN/ACK, ACK, then nothing (no data, no FIN). */
  'connect-scan'(out) {
    for (let i = 0; !out.full; i++) {
      new Connection(out, (ATTACKER + (i >>> 10)) >>> 0, VICTIM, 1024 + (i & 1023), 139).handshake(i * 500);
    }
  },

  /**
   * The SYN flood again, each source chosen so that its address XOR (port << 16 | port) is the
   * same: flows that all hashed alike under the old public flow hash (quadratic time then).
   */
  'syn-collide'(out) {
    for (let i = 0; !out.full; i++) {
      const sp = 1024 + (i % 64000);
      const src = (ATTACKER ^ ((sp << 16) ^ sp) ^ (Math.floor(i / 64000) << 8)) >>> 0;
      out.frame(i * 500, tcp(src, VICTIM, sp, 139, Math.imul(i, 2654435761) >>> 0, 0, TCP_SYN, undefined, Buffer.from([2, 4, 5, 0xb4])));
    }
  },
};

const only = option('--only', Object.keys(PATTERNS).join(',')).split(',');
for (const name of only) if (!(name in PATTERNS)) usage(`unknown pattern ${name}`);

// ---- measuring ----

const run = (args) => measure(MSGSCOPE, args);

const show = (m) => (m.error !== undefined ? m.error : `${m.rssMb !== undefined ? `${Math.round(m.rssMb)} MB, ` : ''}${(m.cpu ?? m.wall).toFixed(1)} s`);

mkdirSync(dir, { recursive: true });
console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; sizes ${sizes.join(', ')} MB`);
const rows = [];
for (const name of only) {
  const cells = [];
  for (const size of sizes) {
    const path = join(dir, `${name}-${size}MB.pcap`);
    if (!existsSync(path)) {
      const out = new Output(path, size * MB);
      PATTERNS[name](out);
      out.close();
    }
    if (generateOnly) {
      console.log(`${path}: ${(statSync(path).size / MB).toFixed(0)} MB`);
      continue;
    }
    const read = commands.includes('read') ? run(['read', '-q', path]) : { error: '-' };
    const timeline = commands.includes('timeline') ? run(['timeline', '--format', 'ndjson', '-q', path]) : { error: '-' };
    console.log(`${name} ${size} MB (${(statSync(path).size / MB).toFixed(0)} MB on disk): read ${show(read)}; timeline ${show(timeline)}`);
    cells.push(`${show(read)} / ${show(timeline)}`);
    if (!keep) rmSync(path, { force: true });
  }
  rows.push(`| ${name} | ${cells.join(' | ')} |`);
}
if (generateOnly) process.exit(0);
console.log(`\npeak RSS, CPU seconds (user+sys) — read / timeline --format ndjson\n`);
console.log(`| pattern | ${sizes.map((s) => `${s} MB`).join(' | ')} |`);
console.log(`|---|${sizes.map(() => '---').join('|')}|`);
for (const row of rows) console.log(row);
