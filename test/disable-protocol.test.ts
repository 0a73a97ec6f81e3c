// --disable-protocol and --enable-protocol, as tshark's: a protocol switched off is asked about no
// conversation, datagram, session message or pipe, and its bytes show as the layer below's data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { protocolsOff, UsageError } from '../src/cli/common.js';
import type { ProtocolSet } from '../src/engine/protocols.js';
import { defaultProtocols, PROTOCOL_SWITCHES, type ProtocolSwitch } from '../src/protocols/index.js';
import { cli, FIXTURES, SAMPLES } from './helpers.js';

const MIX = join(SAMPLES, 'messenger-mix.pcapng');
const SPLIT = { MSGSCOPE_SPLIT_BATCH: '3000', MSGSCOPE_SPLIT_SAMPLE: '200' };

/** The names of the factories on every seam of a set. */
function namesOf(set: ProtocolSet): Record<string, string[]> {
  const pipes = { pipeConsumers: set.pipeConsumers.map((make) => make()) };
  const seams = { ...pipes, sessionPayloads: set.sessionPayloads.map((make) => make(pipes)), datagramPayloads: set.datagramPayloads.map((make) => make(pipes)) };
  return {
    tcp: set.tcp.map((make) => make(seams).name),
    udp: set.udp.map((make) => make(seams).name),
    session: seams.sessionPayloads.map((f) => f.name),
    datagram: seams.datagramPayloads.map((f) => f.name),
    pipe: pipes.pipeConsumers.map((f) => f.name),
  };
}

test('each switch takes its protocol off every seam, and nothing else', () => {
  const all = namesOf(defaultProtocols());
  assert.deepEqual(all, { tcp: ['nbss', 'dcerpc', 'msnp'], udp: ['nbdgm', 'nbns', 'dcerpc'], session: ['smb', 'smb2'], datagram: ['smb'], pipe: ['dcerpc'] });
  for (const name of PROTOCOL_SWITCHES) {
    const without = namesOf(defaultProtocols(new Set([name])));
    for (const [seam, names] of Object.entries(all)) assert.deepEqual(without[seam], names.filter((n) => n !== name), `${name} off, seam ${seam}`);
  }
  assert.deepEqual(namesOf(defaultProtocols(new Set<ProtocolSwitch>(PROTOCOL_SWITCHES))), { tcp: [], udp: [], session: [], datagram: [], pipe: [] });
});

test('read --disable-protocol smb: the session messages show as NBSS, not SMB', () => {
  const capture = join(FIXTURES, 'smb-d0.pcap');
  const on = cli(['read', capture]);
  const off = cli(['read', '--disable-protocol', 'smb', capture]);
  assert.equal(on.status, 0, on.stderr);
  assert.equal(off.status, 0, off.stderr);
  assert.match(on.stdout, / SMB /);
  assert.doesNotMatch(off.stdout, / SMB /);
  assert.match(off.stdout, / NBSS .*Session message/);
  assert.equal(off.stdout.split('\n').length, on.stdout.split('\n').length, 'the same frames');
});

test('timeline --disable-protocol msrp: the NetrSendMessage calls are DCE/RPC calls without a message', () => {
  const capture = join(FIXTURES, 'msrp-udp.pcap');
  const protocols = (args: string[]): string[] => {
    const r = cli(['timeline', '--format', 'ndjson', ...args, capture]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { protocol: string }).protocol);
  };
  assert.ok(protocols([]).includes('msrp'));
  assert.ok(!protocols(['--disable-protocol', 'msrp']).includes('msrp'));
  const read = cli(['read', '--disable-protocol', 'msrp', capture]);
  assert.equal(read.status, 0, read.stderr);
  assert.match(read.stdout, / DCERPC /);
});

test('--disable-protocol ALL --enable-protocol msnp: only MSNP is dissected (enable wins, names in any case)', () => {
  const r = cli(['timeline', '--format', 'ndjson', '--disable-protocol', 'ALL', '--enable-protocol', 'MSNP', MIX]);
  assert.equal(r.status, 0, r.stderr);
  const protocols = new Set(r.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { protocol: string }).protocol));
  assert.deepEqual([...protocols], ['msnp']);
  const all = cli(['timeline', '--format', 'ndjson', '--disable-protocol', 'nbss,nbdgm', '--disable-protocol', 'nbns', '--disable-protocol', 'dcerpc', MIX]);
  assert.equal(all.status, 0, all.stderr);
  assert.equal(all.stdout, r.stdout, 'comma lists and repeats add up to the same set');
});

test('a name that is no protocol, or -d to a protocol switched off, is a one-line usage error', () => {
  for (const args of [['--disable-protocol', 'smb,http'], ['--enable-protocol', 'tcp'], ['--disable-protocol', '\u001b[31mx'], ['-d', 'tcp.port==8000,msnp', '--disable-protocol', 'msnp']]) {
    const r = cli(['read', ...args, MIX]);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\u001b/, 'wire-free, but still escaped');
  }
  assert.match(cli(['read', '--disable-protocol', 'http', MIX]).stderr, /accepted: nbss, nbdgm, nbns, smb, smb2, dcerpc, msrp, msnp or ALL/);
});

