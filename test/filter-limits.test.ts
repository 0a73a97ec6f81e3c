// Hostile display filters (issue 13): deep nesting and long chains never overflow the stack,
// `matches` runs RE2 (linear in the text) and refuses what RE2 cannot run by name. The crash
// and hang inputs of the issue are regression tests here, end to end through bin/msgscope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventFilter, PacketFilter } from '../src/filter/index.js';
import { MAX_NESTING } from '../src/filter/nesting.js';
import { expandedSize, MAX_PROGRAM } from '../src/filter/regex.js';
import type { TimelineEvent } from '../src/model/events.js';
import { cli, exists, filterErrorOf, publicCapture } from './helpers.js';
import { Conversation, bytes, le16, nbss, sessionRequest, smb, udp, writePcap } from './nbt-builder.js';

const MESSENGER = publicCapture('ajbanjara__Wireshark/messenger.pcap');

const nested = (n: number, inner = 'udp'): string => `${'('.repeat(n)}${inner}${')'.repeat(n)}`;

/** An event with just what these tests look at. */
function event(kind: 'message' | 'session', text = ''): TimelineEvent {
  const common = { tsSec: 0, tsNsec: 0, frames: [1], protocol: 'smb' as const, transport: 'tcp/nbss/smb', src: '10.0.0.1:1025', dst: '10.0.0.2:139', findings: [] };
  return kind === 'message'
    ? { kind, ...common, from: 'A', to: ['B'], text, status: 'ok' }
    : { kind, ...common, action: 'open' };
}

test(`nesting: ${MAX_NESTING} levels are accepted, one more is an error at the column that passes the limit`, () => {
  assert.equal(new PacketFilter(nested(MAX_NESTING)).text.length, 2 * MAX_NESTING + 3);
  let err = filterErrorOf(nested(MAX_NESTING + 1));
  assert.equal(err.column, MAX_NESTING + 1);
  assert.match(err.detail, /nests too deeply: more than 256 levels of parentheses, function calls and not operators/);
  assert.ok(!err.message.includes('\n'));
  // `!` and `not` count, in front of a group or of a relation; so do function calls.
  new PacketFilter(`${'!'.repeat(MAX_NESTING)}udp`);
  err = filterErrorOf(`${'!'.repeat(MAX_NESTING + 1)}udp`);
  assert.equal(err.column, MAX_NESTING + 1);
  err = filterErrorOf(`${'not '.repeat(MAX_NESTING + 1)}udp`);
  assert.equal(err.column, 4 * MAX_NESTING + 1);
  const half = MAX_NESTING / 2;
  new PacketFilter(`${'!('.repeat(half)}udp${')'.repeat(half)}`);
  filterErrorOf(`${'!('.repeat(half)}!udp${')'.repeat(half)}`);
  new PacketFilter(`${'count('.repeat(MAX_NESTING)}udp.port${')'.repeat(MAX_NESTING)} == 1`);
  filterErrorOf(`!${'count('.repeat(MAX_NESTING)}udp.port${')'.repeat(MAX_NESTING)} == 1`);
  filterErrorOf(`!count(udp.port) == 1 && ${'!'.repeat(MAX_NESTING)}count(udp.port) == 1`);
  new PacketFilter(`!count(udp.port) == 1 && ${'!'.repeat(MAX_NESTING - 1)}count(udp.port) == 1`);
  // Siblings do not add up; parentheses in strings, `!=`, `not in` and `..` are not nesting.
  new PacketFilter(Array.from({ length: 10 }, () => nested(MAX_NESTING - 1)).join(' || '));
  new PacketFilter(`frame contains "${'('.repeat(5000)}" || frame contains r"${'('.repeat(5000)}\\"`);
  new PacketFilter(Array.from({ length: 5000 }, () => 'udp.port != 53').join(' && '));
  new PacketFilter(`${'!'.repeat(MAX_NESTING)}udp.port not in {1..5 53}`);
  // Event filters go through the same parser.
  filterErrorOf(nested(2000), (t) => new EventFilter(t));
});

