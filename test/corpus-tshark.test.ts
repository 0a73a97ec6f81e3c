// Every public capture against tshark: frame counts, layer chains (on the layers we decode),
// timestamps, Source/Destination columns, and tcp.stream/udp.stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import type { Layer } from '../src/model/packet.js';
import { hasTshark, PUBLIC } from './helpers.js';

/** The layers msgscope's foundation decodes; tshark's chain is compared up to the first other one. */
const CLAIMED = new Set(['eth', 'vlan', 'llc', 'sll', 'null', 'ppp', 'pppoes', 'ip', 'ipv6', 'icmp', 'icmpv6', 'tcp', 'udp', 'arp', 'ipx']);

/**
 * tshark pseudo-layers that are not protocols of their own: `ethertype` (the Ethernet type
 * dispatcher) and the IPv6 extension headers (`ipv6.hopopts`, …), which we keep inside `ipv6`.
 */
function isPseudo(name: string): boolean {
  return name === 'ethertype' || name.startsWith('ipv6.');
}

/**
 * Files whose udp.stream numbering tshark bends for reasons outside the transport layer:
 * Sanaullah.pcap has SNMP, whose dissector makes a port-wildcard conversation for responses
 * (so tshark gives request and response different udp.stream values).
 */
const UDP_STREAM_EXCEPTIONS = new Set(['ajbanjara__Wireshark/Sanaullah.pcap']);

function publicFiles(): string[] {
  if (!existsSync(PUBLIC)) return [];
  return readdirSync(PUBLIC, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(PUBLIC, d.name)).map((f) => `${d.name}/${f}`))
    .sort();
}

interface Row {
  number: string;
  protocols: string;
  epoch: string;
  src: string;
  dst: string;
  tcpStream: string;
  udpStream: string;
}

function tsharkRows(path: string): Row[] {
  const r = spawnSync(
    'tshark',
    ['-n', '-r', path, '-T', 'fields', '-E', 'separator=\t', '-e', 'frame.number', '-e', 'frame.protocols', '-e', 'frame.time_epoch', '-e', '_ws.col.Source', '-e', '_ws.col.Destination', '-e', 'tcp.stream', '-e', 'udp.stream'],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => {
      const [number = '', protocols = '', epoch = '', src = '', dst = '', tcpStream = '', udpStream = ''] = line.split('\t');
      return { number, protocols, epoch, src, dst, tcpStream: tcpStream.split(',')[0]!, udpStream: udpStream.split(',')[0]! };
    });
}

interface Ours {
  number: number;
  layers: string[];
  epoch: string;
  src: string;
  dst: string;
  tcpStream: string;
  udpStream: string;
}

function streamOf(layers: Layer[], name: string): string {
  const layer = layers.find((l) => l.name === name);
  if (layer === undefined) return '';
  const node = layer.tree().find((n) => n.def.name === `${name}.stream`);
  return node === undefined ? '' : String(node.value);
}

async function ours(path: string): Promise<{ frames: Ours[]; warnings: string[] }> {
  const frames: Ours[] = [];
  const warnings: string[] = [];
  const engine = new Engine({
    packet: (p) =>
      frames.push({
        number: p.frame.number,
        layers: p.layers.map((l) => l.name),
        epoch: `${p.frame.tsSec}.${String(p.frame.tsNsec).padStart(9, '0')}`,
        src: p.src,
        dst: p.dst,
        tcpStream: streamOf(p.layers, 'tcp'),
        udpStream: streamOf(p.layers, 'udp'),
      }),
  }, {}, defaultProtocols());
  await readCapture(path, { frame: (f) => engine.frame(f), warning: (w) => warnings.push(w) });
  engine.finish();
  return { frames, warnings };
}

function claimedPrefix(names: string[]): string {
  const out: string[] = [];
  for (const name of names) {
    if (isPseudo(name)) continue;
    if (!CLAIMED.has(name)) break;
    out.push(name);
  }
  return out.join(':');
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const NETWORK = new Set(['ip', 'ipv6', 'arp', 'ipx']);

const files = publicFiles();

test('the public corpus is present', { skip: files.length === 0 ? `no public captures at ${PUBLIC}` : false }, () => {
  assert.ok(files.length >= 20, `${files.length} files`);
});

for (const name of files) {
  test(`corpus ${name}: frames, layer chains, times, addresses and streams equal tshark's`, { skip: hasTshark() ? false : 'tshark is not installed' }, async () => {
    const path = join(PUBLIC, name);
    const expected = tsharkRows(path);
    const got = await ours(path);
    assert.deepEqual(got.warnings, [], 'no reader warnings on a well-formed capture');
    assert.equal(got.frames.length, expected.length, 'frame count');
    const mismatches: string[] = [];
    let addressesCompared = 0;
    for (let i = 0; i < expected.length; i++) {
      const t = expected[i]!;
      const o = got.frames[i]!;
      const where = `frame ${t.number}`;
      if (String(o.number) !== t.number) mismatches.push(`${where}: numbered ${o.number}`);
      const tChain = claimedPrefix(t.protocols.split(':'));
      const oChain = claimedPrefix(o.layers);
      if (tChain !== oChain) mismatches.push(`${where}: layers ${oChain} (${o.layers.join(':')}), tshark ${tChain} (${t.protocols})`);
      if (o.epoch !== t.epoch) mismatches.push(`${where}: time ${o.epoch}, tshark ${t.epoch}`);
      // Addresses: compared where both tools show what the same layer says (a network layer we
      // decode, or the MAC addresses when neither decodes one).
      const weDecodeNetwork = o.layers.some((l) => NETWORK.has(l));
      if (weDecodeNetwork || (MAC.test(t.src) && MAC.test(t.dst))) {
        addressesCompared++;
        if (o.src !== t.src || o.dst !== t.dst) mismatches.push(`${where}: ${o.src} → ${o.dst}, tshark ${t.src} → ${t.dst}`);
      }
      if (o.tcpStream !== t.tcpStream) mismatches.push(`${where}: tcp.stream ${o.tcpStream}, tshark ${t.tcpStream}`);
      if (!UDP_STREAM_EXCEPTIONS.has(name) && o.udpStream !== t.udpStream) mismatches.push(`${where}: udp.stream ${o.udpStream}, tshark ${t.udpStream}`);
    }
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatch(es)`);
    assert.ok(addressesCompared >= expected.length * 0.5, `addresses compared on ${addressesCompared} of ${expected.length} frames`);
  });
}
