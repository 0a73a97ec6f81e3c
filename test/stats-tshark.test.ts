// `msgscope stats` against tshark: -z conv,tcp / conv,udp / conv,ip (frames each way, exact;
// bytes exact where tshark prints them in bytes, to its kB rounding otherwise), -z endpoints,ip
// (every column exact) and -z io,phs (frames and bytes of the eth/ip/tcp/udp levels both have).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cli, exists, FIXTURES, hasTshark, publicCapture } from './helpers.js';
import type { StatsReport, PhsNode } from '../src/analysis/stats.js';
import { join } from 'node:path';

const CAPTURES = ['ajbanjara__Wireshark/SkypeIRC.cap', 'ajbanjara__Wireshark/startmenu_Dameware.pcap', 'ajbanjara__Wireshark/messenger.pcap', 'ntop__nDPI/netbios.pcap'];

function tshark(path: string, z: string): string {
  const r = spawnSync('tshark', ['-n', '-q', '-r', path, '-z', z], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function ours(path: string): StatsReport {
  const r = cli(['stats', '-q', '--format', 'json', path]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as StatsReport;
}

/** tshark's size text ("3068 bytes", "111 kB") → [low, high] bounds in bytes. */
function sizeRange(n: string, unit: string): [number, number] {
  const v = Number(n);
  if (unit === 'bytes') return [v, v];
  const scale = unit === 'kB' ? 1000 : unit === 'MB' ? 1e6 : 1e9;
  return [(v - 1) * scale, (v + 1) * scale];
}

interface TsharkConv {
  a: string;
  b: string;
  framesBA: number;
  bytesBA: [number, number];
  framesAB: number;
  bytesAB: [number, number];
}

function parseConv(text: string): TsharkConv[] {
  const rows: TsharkConv[] = [];
  const re = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(bytes|kB|MB)\s+(\d+)\s+(\d+)\s+(bytes|kB|MB)\s+\d+/;
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m === null) continue;
    // tshark's first pair is "<-" (B to A), the second "->" (A to B).
    rows.push({ a: m[1]!, b: m[2]!, framesBA: Number(m[3]), bytesBA: sizeRange(m[4]!, m[5]!), framesAB: Number(m[6]), bytesAB: sizeRange(m[7]!, m[8]!) });
  }
  return rows;
}

for (const name of CAPTURES) {
  const path = publicCapture(name);
  test(`stats conversations, endpoints and hierarchy equal tshark's: ${name}`, { skip: !hasTshark() || !exists(path) ? 'tshark or capture missing' : false }, () => {
    const report = ours(path);
    for (const [kind, rows] of [['tcp', report.conversations.tcp], ['udp', report.conversations.udp], ['ip', report.conversations.ip]] as const) {
      const theirs = parseConv(tshark(path, `conv,${kind}`));
      assert.equal(rows.length, theirs.length, `${kind} conversation count in ${name}`);
      for (const t of theirs) {
        const row = rows.find((r) => (r.a === t.a && r.b === t.b) || (r.a === t.b && r.b === t.a));
        assert.ok(row !== undefined, `${kind} conversation ${t.a} <-> ${t.b} missing`);
        const [fab, bab, fba, bba] = row.a === t.a ? [row.framesAB, row.bytesAB, row.framesBA, row.bytesBA] : [row.framesBA, row.bytesBA, row.framesAB, row.bytesAB];
        assert.equal(fab, t.framesAB, `${kind} ${t.a} -> ${t.b} frames`);
        assert.equal(fba, t.framesBA, `${kind} ${t.b} -> ${t.a} frames`);
        assert.ok(bab >= t.bytesAB[0] && bab <= t.bytesAB[1], `${kind} ${t.a} -> ${t.b} bytes ${bab} vs ${t.bytesAB}`);
        assert.ok(bba >= t.bytesBA[0] && bba <= t.bytesBA[1], `${kind} ${t.b} -> ${t.a} bytes ${bba} vs ${t.bytesBA}`);
        // A is the source of the conversation's first frame, as in tshark.
        assert.equal(row.a, t.a, `${kind} conversation ${t.a} <-> ${t.b}: address A`);
      }
    }
    const endpoints = tshark(path, 'endpoints,ip')
      .split('\n')
      .map((l) => /^(\d+\.\d+\.\d+\.\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null);
    assert.equal(report.endpoints.ip.length, endpoints.length, 'endpoint count');
    for (const m of endpoints) {
      const row = report.endpoints.ip.find((e) => e.address === m[1]);
      assert.ok(row !== undefined, `endpoint ${m[1]}`);
      assert.deepEqual([row.frames, row.bytes, row.txFrames, row.txBytes, row.rxFrames, row.rxBytes], m.slice(2, 8).map(Number), `endpoint ${m[1]}`);
    }
    // Protocol hierarchy: the levels both tools name the same way.
    const phs = new Map<string, [number, number]>();
    const stack: string[] = [];
    for (const line of tshark(path, 'io,phs').split('\n')) {
      const m = /^(\s*)(\S+)\s+frames:(\d+) bytes:(\d+)/.exec(line);
      if (m === null) continue;
      const depth = m[1]!.length / 2;
      stack.length = depth;
      stack.push(m[2]!);
      phs.set(stack.join(':'), [Number(m[3]), Number(m[4])]);
    }
    const mine = new Map<string, [number, number]>();
    const walk = (nodes: PhsNode[], prefix: string): void => {
      for (const n of nodes) {
        const p = prefix === '' ? n.protocol : `${prefix}:${n.protocol}`;
        mine.set(p, [n.frames, n.bytes]);
        walk(n.children, p);
      }
    };
    walk(report.phs, '');
    let compared = 0;
    // Every tshark level made only of layers both tools name alike (tshark hides its `ethertype` step too).
    const SHARED = new Set(['eth', 'pppoes', 'ppp', 'ip', 'ipv6', 'tcp', 'udp', 'icmp', 'arp']);
    for (const [path, t] of phs) {
      if (!path.split(':').every((p) => SHARED.has(p))) continue;
      assert.deepEqual(mine.get(path), t, `phs ${path}`);
      compared++;
    }
    assert.ok(compared >= 2, 'hierarchy levels compared');
    assert.equal(report.frames, phs.get('eth')?.[0] ?? report.frames);
  });
}

test('stats counts messenger messages per protocol, sender and recipient, and SMB commands with response times', { skip: !exists(join(FIXTURES, 'smb-d0.pcap')) }, () => {
  const report = ours(join(FIXTURES, 'smb-d0.pcap'));
  const sidecar = JSON.parse(spawnSync('cat', [join(FIXTURES, 'smb-d0.json')], { encoding: 'utf8' }).stdout) as { messages: { from: string; to: string[]; protocol: string }[] };
  assert.equal(report.messages.total, sidecar.messages.length);
  for (const m of sidecar.messages) {
    assert.ok(report.messages.bySender.some((r) => r.key === m.from), `sender ${m.from}`);
    for (const to of m.to) assert.ok(report.messages.byRecipient.some((r) => r.key === to), `recipient ${to}`);
  }
  assert.equal(report.messages.byProtocol.find((r) => r.key === 'smb')?.messages, sidecar.messages.length);
  const d0 = report.commands.find((c) => c.protocol === 'smb' && /0xd0/i.test(c.command));
  assert.ok(d0 !== undefined, 'SMB 0xD0 command row');
  assert.equal(d0.requests, sidecar.messages.length);
  assert.ok(d0.matched > 0 && d0.minRt !== undefined && d0.minRt >= 0 && d0.maxRt! >= d0.minRt);
});

test('stats --format csv: one block per table, quoted and formula-safe', { skip: !exists(join(FIXTURES, 'smb-d0.pcap')) }, () => {
  const r = cli(['stats', '-q', '--format', 'csv', '-z', 'messages', '-z', 'conv', join(FIXTURES, 'smb-d0.pcap')]);
  assert.equal(r.status, 0, r.stderr);
  const blocks = r.stdout.trim().split('\n\n');
  assert.ok(blocks.length >= 6);
  for (const block of blocks) assert.match(block.split('\n')[0]!, /^table,/);
  assert.ok(blocks.some((b) => b.startsWith('table,sender,messages')));
  const text = cli(['stats', '-q', '-z', 'phs', join(FIXTURES, 'smb-d0.pcap')]);
  assert.match(text.stdout, /Protocol hierarchy/);
  assert.doesNotMatch(text.stdout, /TCP conversations/);
});
