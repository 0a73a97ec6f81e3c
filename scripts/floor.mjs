#!/usr/bin/env node
// The floor: what the least a JavaScript reader does per frame costs on this machine, stage by
// stage. It answers "how much of msgscope's time per frame could any JavaScript design save?"
// (docs/performance.md, "The floor"). Each stage adds one kind of work every design must do:
//
//   walk     read the file in 1 MiB chunks and walk the pcap records (as src/capture/pcap.ts)
//   headers  + decode Ethernet (one 802.1Q tag), IPv4, TCP and UDP headers into numbers
//              (other frames, PPPoE and LLC among them, are counted and left)
//   flows    + find each TCP/UDP frame's conversation in a hash table (both directions one
//              key) and track each direction's next sequence number
//   lines    + one summary line per frame, as text, in 64 KiB batches (read's floor: flows,
//              then lines)
//   messages + the messenger messages, one JSON line each (the timeline's floor: flows, then
//              messages, no lines): NBSS framing on TCP 139/445 with in-order reassembly and
//              the SMB messenger requests' names and texts (0xD0, 0xD5, 0xD7); MSNP lines on
//              TCP 1863, MSG payloads skipped by their length; DCE/RPC CL requests of opnum 0
//              on UDP (NetrSendMessage) and their three NDR strings; \MAILSLOT\MESSNGR writes
//              in NetBIOS datagrams on UDP 138. Nothing is checked beyond what finding a
//              message takes, and no finding is made.
//
//   node scripts/floor.mjs [--stage walk|headers|flows|lines|messages] [--runs N] CAPTURE.pcap
//
// Prints frames, CPU seconds (process.cpuUsage, user + system) and µs per frame for each run;
// FLOOR_OUT=FILE writes the lines or messages there instead of /dev/null. `npm run bench`
// imports runFloor for its floor rows. Classic pcap only (what the bench's generators write).
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const STAGES = ['walk', 'headers', 'flows', 'lines', 'messages'];
const CHUNK = 1 << 20;

/**
 * Conversations in an open-addressing hash table of typed arrays (the key's five numbers, a
 * number per conversation, each direction's next sequence number): no object and no string
 * per frame, the cheapest lookup JavaScript has. A Map keyed by a string of the five numbers
 * took 0.6 µs a frame more on spam-1m.
 */
class FlowTable {
  constructor() {
    this.count = 0;
    this.grow(1 << 16);
  }

  /** Room for `slots` keys (a power of two), half of them usable; the keys there are placed again. */
  grow(slots) {
    const { index: oldIndex, keys: oldKeys } = this;
    this.index = new Int32Array(slots).fill(-1);
    this.keys = new Uint32Array(slots * 4);
    this.mask = slots - 1;
    // Per conversation: frames seen, each direction's next sequence number.
    const column = (old) => {
      const grown = new Uint32Array(slots >> 1);
      if (old !== undefined) grown.set(old);
      return grown;
    };
    this.frames = column(this.frames);
    this.nextA = column(this.nextA);
    this.nextB = column(this.nextB);
    if (oldIndex === undefined) return;
    for (let i = 0; i < oldIndex.length; i++) {
      if (oldIndex[i] < 0) continue;
      let slot = hash5(oldKeys[i * 4], oldKeys[i * 4 + 1], oldKeys[i * 4 + 2], oldKeys[i * 4 + 3]) & this.mask;
      while (this.index[slot] >= 0) slot = (slot + 1) & this.mask;
      this.index[slot] = oldIndex[i];
      this.keys.set(oldKeys.subarray(i * 4, i * 4 + 4), slot * 4);
    }
  }

  /** The conversation's number; a new one when the key is new. Ports and protocol share a word. */
  find(proto, a, aPort, b, bPort) {
    const ports = ((aPort << 16) | bPort) >>> 0;
    let slot = hash5(a, b, ports, proto) & this.mask;
    for (;;) {
      const c = this.index[slot];
      if (c < 0) break;
      const k = slot * 4;
      if (this.keys[k] === a && this.keys[k + 1] === b && this.keys[k + 2] === ports && this.keys[k + 3] === proto) return c;
      slot = (slot + 1) & this.mask;
    }
    const c = this.count++;
    this.index[slot] = c;
    this.keys[slot * 4] = a;
    this.keys[slot * 4 + 1] = b;
    this.keys[slot * 4 + 2] = ports;
    this.keys[slot * 4 + 3] = proto;
    // Half full at most: probes stay short.
    if (this.count * 2 >= this.index.length) this.grow(this.index.length * 2);
    return c;
  }
}

