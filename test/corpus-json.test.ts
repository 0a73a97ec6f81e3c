// The ndjson fast path (packetJsonText) must print exactly what JSON.stringify(packetJson)
// prints, on every frame of every public capture, with and without the tree and hex parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { packetJson, packetJsonText } from '../src/output/packet-view.js';
import { PUBLIC } from './helpers.js';

const files = existsSync(PUBLIC)
  ? readdirSync(PUBLIC, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => readdirSync(join(PUBLIC, d.name)).map((f) => join(PUBLIC, d.name, f)))
  : [];

test('packetJsonText equals JSON.stringify(packetJson) on every public frame', { skip: files.length === 0 ? 'no public captures' : false }, async () => {
  let frames = 0;
  for (const path of files) {
    let first: { tsSec: number; tsNsec: number } | undefined;
    const engine = new Engine({
      packet: (p) => {
        first ??= { tsSec: p.frame.tsSec, tsNsec: p.frame.tsNsec };
        const full = frames % 7 === 0;
        const options = { tree: full, hex: full };
        const obj = packetJson(p, first, options);
        assert.equal(packetJsonText(p, first, options), JSON.stringify(obj), `${path} frame ${p.frame.number}`);
        if (frames % 13 === 0) assert.equal(packetJsonText(p, first, options, path), JSON.stringify({ file: path, ...obj }));
        frames++;
      },
    }, {}, defaultProtocols());
    await readCapture(path, { frame: (f) => engine.frame(f), warning: () => {} });
    engine.finish();
  }
  assert.ok(frames > 18_000, `${frames} frames compared`);
});
