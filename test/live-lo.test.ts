// `msgscope live -i lo` end to end: sees UDP datagrams the test sends, writes a pcapng that
// reads back, lists interfaces. Needs root (or CAP_NET_RAW) and the optional cap module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cli, ROOT } from './helpers.js';

function skipReason(): string | false {
  try {
    createRequire(import.meta.url)('cap');
  } catch {
    return 'the optional cap module is not installed';
  }
  if (process.getuid?.() !== 0) return 'live capture needs root';
  const probe = cli(['live', '--list']);
  if (probe.status !== 0 || !/^lo\b/m.test(probe.stdout)) return `cannot list interfaces: ${probe.stderr.trim()}`;
  return false;
}

const SKIP = skipReason();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `msgscope live`, waits until it listens, sends datagrams to 127.0.0.1:port, collects output. */
async function liveWhileSending(args: string[], port: number, messages: string[]): Promise<Run> {
  const child = spawn(process.execPath, [BIN, 'live', ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const socket = createSocket('udp4');
  try {
    // The capture opens asynchronously: keep sending until the process has seen enough and exits.
    const deadline = Date.now() + 20_000;
    let exited = false;
    void done.then(() => (exited = true));
    await new Promise((r) => setTimeout(r, 700));
    for (let round = 0; !exited && Date.now() < deadline; round++) {
      for (const m of messages) await new Promise<void>((resolve, reject) => socket.send(`${m}#${round}`, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
      await new Promise((r) => setTimeout(r, 300));
    }
    if (!exited) child.kill('SIGINT');
    const status = await done;
    return { status, stdout, stderr };
  } finally {
    socket.close();
  }
}

test('live --list names the loopback interface', { skip: SKIP }, () => {
  const r = cli(['live', '--list']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^lo\b.*127\.0\.0\.1/m);
});

test('live -i lo -f "udp port 45678" --format ndjson -c 3 shows the datagrams the test sends', { skip: SKIP, timeout: 30_000 }, async () => {
  const r = await liveWhileSending(['-i', 'lo', '-f', 'udp port 45678', '--format', 'ndjson', '-c', '3'], 45678, ['msgscope-live-a', 'msgscope-live-b']);
  assert.equal(r.status, 0, r.stderr);
  const frames = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as { frame: number; layers: string[]; src: string; dst: string; fields: Record<string, unknown[]>; time: string });
  assert.equal(frames.length, 3);
  assert.deepEqual(frames.map((f) => f.frame), [1, 2, 3]);
  for (const f of frames) {
    assert.deepEqual(f.layers.slice(0, 3), ['eth', 'ip', 'udp']);
    assert.deepEqual([f.src, f.dst], ['127.0.0.1', '127.0.0.1']);
    assert.deepEqual(f.fields['udp.dstport'], [45678]);
    assert.ok(Math.abs(Date.parse(f.time) - Date.now()) < 60_000, `time ${f.time}`);
  }
  assert.match(r.stderr, /3 frame\(s\) captured on lo; kernel drops: not reported/);
});

test('live -w out.pcapng saves what it captured, and read gives the same frames back', { skip: SKIP, timeout: 30_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-live-'));
  try {
    const out = join(dir, 'out.pcapng');
    const r = await liveWhileSending(['-i', 'lo', '-f', 'udp port 45679', '--format', 'ndjson', '-c', '4', '-w', out, '-q'], 45679, ['saved']);
    assert.equal(r.status, 0, r.stderr);
    const live = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { info: string; len: number; time: string });
    const back = cli(['read', '--format', 'ndjson', out]);
    assert.equal(back.status, 0, back.stderr);
    const read = back.stdout.trim().split('\n').map((l) => JSON.parse(l) as { info: string; len: number; time: string });
    assert.equal(read.length, 4);
    assert.deepEqual(read.map((f) => [f.info, f.len]), live.map((f) => [f.info, f.len]));
    // The file keeps microseconds.
    assert.deepEqual(read.map((f) => f.time.slice(0, 26)), live.map((f) => f.time.slice(0, 26)));
    if (spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0) {
      const t = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'udp.dstport'], { encoding: 'utf8' });
      assert.deepEqual(t.stdout.trim().split('\n'), ['45679', '45679', '45679', '45679']);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('live -a stops after the given seconds and reports what it saw', { skip: SKIP, timeout: 30_000 }, async () => {
  const started = Date.now();
  const r = await liveWhileSending(['-i', 'lo', '-f', 'udp port 45680', '-a', '2'], 45680, ['timed']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Date.now() - started < 15_000);
  assert.match(r.stdout, /127\.0\.0\.1 → 127\.0\.0\.1 +UDP/);
  assert.match(r.stderr, /frame\(s\) captured on lo/);
  assert.match(r.stderr, /^msgscope: capturing on lo \(link type \d+, capture filter 'udp port 45680'\); ready$/m);
});

test('live on an interface that does not exist: one-line error, exit 2', { skip: SKIP }, () => {
  const r = cli(['live', '-i', 'no-such-interface0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^msgscope: no such interface 'no-such-interface0'/);
});

test('live --audit: an alert the moment a source sweeps past the host threshold, the summary when capture stops', { skip: SKIP, timeout: 60_000 }, async () => {
  // NetrSendMessage datagrams (the first request of the sweep fixture) to 127.0.0.1 … 127.0.0.40.
  const payloads: Buffer[] = [];
  const { readCapture } = await import('../src/capture/open.js');
  await readCapture(join(ROOT, 'test', 'fixtures', 'audit', 'sweep-msrp.pcap'), {
    frame: (f) => {
      const d = f.data;
      if (payloads.length > 0 || d[12] !== 8 || d[23] !== 17) return;
      const udpAt = 14 + (d[14]! & 15) * 4;
      if (((d[udpAt + 2]! << 8) | d[udpAt + 3]!) === 1026) payloads.push(Buffer.from(d.subarray(udpAt + 8)));
    },
    warning: () => {},
  });
  const child = spawn(process.execPath, [BIN, 'live', '-i', 'lo', '-f', 'udp dst port 1026', '--audit', '--format', 'ndjson', '--alert-hosts', '10', '--alert-interval', '60', '-c', '40'], { env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const socket = createSocket('udp4');
  try {
    // The capture opens asynchronously: live says on stderr when it is ready.
    for (let waited = 0; !stderr.includes('; ready') && waited < 20_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    for (let i = 1; i <= 40; i++) {
      await new Promise<void>((resolve, reject) => socket.send(payloads[0]!, 1026, `127.0.0.${i}`, (err) => (err ? reject(err) : resolve())));
      await new Promise((r) => setTimeout(r, 40));
    }
    const status = await Promise.race([done, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    if (status === null) child.kill('SIGINT');
    assert.equal(await done, 0, stderr);
  } finally {
    socket.close();
  }
  const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as { alert?: { kind: string; src: string; count: number; frame: number }; summary?: { messages: number }; senders?: { src: string; sweeps: { hosts: number }[] }[] });
  const alerts = lines.filter((l) => l.alert !== undefined).map((l) => l.alert!);
  // Raised by the 10th datagram (frame 10), printed before the summary that ends the run.
  assert.deepEqual(alerts.filter((a) => a.kind === 'hosts').map((a) => [a.src, a.count, a.frame]), [['127.0.0.1', 10, 10]]);
  assert.ok(lines.findIndex((l) => l.alert !== undefined) < lines.length - 1);
  const summary = lines[lines.length - 1]!;
  assert.equal(summary.summary?.messages, 40);
  assert.deepEqual(summary.senders?.[0]?.sweeps.map((w) => w.hosts), [40]);
});

test('live --sink goes with --view timeline: on the read view it is a one-line usage error, before any capture', () => {
  const r = cli(['live', '-i', 'lo', '--sink', 'clickhouse://127.0.0.1:8123/msgscope']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'msgscope: --sink inserts timeline events on live traffic: use it with --view timeline\n');
});
