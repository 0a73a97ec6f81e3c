// --sink clickhouse:// against a real ClickHouse server (Debian's clickhouse-server, 18.16),
// started here on free loopback ports with a private config and data directory: batches spooled
// while the server is down are sent by the next run, a batch sent twice counts once (FINAL), and
// the rows are what the timeline and the audit print.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cli, SAMPLES } from './helpers.js';

const SERVER = ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server'].find((p) => existsSync(p));
const SKIP = SERVER === undefined ? 'clickhouse-server is not installed (Debian package clickhouse-server)' : false;
const MIX = join(SAMPLES, 'messenger-mix.pcapng');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

let dir = '';
let httpPort = 0;
let server: ChildProcess | undefined;

async function query(sql: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${httpPort}/`, { method: 'POST', body: sql });
  const text = await r.text();
  if (!r.ok) throw new Error(text);
  return text.trim();
}

async function startServer(): Promise<void> {
  const tcpPort = await freePort();
  const data = join(dir, 'data');
  mkdirSync(join(data, 'tmp'), { recursive: true });
  writeFileSync(join(dir, 'users.xml'), `<?xml version="1.0"?><yandex><profiles><default></default></profiles>
<users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default></default></quotas></yandex>`);
  writeFileSync(join(dir, 'config.xml'), `<?xml version="1.0"?><yandex>
<logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/error.log</errorlog><console>0</console></logger>
<http_port>${httpPort}</http_port><tcp_port>${tcpPort}</tcp_port><listen_host>127.0.0.1</listen_host>
<path>${data}/</path><tmp_path>${data}/tmp/</tmp_path><users_config>${dir}/users.xml</users_config>
<default_profile>default</default_profile><default_database>default</default_database><mark_cache_size>536870912</mark_cache_size></yandex>`);
  server = spawn(SERVER!, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: 'ignore' });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await query('SELECT 1')) === '1') return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('clickhouse-server did not start');
}

before(async () => {
  if (SKIP !== false) return;
  dir = mkdtempSync(join(tmpdir(), 'msgscope-clickhouse-'));
  httpPort = await freePort();
});

after(() => {
  server?.kill('SIGTERM');
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

function lines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('clickhouse sink: spooled while down, sent by the next run, a re-sent batch not double-counted, rows as printed', { skip: SKIP }, async () => {
  const spool = join(dir, 'spool');
  const url = `clickhouse://127.0.0.1:${httpPort}/msgscope`;
  const events = lines(cli(['timeline', '--format', 'ndjson', MIX]).stdout);

  // 1. No server yet: the run succeeds, its batch waits on disk.
  const down = cli(['timeline', '--sink', url, '--spool', spool, MIX]);
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stderr, /1 batch\(es\) kept in .*sent by the next run/);
  const target = join(spool, readdirSync(spool)[0]!);
  const waiting = readdirSync(target);
  assert.equal(waiting.length, 1);
  const copy = join(dir, 'copy.jsonl');
  copyFileSync(join(target, waiting[0]!), copy);

  // 2. Server up: the next run sends the spooled batch, then its own.
  await startServer();
  const up = cli(['timeline', '--sink', url, '--spool', spool, MIX]);
  assert.equal(up.status, 0, up.stderr);
  assert.equal(up.stdout, '');
  assert.deepEqual(readdirSync(target), []);
  assert.equal(await query('SELECT count() FROM msgscope.events FINAL'), String(events.length * 2));
  assert.equal(await query('SELECT uniqExact(run_id) FROM msgscope.events'), '2');

  // 3. The first batch again (as after a timeout the server had not reported): counted once.
  copyFileSync(copy, join(target, waiting[0]!));
  const audit = cli(['audit', '--format', 'json', '--sink', url, '--spool', spool, MIX]);
  assert.equal(audit.status, 0, audit.stderr);
  assert.equal(await query('SELECT count() FROM msgscope.events FINAL'), String(events.length * 2));
  assert.equal(await query('SELECT count() FROM msgscope.events'), String(events.length * 3));

  // 4. The rows are the events and messages as printed: texts, ids, times.
  const stored = lines(await query('SELECT kind, frame, uid, community_id, text, time, time_us FROM msgscope.events FINAL WHERE run_id = (SELECT any(run_id) FROM msgscope.events) ORDER BY seq FORMAT JSONEachRow'));
  assert.equal(stored.length, events.length);
  stored.forEach((row, i) => {
    const e = events[i]!;
    assert.equal(row.kind, e.kind);
    assert.equal(row.frame, (e.frames as number[])[0]);
    assert.equal(row.uid, e.uid);
    assert.equal(row.community_id, e.community_id ?? '');
    assert.equal(row.text, e.kind === 'message' ? e.text : '');
    assert.equal(`${String(row.time).replace(' ', 'T')}.${String(row.time_us).padStart(6, '0')}Z`, String(e.time));
  });
  const result = JSON.parse(audit.stdout) as { summary: { messages: number; campaign_messages: number } };
  assert.equal(await query('SELECT count() FROM msgscope.audit_messages FINAL'), String(result.summary.messages));
  assert.equal(await query("SELECT count() FROM msgscope.audit_messages FINAL WHERE campaign != ''"), String(result.summary.campaign_messages));
});

test('clickhouse sink: a URL that is not one, or a database name that is not an identifier, is a usage error', { skip: SKIP }, () => {
  for (const bad of ['http://127.0.0.1:8123/db', 'clickhouse://127.0.0.1:8123/bad-name', "clickhouse://127.0.0.1:8123/x';DROP"]) {
    const r = cli(['timeline', '--sink', bad, '--spool', join(dir, 'spool-bad'), MIX]);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /^msgscope: --sink .*expected clickhouse:\/\/host:8123\/database/, bad);
  }
});
