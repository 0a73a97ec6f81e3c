// A frame listing (`read`) has no event consumer: the engine tells the dissectors so
// (EngineContext.wantsEvents) and they skip building the events nobody would see. Checked two
// ways over every public capture and fixture: the frames are the same with and without an
// event consumer (layers, columns, findings), and without one the events that are only built
// to be emitted (calls and MS-MSRP messages, SMB and mailslot messages, MSNP notices, sessions
// and presence, NBSS session answers, finding events) are not built at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCapture } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import type { TimelineEvent } from '../src/model/events.js';
import type { Packet } from '../src/model/packet.js';
import { infoColumn, protocolColumn } from '../src/output/columns.js';
import { allCaptures } from './helpers.js';

/** One frame as `read` shows it (summary columns, layers and every finding). */
function frameText(p: Packet): string {
  const findings = p.findings.map((x) => `${x.id}@${x.frame}:${x.summary}`).join('|');
  return `${p.frame.number} ${p.src} ${p.dst} ${protocolColumn(p)} ${p.layers.map((l) => l.name).join(':')} ${infoColumn(p)} [${findings}]`;
}

/** Event kinds whose construction is skipped without a consumer (`kind/protocol`, or `kind` for any protocol). */
const SKIPPED = new Set(['call', 'finding', 'message/msrp', 'message/smb', 'message/mailslot', 'notice/msnp', 'session/msnp', 'presence/msnp', 'session/nbss']);

async function run(path: string, withEvents: boolean): Promise<{ frames: string[]; built: Map<string, number> }> {
  const frames: string[] = [];
  const built = new Map<string, number>();
  const engine = new Engine({ packet: (p) => frames.push(frameText(p)), event: withEvents ? () => undefined : undefined }, {}, defaultProtocols());
  // Every event a dissector builds reaches the engine's emit, consumed or not.
  const emit = engine.emit.bind(engine);
  engine.emit = (event: TimelineEvent): void => {
    // NBSS's `open` (a session request never answered) is built at the connection's end, rarely: not skipped.
    const key = SKIPPED.has(event.kind) ? event.kind : event.kind === 'session' && event.protocol === 'nbss' && event.action === 'open' ? '' : `${event.kind}/${event.protocol}`;
    if (SKIPPED.has(key)) built.set(key, (built.get(key) ?? 0) + 1);
    emit(event);
  };
  await readCapture(path, { frame: (f) => engine.frame(f), warning: () => undefined });
  engine.finish();
  return { frames, built };
}

test('every public capture and fixture: the same frames without an event consumer, and the skipped events not built', async () => {
  const problems: string[] = [];
  let eventsWithConsumer = 0;
  for (const path of allCaptures()) {
    const wanted = await run(path, true);
    const unwanted = await run(path, false);
    for (const n of wanted.built.values()) eventsWithConsumer += n;
    const differ = wanted.frames.findIndex((line, i) => line !== unwanted.frames[i]);
    if (differ >= 0 || wanted.frames.length !== unwanted.frames.length) {
      problems.push(`${path}: frame ${differ + 1} differs: ${wanted.frames[differ] ?? '(none)'} / ${unwanted.frames[differ] ?? '(none)'}`);
    }
    for (const [key, n] of unwanted.built) problems.push(`${path}: ${n} ${key} event(s) built with no consumer`);
  }
  assert.deepEqual(problems, []);
  // The captures do hold such events (else the check above proves nothing).
  assert.ok(eventsWithConsumer > 1000, `only ${eventsWithConsumer} skippable events with a consumer`);
});