test('nested filters keep their meaning: parity of not, depth of groups', () => {
  const p = new EventFilter(`${'!('.repeat(100)}kind == "message"${')'.repeat(100)}`);
  assert.equal(p.match(event('message')), true);
  assert.equal(p.match(event('session')), false);
  const odd = new EventFilter(`${'not '.repeat(255)}message`);
  assert.equal(odd.match(event('message')), false);
  assert.equal(odd.match(event('session')), true);
});

test('chains of 100,000 terms parse, compile and evaluate without recursion', () => {
  const terms = 100_000;
  const chain = (op: string, last: string): string => `${Array(terms - 1).fill('kind == "session"').join(` ${op} `)} ${op} ${last}`;
  const or = new EventFilter(chain('||', 'kind == "message"'));
  assert.equal(or.match(event('message')), true);
  assert.equal(or.match(event('session')), true);
  const and = new EventFilter(chain('&&', 'message'));
  assert.equal(and.match(event('message')), false);
  assert.equal(and.match(event('session')), false);
  // xor of 100,000 equal terms is false (even), of 99,999 true terms and one false term true.
  const xor = new EventFilter(chain('^^', 'session'));
  assert.equal(xor.match(event('session')), false);
  assert.equal(xor.match(event('message')), false);
  const xorOdd = new EventFilter(chain('xor', 'message'));
  assert.equal(xorOdd.match(event('session')), true);
});

test('matches is RE2: the (a+)+$ subject that hangs a backtracking engine answers at once', () => {
  const subject = `${'a'.repeat(40)}!`;
  assert.equal(new EventFilter('message.text matches "(a+)+$"').match(event('message', subject)), false);
  assert.equal(new EventFilter('message.text matches "^(a+)+!$"').match(event('message', subject)), true);
  assert.equal(new EventFilter(`message.text matches "(x+x+)+y"`).match(event('message', 'x'.repeat(5000))), false);
  // Case-sensitive unless (?i), which RE2 reads anywhere; (?s) lets . cross lines.
  assert.equal(new EventFilter('message.text matches "STOP"').match(event('message', 'stop')), false);
  assert.equal(new EventFilter('message.text matches "(?i)STOP"').match(event('message', 'stop')), true);
  assert.equal(new EventFilter('message.text matches "x(?i:STOP)"').match(event('message', 'xstop')), true);
  assert.equal(new EventFilter('message.text matches "a.b"').match(event('message', 'a\nb')), false);
  assert.equal(new EventFilter('message.text matches "(?s)a.b"').match(event('message', 'a\nb')), true);
  assert.equal(new EventFilter('message.text matches "(?m)^b$"').match(event('message', 'a\nb\nc')), true);
});

test('what RE2 cannot run is refused by name; too large patterns are refused before compiling', () => {
  const cases: [string, RegExp][] = [
    ['r"(a)\\1"', /backreference \\1/],
    ['r"(?P<n>a)(?P=n)"', /named backreference/],
    ['"(?=x)"', /lookahead \(\?=…\)/],
    ['"(?!x)"', /lookahead \(\?!…\)/],
    ['"(?<=x)y"', /lookbehind \(\?<=…\)/],
    ['"(?<!x)y"', /lookbehind \(\?<!…\)/],
    ['"a*+"', /possessive quantifier \*\+/],
    ['"(?>a)"', /atomic group/],
    ['r"\\C"', /single-byte escape \\C/],
    ['"(?R)"', /recursion/],
    ['"(?(1)a|b)"', /conditional group/],
    ['"(*UTF)a"', /start-of-pattern options/],
    ['"(?x) a"', /flag or group \(\?x…\)/],
    ['r"\\e"', /escape \\e \(write \\x1b\)/],
    ['"("', /bad regular expression: missing closing \)/],
    ['"a{1001}"', /invalid repeat count/],
  ];
  for (const [pattern, message] of cases) {
    const err = filterErrorOf(`frame matches ${pattern}`);
    assert.equal(err.column, 15, pattern);
    assert.match(err.detail, message, pattern);
    assert.ok(!err.detail.includes('\n'), pattern);
  }
  assert.match(filterErrorOf('frame matches "\\n(?<=x"').detail, /lookbehind/);
  // Ten copies of a thousand-fold group: a million instructions, refused from the text alone.
  const huge = `"${'(?:abcdefghij){1000}'.repeat(10)}"`;
  assert.ok(expandedSize(huge) > MAX_PROGRAM);
  assert.match(filterErrorOf(`frame matches ${huge}`).detail, /regular expression too large/);
  new PacketFilter(`frame matches "${'x{1000}'.repeat(50)}"`);
  filterErrorOf(`frame matches "${'x{1000}'.repeat(101)}"`);
});

