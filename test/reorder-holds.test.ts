// The reorder window's watermark: pending state holds the first frame of the event it will
// emit, and the window releases everything below the oldest hold. Checked three ways: the
// hold registry and window as units (a property test over any interleaving of holds and
// events), every public capture and fixture end to end (no event comes late, no hold is
// left when the capture ends, no release without its hold), and the CLI printing its first
// event before the input ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { HoldRegistry, MovingHold } from '../src/util/frame-holds.js';
import { ReorderWindow, eventBytes } from '../src/runner/reorder.js';
import { readCapture } from '../src/capture/open.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import type { TimelineEvent } from '../src/model/events.js';
import { allCaptures, BIN, FIXTURES } from './helpers.js';

function event(frame: number, tsSec = 0): TimelineEvent {
  return { kind: 'finding', tsSec, tsNsec: 0, frames: [frame], protocol: 'x', transport: 'udp', src: '', dst: '', findings: [] };
}

test('hold registry: counts per frame, oldest live hold, stale heap entries dropped', () => {
  const h = new HoldRegistry();
  assert.equal(h.oldest, Infinity);
  h.hold(7);
  h.hold(3);
  h.hold(3);
  h.hold(0); // no frame: ignored
  assert.equal(h.oldest, 3);
  assert.equal(h.size, 3);
  h.release(3);
  assert.equal(h.oldest, 3);
  h.release(3);
  assert.equal(h.oldest, 7);
  h.release(9); // never held
  assert.equal(h.unmatched, 1);
  h.release(7);
  assert.equal(h.oldest, Infinity);
  assert.equal(h.size, 0);
  // Many holds and releases of the same frames: the heap stays bounded.
  for (let i = 0; i < 10_000; i++) {
    h.hold(i % 5 + 1);
    h.release(i % 5 + 1);
  }
  h.hold(4);
  assert.equal(h.oldest, 4);
  const moving = new MovingHold(h);
  moving.set(2);
  assert.equal(h.oldest, 2);
  moving.set(6);
  assert.equal(h.oldest, 4);
  moving.clear();
  h.release(4);
  assert.equal(h.size, 0);
});

test('window with holds (property): any interleaving of holds, releases and events gives frame order and never passes a live hold', () => {
  // A model of dissection: frames 1..n in turn; at each, events complete (keyed at the
  // current frame or at a frame some state holds), state takes new holds at the current frame
  // and releases old ones, emitting their events.
  const step = fc.record({
    newHolds: fc.integer({ min: 0, max: 2 }),
    emitNow: fc.integer({ min: 0, max: 2 }),
    finish: fc.array(fc.nat(), { maxLength: 2 }),
  });
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
    const holds = new HoldRegistry();
    const out: TimelineEvent[] = [];
    const window = new ReorderWindow((e) => out.push(e), { maxEvents: 1_000_000, maxSeconds: 1e9 });
    const live: number[] = [];
    let released = 0;
    for (const [i, s] of steps.entries()) {
      const frame = i + 1;
      const framed: TimelineEvent[] = [];
      for (const pick of s.finish) {
        if (live.length === 0) break;
        const [f] = live.splice(pick % live.length, 1);
        holds.release(f!);
        framed.push(event(f!));
      }
      for (let k = 0; k < s.emitNow; k++) framed.push(event(frame));
      for (let k = 0; k < s.newHolds; k++) {
        holds.hold(frame);
        live.push(frame);
      }
      for (const e of framed) window.push(e);
      const watermark = Math.min(holds.oldest, frame + 1);
      window.releaseBelow(watermark);
      // Nothing released at or past a live hold.
      for (const e of out.slice(released)) assert.ok(e.frames[0]! < watermark);
      released = out.length;
    }
    for (const f of live.splice(0)) {
      holds.release(f);
      window.push(event(f));
    }
    window.flush();
    assert.equal(window.lateEvents, 0);
    const keys = out.map((e) => e.frames[0]!);
    assert.deepEqual(keys, [...keys].sort((a, b) => a - b));
    assert.equal(holds.size, 0);
  }));
});

test('window: bounded in estimated bytes as well as in events', () => {
  const out: TimelineEvent[] = [];
  const one = eventBytes(event(1));
  const window = new ReorderWindow((e) => out.push(e), { maxEvents: 1000, maxSeconds: 1e9, maxBytes: one * 10 });
  for (let i = 1; i <= 100; i++) window.push(event(i));
  assert.ok(window.size <= 10);
  assert.ok(window.heldBytes <= one * 10);
  assert.equal(window.forced, 90);
});