/**
 * The messenger messages in TCP and UDP payloads, each written as a line of JSON: the least a
 * timeline of them takes. Each TCP direction keeps the bytes of a message not yet complete
 * (copied; segments are taken in the order they come).
 */
class MessageFloor {
  constructor(fd) {
    this.fd = fd;
    this.rest = [];
    this.text = '';
    this.events = 0;
  }

  flush() {
    if (this.text.length > 0) writeSync(this.fd, this.text);
    this.text = '';
  }

  emit(event) {
    this.events++;
    this.text += `${JSON.stringify(event)}\n`;
    if (this.text.length >= 65536) this.flush();
  }

  tcp(direction, data, start, end, sport, dport, frame, time, s, d) {
    const nbss = sport === 139 || dport === 139 || sport === 445 || dport === 445;
    if (!nbss && sport !== 1863 && dport !== 1863) return;
    const kept = this.rest[direction];
    const bytes = kept === undefined ? data.subarray(start, end) : Buffer.concat([kept, data.subarray(start, end)]);
    const used = nbss ? this.nbss(bytes, frame, time, s, d) : this.msnp(bytes, frame, time, s, d);
    this.rest[direction] = used < bytes.length ? Buffer.from(bytes.subarray(used)) : undefined;
  }

  /** NBSS messages (RFC 1002 §4.3.1: type, 17-bit length); returns the bytes used. */
  nbss(b, frame, time, s, d) {
    let pos = 0;
    while (b.length - pos >= 4) {
      const length = ((b[pos + 1] & 1) << 16) | (b[pos + 2] << 8) | b[pos + 3];
      if (b.length - pos < 4 + length) break;
      const o = pos + 4;
      if (b[pos] === 0 && length >= 35 && b[o] === 0xff && b[o + 1] === 0x53 && b[o + 2] === 0x4d && b[o + 3] === 0x42 && (b[o + 9] & 0x80) === 0) {
        this.smb(b, o, o + length, frame, time, s, d);
      }
      pos = o + length;
    }
    return pos;
  }

  /** The SMB messenger requests' buffers (MS-MSRP 2.2.3.1.1, 2.2.3.2.1, 2.2.3.3.1: 04 name, 04 name, 01 length text). */
  smb(b, o, end, frame, time, s, d) {
    const command = b[o + 4];
    if (command !== 0xd0 && command !== 0xd5 && command !== 0xd7) return;
    let p = o + 32 + 1 + b[o + 32] * 2 + 2;
    const event = { frame, time, src: ipText(s), dst: ipText(d), protocol: 'smb', command };
    const asciiz = () => {
      if (b[p] !== 0x04) return undefined;
      const zero = b.indexOf(0, p + 1);
      const stop = zero < 0 || zero > end ? end : zero;
      const text = b.latin1Slice(p + 1, stop);
      p = stop + 1;
      return text;
    };
    if (command !== 0xd7) {
      event.from = asciiz();
      event.to = asciiz();
    }
    if (command !== 0xd5 && b[p] === 0x01 && p + 3 <= end) {
      const length = b[p + 1] | (b[p + 2] << 8);
      event.text = b.latin1Slice(p + 3, Math.min(end, p + 3 + length));
    }
    this.emit(event);
  }

  /** MSNP command lines; a MSG's payload (its last parameter's bytes) is skipped. Returns the bytes used. */
  msnp(b, frame, time, s, d) {
    let pos = 0;
    for (;;) {
      const eol = b.indexOf('\r\n', pos);
      if (eol < 0) return pos;
      const line = b.latin1Slice(pos, eol);
      let next = eol + 2;
      if (line.startsWith('MSG ')) {
        const words = line.split(' ');
        const length = Number(words[words.length - 1]);
        if (b.length < next + length) return pos;
        next += length;
        this.emit({ frame, time, src: ipText(s), dst: ipText(d), protocol: 'msnp', from: words[1], length });
      }
      pos = next;
    }
  }

  udp(b, start, end, sport, dport, frame, time, s, d) {
    if (sport === 138 || dport === 138) this.mailslot(b, start, end, frame, time, s, d);
    else this.netrSendMessage(b, start, end, frame, time, s, d);
  }

