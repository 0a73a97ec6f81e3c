// `timeline --parquet` and `read --parquet`: the files are read back with DuckDB and compared
// with the JSON the same command prints.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { test } from 'node:test';
import { Database } from '../src/output/duckdb.js';
import { cli, FIXTURES, SAMPLES } from './helpers.js';

const MIX = join(SAMPLES, 'messenger-mix.pcapng');
const UDP = join(FIXTURES, 'msrp-udp.pcap');

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const db = await Database.open(':memory:');
  try {
    return await db.all(sql);
  } finally {
    db.close();
  }
}

function jsonLines(args: string[]): Record<string, unknown>[] {
  const r = cli(args);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('timeline --parquet: one row per event, hive partitions by date and protocol, the event JSON kept whole', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-pq-'));
  try {
    const r = cli(['timeline', '--parquet', dir, MIX, UDP]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    const protocols = readdirSync(join(dir, 'events', 'date=2026-11-22')).sort();
    const events = jsonLines(['timeline', '--format', 'ndjson', MIX, UDP]);
    assert.deepEqual(protocols, [...new Set(events.map((e) => `protocol=${e.protocol as string}`))].sort());
    const stored = await rows(`SELECT * FROM read_parquet('${dir}/events/**/*.parquet', hive_partitioning = true) ORDER BY capture DESC, frame, kind, uid`);
    assert.equal(stored.length, events.length);
    const byKey = (e: Record<string, unknown>): string => `${e.file as string}|${JSON.stringify(e.frames)}|${e.kind as string}`;
    // Several events may share a frame and kind (an MSNP switchboard's leave and close): each row takes the one it equals.
    const expected = new Map<string, Record<string, unknown>[]>();
    for (const e of events) expected.set(byKey(e), [...(expected.get(byKey(e)) ?? []), e]);
    for (const row of stored) {
      const event = JSON.parse(row.event as string) as Record<string, unknown>;
      const candidates = expected.get(byKey({ ...event, file: row.capture })) ?? [];
      const at = candidates.findIndex(({ file, ...json }) => isDeepStrictEqual(json, event));
      assert.ok(at >= 0, JSON.stringify(row));
      const e = candidates.splice(at, 1)[0]!;
      const { file, ...json } = e;
      assert.deepEqual(event, json);
      assert.equal(row.uid, e.uid);
      assert.equal(row.community_id, e.community_id);
      assert.equal(row.protocol, e.protocol);
      assert.equal((row.date as Date).toISOString().slice(0, 10), String(e.time).slice(0, 10));
      if (e.kind === 'message') {
        assert.equal(row.text, e.text);
        assert.deepEqual(row.to_names, e.to);
        assert.equal(row.status, e.status);
      }
      assert.equal(`${row.src_ip as string}:${row.src_port as number}`, e.src);
    }
    // Day and protocol totals straight from the partitions, as an engine elsewhere would read them.
    const perProtocol = await rows(`SELECT protocol, count(*) AS n FROM read_parquet('${dir}/events/**/*.parquet', hive_partitioning = true) WHERE kind = 'message' GROUP BY protocol ORDER BY protocol`);
    const counts: Record<string, number> = {};
    for (const e of events) if (e.kind === 'message') counts[e.protocol as string] = (counts[e.protocol as string] ?? 0) + 1;
    assert.deepEqual(Object.fromEntries(perProtocol.map((p) => [p.protocol, Number(p.n)])), counts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('read --parquet: one row per selected frame with its columns and fields; a second run replaces the first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-pq-'));
  try {
    assert.equal(cli(['read', '--parquet', dir, MIX]).status, 0);
    const r = cli(['read', '--parquet', dir, '-Y', 'smb', MIX]);
    assert.equal(r.status, 0, r.stderr);
    const frames = jsonLines(['read', '--format', 'ndjson', '-Y', 'smb', MIX]);
    const stored = await rows(`SELECT * FROM read_parquet('${dir}/frames/**/*.parquet', hive_partitioning = true) ORDER BY frame`);
    assert.deepEqual(stored.map((s) => s.frame), frames.map((f) => f.frame));
    stored.forEach((row, i) => {
      const f = frames[i]!;
      assert.equal(row.protocol, f.protocol);
      assert.equal(row.info, f.info);
      assert.deepEqual(row.layers, f.layers);
      assert.deepEqual(JSON.parse(row.fields as string), f.fields);
      assert.equal(row.caplen, f.caplen);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--parquet into a path that cannot be a directory is a one-line usage error before reading', () => {
  const r = cli(['timeline', '--parquet', '/dev/null/x', MIX]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^msgscope: \/dev\/null\/x: cannot write there/);
});
