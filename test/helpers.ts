// Shared test helpers: paths, running captures through the engine, and driving the CLI.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCapture } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { FilterError, PacketFilter } from '../src/filter/index.js';
import { defaultProtocols } from '../src/protocols/index.js';
import type { EngineOptions } from '../src/engine/context.js';
import type { ProtocolSet } from '../src/engine/protocols.js';
import type { Packet } from '../src/model/packet.js';
import type { TimelineEvent } from '../src/model/events.js';
import { flatFields, type JsonScalar } from '../src/output/packet-view.js';
import { infoColumn, protocolColumn } from '../src/output/columns.js';

/** The repository root (tests run from dist/test/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const SAMPLES = join(ROOT, 'samples');
/** Public captures shared beside the repository (../shared/captures/public). */
export const PUBLIC = resolve(ROOT, '..', 'shared', 'captures', 'public');
export const BIN = join(ROOT, 'bin', 'msgscope');

export function publicCapture(name: string): string {
  return join(PUBLIC, name);
}

/** The files under `dir` (recursively) whose name `keep` accepts. */
export function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    return d.isDirectory() ? filesUnder(path, keep) : keep(d.name) ? [path] : [];
  });
}

/** Every public capture, fixture and sample, sorted (what the corpus tests run over). */
export function allCaptures(): string[] {
  const capture = (n: string): boolean => /\.(pcap|pcapng|cap)$/.test(n);
  return [...filesUnder(PUBLIC, (n) => !n.endsWith('.md')), ...filesUnder(FIXTURES, capture), ...filesUnder(SAMPLES, capture)].sort();
}

/** The uid as docs/schema.md defines it: `C` and the last 16 of 17 zero-padded base-62 digits of the SHA-1's first 12 bytes, by big integers. */
export function uidByDefinition(text: string): string {
  let n = BigInt(`0x${createHash('sha1').update(text).digest().subarray(0, 12).toString('hex')}`);
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  do {
    out = digits[Number(n % 62n)] + out;
    n /= 62n;
  } while (n > 0n);
  return `C${out.padStart(17, '0').slice(-16)}`;
}

export function hasTshark(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function exists(path: string): boolean {
  return existsSync(path);
}

/** What a capture dissects to: per-frame summaries (copied out of the engine) and events. */
export interface Dissected {
  frames: { number: number; layers: string[]; protocol: string; info: string; fields: Record<string, JsonScalar[]>; findings: Packet['findings'] }[];
  events: TimelineEvent[];
  warnings: string[];
}

export async function dissect(path: string, options: Partial<EngineOptions> = {}, protocols: ProtocolSet = defaultProtocols()): Promise<Dissected> {
  const out: Dissected = { frames: [], events: [], warnings: [] };
  const engine = new Engine(
    {
      packet: (p) => out.frames.push({ number: p.frame.number, layers: p.layers.map((l) => l.name), protocol: protocolColumn(p), info: infoColumn(p), fields: flatFields(p), findings: p.findings }),
      event: (e) => out.events.push(e),
    },
    options,
    protocols,
  );
  await readCapture(path, { frame: (f) => engine.frame(f), warning: (w) => out.warnings.push(w) });
  engine.finish();
  return out;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], input?: Buffer, env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The FilterError that compiling `text` raises (a frame filter unless `make` says otherwise); fails when it compiles. */
export function filterErrorOf(text: string, make: (t: string) => unknown = (t) => new PacketFilter(t)): FilterError {
  try {
    make(text);
  } catch (err) {
    if (err instanceof FilterError) return err;
    throw err;
  }
  assert.fail(`expected ${JSON.stringify(text.slice(0, 60))} to be rejected`);
}

/** The default protocols with more makers appended to some of their lists (stand-ins for tests). */
export function protocolsWith(extra: Partial<ProtocolSet>): ProtocolSet {
  const base = defaultProtocols();
  return {
    tcp: [...base.tcp, ...(extra.tcp ?? [])],
    udp: [...base.udp, ...(extra.udp ?? [])],
    sessionPayloads: [...base.sessionPayloads, ...(extra.sessionPayloads ?? [])],
    datagramPayloads: [...base.datagramPayloads, ...(extra.datagramPayloads ?? [])],
    pipeConsumers: [...base.pipeConsumers, ...(extra.pipeConsumers ?? [])],
  };
}
