#!/usr/bin/env node
// Builds the long-flow benchmark capture (default 1,000,000 frames) from the public captures:
// every Ethernet frame of every file, replicated with timestamps moved forward so time keeps
// increasing, and each replica's IPv4 addresses shifted (second and third octets) so every
// replica is its own set of conversations rather than one giant retransmission. Few flows,
// long ones: the opposite of make-spam-capture.mjs. IP checksums are not fixed (tshark does
// not check them by default).
//
//   node scripts/make-bench-capture.mjs [out.pcap] [frames]
//
// Needs a build (dist/) for the capture readers. Output: classic pcap, microseconds.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCapture } from './lib/capture-templates.mjs';
import { PcapWriter } from './lib/pcap-writer.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PUBLIC = resolve(ROOT, '..', 'shared', 'captures', 'public');

export async function makeBenchCapture(out = join(ROOT, 'bench-data', 'long-1m.pcap'), target = 1_000_000) {
  if (!existsSync(PUBLIC)) throw new Error(`public captures not found at ${PUBLIC}`);
  const files = readdirSync(PUBLIC, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(PUBLIC, d.name)).map((f) => join(PUBLIC, d.name, f)))
    .sort();
  // One pass over the corpus: Ethernet frames with times relative to their file's first frame
  // (gaps clamped to 10 s: one public file jumps six years).
  const pool = [];
  let span = 0;
  for (const file of files) {
    const loaded = await loadCapture(ROOT, file);
    for (const f of loaded.frames) pool.push({ rel: span + f.rel, data: f.data, len: f.len });
    span += loaded.span + 1_000_000;
  }
  if (pool.length === 0) throw new Error('no Ethernet frames in the public captures');
  pool.sort((a, b) => a.rel - b.rel);
  const writer = new PcapWriter(out);
  const start = Date.UTC(2003, 9, 14) * 1000; // microseconds
  let written = 0;
  for (let replica = 0; written < target; replica++) {
    const base = start + replica * (span + 1_000_000);
    for (const frame of pool) {
      if (written >= target) break;
      const data = Buffer.from(frame.data);
      if (replica > 0 && data.length >= 34 && data[12] === 0x08 && data[13] === 0x00) {
        const a = replica & 0xff;
        const b = (replica >> 8) & 0xff;
        data[14 + 13] ^= a;
        data[14 + 14] ^= b;
        data[14 + 17] ^= a;
        data[14 + 18] ^= b;
      }
      writer.write(base + frame.rel, data, frame.len);
      written++;
    }
  }
  const { bytes } = writer.close();
  return { path: out, frames: written, bytes, poolFrames: pool.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(ROOT, 'bench-data', 'long-1m.pcap');
  const frames = Number(process.argv[3] ?? 1_000_000);
  const r = await makeBenchCapture(out, frames);
  console.log(`wrote ${r.path}: ${r.frames} frames, ${(r.bytes / 1e6).toFixed(1)} MB (from ${r.poolFrames} Ethernet frames of the public captures)`);
}
