// `stats -z follow,tcp|udp|msnp,ascii|hex,N` against tshark 4.0's `-z follow`: the same block,
// byte for byte, on real captures and on a crafted one that goes through every path of tshark's
// follow tap (out of order, retransmission with new bytes, bytes missing but acknowledged).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bytes, eth, ipv4, pcapFile, tcp, udp, type PcapRecord } from './capture-builders.js';
import { cli, exists, FIXTURES, hasTshark, publicCapture, SAMPLES } from './helpers.js';

const TSHARK = hasTshark();

/** The blocks of a follow output, by their "Follow:" and "Filter:" lines. */
function blocks(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split('\n===================================================================\nFollow: ').slice(1)) {
    const block = `Follow: ${part}`;
    const [follow, filter] = block.split('\n');
    out.set(`${follow!} | ${filter!}`, block);
  }
  return out;
}

/** One tshark run per capture with every -z, compared block by block with one msgscope run. */
function compare(path: string, specs: string[]): void {
  const z = specs.flatMap((s) => ['-z', s]);
  const theirs = spawnSync('tshark', ['-n', '-q', '-r', path, ...z], { encoding: 'latin1', maxBuffer: 64 << 20 });
  assert.equal(theirs.status, 0, theirs.stderr);
  const ours = spawnSync(process.execPath, [join(FIXTURES, '..', '..', 'bin', 'msgscope'), 'stats', '-q', path, ...z], { encoding: 'latin1', maxBuffer: 64 << 20 });
  assert.equal(ours.status, 0, ours.stderr);
  const t = blocks(theirs.stdout);
  const o = blocks(ours.stdout);
  assert.equal(t.size, specs.length, `tshark gave ${t.size} blocks`);
  assert.deepEqual([...o.keys()].sort(), [...t.keys()].sort());
  for (const [key, block] of t) assert.equal(o.get(key), block, `${path}: ${key}`);
}

const streams = (protocol: string, n: number, modes = ['ascii', 'hex']): string[] => Array.from({ length: n }, (_, i) => modes.map((m) => `follow,${protocol},${m},${i}`)).flat();

test('-z follow,tcp: the same blocks as tshark on real captures (MSNP, DCE/RPC over TCP, SMB over NBSS, a split NBSS message)', { skip: !TSHARK }, () => {
  const msnms = publicCapture('ajbanjara__Wireshark/msnms.pcap');
  if (exists(msnms)) compare(msnms, [...streams('tcp', 6), 'follow,tcp,ascii,99']);
  const mapi = publicCapture('ajbanjara__Wireshark/mapi.cap');
  if (exists(mapi)) compare(mapi, streams('tcp', 24, ['hex']));
  const split = publicCapture('zeek__zeek/netbios-split-session-msg.pcap');
  if (exists(split)) compare(split, streams('tcp', 1));
  compare(join(FIXTURES, 'msgsvc-tcp.pcap'), streams('tcp', 2));
  compare(join(SAMPLES, 'messenger-mix.pcapng'), streams('tcp', 5));
});

test('-z follow,udp: the same blocks as tshark (NetrSendMessage datagrams over PPPoE, and loopback ones)', { skip: !TSHARK }, () => {
  const messenger = publicCapture('ajbanjara__Wireshark/messenger.pcap');
  if (exists(messenger)) compare(messenger, streams('udp', 3));
  compare(join(FIXTURES, 'msrp-udp.pcap'), streams('udp', 2));
});

