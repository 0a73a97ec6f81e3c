// `-T fields -e … -E …` against tshark: the same bytes out, on public captures, for the fields
// both decode alike, with every -E option; the event form on the timeline; and the errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cli, exists, hasTshark, publicCapture, SAMPLES } from './helpers.js';
import { join } from 'node:path';

// Every -E combination on the first two; the plain form on the others (formats, link types, IPv6).
const CAPTURES = [
  'ajbanjara__Wireshark/startmenu_Dameware.pcap', 'ntop__nDPI/dcerpc.pcap', 'ajbanjara__Wireshark/msnms.pcap', 'ajbanjara__Wireshark/messenger.pcap',
  'ajbanjara__Wireshark/can-2003-0003.pcap', 'arkime__arkime/nbns.pcap', 'ajbanjara__Wireshark/FTPv6-1.cap', 'ajbanjara__Wireshark/genbroad.snoop',
];

// Fields both tools decode alike on these captures (times to the nanosecond, tshark's text for them).
const FIELDS = [
  'frame.number', 'frame.len', 'frame.cap_len', 'frame.time', 'frame.time_relative', 'frame.time_epoch', 'frame.time_delta',
  'ip.src', 'ip.dst', 'ip.addr', 'ip.proto', 'ip.ttl', 'ip.len', 'ipv6.src', 'ipv6.dst',
  'tcp.srcport', 'tcp.dstport', 'tcp.port', 'tcp.stream', 'tcp.len', 'tcp.seq', 'tcp.ack', 'tcp.flags.syn', 'tcp.flags.ack',
  'udp.srcport', 'udp.dstport', 'udp.length', 'udp.stream',
];

const OPTION_SETS: string[][] = [
  [],
  ['-E', 'header=y'],
  ['-E', 'header=y', '-E', 'separator=,', '-E', 'quote=d'],
  ['-E', 'occurrence=f', '-E', 'quote=s', '-E', 'separator=/s'],
  ['-E', 'occurrence=l', '-E', 'aggregator=;'],
  ['-E', 'aggregator=/s', '-E', 'separator=|', '-E', 'bom=y', '-E', 'header=y'],
];

function tsharkFields(path: string, args: string[]): string {
  const r = spawnSync('tshark', ['-n', '-r', path, '-T', 'fields', ...args], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, TZ: 'UTC' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const fieldArgs = FIELDS.flatMap((f) => ['-e', f]);

for (const [index, name] of CAPTURES.entries()) {
  const path = publicCapture(name);
  test(`read -T fields prints what tshark prints: ${name}`, { skip: !hasTshark() || !exists(path) ? 'tshark or capture missing' : false }, () => {
    for (const options of index < 2 ? OPTION_SETS : [[]]) {
      const ours = cli(['read', '-r', path, '-n', '-T', 'fields', ...fieldArgs, ...options]);
      assert.equal(ours.status, 0, ours.stderr);
      assert.equal(ours.stdout, tsharkFields(path, [...fieldArgs, ...options]), `${name} with ${options.join(' ') || 'no -E'}`);
    }
  });
}

test('read -T fields with -Y and -c selects the frames tshark selects; quoted ICMP copies give several occurrences', { skip: !hasTshark() ? 'tshark missing' : false }, () => {
  const path = publicCapture('ajbanjara__Wireshark/SkypeIRC.cap');
  if (!exists(path)) return;
  const args = ['-e', 'frame.number', '-e', 'ip.src', '-e', 'ip.ttl', '-e', 'udp.srcport', '-e', 'udp.dstport'];
  for (const options of [[], ['-E', 'occurrence=f'], ['-E', 'occurrence=l'], ['-E', 'aggregator=/s', '-E', 'quote=d']]) {
    const ours = cli(['read', path, '-Y', 'icmp && udp', '-T', 'fields', ...args, ...options]);
    assert.equal(ours.status, 0, ours.stderr);
    assert.equal(ours.stdout, tsharkFields(path, ['-Y', 'icmp && udp', ...args, ...options]));
    assert.match(ours.stdout, /\d/);
  }
  const first = cli(['read', path, '-c', '7', '-T', 'fields', '-e', 'frame.number']);
  assert.equal(first.stdout, tsharkFields(path, ['-c', '7', '-e', 'frame.number']));
});

test('timeline -T fields prints event fields: arrays joined by the aggregator, addresses and ports split', () => {
  const sample = join(SAMPLES, 'messenger-mix.pcapng');
  const r = cli(['timeline', '-r', sample, '-Y', 'message && protocol == "msrp"', '-T', 'fields', '-e', 'kind', '-e', 'message.from', '-e', 'message.to', '-e', 'src.addr', '-e', 'dst.port', '-e', 'frames', '-e', 'message.status', '-E', 'header=y', '-E', 'separator=,', '-E', 'aggregator=/s']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'kind,message.from,message.to,src.addr,dst.port,frames,message.status');
  assert.ok(lines.length > 5);
  for (const line of lines.slice(1)) assert.match(line, /^message,SYSTEM ALERT,[A-Z ]+,127\.0\.0\.2,102[67],\d+( \d+)*,(ok|error|no-response)$/);
  const text = cli(['timeline', sample, '-T', 'fields', '-e', 'message.text', '-Y', 'message.text contains "STOP"', '-E', 'occurrence=f']);
  // Line breaks inside a text are escaped as tshark escapes them: one record, one line.
  for (const line of text.stdout.trimEnd().split('\n')) assert.match(line, /^STOP! WINDOWS REQUIRES IMMEDIATE ATTENTION\.\\r\\n\\r\\nYour computer/);
});

test('-T fields errors name what was wrong and what is accepted', () => {
  const sample = join(SAMPLES, 'messenger-mix.pcapng');
  const cases: [string[], RegExp][] = [
    [['read', sample, '-T', 'fields'], /-T fields needs at least one -e FIELD/],
    [['read', sample, '-e', 'ip.src'], /-e and -E go with -T fields/],
    [['read', sample, '-T', 'fields', '-e', 'ip.srcc'], /-e ip\.srcc: unknown field \(did you mean ip\.src\?\); the names: msgscope fields/],
    [['timeline', sample, '-T', 'fields', '-e', 'mesage.text'], /-e mesage\.text: unknown event field \(did you mean message\.text\?\)/],
    [['read', sample, '-T', 'fields', '-e', 'ip.src', '-E', 'quote=x'], /quote accepts d \(double quotes\), s \(single quotes\) or n \(none\)/],
    [['read', sample, '-T', 'fields', '-e', 'ip.src', '-E', 'occurrence=2'], /occurrence accepts f \(first\), l \(last\) or a \(all\)/],
    [['read', sample, '-T', 'fields', '-e', 'ip.src', '-E', 'separator=ab'], /accepted \/t \(tab\), \/s \(space\) or one character/],
    [['read', sample, '-T', 'fields', '-e', 'ip.src', '-E', 'colour=y'], /unknown option 'colour'; accepted: header, separator, quote, occurrence, aggregator, bom/],
    [['read', sample, '-T', 'pdml'], /invalid value "pdml" for --format\/-T; accepted: text, json, ndjson, fields/],
  ];
  for (const [args, expected] of cases) {
    const r = cli(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, expected, args.join(' '));
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, 'one line');
  }
});