test('every public capture and fixture: no event arrives below the watermark, and no hold outlives the capture', async () => {
  const problems: string[] = [];
  for (const path of allCaptures()) {
    let engine: Engine | undefined = undefined;
    let late = 0;
    let firstLate = '';
    const framed: TimelineEvent[] = [];
    let watermark = 0;
    engine = new Engine({ event: (e) => framed.push(e) }, {}, defaultProtocols());
    const settle = (): void => {
      for (const e of framed) {
        const key = e.frames[0];
        if (key !== undefined && key < watermark) {
          late++;
          if (firstLate === '') firstLate = `${e.kind}/${e.protocol} frames ${e.frames.slice(0, 4).join(',')} below watermark ${watermark}`;
        }
      }
      framed.length = 0;
    };
    try {
      await readCapture(path, {
        frame: (frame) => {
          engine!.frame(frame);
          settle();
          // Every hold counts here, however old (the engine's own watermark lets holds older
          // than HOLD_HORIZON go): this checks that no state emits below a frame it did not hold.
          watermark = Math.max(watermark, Math.min(engine!.holds!.oldest, frame.number + 1));
        },
        warning: () => undefined,
      });
    } catch {
      // unreadable inputs are other tests' business
    }
    engine.finish();
    settle();
    const left = engine.holds!.size;
    if (late > 0 || left > 0 || engine.holds!.unmatched > 0) {
      problems.push(`${path}: ${late} late (${firstLate}), ${left} hold(s) left (oldest frame ${engine.holds!.oldest}), ${engine.holds!.unmatched} unmatched release(s)`);
    }
  }
  assert.deepEqual(problems, []);
});

test('timeline from standard input: the first event is printed while the input is still open', async () => {
  // The whole of a small capture is written, but standard input stays open: nothing tells the
  // command the capture has ended, so a line can only come from the watermark releasing it.
  const bytes = readFileSync(join(FIXTURES, 'smb-burst.pcap'));
  const child = spawn(process.execPath, [BIN, 'timeline', '--format', 'ndjson', '-q', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdin.write(bytes);
  let out = '';
  const first = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
  });
  const stillOpen = child.exitCode === null && !child.stdin.writableEnded;
  child.stdin.end();
  await new Promise((resolve) => child.on('close', resolve));
  assert.ok(first !== undefined, 'no event printed while standard input was open');
  assert.ok(stillOpen);
  const all = out.trimEnd().split('\n');
  // The first line printed early is the first line of the complete output, and order holds.
  assert.equal(all[0], first);
  const keys = all.map((l) => (JSON.parse(l) as { frames: number[] }).frames[0] ?? Infinity);
  assert.deepEqual(keys, [...keys].sort((a, b) => a - b));
});

test('window (property): events leave by first frame, then arrival (frameless last), through the bounds and the watermark as a sorted list would; late ones at the end of their frame, by first frame', () => {
  const op = fc.oneof(
    fc.record({ push: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) }),
    fc.record({ below: fc.integer({ min: 0, max: 60 }) }),
    fc.record({ frameEnd: fc.constant(true) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 400 }), fc.integer({ min: 1, max: 40 }), (ops, maxEvents) => {
    const out: TimelineEvent[] = [];
    const window = new ReorderWindow((e) => out.push(e), { maxEvents, maxSeconds: 1e9 });
    // The model: held events sorted by (first frame, arrival); what leaves is its front.
    const model: { key: number; seq: number; event: TimelineEvent }[] = [];
    const expected: TimelineEvent[] = [];
    /** Late events of the current frame: out at its end, by first frame (a stable sort keeps arrival order). */
    let late: TimelineEvent[] = [];
    const endFrame = (): void => {
      expected.push(...late.sort((a, b) => (a.frames[0] ?? Infinity) - (b.frames[0] ?? Infinity)));
      late = [];
    };
    let released = 0;
    let seq = 0;
    const take = (): void => {
      model.sort((a, b) => a.key - b.key || a.seq - b.seq);
      const first = model.shift()!;
      released = first.key;
      expected.push(first.event);
    };
    for (const o of ops) {
      if ('push' in o) {
        const e = o.push === undefined ? { ...event(0), frames: [] } : event(o.push);
        const key = e.frames[0] ?? Number.MAX_SAFE_INTEGER;
        window.push(e);
        if (key < released) late.push(e); // late: out at the end of the frame, with its note
        else {
          model.push({ key, seq: seq++, event: e });
          while (model.length > maxEvents) take();
        }
      } else if ('frameEnd' in o) {
        window.releaseLate();
        endFrame();
      } else {
        window.releaseBelow(o.below);
        for (;;) {
          model.sort((a, b) => a.key - b.key || a.seq - b.seq);
          if (model.length === 0 || model[0]!.key >= o.below) break;
          take();
        }
      }
      assert.equal(window.size, model.length);
    }
    window.flush();
    endFrame();
    while (model.length > 0) take();
    assert.equal(out.length, expected.length);
    out.forEach((e, i) => assert.equal(e, expected[i]));
  }), { numRuns: 300 });
});