  /**
   * A \MAILSLOT\MESSNGR write (MS-MSRP 2.1.2): an NBDGM direct datagram (RFC 1002 §4.4.1: a
   * 14-byte header, two 34-byte encoded names) carrying SMB_COM_TRANSACTION; its data is
   * From NUL To NUL Text NUL.
   */
  mailslot(b, start, end, frame, time, s, d) {
    const o = start + 14 + 34 + 34;
    if ((b[start] !== 0x10 && b[start] !== 0x11) || end < o + 33 + 2 * 14 || b[o] !== 0xff || b[o + 1] !== 0x53 || b[o + 4] !== 0x25) return;
    const w = o + 33; // the parameter words (wc at o + 32)
    const dataCount = b[w + 22] | (b[w + 23] << 8);
    const dataOffset = b[w + 24] | (b[w + 25] << 8);
    const name = o + 33 + b[o + 32] * 2 + 2;
    if (b.latin1Slice(name, Math.min(end, name + 17)).toUpperCase() !== '\\MAILSLOT\\MESSNGR') return;
    const data = o + dataOffset;
    const stop = Math.min(end, data + dataCount);
    const parts = [];
    for (let p = data; parts.length < 3 && p < stop;) {
      const nul = b.indexOf(0, p);
      const cut = nul < 0 || nul > stop ? stop : nul;
      parts.push(b.latin1Slice(p, cut));
      p = cut + 1;
    }
    this.emit({ frame, time, src: ipText(s), dst: ipText(d), protocol: 'mailslot', from: parts[0], to: parts[1], text: parts[2] });
  }

  /** A DCE/RPC CL request of opnum 0 (C706 §12.5; MS-MSRP 3.2.4.1 NetrSendMessage: three [string] char*, each cut at its NUL). */
  netrSendMessage(b, start, end, frame, time, s, d) {
    if (end - start < 92 || b[start] !== 4 || b[start + 1] !== 0) return;
    const little = (b[start + 4] & 0x10) !== 0;
    const opnum = little ? b[start + 68] | (b[start + 69] << 8) : (b[start + 68] << 8) | b[start + 69];
    if (opnum !== 0) return;
    let p = start + 80;
    const string = () => {
      p = start + ((p - start + 3) & ~3);
      if (p + 12 > end) return undefined;
      const actual = little ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8);
      const stop = Math.min(end, p + 12 + actual);
      const nul = b.indexOf(0, p + 12);
      const text = b.latin1Slice(p + 12, nul >= 0 && nul < stop ? nul : stop);
      p = stop;
      return text;
    };
    const from = string();
    const to = string();
    const text = string();
    this.emit({ frame, time, src: ipText(s), dst: ipText(d), protocol: 'msrp', from, to, text });
  }
}

function ipText(a) {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function hash5(a, b, c, d) {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ b ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ c ^ (h >>> 16), 0x85ebca6b);
  h ^= d;
  return (h ^ (h >>> 15)) >>> 0;
}

/**
 * One run of a stage over a classic pcap file, in this process: frames, conversations,
 * messages (the messages stage), CPU and wall seconds, and the capture's span in minutes.
 * `out` is where lines and messages are written (default /dev/null).
 */
export function runFloor(file, stage, out = '/dev/null') {
  if (!STAGES.includes(stage)) throw new Error(`no floor stage ${stage}`);
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const result = walk(file, stage, out);
  const cpu = process.cpuUsage(cpu0);
  return { ...result, cpu: (cpu.user + cpu.system) / 1e6, wall: Number(process.hrtime.bigint() - t0) / 1e9 };
}