test('split by flow with protocols switched off writes what one engine writes', () => {
  for (const run of [['read', '-V', '--disable-protocol', 'smb2,msnp'], ['timeline', '--format', 'ndjson', '--disable-protocol', 'nbss']]) {
    const one = cli([...run, '--jobs', '1', MIX]);
    const three = cli([...run, '--jobs', '3', MIX], undefined, SPLIT);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(three.status, 0, three.stderr);
    assert.ok(one.stdout.length > 0);
    assert.equal(three.stdout, one.stdout, run.join(' '));
  }
});

test('audit with protocols switched off says so in every report, and keeps no partial history', () => {
  const json = cli(['audit', '--format', 'json', '--disable-protocol', 'msnp,nbns', MIX]);
  assert.equal(json.status, 0, json.stderr);
  const result = JSON.parse(json.stdout) as { summary: { protocols_off?: string[]; protocols: Record<string, number> } };
  assert.deepEqual(result.summary.protocols_off, ['nbns', 'msnp'], 'in the list order, not the command line order');
  assert.equal(result.summary.protocols.msnp, undefined);
  const whole = JSON.parse(cli(['audit', '--format', 'json', MIX]).stdout) as { summary: Record<string, unknown> };
  assert.ok(!('protocols_off' in whole.summary), 'absent when every protocol is on');
  assert.ok((whole.summary.protocols as Record<string, number>).msnp! > 0);
  assert.match(cli(['audit', '--disable-protocol', 'msnp', MIX]).stdout, /^Not dissected \(--disable-protocol\): msnp; messages they carry are not in this audit$/m);
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-off-'));
  try {
    const page = join(dir, 'report.html');
    const html = cli(['audit', '-q', '--report', page, '--disable-protocol', 'msnp', MIX]);
    assert.equal(html.status, 0, html.stderr);
    assert.match(readFileSync(page, 'utf8'), /<p class="warning" id="protocols-off">Not dissected \(--disable-protocol\): msnp;/);
    const db = cli(['audit', '--db', join(dir, 'history.duckdb'), '--disable-protocol', 'msnp', MIX]);
    assert.equal(db.status, 2);
    assert.match(db.stderr, /--db keeps whole captures/);
    assert.ok(!existsSync(join(dir, 'history.duckdb')), 'nothing written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('property: the switched-off set is what --disable-protocol names less what --enable-protocol names, in the list order; any other name is a usage error', () => {
  const token = fc.oneof(
    fc.constantFrom(...PROTOCOL_SWITCHES, 'all').chain((name) => fc.constantFrom(name, name.toUpperCase(), ` ${name} `)),
    fc.constantFrom('tcp', 'http', 'smb3', '', 'nbss;msnp'),
  );
  const option = fc.array(fc.array(token, { minLength: 1, maxLength: 3 }).map((items) => items.join(',')), { maxLength: 3 });
  fc.assert(fc.property(option, option, (disable, enable) => {
    const expand = (items: string[]): string[] | undefined => {
      const names = items.flatMap((item) => item.split(',')).map((t) => t.trim().toLowerCase());
      if (names.some((n) => n !== 'all' && !(PROTOCOL_SWITCHES as readonly string[]).includes(n))) return undefined;
      return names.flatMap((n) => (n === 'all' ? [...PROTOCOL_SWITCHES] : [n]));
    };
    const off = expand(disable);
    const on = expand(enable);
    const args = { 'disable-protocol': disable, 'enable-protocol': enable };
    if (off === undefined || on === undefined) {
      assert.throws(() => protocolsOff(args), UsageError);
      return;
    }
    assert.deepEqual([...protocolsOff(args)], PROTOCOL_SWITCHES.filter((n) => off.includes(n) && !on.includes(n)));
  }), { numRuns: 500 });
});

test('verify with protocols switched off says why their rules had nothing to judge', () => {
  const capture = join(FIXTURES, 'smb-d0.pcap');
  const warningsOf = (args: string[]): string[] => {
    const r = cli(['verify', '--format', 'json', ...args, capture]);
    assert.ok(r.status === 0 || r.status === 1, r.stderr); // 1: a rule failed (docs/verify.md, Exit status)
    return (JSON.parse(r.stdout) as { warnings: string[] }).warnings;
  };
  assert.deepEqual(warningsOf([]), []);
  assert.deepEqual(warningsOf(['--disable-protocol', 'msnp,smb']), ['not dissected (--disable-protocol): smb, msnp; rules of what they carry had nothing to judge']);
  const text = cli(['verify', '--disable-protocol', 'smb', capture]);
  assert.ok(text.status === 0 || text.status === 1, text.stderr);
  assert.match(text.stderr, /warning: not dissected \(--disable-protocol\): smb;/);
});
