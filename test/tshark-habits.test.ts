// tshark's -t time formats on read and timeline text; the message status placed before the text
// (visible when a line is cut) and coloured apart from the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { BIN, cli, exists, hasTshark, publicCapture, ROOT, SAMPLES } from './helpers.js';

const SAMPLE = join(SAMPLES, 'messenger-mix.pcapng');

function timeColumn(args: string[]): string[] {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => /^\s*\d+\s+(.*?)\s+\d+\.\d+\.\d+\.\d+ /.exec(l)?.[1] ?? l);
}

test('read -t a|ad|u|ud|e|r|d prints the times tshark prints (to the microsecond)', { skip: !hasTshark() ? 'tshark missing' : false }, () => {
  for (const t of ['a', 'ad', 'u', 'ud', 'e', 'r', 'd']) {
    const ours = timeColumn(['read', '-r', SAMPLE, '-c', '12', '-t', t]);
    const r = spawnSync('tshark', ['-n', '-r', SAMPLE, '-c', '12', '-t', t, '-T', 'fields', '-e', '_ws.col.Time'], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    // tshark prints nanoseconds for this pcapng; ours shows the capture's microseconds.
    const theirs = r.stdout.trim().split('\n').map((s) => s.replace(/(\.\d{6})\d{3}$/, '$1'));
    assert.deepEqual(ours, theirs, `-t ${t}`);
  }
});

test('timeline -t r counts from the first frame; -t e gives epoch seconds; a wrong -t lists the formats', () => {
  const rel = cli(['timeline', SAMPLE, '-t', 'r']).stdout.split('\n')[0]!;
  assert.match(rel, /^0\.\d{6}  nbss/);
  const epoch = cli(['timeline', SAMPLE, '-t', 'e']).stdout.split('\n')[0]!;
  assert.match(epoch, /^1\d{9}\.\d{6}  nbss/);
  const bad = cli(['read', SAMPLE, '-t', 'x']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /-t x: unknown time format; accepted: a, ad, r, d, dd, e, u, ud/);
});

test('timeline text: the status comes before the text, so a cut line keeps it; colour tells delivered from failed', () => {
  const plain = cli(['timeline', SAMPLE, '-Y', 'kind == "message"']).stdout.split('\n').filter((l) => !l.startsWith('    '));
  assert.ok(plain.length > 5);
  for (const line of plain.filter((l) => l !== '')) assert.match(line, /^\S+ \S+  \S+ +message  .*?  \[(ok|error [^\]]+|no-response|unknown)\] /);
  const coloured = cli(['timeline', SAMPLE, '-Y', 'kind == "message"', '--color']).stdout;
  assert.match(coloured, /\x1b\[32m\[ok\]\x1b\[39m/);
  assert.match(coloured, /\x1b\[31m\x1b\[1m\[error [^\]]+\]\x1b\[22m\x1b\[39m/);
});

/** A copy of a pcap (Ethernet, IPv4) with UDP port `from` changed to `to` (checksums zeroed: none, for IPv4 UDP). */
function movePort(path: string, from: number, to: number): string {
  const b = Buffer.from(readFileSync(path));
  let off = 24;
  while (off + 16 <= b.length) {
    const caplen = b.readUInt32LE(off + 8);
    const p = off + 16;
    if (b.readUInt16BE(p + 12) === 0x0800 && b[p + 23] === 17) {
      const udp = p + 14 + (b[p + 14]! & 0x0f) * 4;
      for (const at of [udp, udp + 2]) if (b.readUInt16BE(at) === from) b.writeUInt16BE(to, at);
      b.writeUInt16BE(0, udp + 6);
    }
    off = p + caplen;
  }
  const out = join(mkdtempSync(join(tmpdir(), 'msgscope-d-')), 'moved.pcap');
  writeFileSync(out, b);
  return out;
}

test('-d udp.port==N,nbns decodes a moved port as tshark -d does; -o msnp.tcp.port and oem_codepage are preferences', { skip: !exists(publicCapture('arkime__arkime/nbns.pcap')) ? 'capture missing' : false }, () => {
  const moved = movePort(publicCapture('arkime__arkime/nbns.pcap'), 137, 5137);
  const plain = cli(['read', moved, '-c', '4', '-T', 'fields', '-e', 'frame.protocols']).stdout;
  assert.doesNotMatch(plain, /nbns/);
  const decoded = cli(['read', moved, '-c', '4', '-d', 'udp.port==5137,nbns', '-T', 'fields', '-e', 'frame.protocols', '-e', 'nbns.name']);
  assert.equal(decoded.status, 0, decoded.stderr);
  assert.match(decoded.stdout, /^eth:ip:udp:nbns\tMDJR98<03>(,MDJR98<03>)?$/m);
  if (hasTshark()) {
    const t = spawnSync('tshark', ['-n', '-r', moved, '-d', 'udp.port==5137,nbns', '-Y', 'nbns', '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
    assert.equal(cli(['read', moved, '-d', 'udp.port==5137,nbns', '-Y', 'nbns', '-T', 'fields', '-e', 'frame.number']).stdout, t.stdout);
  }
  const errors: [string[], RegExp][] = [
    [['-d', 'udp.port==5137,nbnss'], /no udp protocol 'nbnss'; accepted: tcp\.port==PORT,PROTOCOL \(nbss, dcerpc, msnp\) or udp\.port==PORT,PROTOCOL \(nbdgm, nbns, dcerpc\)/],
    [['-d', 'udp.port==70000,nbns'], /70000 is not a port/],
    [['-d', 'port 5137'], /accepted tcp\.port==PORT,PROTOCOL/],
    [['-o', 'gui.colour:1'], /-o gui\.colour:1: accepted oem_codepage:CODEPAGE, msnp\.tcp\.port:PORT/],
  ];
  for (const [args, expected] of errors) {
    const r = cli(['read', moved, ...args]);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, expected);
  }
  const cp = join(ROOT, 'test', 'fixtures', 'smb-cp850.pcap');
  assert.equal(cli(['timeline', cp, '-o', 'oem_codepage:cp850']).stdout, cli(['timeline', cp, '--oem-codepage', 'cp850']).stdout);
  assert.notEqual(cli(['timeline', cp, '-o', 'oem_codepage:cp850']).stdout, cli(['timeline', cp]).stdout);
});

test('-o sets the engine bounds: flows.limit makes a full table forget its oldest, with its finding; bad values are usage errors', { skip: !exists(publicCapture('ajbanjara__Wireshark/mapi.cap')) ? 'capture missing' : false }, () => {
  const mapi = publicCapture('ajbanjara__Wireshark/mapi.cap');
  const ids = (args: string[]) => cli(['read', '--format', 'ndjson', ...args, mapi]).stdout.match(/"id":"tcp\.table-full"/g)?.length ?? 0;
  // mapi.cap holds 24 TCP conversations: the default table never fills, a table of 16 does.
  assert.equal(ids([]), 0);
  assert.ok(ids(['-o', 'flows.limit:16']) > 0);
  assert.equal(ids(['-o', 'flows.limit:64']), 0);
  for (const bad of ['flows.limit:0', 'tcp.reassembly_limit:64Q', 'tcp.half_open_limit:', 'app.buffer_limit:-5']) {
    const r = cli(['read', '-o', bad, mapi]);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /a whole number at least 1/, bad);
    assert.equal(r.stderr.trim().split('\n').length, 1, bad);
  }
  // k, M and G are accepted.
  assert.equal(cli(['read', '-o', 'tcp.reassembly_limit:32M', '-o', 'app.buffer_limit:512k', '-o', 'tcp.half_open_limit:1k', '-o', 'tcp.history_limit:1M', mapi]).status, 0);
});