test('-z follow,tcp: out-of-order, retransmitted, missing-but-acknowledged bytes and every byte value, as tshark shows them', { skip: !TSHARK }, () => {
  const C = { src: [10, 0, 0, 1], dst: [10, 0, 0, 2] };
  const S = { src: [10, 0, 0, 2], dst: [10, 0, 0, 1] };
  const SYN = 0x02;
  const ACK = 0x10;
  const PSH = 0x08;
  const seg = (from: typeof C, o: { seq: number; ack: number; flags: number }, payload: string | Uint8Array = ''): Uint8Array => {
    const sp = from === C ? 40000 : 5555;
    const dp = from === C ? 5555 : 40000;
    return eth(0x0800, ipv4({ ...from, proto: 6 }, tcp({ sp, dp, ...o }, typeof payload === 'string' ? bytes(payload) : payload)));
  };
  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  const frames = [
    seg(C, { seq: 100, ack: 0, flags: SYN }),
    seg(S, { seq: 500, ack: 101, flags: SYN | ACK }),
    seg(C, { seq: 101, ack: 501, flags: ACK }),
    seg(C, { seq: 101, ack: 501, flags: ACK | PSH }, 'hello '),
    seg(C, { seq: 113, ack: 501, flags: ACK | PSH }, 'world\n'), // ahead of a gap
    seg(C, { seq: 107, ack: 501, flags: ACK | PSH }, 'there '), // fills it
    seg(C, { seq: 101, ack: 501, flags: ACK | PSH }, 'hello there'), // nothing new
    seg(C, { seq: 117, ack: 501, flags: ACK | PSH }, 'd\nABCD'), // two old bytes, four new
    seg(S, { seq: 501, ack: 123, flags: ACK | PSH }, all),
    seg(S, { seq: 1000, ack: 123, flags: ACK | PSH }, 'late'), // 243 bytes before it never captured
    seg(C, { seq: 123, ack: 1004, flags: ACK }), // …but acknowledged
    seg(C, { seq: 123, ack: 1004, flags: ACK | PSH }, '\t\x1b[31m red\r\n'),
  ];
  const udpFrames = [
    eth(0x0800, ipv4({ ...C, proto: 17 }, udp(1025, 1026, bytes('ping\x00\x7f')))),
    eth(0x0800, ipv4({ ...S, proto: 17 }, udp(1026, 1025, all))),
  ];
  const records: PcapRecord[] = [...frames, ...udpFrames].map((data, i) => ({ sec: 1_100_000_000 + i, frac: 0, data }));
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-follow-'));
  try {
    const path = join(dir, 'crafted.pcap');
    writeFileSync(path, pcapFile(records));
    compare(path, [...streams('tcp', 1), ...streams('udp', 1)]);
    // And what it holds, independently of tshark: the gap filled in order, the missing-bytes marker.
    const ascii = cli(['stats', path, '-z', 'follow,tcp,ascii,0']).stdout;
    assert.match(ascii, /^6\nhello \n6\nthere \n6\nworld\n\n4\nABCD\n/m);
    assert.match(ascii, /\t36\n\[243 bytes missing in capture file\]\.\n\t4\nlate\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-z follow,msnp: one MSNP connection\'s commands, one per line, frame and direction, escaped', () => {
  const r = cli(['stats', join(SAMPLES, 'messenger-mix.pcapng'), '-z', 'follow,msnp,ascii,4']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.deepEqual(lines.slice(1, 6), ['===================================================================', 'Follow: msnp,ascii', 'Filter: tcp.stream eq 4', 'Node 0: 198.51.100.202:56332', 'Node 1: 203.0.113.51:1863']);
  const commands = lines.slice(6, -2);
  // The switchboard chat of the sample, checked by hand against `read -Y "tcp.stream == 4"`.
  assert.deepEqual(commands.map((l) => l.trim().split(/\s+/).slice(0, 3).join(' ')), [
    '165 0→1 USR', '167 1→0 USR', '169 0→1 CAL', '170 1→0 CAL', '172 1→0 JOI', '174 0→1 MSG', '175 1→0 ACK', '177 1→0 MSG', '179 0→1 OUT',
  ]);
  // The same commands as the MSNP layers `read` shows for that stream.
  const listed = cli(['read', join(SAMPLES, 'messenger-mix.pcapng'), '-Y', 'tcp.stream == 4 && msnp', '-T', 'fields', '-e', 'frame.number']).stdout.trim().split('\n');
  assert.deepEqual([...new Set(commands.map((l) => l.trim().split(/\s+/)[0]))], listed);
  const hex = cli(['stats', join(SAMPLES, 'messenger-mix.pcapng'), '-z', 'follow,msnp,hex,4']).stdout;
  assert.match(hex, /^00000000 {2}55 53 52 20 38 20 70 61 {2}75 6c 61 40 68 6f 74 6d {2}USR 8 pa ula@hotm$/m);
  assert.match(hex, /^\t00000000 {2}55 53 52 20 38 20 4f 4b/m);
});

test('-z follow: a wrong spelling is a one-line usage error naming the accepted form', () => {
  for (const z of ['follow,tcp,ascii', 'follow,sctp,ascii,0', 'follow,tcp,raw,0', 'follow,tcp,ascii,x', 'follow,tcp,ascii,1.2.3.4:80,1.2.3.5:81']) {
    const r = cli(['stats', join(SAMPLES, 'messenger-mix.pcapng'), '-z', z]);
    assert.equal(r.status, 2, z);
    assert.match(r.stderr, /^msgscope: -z follow,.*accepted: follow,tcp\|udp\|msnp,ascii\|hex,N/, z);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  const json = cli(['stats', join(SAMPLES, 'messenger-mix.pcapng'), '-z', 'follow,tcp,ascii,0', '--format', 'json']);
  assert.equal(json.status, 2);
});
