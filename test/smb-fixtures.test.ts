// The SMB messenger fixtures made by real software (smbclient -M and impacket against smbd,
// scripts/fixtures/smb-samba.sh): the timeline must show every message the sidecar says was
// sent, whole, with its sender, recipient, status and frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dissect, exists, FIXTURES, cli } from './helpers.js';
import type { MessageEvent, SessionEvent } from '../src/model/events.js';

interface SidecarMessage {
  protocol: string;
  from: string;
  to: string[];
  text: string;
  status: string;
  error?: string;
  frames: number[];
  calling_name?: string;
  called_name?: string;
  smb_commands?: string[];
  block_sizes?: number[];
  data_length_field?: number;
  response?: { status_type: string; dos_error?: { class: number; code: number } };
}

const NAMES = ['smb-short', 'smb-long', 'smb-crlf', 'smb-cp850', 'smb-unmappable', 'smb-burst', 'smb-d0', 'smb-d0-error', 'smb-d0-odd'];

function sidecar(name: string): { messages: SidecarMessage[] } {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as { messages: SidecarMessage[] };
}

/** The product shows the 0x14 line-break byte as \n (MS-MSRP 2.2.3.1.1); sidecars keep the raw byte. */
function shown(text: string): string {
  return text.replace(/\x14/g, '\n');
}

for (const name of NAMES) {
  test(`${name}: every message appears whole, as sent`, { skip: !exists(join(FIXTURES, `${name}.pcap`)) }, async () => {
    const side = sidecar(name);
    const out = await dissect(join(FIXTURES, `${name}.pcap`), { oemCodepage: 'cp850' });
    const messages = out.events.filter((e): e is MessageEvent => e.kind === 'message');
    assert.equal(messages.length, side.messages.length, 'one message event per message sent');
    for (const want of side.messages) {
      const got = messages.find((m) => m.from === want.from && m.text === shown(want.text));
      assert.ok(got !== undefined, `message from ${want.from} with text ${JSON.stringify(want.text)} missing; got ${JSON.stringify(messages.map((m) => [m.from, m.text]))}`);
      assert.equal(got.protocol, 'smb');
      assert.equal(got.transport, 'tcp/nbss/smb');
      assert.deepEqual(got.to, want.to);
      assert.equal(got.status, want.status);
      assert.deepEqual(got.frames, want.frames, `frames of ${want.from}`);
      assert.ok(got.dst.endsWith(':139'));
      if (want.smb_commands !== undefined) assert.deepEqual((got.details as { commands: string[] }).commands, want.smb_commands);
      if (want.called_name !== undefined) assert.equal((got.details as { calledName: string }).calledName, want.called_name);
      if (want.status === 'error' && want.response?.dos_error !== undefined) {
        assert.equal(got.error, 'ERRDOS/ERROR_REQ_NOT_ACCEP');
      }
      // Samba cuts text into 127-byte blocks: a SHOULD of MS-MSRP 3.2.4.4, reported as a note.
      if (want.block_sizes !== undefined && want.block_sizes.length > 1) {
        assert.ok(got.findings.some((x) => x.id === 'smb.mb.block-size' && x.spec === 'MS-MSRP 3.2.4.4'));
      }
      if (want.smb_commands?.[0] === '0xD5') {
        // Samba's START_MB response carries no MessageGroupId (WordCount 0): MS-MSRP 2.2.3.2.2 says 1.
        assert.ok(got.findings.some((x) => x.id === 'smb.startmb.no-group-id' && x.spec === 'MS-MSRP 2.2.3.2.2'));
      }
      if (want.data_length_field !== undefined && want.data_length_field > 128) {
        assert.ok(got.findings.some((x) => x.id === 'smb.msg.data-too-long'));
        assert.ok(got.findings.some((x) => x.id === 'smb.msg.datalength-mismatch'));
      }
    }
    // Each NBSS session request shows up with its names and outcome.
    const sessions = out.events.filter((e): e is SessionEvent => e.kind === 'session');
    for (const want of side.messages) {
      if (want.calling_name === undefined) continue;
      assert.ok(sessions.some((s) => (s.details as { calling: string }).calling === `${want.calling_name}<00>` && (s.details as { called: string }).called === 'MSGSRV<03>'),
        `session from ${want.calling_name}`);
    }
    for (const s of sessions) assert.ok(s.action === 'accepted' || s.action === 'open');
    // No frame of these captures trips an internal error.
    for (const fr of out.frames) assert.ok(!fr.findings.some((x) => x.id === 'msgscope.internal-error'), `frame ${fr.number}`);
  });
}