test('messages stay on one line whatever the filter quotes (found by the property tests)', () => {
  for (const text of ['"(\nr"', 'ip.src == "a\nb"', 'udp\n\u0007)', 'ip.ttl & "\x1b[2J"', 'eth.src == "\r"', `frame matches "${'\n'.repeat(50)}(?<=x"`]) {
    const err = filterErrorOf(text);
    assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(err.message), JSON.stringify(err.message));
  }
});

test('the estimate of a pattern\'s size is an upper bound of what re2js compiles', async () => {
  const { RE2JS } = await import('re2js');
  for (const p of ['a', 'abc', 'a{1000}', '(?:ab){10}', '(a|b|c){2,5}', '[a-z]{3}x?y*', '\\Q(*)\\E{3}', '((a){2}){3}', 'a|b|', '(?i)x{2,}', '\\p{Greek}{10}', '[[:alpha:]]{4}']) {
    assert.ok(expandedSize(p) + 2 >= RE2JS.compile(p).programSize(), p);
  }
});

/** One UDP datagram of 40 × 'a' then '!', and an SMB 0xD0 message with the same text. */
function redosCapture(): string {
  const text = `${'a'.repeat(40)}!`;
  const session = new Conversation('10.0.0.1', 1025, '10.0.0.2', 139)
    .send(0, sessionRequest('MSGSRV', 0x03, 'CALLER'))
    .send(1, nbss(0x82, new Uint8Array(0)))
    .send(0, nbss(0, smb(0xd0, [], bytes([4], 'A\0', [4], 'B\0', [1], le16(text.length), text))));
  return writePcap([udp('10.0.0.1', 5000, '10.0.0.2', 5001, bytes(text)), ...session.frames]);
}

test('end to end: the ReDoS input of issue 13 terminates with the right answer (read, stats, timeline)', () => {
  const file = redosCapture();
  const none = cli(['read', '-Y', 'udp matches "(a+)+$"', file]);
  assert.equal(none.status, 0, none.stderr);
  assert.equal(none.stdout, '');
  const one = cli(['read', '-Y', 'udp matches "(a+)+!$"', file]);
  assert.equal(one.stdout.trim().split('\n').length, 1);
  assert.match(one.stdout, /^\s*1\s/);
  const stats = cli(['stats', '--format', 'json', '-Y', 'frame matches "(a+)+$"', file]);
  assert.equal(stats.status, 0, stats.stderr);
  const events = cli(['timeline', '--format', 'ndjson', '-Y', 'message.text matches "(a+)+$"', file]);
  assert.equal(events.status, 0, events.stderr);
  assert.equal(events.stdout, '');
  const message = cli(['timeline', '--format', 'ndjson', '-Y', 'message.text matches "^(a+)+!$"', file]);
  const shown = message.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; text: string });
  assert.deepEqual(shown.map((e) => [e.kind, e.text]), [['message', `${'a'.repeat(40)}!`]]);
});

test('end to end: 2,000 parentheses and 10,000 ! are a usage error (exit 2, one line), not a crash', { skip: !exists(MESSENGER) }, () => {
  const inputs: [string, number][] = [[nested(2000), MAX_NESTING + 1], [`${'!'.repeat(10_000)}udp`, MAX_NESTING + 1]];
  for (const [filter, column] of inputs) {
    for (const command of ['read', 'timeline', 'stats']) {
      const r = cli([command, '-Y', filter, MESSENGER]);
      assert.equal(r.status, 2, `${command}: ${r.stderr.slice(0, 200)}`);
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, command);
      assert.ok(lines[0]!.startsWith(`msgscope: invalid display filter at column ${column}: the filter nests too deeply`), lines[0]!.slice(0, 120));
    }
  }
  const regex = cli(['read', '-Y', 'frame matches "(?<=x)y"', MESSENGER]);
  assert.equal(regex.status, 2);
  assert.match(regex.stderr, /^msgscope: invalid display filter at column 15: regular expression: RE2 does not support the lookbehind/);
});
