// --log-dir (one NDJSON file per event kind, like Zeek's logs) and --format eve (Suricata's
// record shape), driven through the CLI.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, FIXTURES, SAMPLES } from './helpers.js';

const MIX = join(SAMPLES, 'messenger-mix.pcapng');

function lines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('--log-dir: one file per kind holding exactly that kind\'s ndjson lines; an earlier run\'s files go', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-logs-'));
  try {
    writeFileSync(join(dir, 'notice.log'), 'stale\n');
    const r = cli(['timeline', '--log-dir', dir, MIX]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '', 'records go to the files, not to standard output');
    const all = lines(cli(['timeline', '--format', 'ndjson', MIX]).stdout);
    const kinds = [...new Set(all.map((e) => e.kind as string))].sort();
    assert.deepEqual(readdirSync(dir).sort(), kinds.map((k) => `${k}.log`));
    for (const kind of kinds) {
      const logged = readFileSync(join(dir, `${kind}.log`), 'utf8');
      assert.deepEqual(lines(logged), all.filter((e) => e.kind === kind), kind);
    }
    assert.equal(existsSync(join(dir, 'notice.log')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--log-dir with -Y and with --format eve; bad combinations are usage errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-logs-'));
  try {
    assert.equal(cli(['timeline', '--log-dir', dir, '-Y', 'kind == "message"', MIX]).status, 0);
    assert.deepEqual(readdirSync(dir), ['message.log']);
    assert.equal(cli(['timeline', '--log-dir', dir, '--format', 'eve', MIX]).status, 0);
    for (const record of lines(readFileSync(join(dir, 'message.log'), 'utf8'))) assert.equal(typeof record.event_type, 'string');
    const csv = cli(['timeline', '--log-dir', dir, '--format', 'csv', MIX]);
    assert.equal(csv.status, 2);
    assert.match(csv.stderr, /--log-dir writes ndjson or eve/);
    const bad = cli(['timeline', '--log-dir', '/dev/null/logs', MIX]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^msgscope: \/dev\/null\/logs: cannot write there/);
    const live = cli(['live', '-i', 'lo', '--log-dir', dir]);
    assert.equal(live.status, 2);
    assert.match(live.stderr, /--view timeline/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--format eve: Suricata\'s common keys, our event under its event_type, flow_id shared by a flow', () => {
  const events = lines(cli(['timeline', '--format', 'ndjson', MIX]).stdout);
  const r = cli(['timeline', '--format', 'eve', MIX]);
  assert.equal(r.status, 0, r.stderr);
  const records = lines(r.stdout);
  assert.equal(records.length, events.length);
  const flowOfUid = new Map<string, unknown>();
  records.forEach((rec, i) => {
    const e = events[i]!;
    assert.match(String(rec.timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6,9}\+0000$/);
    assert.equal(String(rec.timestamp).replace('+0000', 'Z'), e.time);
    assert.equal(rec.pcap_cnt, (e.frames as number[])[0]);
    const type = e.kind === 'finding' ? 'anomaly' : e.protocol;
    assert.equal(rec.event_type, type);
    assert.equal(`${rec.src_ip}:${rec.src_port}`, e.src);
    assert.equal(`${rec.dest_ip}:${rec.dest_port}`, e.dst);
    assert.equal(rec.proto, String(e.transport).startsWith('tcp') ? 'TCP' : 'UDP');
    assert.equal(rec.community_id, e.community_id);
    assert.ok(Number.isSafeInteger(rec.flow_id) && (rec.flow_id as number) >= 0);
    const known = flowOfUid.get(e.uid as string);
    if (known !== undefined) assert.equal(rec.flow_id, known);
    flowOfUid.set(e.uid as string, rec.flow_id);
    const ours = rec[type as string] as Record<string, unknown>;
    assert.equal(ours.kind, e.kind);
    assert.deepEqual(ours.frames, e.frames);
    assert.equal(ours.uid, e.uid);
  });
  assert.ok(new Set(flowOfUid.values()).size > 1);
});

test('--format eve: several captures name their file; IPv6-free UDP mailslot records', () => {
  const slot = join(FIXTURES, 'mailslot-messngr.pcap');
  const records = lines(cli(['timeline', '--format', 'eve', MIX, slot]).stdout);
  assert.ok(records.some((r) => r.pcap_filename === slot && r.event_type === 'mailslot' && r.proto === 'UDP'));
  assert.ok(records.some((r) => r.pcap_filename === MIX));
});