test('smb-d0-odd: the text over 128 bytes and the ByteCount disagreements are findings with their clause', { skip: !exists(join(FIXTURES, 'smb-d0-odd.pcap')) }, async () => {
  const out = await dissect(join(FIXTURES, 'smb-d0-odd.pcap'), { oemCodepage: 'cp850' });
  const byFrom = new Map(out.events.filter((e): e is MessageEvent => e.kind === 'message').map((m) => [m.from, m]));
  assert.ok(byFrom.get('TOOLONG')!.findings.some((x) => x.id === 'smb.msg.data-too-long' && x.spec === 'MS-MSRP 2.2.3.1.1'));
  assert.ok(byFrom.get('EXTRABYTES')!.findings.some((x) => x.id === 'smb.msg.bad-bytecount'));
  assert.equal(byFrom.get('PRENEG')!.status, 'no-response');
});

test('smb-crlf: CR LF instead of 0x14 is reported (MS-MSRP 2.2.3.3.1), the text keeps what was sent', { skip: !exists(join(FIXTURES, 'smb-crlf.pcap')) }, async () => {
  const out = await dissect(join(FIXTURES, 'smb-crlf.pcap'));
  const msg = out.events.find((e): e is MessageEvent => e.kind === 'message')!;
  assert.ok(msg.findings.some((x) => x.id === 'smb.msg.raw-line-break' && x.spec === 'MS-MSRP 2.2.3.3.1'));
  assert.ok(msg.text.includes('\r\n'));
});

test('smb-d0: 0x14 bytes are shown as line breaks', { skip: !exists(join(FIXTURES, 'smb-d0.pcap')) }, async () => {
  const out = await dissect(join(FIXTURES, 'smb-d0.pcap'));
  const msg = out.events.find((e): e is MessageEvent => e.kind === 'message' && e.from === 'LINESENDER')!;
  assert.equal(msg.text, 'line one\nline two\n\nline four');
});

test('smb-cp850: the OEM code page option decides how non-ASCII text reads', { skip: !exists(join(FIXTURES, 'smb-cp850.pcap')) }, async () => {
  const cp850 = await dissect(join(FIXTURES, 'smb-cp850.pcap'), { oemCodepage: 'cp850' });
  const cp437 = await dissect(join(FIXTURES, 'smb-cp850.pcap'));
  const a = cp850.events.find((e): e is MessageEvent => e.kind === 'message')!;
  const b = cp437.events.find((e): e is MessageEvent => e.kind === 'message')!;
  assert.equal(a.text, 'Grüße, café! Øre ½ naïve');
  // 0x9D is Ø in CP850 but ¥ in CP437.
  assert.ok(b.text.includes('¥') && !b.text.includes('Ø'));
});

test('read view: every NBSS/SMB frame is labelled as tshark labels it, with 0xD7 text decoded', { skip: !exists(join(FIXTURES, 'smb-long.pcap')) }, async () => {
  const out = await dissect(join(FIXTURES, 'smb-long.pcap'));
  const d7 = out.frames.filter((fr) => fr.fields['smb.cmd']?.[0] === 0xd7 && fr.fields['smb.flags.response']?.[0] === false);
  assert.equal(d7.length, 4);
  for (const fr of d7) {
    assert.deepEqual(fr.layers.slice(-2), ['nbss', 'smb']);
    assert.equal(fr.protocol, 'SMB');
    assert.match(fr.info, /^Send Text of Multi-block Message Request, Group ID: 0$/);
    assert.equal(fr.fields['smb.mgid']?.[0], 0);
    assert.ok(typeof fr.fields['smb.message']?.[0] === 'string' && (fr.fields['smb.message'][0] as string).length > 0);
  }
  const joined = d7.map((fr) => fr.fields['smb.message']![0]).join('');
  assert.ok(joined.startsWith('This is a long WinPopup message'));
});

test('msgscope timeline --format ndjson on a fixture prints the contract fields', { skip: !exists(join(FIXTURES, 'smb-short.pcap')) }, () => {
  const r = cli(['timeline', '--format', 'ndjson', '--oem-codepage', '850', join(FIXTURES, 'smb-short.pcap')]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const msg = lines.find((l) => l.kind === 'message')!;
  assert.equal(msg.protocol, 'smb');
  assert.equal(msg.transport, 'tcp/nbss/smb');
  assert.equal(msg.from, 'sender');
  assert.deepEqual(msg.to, ['MSGSRV']);
  assert.equal(msg.text, 'Hello from smbclient');
  assert.equal(msg.status, 'ok');
  assert.match(String(msg.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6,9}Z$/);
  const session = lines.find((l) => l.kind === 'session')!;
  assert.equal(session.action, 'accepted');
});
