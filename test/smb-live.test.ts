// End to end on live traffic: `msgscope live -i lo --view timeline --format ndjson` runs in a
// private network namespace while Samba's `smbclient -M` sends a WinPopup message to an
// `smbd` started by the test; the message must appear whole in the timeline. Needs root
// (network namespaces, raw capture), smbd, smbclient and the optional cap module; skips
// with the reason otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './helpers.js';

function which(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (network namespace and live capture); CI runs it as root';
  for (const cmd of ['ip', 'smbd', 'smbclient']) if (!which(cmd)) return `${cmd} is not installed (apt-get install samba smbclient iproute2)`;
  try {
    createRequire(import.meta.url)('cap');
  } catch {
    return 'the optional cap module (live capture) is not installed';
  }
  return false;
}

const SKIP = skipReason();
if (SKIP !== false) process.stderr.write(`smb-live: skipped: ${SKIP}\n`);

const NS = `msgscope-smblive-${process.pid}`;

function sh(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function smbConf(dir: string, recv: string): string {
  for (const d of ['lock', 'state', 'cache', 'pid', 'private', 'ncalrpc', 'log', 'binddns']) mkdirSync(join(dir, d), { recursive: true });
  mkdirSync(recv, { recursive: true });
  chmodSync(dir, 0o755);
  chmodSync(recv, 0o1777); // the message command runs as the guest account
  const conf = join(dir, 'smb.conf');
  writeFileSync(conf, `[global]
  netbios name = MSGSRV
  workgroup = MSGTEST
  server role = standalone server
  security = user
  map to guest = bad user
  server min protocol = NT1
  disable netbios = no
  smb ports = 139
  dos charset = CP850
  unix charset = UTF-8
  lock directory = ${dir}/lock
  state directory = ${dir}/state
  cache directory = ${dir}/cache
  pid directory = ${dir}/pid
  private dir = ${dir}/private
  binddns dir = ${dir}/binddns
  ncalrpc dir = ${dir}/ncalrpc
  passdb backend = tdbsam:${dir}/private/passdb.tdb
  log file = ${dir}/log/log.%m
  max log size = 0
  rpc start on demand helpers = no
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  message command = /bin/sh -c 'cp %s ${recv}/msg.$$; rm -f %s' &
`);
  return conf;
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

test('live: smbclient -M to smbd appears whole in the timeline', { skip: SKIP, timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-smblive-'));
  const recv = join(dir, 'recv');
  let smbd: ChildProcess | undefined;
  let live: ChildProcess | undefined;
  try {
    assert.equal(sh(['ip', 'netns', 'add', NS]).status, 0, 'ip netns add');
    assert.equal(sh(['ip', '-n', NS, 'link', 'set', 'lo', 'up']).status, 0);
    const conf = smbConf(dir, recv);
    // smbd signals its whole process group when it stops: give it its own session.
    smbd = spawn('ip', ['netns', 'exec', NS, 'setsid', 'smbd', '-F', '--no-process-group', '--debug-stdout', '-s', conf], { stdio: 'ignore', detached: true });
    const listening = await waitFor(() => sh(['ip', 'netns', 'exec', NS, 'bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/139']).status === 0, 20_000);
    assert.ok(listening, 'smbd listens on 139');

    const seconds = 8;
    live = spawn('ip', ['netns', 'exec', NS, process.execPath, BIN, 'live', '-i', 'lo', '--view', 'timeline', '--format', 'ndjson', '-a', String(seconds), '-f', 'tcp port 139'],
      { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    live.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    live.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((resolve) => live!.on('close', (code) => resolve(code)));
    // The capture opens asynchronously: live says on stderr when it is ready.
    for (let waited = 0; !stderr.includes('; ready') && waited < 20_000; waited += 50) await new Promise((r) => setTimeout(r, 50));

    const text = `Live message ${process.pid}: ${'long text '.repeat(20)}end.`;
    const client = spawnSync('ip', ['netns', 'exec', NS, 'smbclient', '-s', conf, '-M', 'MSGSRV', '-I', '127.0.0.1', '-p', '139', '-U', 'livesender%', '-n', 'LIVECLIENT'],
      { input: text, encoding: 'utf8', timeout: 30_000 });
    assert.equal(client.status, 0, `smbclient: ${client.stderr}${client.stdout}`);

    const status = await done;
    assert.equal(status, 0, stderr);
    const events = stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const msg = events.find((e) => e.kind === 'message');
    assert.ok(msg !== undefined, `no message event in: ${stdout}\n${stderr}`);
    assert.equal(msg.protocol, 'smb');
    assert.equal(msg.transport, 'tcp/nbss/smb');
    assert.equal(msg.from, 'livesender');
    assert.deepEqual(msg.to, ['MSGSRV']);
    assert.equal(msg.text, text);
    assert.equal(msg.status, 'ok');
    assert.ok((msg.frames as number[]).length >= 6);
    const session = events.find((e) => e.kind === 'session');
    assert.ok(session !== undefined && session.action === 'accepted');
    // smbd's own record of what it received agrees.
    await waitFor(() => readdirSync(recv).length > 0, 5000);
    const files = readdirSync(recv);
    if (files.length > 0) assert.equal(readFileSync(join(recv, files[0]!), 'utf8').replace(/\r/g, ''), text);
  } finally {
    if (live !== undefined && live.exitCode === null) live.kill('SIGINT');
    // End smbd's process group (it is the group leader of the session the test started).
    if (smbd?.pid !== undefined) {
      const pids = sh(['ip', 'netns', 'pids', NS]).stdout.split('\n').filter((p) => p !== '').map(Number);
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const pid of sh(['ip', 'netns', 'pids', NS]).stdout.split('\n').filter((p) => p !== '').map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    sh(['ip', 'netns', 'del', NS]);
    rmSync(dir, { recursive: true, force: true });
  }
});
