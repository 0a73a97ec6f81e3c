// `stats -z` as tshark users type it: conv,tcp / endpoints,ip / io,phs, -z expert, -z dcerpc,srt
// (compared with tshark's numbers), DCE/RPC responses counted as responses, unknown names listed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cli, exists, hasTshark, publicCapture } from './helpers.js';

const MAPI = publicCapture('ajbanjara__Wireshark/mapi.cap');
const skip = !exists(MAPI) ? 'capture missing' : false;

interface Srt {
  interface: string;
  operation: string;
  calls: number;
  minSrt: number;
  maxSrt: number;
  avgSrt: number;
  sumSrt: number;
}

test('-z dcerpc,srt gives tshark\'s calls and response times per interface and opnum', { skip: skip || (!hasTshark() ? 'tshark missing' : false) }, () => {
  const r = cli(['stats', '-r', MAPI, '-z', 'dcerpc,srt', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = (JSON.parse(r.stdout) as { dcerpcSrt: Srt[] }).dcerpcSrt.filter((x) => x.interface === 'lsarpc');
  const t = spawnSync('tshark', ['-n', '-q', '-r', MAPI, '-z', 'dcerpc,srt,12345778-1234-abcd-ef00-0123456789ab,0.0'], { encoding: 'utf8' });
  const theirs = [...t.stdout.matchAll(/^\s+(\d+)\s+\S+\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$/gm)].map((m) => m.slice(1).map(Number));
  assert.ok(theirs.length >= 4);
  assert.deepEqual(
    rows.map((x) => [Number(x.operation), x.calls, x.minSrt.toFixed(6), x.maxSrt.toFixed(6), x.avgSrt.toFixed(6), x.sumSrt.toFixed(6)]),
    theirs.map(([op, calls, min, max, avg, sum]) => [op, calls, min!.toFixed(6), max!.toFixed(6), avg!.toFixed(6), sum!.toFixed(6)]),
  );
});

test('-z commands counts DCE/RPC answers as responses of their call, with response times', { skip }, () => {
  const r = cli(['stats', MAPI, '-z', 'commands', '--format', 'json']);
  const rows = (JSON.parse(r.stdout) as { commands: { protocol: string; command: string; requests: number; responses: number; matched: number }[] }).commands;
  const lsa = rows.find((x) => x.command === 'lsarpc 7')!;
  assert.deepEqual([lsa.requests, lsa.responses, lsa.matched], [16, 16, 16]);
  for (const x of rows.filter((c) => c.protocol === 'dcerpc')) assert.ok(x.responses <= x.requests, x.command);
  const cl = publicCapture('ntop__nDPI/dcerpc.pcap');
  if (exists(cl)) {
    const dg = (JSON.parse(cli(['stats', cl, '-z', 'commands', '--format', 'json']).stdout) as { commands: { requests: number; responses: number; matched: number }[] }).commands;
    // Datagram calls pair by activity and sequence number: 8 calls, each answered.
    assert.equal(dg.reduce((n, c) => n + c.responses, 0), 8);
    assert.ok(dg.every((c) => c.matched > 0));
  }
});

test('-z expert counts findings by severity and protocol', { skip }, () => {
  const r = cli(['stats', MAPI, '-z', 'expert']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Expert information: 2 finding\(s\)/);
  assert.match(r.stdout, /warning +smb +smb\.malformed +1 +511/);
  const findings = cli(['read', MAPI, '-Y', 'expert', '-T', 'fields', '-e', 'expert.id']).stdout.trim().split('\n');
  assert.equal(findings.length, 2);
});

test('-z takes tshark spellings; an unknown one lists the accepted names', { skip }, () => {
  const json = (z: string[]): Record<string, unknown> => JSON.parse(cli(['stats', MAPI, ...z.flatMap((v) => ['-z', v]), '--format', 'json']).stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json(['conv,tcp']).conversations as object), ['tcp']);
  assert.deepEqual(Object.keys(json(['conv']).conversations as object), ['tcp', 'udp', 'ip', 'ipv6']);
  assert.deepEqual(Object.keys(json(['endpoints,ip']).endpoints as object), ['ip']);
  assert.ok(Array.isArray(json(['io,phs']).phs));
  const bad = cli(['stats', MAPI, '-z', 'conv,tcpp']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^msgscope: -z conv,tcpp: unknown statistics; accepted: .*conv,tcp.*dcerpc,srt.*expert/);
  const filtered = cli(['stats', MAPI, '-z', 'conv,tcp,ip.addr==1.2.3.4']);
  assert.equal(filtered.status, 2);
  assert.match(filtered.stderr, /not supported here; use -Y/);
});
