// The finish of every view: filter errors and exit statuses, CSV quoting and formula safety,
// escape-sequence neutralisation (hostile text from the wire never reaches the terminal raw),
// width-aware truncation, colour, --help examples and shell completion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, exists, FIXTURES } from './helpers.js';
import { csvField, displayWidth, escapeText, fitWidth } from '../src/output/escape.js';
import { summaryLine } from '../src/output/packet-view.js';
import { makeStyle } from '../src/output/style.js';
import { eventCsvRow, eventTextLine } from '../src/output/event-view.js';
import type { TimelineEvent } from '../src/model/events.js';

const MSRP = join(FIXTURES, 'msrp-udp.pcap');
const SMB = join(FIXTURES, 'smb-d0.pcap');

test('a bad filter: one line naming the column, exit status 2, nothing on stdout', () => {
  for (const command of ['read', 'timeline', 'stats']) {
    const r = cli([command, '-Y', 'ip.src == 1.2.3.4 &&', SMB]);
    assert.equal(r.status, 2, `${command}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^msgscope: invalid display filter at column 21: /);
  }
  const unknown = cli(['read', '-Y', 'smb.comand == 0xd0', SMB]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /column 1: unknown field 'smb.comand'/);
  const timeline = cli(['timeline', '-Y', 'message.txt contains "x"', SMB]);
  assert.equal(timeline.status, 2);
  assert.match(timeline.stderr, /unknown event field 'message.txt'/);
});

test('exit status: 0 ok, 2 usage or input errors, 1 with --fail-on-error when error findings are shown', () => {
  assert.equal(cli(['read', SMB]).status, 0);
  assert.equal(cli(['read', join(FIXTURES, 'does-not-exist.pcap')]).status, 2);
  assert.equal(cli(['read', '--format', 'yaml', SMB]).status, 2);
  assert.equal(cli(['nosuchcommand']).status, 2);
  const bad = join(mkdtempSync(join(tmpdir(), 'msgscope-')), 'junk.pcap');
  writeFileSync(bad, 'this is not a capture');
  assert.equal(cli(['stats', bad]).status, 2);
  // smb-d0-error holds a message refused by the server; find a capture with error findings.
  const candidates = ['msrp-malformed.pcap', 'smb-d0-error.pcap', 'smb-short.pcap'].map((n) => join(FIXTURES, n)).filter(exists);
  let sawError = false;
  for (const path of candidates) {
    const ndjson = cli(['read', '-q', '--format', 'ndjson', path]).stdout;
    const hasError = ndjson.split('\n').some((l) => l !== '' && (JSON.parse(l) as { findings: { severity: string }[] }).findings.some((x) => x.severity === 'error'));
    const r = cli(['read', '-q', '--fail-on-error', path]);
    assert.equal(r.status, hasError ? 1 : 0, path);
    // Without the flag findings never change the status; filtered out they do not count.
    assert.equal(cli(['read', '-q', path]).status, 0);
    assert.equal(cli(['read', '-q', '--fail-on-error', '-Y', '!expert', path]).status, 0);
    if (hasError) sawError = true;
  }
  assert.ok(sawError, 'a fixture with an error-severity finding');
});

const hostile: TimelineEvent = {
  kind: 'message', tsSec: 1066122721, tsNsec: 0, frames: [1], protocol: 'smb', transport: 'tcp/nbss/smb', src: '10.0.0.1:1042', dst: '10.0.0.2:139',
  from: '=cmd|\' /C calc\'!A0', to: ['\u202eREVERSED', 'a,b'], text: 'red \u001b[31mALERT\u001b[0m\u0007 "quoted"\r\nline2 \u009b2J', status: 'ok', findings: [],
};

test('escape sequences, bidi overrides and bells from the wire are neutralised in text output', () => {
  const line = eventTextLine(hostile, makeStyle(false));
  assert.doesNotMatch(line, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
  assert.match(line, /\\x1b\[31mALERT/);
  assert.match(line, /\\x07/);
  assert.match(line, /\\u\{202e\}REVERSED/);
  assert.match(line, /\\r\\nline2/);
  assert.match(line, /\\x9b2J/);
  const summary = summaryLine({ no: 1, time: '0.000000', src: '10.0.0.1', dst: '10.0.0.2', protocol: 'SMB', length: 60, info: 'x\u001b]0;owned\u0007' }, makeStyle(false), undefined);
  assert.doesNotMatch(summary, /[\u001b\u0007]/);
  assert.equal(escapeText('plain text'), 'plain text');
});

test('CSV: RFC 4180 quoting and spreadsheet formula neutralisation', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('=1+1'), "'=1+1");
  assert.equal(csvField('+1'), "'+1");
  assert.equal(csvField('-2'), "'-2");
  assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvField('=HYPERLINK("http://x","y")'), '"\'=HYPERLINK(""http://x"",""y"")"');
  assert.equal(csvField(' padded '), '" padded "');
  assert.equal(csvField(42), '42');
  assert.equal(csvField(undefined), '');
  const row = eventCsvRow(hostile);
  assert.ok(!row.includes('\n') && !row.includes('\r') && !row.includes('\u001b'), row);
  const cells = parseCsvRow(row);
  assert.equal(cells[6], "'=cmd|' /C calc'!A0");
  assert.equal(cells[7], '\\u{202e}REVERSED;a,b');
  assert.match(cells[8]!, /^red \\x1b\[31mALERT/);
});

/** A minimal RFC 4180 parser for one row (the test's own, to read back what we wrote). */
function parseCsvRow(row: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= row.length) {
    if (row[i] === '"') {
      let cell = '';
      i++;
      for (;;) {
        if (row[i] === '"' && row[i + 1] === '"') {
          cell += '"';
          i += 2;
        } else if (row[i] === '"') {
          i++;
          break;
        } else cell += row[i++];
      }
      out.push(cell);
      i++;
    } else {
      const end = row.indexOf(',', i);
      out.push(row.slice(i, end < 0 ? row.length : end));
      i = end < 0 ? row.length + 1 : end + 1;
    }
  }
  return out;
}

test('timeline --format csv from a real capture parses back to the events', { skip: !exists(MSRP) }, () => {
  const csv = cli(['timeline', '-q', '--format', 'csv', MSRP]);
  assert.equal(csv.status, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines[0], 'time,kind,protocol,transport,src,dst,from,to,text,status,error,frames,findings');
  const ndjson = cli(['timeline', '-q', '--format', 'ndjson', MSRP]).stdout.trim().split('\n').map((l) => JSON.parse(l) as { kind: string; text?: string });
  assert.equal(lines.length - 1, ndjson.length);
  const firstMessage = ndjson.findIndex((e) => e.kind === 'message');
  assert.ok(firstMessage >= 0);
  assert.equal(parseCsvRow(lines[firstMessage + 1]!)[8], ndjson[firstMessage]!.text);
});

test('hostile text in a capture never reaches the terminal raw (read -V, timeline, CSV)', { skip: !exists(MSRP) }, () => {
  const original = readFileSync(MSRP);
  const at = original.indexOf(Buffer.from('backup finished'));
  assert.ok(at > 0);
  const patched = Buffer.from(original);
  patched[at] = 0x1b; // ESC
  patched[at + 1] = 0x07; // BEL
  const path = join(mkdtempSync(join(tmpdir(), 'msgscope-')), 'hostile.pcap');
  writeFileSync(path, patched);
  for (const args of [['timeline', path], ['read', '-V', path], ['read', path], ['timeline', '--format', 'csv', path], ['stats', path]]) {
    const r = cli([...args, '-q']);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /[\u001b\u0007]/, args.join(' '));
  }
  assert.match(cli(['timeline', '-q', path]).stdout, /\\x1b\\x07ckup finished/);
});

test('width-aware truncation counts terminal columns and never cuts a colour sequence', () => {
  assert.equal(displayWidth('abc'), 3);
  assert.equal(displayWidth('漢字'), 4);
  assert.equal(fitWidth('abcdef', 4), 'abc…');
  assert.equal(fitWidth('漢字漢字', 5), '漢字…');
  assert.equal(fitWidth('short', 10), 'short');
  const style = makeStyle(true);
  const line = summaryLine({ no: 1, time: '0.000000', src: '10.0.0.1', dst: '10.0.0.2', protocol: 'SMB', length: 60, info: 'x'.repeat(200) }, style, 80, 'error');
  const plain = line.replace(/\u001b\[[0-9;]*m/g, '');
  assert.equal(displayWidth(plain), 80);
  assert.ok(plain.endsWith('…'));
  assert.match(line, /\u001b\[31m/, 'error frames are red');
  const wide = summaryLine({ no: 1, time: '0.000000', src: '10.0.0.1', dst: '10.0.0.2', protocol: 'SMB', length: 60, info: 'x'.repeat(200) }, makeStyle(false), undefined);
  assert.ok(wide.endsWith('x'.repeat(200)));
});

test('--color forces colour into a pipe, --no-color and NO_COLOR keep it out', { skip: !exists(SMB) }, () => {
  assert.match(cli(['read', '--color', SMB]).stdout, /\u001b\[/);
  assert.doesNotMatch(cli(['read', '--no-color', SMB]).stdout, /\u001b\[/);
  assert.doesNotMatch(cli(['read', SMB]).stdout, /\u001b\[/);
});

test('every command has --help with examples; shell completion comes from yargs', () => {
  for (const command of ['read', 'timeline', 'stats', 'live', 'fields']) {
    const r = cli([command, '--help']);
    assert.equal(r.status, 0, command);
    assert.match(r.stdout, /Examples:/, command);
  }
  const top = cli(['--help']);
  assert.match(top.stdout, /stats \[captures\.\.\]/);
  assert.match(top.stdout, /Exit status/);
  const completion = cli(['completion']);
  assert.equal(completion.status, 0);
  assert.match(completion.stdout, /complete/);
  const words = cli(['--get-yargs-completions', 'msgscope', 's']);
  assert.match(words.stdout, /stats/);
});

test('fields: the catalogue lists frame and expert pseudo-fields, value names, and event fields', () => {
  const frame = cli(['fields', 'frame']);
  assert.match(frame.stdout, /frame\.time_relative\s+float/);
  const ip = cli(['fields', 'ip']);
  assert.match(ip.stdout, /ip\.addr .*matches ip\.src or ip\.dst/);
  const csv = cli(['fields', '--format', 'csv', 'udp']);
  assert.match(csv.stdout.split('\n')[0]!, /^protocol,name,type,label,description$/);
  const events = cli(['fields', '--events']);
  assert.match(events.stdout, /^message\.text$/m);
  assert.equal(cli(['fields', 'nosuch']).status, 2);
  const json = JSON.parse(cli(['fields', '--format', 'json', 'ip']).stdout) as { fields: { values?: Record<string, string> }[] }[];
  assert.ok(json[0]!.fields.some((x) => x.values !== undefined));
});

test('progress: silent for the first second, then a bar sized to the terminal, erased when done', async () => {
  const { Progress } = await import('../src/output/progress.js');
  const writes: string[] = [];
  const stream = { columns: 60, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
  const progress = new Progress('big.pcap', 1000, stream);
  progress.update(100);
  assert.equal(writes.length, 0, 'nothing before a second has passed');
  await new Promise((resolve) => setTimeout(resolve, 1050));
  progress.update(500);
  assert.equal(writes.length, 1);
  assert.match(writes[0]!, /^\rbig\.pcap \[#+\.+\]  50% /);
  assert.ok(writes[0]!.replace('\x1b[K', '').length <= 60);
  progress.done();
  assert.equal(writes[1], '\r\x1b[K');
  const quick = new Progress('small.pcap', 10, stream);
  quick.done();
  assert.equal(writes.length, 2, 'a bar never drawn is not erased');
});
