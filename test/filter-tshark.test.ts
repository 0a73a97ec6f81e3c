// Differential display-filter tests: for each public capture and filter, the frames msgscope's
// filter selects equal the frames `tshark -Y` selects with the same text. Only fields that
// both tools decode the same way are used (frame, eth, ip, ipv6, tcp, udp, icmp); tshark 4.0
// needs commas in sets, which msgscope accepts too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readCapture } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { PacketFilter } from '../src/filter/index.js';
import { exists, hasTshark, publicCapture } from './helpers.js';

const run = promisify(execFile);

const CAPTURES = [
  'ajbanjara__Wireshark/messenger.pcap',
  'ajbanjara__Wireshark/startmenu_Dameware.pcap',
  'ajbanjara__Wireshark/SkypeIRC.cap',
  'ajbanjara__Wireshark/FTPv6-1.cap',
  'ntop__nDPI/netbios.pcap',
];

const FILTERS = [
  'ip',
  'not ip',
  'udp.port == 1026 || udp.port == 1027',
  'udp.port eq 138 or udp.dstport == 137',
  'udp.port != 138',
  'udp.port ~= 138',
  'udp.port in {137, 138, 139}',
  'udp.port in {1000..1100}',
  'tcp.port in {80, 139, 445}',
  'ip.addr == 192.168.0.0/16',
  'ip.src == 192.168.1.2',
  'ip.src == ip.dst',
  'ip.ttl <= 64 or icmp',
  'ip.proto == 17 && ip.len > 300',
  'ip.id >= 0x8000',
  'tcp.flags.syn == 1 && !tcp.flags.ack',
  'tcp.flags & 0x12',
  'tcp.srcport > tcp.dstport',
  'tcp.len > 0 and tcp.stream <= 2',
  'tcp.window_size_value < 1000',
  'icmp.type == 3',
  'eth.addr == ff:ff:ff:ff:ff:ff',
  'eth.type == 0x0800',
  'ipv6',
  'ipv6.addr == fe80::/10',
  'frame.len > 200',
  'frame.number <= 10 || frame.number == 20',
  'frame.time_relative >= 5 && frame.time_relative < 30',
  'frame contains "STOP"',
  'frame matches "(?i)windows"',
  'udp contains 00:00:00:00',
  '(ip.src == 10.0.0.0/8 || ip.dst == 10.0.0.0/8) && !(udp)',
];

async function tsharkFrames(path: string, filter: string): Promise<number[]> {
  const { stdout } = await run('tshark', ['-n', '-r', path, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { maxBuffer: 64 << 20 });
  return stdout.split('\n').filter((l) => l !== '').map(Number);
}

async function ourFrames(path: string, filters: readonly string[]): Promise<number[][]> {
  const compiled = filters.map((f) => new PacketFilter(f));
  const out = filters.map((): number[] => []);
  const engine = new Engine({
    packet: (p) => {
      for (let i = 0; i < compiled.length; i++) if (compiled[i]!.match(p)) out[i]!.push(p.frame.number);
    },
  }, {}, defaultProtocols());
  await readCapture(path, { frame: (f) => engine.frame(f), warning: () => {} });
  engine.finish();
  return out;
}

/** Runs tasks with a bounded number at a time. */
async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  }));
  return results;
}

for (const name of CAPTURES) {
  const path = publicCapture(name);
  test(`read -Y selects the frames tshark -Y selects: ${name}`, { skip: !hasTshark() || !exists(path) ? 'tshark or capture missing' : false }, async () => {
    const ours = await ourFrames(path, FILTERS);
    const theirs = await pool(FILTERS.map((f) => () => tsharkFrames(path, f)), 4);
    let nonEmpty = 0;
    for (let i = 0; i < FILTERS.length; i++) {
      assert.deepEqual(ours[i], theirs[i], `filter ${JSON.stringify(FILTERS[i])} on ${name}`);
      if (theirs[i]!.length > 0) nonEmpty++;
    }
    // The comparison means something only if filters select frames in this capture.
    assert.ok(nonEmpty >= 5, `only ${nonEmpty} filters selected frames in ${name}`);
  });
}

test('the CLI applies -Y like the library (and prints only matching frames)', { skip: !exists(publicCapture(CAPTURES[0]!)) }, async () => {
  const { cli } = await import('./helpers.js');
  const r = cli(['read', '-q', '--format', 'ndjson', '-Y', 'frame.number in {2 4} || ip.len > 100000', publicCapture(CAPTURES[0]!)]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { frame: number }).frame), [2, 4]);
});
