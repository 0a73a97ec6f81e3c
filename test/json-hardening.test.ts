// Output hardening (issue 13): JSON strings escape C1 controls, bidi overrides and isolates and
// the other invisible format characters as \uXXXX, not only what JSON requires, because
// `jq -r` prints strings raw to a terminal. Checked on the escaping itself (property-based) and
// end to end with injection payloads in every text field of an MSNP switchboard capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { bytes, eth, ipv4, pcapFile, tcp } from './capture-builders.js';
import { cli } from './helpers.js';
import { jsonSafe, jsonText } from '../src/output/escape.js';

const RUNS = Number(process.env.FC_RUNS ?? 300);
const SEED = Number(process.env.FC_SEED ?? 13);

/** Raw characters no JSON output may hold: C0 (but the newlines between records), DEL, C1, the line separators and every Cf character. */
// eslint-disable-next-line no-control-regex
const RAW_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]/u;

function assertSafe(out: string, where: string): void {
  const m = RAW_UNSAFE.exec(out);
  assert.ok(m === null, `${where}: raw U+${m?.[0].codePointAt(0)?.toString(16).padStart(4, '0')} at ${m?.index}: …${out.slice(Math.max(0, (m?.index ?? 0) - 40), (m?.index ?? 0) + 10)}`);
}

const HOSTILE = [
  '\u009b2J', // C1 CSI: clears the screen on terminals that take 8-bit controls
  '\u001b]0;owned\u0007', // OSC title
  '\u202eevil.exe', // right-to-left override
  '\u2066isolated\u2069', // bidi isolate
  'zero\u200bwidth', '\u00adsoft', '\ufeffbom', '\u2028line', '\u{e0041}tag',
].join('|');

test('jsonSafe: escapes every unsafe character, parses back to the same value', () => {
  const unsafeChars = fc.constantFrom(...'\u0085\u009b\u009d\u00ad\u061c\u200b\u200e\u2028\u2029\u202a\u202e\u2066\u2069\ufeff\u{e0001}\u{e0041}\u0007\u001b'.split(/(?:)/u));
  const text = fc.array(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), unsafeChars), { maxLength: 20 }).map((a) => a.join(''));
  fc.assert(fc.property(text, (s) => {
    const out = jsonText({ s, list: [s] });
    assertSafe(out, JSON.stringify(s));
    assert.deepEqual(JSON.parse(out), { s, list: [s] });
  }), { numRuns: RUNS, seed: SEED });
  assert.equal(jsonSafe(JSON.stringify('a\u009bb\u202ec\u{e0041}')), '"a\\u009bb\\u202ec\\udb40\\udc41"');
  assert.equal(jsonSafe('{"plain":"text"}'), '{"plain":"text"}');
});

/** An MSNP switchboard whose nickname, handle-like fields and message text carry HOSTILE. */
function hostileCapture(): Uint8Array {
  const client = [10, 0, 0, 1];
  const server = [10, 0, 0, 2];
  const seq = [1000, 5000];
  let t = 0;
  const records: { sec: number; frac: number; data: Uint8Array }[] = [];
  const send = (fromClient: boolean, text: string, flags = 0x18): void => {
    const payload = new TextEncoder().encode(text);
    const [src, dst, sp, dp, i] = fromClient ? [client, server, 40000, 1863, 0] : [server, client, 1863, 40000, 1];
    const seg = tcp({ sp, dp, seq: seq[i]!, ack: seq[1 - i]!, flags }, payload);
    seq[i]! += payload.length + ((flags & 0x02) !== 0 ? 1 : 0);
    records.push({ sec: 1_000_000 + t, frac: 0, data: eth(0x0800, ipv4({ src, dst, proto: 6 }, seg)) });
    t++;
  };
  send(true, '', 0x02);
  send(false, '', 0x12);
  send(true, '', 0x10);
  const nick = encodeURIComponent(`Bob${HOSTILE}`);
  send(true, 'USR 1 bob@example.com 17262740.1050826919.32308\r\n');
  send(false, `USR 1 OK bob@example.com ${nick}\r\n`);
  send(false, `JOI alice@example.com ${encodeURIComponent(`Alice${HOSTILE}`)}\r\n`);
  const body = `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=${encodeURIComponent(HOSTILE)}\r\n\r\nhello ${HOSTILE}`;
  send(true, `MSG 2 A ${new TextEncoder().encode(body).length}\r\n${body}`);
  send(false, 'ACK 2\r\n');
  const back = `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nreply ${HOSTILE}`;
  send(false, `MSG alice@example.com ${encodeURIComponent(`Alice${HOSTILE}`)} ${new TextEncoder().encode(back).length}\r\n${back}`);
  return bytes(pcapFile(records));
}

test('every JSON output keeps hostile wire text escaped: read, timeline, stats, with -V and -x', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msgscope-json-'));
  try {
    const path = join(dir, 'hostile.pcap');
    writeFileSync(path, hostileCapture());
    const runs = [
      ['read', '--format', 'json', '-V', '-x'], ['read', '--format', 'ndjson', '-V'], ['timeline', '--format', 'json'],
      ['timeline', '--format', 'ndjson'], ['stats', '--format', 'json'], ['audit', '--format', 'json'],
    ];
    let sawText = false;
    for (const args of runs) {
      const r = cli([...args, '-q', path]);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assertSafe(r.stdout, args.join(' '));
      const values = args.includes('ndjson') ? r.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown) : [JSON.parse(r.stdout) as unknown];
      // The escapes decode back to the wire text: nothing was dropped, only escaped.
      if (JSON.stringify(values).includes('hello \u009b2J')) sawText = true;
    }
    assert.ok(sawText, 'the message text with its C1 control comes through');
    const timeline = cli(['timeline', '--format', 'ndjson', '-q', path]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; text?: string; from?: string });
    const messages = timeline.filter((e) => e.kind === 'message');
    assert.ok(messages.some((m) => m.text === `hello ${HOSTILE}`), 'the text parses back to the bytes sent');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
