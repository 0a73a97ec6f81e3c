// A live capture hands each packet in the same buffer, overwritten by the next one (the `cap`
// binding's), and a capture file's frames are views into the reader's chunk. What a dissector
// keeps past its frame (out-of-order TCP data, IP and DCE/RPC fragments, request stubs waiting
// for their response, SMB message blocks, MSNP bytes held until the protocol is known) must be
// a copy: `Buffer#slice` is a view. Checked over every public capture and fixture: frames and
// events are the same when every frame arrives in one reused buffer as when each has its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCapture } from '../src/capture/open.js';
import type { Frame } from '../src/capture/frame.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import type { TimelineEvent } from '../src/model/events.js';
import type { Packet } from '../src/model/packet.js';
import { infoColumn, protocolColumn } from '../src/output/columns.js';
import { hexView } from '../src/output/packet-view.js';
import { allCaptures } from './helpers.js';

function frameText(p: Packet): string {
  const findings = p.findings.map((x) => `${x.id}@${x.frame}:${x.summary}`).join('|');
  return `${p.frame.number} ${p.src} ${p.dst} ${protocolColumn(p)} ${infoColumn(p)} [${findings}]\n${hexView(p)}`;
}

/** The frames as read shows them, and the events as JSON once the capture is over (what they hold then). */
async function run(path: string, reuse: boolean): Promise<{ frames: string[]; events: string }> {
  const frames: string[] = [];
  const events: TimelineEvent[] = [];
  const engine = new Engine({ packet: (p) => frames.push(frameText(p)), event: (e) => events.push(e) }, {}, defaultProtocols());
  let shared = Buffer.alloc(65536);
  await readCapture(path, {
    frame: (f: Frame) => {
      if (!reuse) {
        engine.frame({ ...f, data: Buffer.from(f.data) });
        return;
      }
      if (f.data.length > shared.length) shared = Buffer.alloc(f.data.length);
      shared.fill(0xee);
      shared.set(f.data);
      engine.frame({ ...f, data: shared.subarray(0, f.data.length) });
    },
    warning: () => undefined,
  });
  engine.finish();
  return { frames, events: JSON.stringify(events, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) };
}

test('every public capture and fixture: the same frames and events when every frame comes in one reused buffer', async () => {
  const problems: string[] = [];
  for (const path of allCaptures()) {
    const own = await run(path, false);
    const reused = await run(path, true);
    const differ = own.frames.findIndex((text, i) => text !== reused.frames[i]);
    if (differ >= 0) problems.push(`${path}: frame ${differ + 1} differs`);
    if (own.events !== reused.events) problems.push(`${path}: events differ`);
  }
  assert.deepEqual(problems, []);
});
