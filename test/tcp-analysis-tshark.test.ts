// TCP sequence analysis against tshark on every public capture that carries TCP: per frame,
// the calculated window (tcp.window_size, scaled by the shift from the SYNs), the
// retransmission family (tcp.analysis.retransmission covers fast and spurious ones too), and
// out-of-order segments. One tshark run per capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { hasTshark, PUBLIC } from './helpers.js';

const FIELDS = ['tcp.window_size', 'tcp.analysis.retransmission', 'tcp.analysis.fast_retransmission', 'tcp.analysis.spurious_retransmission', 'tcp.analysis.out_of_order'];

/** One frame's values, as tshark prints them with -T fields ('' when absent, '1' for a present flag). */
type Row = string[];

function tsharkRows(path: string): Row[] {
  const r = spawnSync('tshark', ['-n', '-r', path, '-T', 'fields', '-E', 'separator=\t', ...FIELDS.flatMap((x) => ['-e', x])], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  // A TCP header quoted in an ICMP error adds a second value; the frame's own segment is the last.
  return r.stdout.replace(/\n$/, '').split('\n').map((line) => line.split('\t').map((v) => (v === '' ? '' : v.split(',').at(-1)!)).map((v, i) => (i > 0 && v !== '' ? '1' : v)));
}

async function ourRows(path: string): Promise<Row[]> {
  const rows: Row[] = [];
  const engine = new Engine({
    packet: (p) => {
      const tcp = p.layers.find((l) => l.name === 'tcp' && l.quoted !== true);
      const nodes = tcp?.tree() ?? [];
      rows.push(FIELDS.map((name, i) => {
        const node = nodes.find((n) => n.def.name === name);
        if (node === undefined) return '';
        return i === 0 ? String(node.value) : '1';
      }));
    },
  }, {}, defaultProtocols());
  await readCapture(path, { frame: (f) => engine.frame(f), warning: () => undefined });
  engine.finish();
  return rows;
}

function tcpCaptures(): string[] {
  if (!existsSync(PUBLIC)) return [];
  return readdirSync(PUBLIC, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readdirSync(join(PUBLIC, d.name)).map((f) => `${d.name}/${f}`))
    .filter((name) => !name.endsWith('.md'))
    .sort();
}

let retransmissions = 0;

for (const name of tcpCaptures()) {
  test(`tcp analysis ${name}: window sizes, retransmissions and out-of-order segments equal tshark's`, { skip: hasTshark() ? false : 'tshark is not installed' }, async () => {
    const path = join(PUBLIC, name);
    const expected = tsharkRows(path);
    const got = await ourRows(path);
    assert.equal(got.length, expected.length, 'frame count');
    const mismatches: string[] = [];
    for (let i = 0; i < expected.length; i++) {
      const t = expected[i]!;
      const o = got[i]!;
      // The window of a frame whose TCP layer we do not decode (tshark's quoted-only ones) is not compared.
      if (o[0] === '' && t[0] !== '') continue;
      if (t[1] === '1') retransmissions++;
      for (let k = 0; k < FIELDS.length; k++) {
        if ((t[k] ?? '') !== o[k]) mismatches.push(`frame ${i + 1}: ${FIELDS[k]} ${o[k] || '(none)'}, tshark ${t[k] || '(none)'}`);
      }
    }
    assert.deepEqual(mismatches.slice(0, 10), [], `${mismatches.length} mismatch(es)`);
  });
}

test('the corpus exercises the retransmission analysis', { skip: hasTshark() && existsSync(PUBLIC) ? false : 'tshark or the public captures missing' }, () => {
  // Runs after the per-capture tests (node:test runs top-level tests in order).
  assert.ok(retransmissions >= 100, `${retransmissions} retransmissions compared`);
});