function walk(file, stage, outPath) {
  // lines and messages each build on flows.
  const level = Math.min(STAGES.indexOf(stage), 2);
  const wantLines = stage === 'lines';
  const wantMessages = stage === 'messages';
  const fd = openSync(file, 'r');
  const out = wantLines || wantMessages ? openSync(outPath, 'w') : -1;
  let pending = Buffer.alloc(0);
  let frames = 0;
  let headerDone = false;
  let little = true;
  let nanos = false;
  let headerOk = false;
  let lastSec = 0;
  let firstSec = -1;
  let firstUsec = 0;
  let checksum = 0;
  const table = new FlowTable();
  const line = new LineWriter(out);
  const messages = new MessageFloor(out);
  const onFrame = (data, tsSec, tsUsec, len) => {
    frames++;
    lastSec = tsSec;
    if (firstSec < 0) {
      firstSec = tsSec;
      firstUsec = tsUsec;
    }
    if (level < 1) {
      checksum += data[0];
      return;
    }
    // Ethernet, one optional 802.1Q tag.
    let off = 12;
    let type = (data[off] << 8) | data[off + 1];
    off += 2;
    if (type === 0x8100) {
      type = (data[off + 2] << 8) | data[off + 3];
      off += 4;
    }
    if (wantLines) {
      line.number(frames, 7);
      line.micros((tsSec - firstSec) * 1e6 + (tsUsec - firstUsec), 12);
    }
    if (type !== 0x0800 || data.length < off + 20) {
      if (wantLines) line.text(' Ethernet frame\n');
      return;
    }
    const ihl = (data[off] & 0x0f) * 4;
    const total = (data[off + 2] << 8) | data[off + 3];
    const fragment = ((data[off + 6] & 0x1f) << 8) | data[off + 7];
    const ipProto = data[off + 9];
    const s = ((data[off + 12] << 24) | (data[off + 13] << 16) | (data[off + 14] << 8) | data[off + 15]) >>> 0;
    const d = ((data[off + 16] << 24) | (data[off + 17] << 16) | (data[off + 18] << 8) | data[off + 19]) >>> 0;
    const t = off + ihl;
    const end = Math.min(data.length, off + total);
    checksum += s ^ d;
    if (wantLines) {
      line.ip(s, 16);
      line.text('-> ');
      line.ip(d, 16);
    }
    if (fragment !== 0 || (ipProto !== 6 && ipProto !== 17) || end < t + 8) {
      if (wantLines) {
        line.text('IPv4   protocol ');
        line.number(ipProto, 0);
        line.text('\n');
      }
      return;
    }
    const sport = (data[t] << 8) | data[t + 1];
    const dport = (data[t + 2] << 8) | data[t + 3];
    const tcp = ipProto === 6 && end >= t + 20;
    const seq = tcp ? ((data[t + 4] << 24) | (data[t + 5] << 16) | (data[t + 6] << 8) | data[t + 7]) >>> 0 : 0;
    const ack = tcp ? ((data[t + 8] << 24) | (data[t + 9] << 16) | (data[t + 10] << 8) | data[t + 11]) >>> 0 : 0;
    const flags = tcp ? data[t + 13] : 0;
    const win = tcp ? (data[t + 14] << 8) | data[t + 15] : 0;
    const payload = tcp ? end - (t + (data[t + 12] >> 4) * 4) : end - t - 8;
    checksum += sport + dport + payload;
    if (level < 2) return;
    // Both directions one key: the smaller endpoint first.
    const aFirst = s < d || (s === d && sport <= dport);
    const c = aFirst ? table.find(ipProto, s, sport, d, dport) : table.find(ipProto, d, dport, s, sport);
    table.frames[c]++;
    if (tcp) {
      const next = (seq + payload + (flags & 0x03 ? 1 : 0)) >>> 0;
      if (aFirst) table.nextA[c] = next;
      else table.nextB[c] = next;
    }
    if (wantMessages && payload > 0) {
      const start = end - payload;
      const time = tsSec - firstSec + (tsUsec - firstUsec) / 1e6;
      if (tcp) messages.tcp(c * 2 + (aFirst ? 0 : 1), data, start, end, sport, dport, frames, time, s, d);
      else messages.udp(data, start, end, sport, dport, frames, time, s, d);
    }
    if (!wantLines) return;
    line.text(tcp ? 'TCP    ' : 'UDP    ');
    line.number(len, 5);
    line.text(' ');
    line.number(sport, 0);
    line.text(' -> ');
    line.number(dport, 0);
    if (tcp) {
      line.text(' [');
      let first = true;
      for (let i = 0; i < FLAG_NAMES.length; i++) {
        if ((flags & (1 << i)) === 0) continue;
        if (!first) line.text(', ');
        line.text(FLAG_NAMES[i]);
        first = false;
      }
      line.text('] Seq=');
      line.number(seq, 0);
      line.text(' Ack=');
      line.number(ack, 0);
      line.text(' Win=');
      line.number(win, 0);
    }
    line.text(' Len=');
    line.number(payload, 0);
    line.text('\n');
  };
  const chunk = Buffer.allocUnsafe(CHUNK);
  for (;;) {
    const n = readSync(fd, chunk, 0, CHUNK, null);
    if (n === 0) break;
    // A copy: the next read reuses chunk, and the joined buffer must outlive it by a record.
    const buffer = pending.length === 0 ? Buffer.from(chunk.subarray(0, n)) : Buffer.concat([pending, chunk.subarray(0, n)]);
    let pos = 0;
    if (!headerDone) {
      const magic = buffer.readUInt32BE(0);
      little = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
      nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
      headerOk = little || magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
      pos = 24;
      headerDone = true;
    }
    if (!headerOk) throw new Error(`${file}: not a classic pcap file (floor.mjs reads no other format)`);
    while (buffer.length - pos >= 16) {
      const caplen = little ? buffer.readUInt32LE(pos + 8) : buffer.readUInt32BE(pos + 8);
      if (buffer.length - pos < 16 + caplen) break;
      const tsSec = little ? buffer.readUInt32LE(pos) : buffer.readUInt32BE(pos);
      const frac = little ? buffer.readUInt32LE(pos + 4) : buffer.readUInt32BE(pos + 4);
      const tsUsec = nanos ? Math.floor(frac / 1000) : frac;
      const len = little ? buffer.readUInt32LE(pos + 12) : buffer.readUInt32BE(pos + 12);
      onFrame(buffer.subarray(pos + 16, pos + 16 + caplen), tsSec, tsUsec, len);
      pos += 16 + caplen;
    }
    pending = buffer.subarray(pos);
  }
  if (out >= 0) {
    line.flush();
    messages.flush();
    closeSync(out);
  }
  closeSync(fd);
  return { frames, conversations: table.count, messages: messages.events, minutes: firstSec < 0 ? 0 : (lastSec - firstSec) / 60, checksum };
}

/**
 * Summary lines formatted straight into a 64 KiB byte buffer (digits by hand, no strings per
 * field): the cheapest way to make text in JavaScript, so the floor is not a string builder's.
 */
class LineWriter {
  constructor(fd) {
    this.fd = fd;
    this.bytes = Buffer.allocUnsafe(65536);
    this.at = 0;
    this.digits = new Uint8Array(20);
  }

  room(n) {
    if (this.at + n > this.bytes.length) this.flush();
  }

  flush() {
    if (this.at > 0) writeSync(this.fd, this.bytes, 0, this.at);
    this.at = 0;
  }

  text(ascii) {
    this.room(ascii.length);
    for (let i = 0; i < ascii.length; i++) this.bytes[this.at++] = ascii.charCodeAt(i);
  }

  /** A non-negative integer, right-aligned in width columns (0: as long as it is). */
  number(n, width) {
    let k = 0;
    do {
      this.digits[k++] = 48 + (n % 10);
      n = Math.floor(n / 10);
    } while (n > 0);
    this.room(Math.max(width, k) + 1);
    for (let pad = width - k; pad > 0; pad--) this.bytes[this.at++] = 32;
    while (k > 0) this.bytes[this.at++] = this.digits[--k];
  }

  /** Microseconds as seconds with six decimals, right-aligned, then a space. */
  micros(us, width) {
    const whole = Math.floor(us / 1e6);
    const frac = us - whole * 1e6;
    this.number(whole, width - 7);
    this.room(8);
    this.bytes[this.at++] = 46;
    for (let div = 100000; div >= 1; div = Math.floor(div / 10)) this.bytes[this.at++] = 48 + (Math.floor(frac / div) % 10);
    this.bytes[this.at++] = 32;
  }

  /** A dotted IPv4 address, left-aligned in width columns. */
  ip(a, width) {
    this.room(Math.max(width, 16)); // no flush inside: the padding counts from start
    const start = this.at;
    this.number(a >>> 24, 0);
    this.text('.');
    this.number((a >>> 16) & 255, 0);
    this.text('.');
    this.number((a >>> 8) & 255, 0);
    this.text('.');
    this.number(a & 255, 0);
    for (let pad = width - (this.at - start); pad > 0; pad--) this.bytes[this.at++] = 32;
  }
}

const FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG'];

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
  };
  const stage = opt('--stage', 'lines');
  const runs = Number(opt('--runs', 1));
  const file = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--')).pop();
  if (!STAGES.includes(stage) || !file || !Number.isInteger(runs) || runs < 1) {
    console.error(`usage: node scripts/floor.mjs [--stage ${STAGES.join('|')}] [--runs N] CAPTURE.pcap`);
    process.exit(2);
  }
  for (let r = 0; r < runs; r++) {
    const { frames, conversations, messages, cpu } = runFloor(file, stage, process.env.FLOOR_OUT);
    console.log(`${stage}: ${frames} frames, ${conversations} conversations, ${stage === 'messages' ? `${messages} messages, ` : ''}${cpu.toFixed(2)} s CPU, ${((cpu / frames) * 1e6).toFixed(2)} µs a frame`);
  }
}
