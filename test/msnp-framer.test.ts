// Unit tests: MSNP framing rules, payload parsing (MIME, P2P, SLP, XML), challenge answers,
// version inference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frameCommand, MAX_PAYLOAD } from '../src/protocols/msnp/parse.js';
import { paramNames, payloadIndex } from '../src/protocols/msnp/commands.js';
import { parseImFormat, parseMime, parseP2pV1, parseSlp, summariseXml, urlDecode, parseRouted, addressHandle } from '../src/protocols/msnp/mime.js';
import { interpretPayload } from '../src/protocols/msnp/payload.js';
import { checkChallenge, msnp11Answer } from '../src/protocols/msnp/challenge.js';
import { evidenceFor, VersionRange } from '../src/protocols/msnp/version.js';
import { looksLikeMsnp } from '../src/protocols/msnp/register.js';
import { looksLikeGateway, gatewayQuery, messengerHeader } from '../src/protocols/msnp/http.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('a payload command waits for its whole payload, then frames exactly its length', () => {
  const body = 'MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi';
  const whole = enc(`MSG 1 U ${body.length}\r\n${body}ACK 1\r\n`);
  const partial = frameCommand(whole.subarray(0, 20), 'c', 11, true);
  assert.equal(partial.kind, 'need');
  assert.equal(partial.kind === 'need' ? partial.cmd?.payloadLength : -1, body.length);
  const r = frameCommand(whole, 'c', 11, true);
  assert.equal(r.kind, 'command');
  if (r.kind !== 'command') return;
  assert.equal(r.cmd.total, `MSG 1 U ${body.length}\r\n`.length + body.length);
  // The next command follows the payload directly.
  const next = frameCommand(whole.subarray(r.cmd.total), 's', 11, true);
  assert.equal(next.kind === 'command' ? next.cmd.line : '', 'ACK 1');
});

test('binary payloads (NUL bytes, CRLF inside) are framed by length only', () => {
  const payload = Uint8Array.from([0, 1, 2, 0x0d, 0x0a, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]);
  const buf = new Uint8Array([...enc(`MSG bob@example.com Bob ${payload.length}\r\n`), ...payload, ...enc('BYE bob@example.com\r\n')]);
  const r = frameCommand(buf, 's', 9, true);
  assert.equal(r.kind, 'command');
  if (r.kind !== 'command') return;
  assert.deepEqual([...buf.subarray(r.cmd.lineLength, r.cmd.total)], [...payload]);
});

test('framing depends on direction, version and form, never on a trailing number', () => {
  // QRY: payload client→server only.
  assert.equal(payloadIndex('QRY', 'c', ['5', 'PROD0090YUAUV{2B', '32'], 11), 2);
  assert.equal(payloadIndex('QRY', 's', ['5'], 11), -1);
  // GCF: request has no payload; answer has one (file form ≤12, bare length 13+).
  assert.equal(payloadIndex('GCF', 'c', ['7', 'Shields.xml'], 11), -1);
  assert.equal(payloadIndex('GCF', 's', ['7', 'Shields.xml', '200'], 11), 2);
  assert.equal(payloadIndex('GCF', 's', ['0', '200'], 13), 1);
  // ADL trid OK has none; ADL 0 len (async) and the client's ADL trid len have one.
  assert.equal(payloadIndex('ADL', 's', ['4', 'OK'], 13), -1);
  assert.equal(payloadIndex('ADL', 's', ['0', '77'], 13), 1);
  assert.equal(payloadIndex('ADL', 'c', ['4', '77'], 13), 1);
  // UUX: client payload, server "UUX trid 0" is not one.
  assert.equal(payloadIndex('UUX', 'c', ['6', '54'], 11), 1);
  assert.equal(payloadIndex('UUX', 's', ['6', '0'], 11), -1);
  // Trailing-digit traps: NLN client IDs and CHG capabilities are not lengths.
  assert.equal(payloadIndex('NLN', 's', ['NLN', 'bob@example.com', 'Bob', '268435456'], 8), -1);
  assert.equal(payloadIndex('CHG', 'c', ['9', 'NLN', '268435456'], 8), -1);
  assert.equal(payloadIndex('IRO', 's', ['1', '1', '1', 'bob@example.com', 'Bob', '1074004004:0'], 18), -1);
  // Errors carry XML payloads from MSNP13 only.
  assert.equal(payloadIndex('241', 's', ['5', '60'], 15), 1);
  assert.equal(payloadIndex('241', 's', ['5', '60'], 8), -1);
  assert.equal(payloadIndex('201', 's', ['5'], 15), -1);
});

test('a bare LF is accepted and flagged', () => {
  const r = frameCommand(enc('BYE bob@example.com\nJOI x y\r\n'), 's', 2, true);
  assert.equal(r.kind, 'command');
  if (r.kind !== 'command') return;
  assert.equal(r.cmd.bareLf, true);
  assert.equal(r.cmd.lineLength, 'BYE bob@example.com\n'.length);
});

test('garbage is skipped to the next line; resync accepts only known commands', () => {
  const r = frameCommand(enc('\x00\x01junk\r\nQNG 50\r\n'), 's', 11, true);
  assert.equal(r.kind, 'garbage');
  assert.equal(r.kind === 'garbage' ? r.skip : 0, '\x00\x01junk\r\n'.length);
  // Payload text that looks like a line: "ABC def" is not a known command while resynchronising.
  assert.equal(frameCommand(enc('ABC def\r\n'), 's', 11, false).kind, 'garbage');
  assert.equal(frameCommand(enc('ABC def\r\n'), 's', 11, true).kind, 'command');
  assert.equal(frameCommand(enc('MIME-Version: 1.0\r\n'), 's', 11, true).kind, 'garbage');
});

test('bad and oversized lengths are reported, not trusted', () => {
  const bad = frameCommand(enc('MSG 3 U abc\r\n'), 'c', 8, true);
  assert.equal(bad.kind, 'command');
  assert.equal(bad.kind === 'command' ? bad.cmd.badLength : '', 'abc');
  const huge = frameCommand(enc(`MSG 3 U ${MAX_PAYLOAD + 1}\r\n`), 'c', 8, true);
  assert.equal(huge.kind, 'garbage');
  // A line with no end within the limit is garbage, not an unbounded wait.
  const long = new Uint8Array(20000).fill(0x41);
  long.set(enc('MSG '), 0);
  assert.equal(frameCommand(long, 'c', 8, true).kind, 'garbage');
});

test('parameter names follow the version', () => {
  assert.deepEqual(paramNames('NLN', 's', ['NLN', 'bob@example.com', 'Bob'], 2), ['status', 'handle', 'friendly']);
  assert.deepEqual(paramNames('NLN', 's', ['NLN', 'bob@example.com', 'Bob', '1', '0'], 9), ['status', 'handle', 'friendly', 'client_id', 'msnobj']);
  assert.deepEqual(paramNames('NLN', 's', ['NLN', 'bob@example.com', '1', 'Bob', '1', '0'], 14), ['status', 'handle', 'netid', 'friendly', 'client_id', 'msnobj']);
  assert.deepEqual(paramNames('USR', 'c', ['5', 'MD5', 'I', 'a@b.c'], 2), ['trid', 'auth_method', 'auth_stage', 'handle']);
  assert.deepEqual(paramNames('USR', 'c', ['11', 'a@b.c', '1.2.3'], 2), ['trid', 'handle', 'cookie']);
  assert.deepEqual(paramNames('RNG', 's', ['1', 'h:1863', 'CKI', 'c', 'a@b.c', 'A'], 2), ['sessid', 'address', 'security_package', 'cookie', 'caller', 'caller_friendly']);
  assert.deepEqual(paramNames('VER', 'c', ['1', 'MSNP8', 'MSNP9', 'CVR0'], undefined), ['trid', 'dialect', 'dialect', 'dialect']);
});

test('MIME: text/plain with X-MMS-IM-Format, UTF-8 body', () => {
  const payload = enc('MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Segoe%20UI; EF=B; CO=ff0000; CS=0; PF=0\r\n\r\nsalut ☺\r\nligne 2');
  const info = interpretPayload('MSG', payload);
  assert.equal(info.kind, 'chat');
  assert.equal(info.text, 'salut ☺\r\nligne 2');
  assert.equal(info.format?.font, 'Segoe UI');
  assert.equal(info.format?.color, 'ff0000');
  const mime = parseMime(payload);
  assert.equal(mime.charset, 'utf-8');
  assert.equal(mime.headers.length, 3);
  assert.deepEqual(parseImFormat('FN=Arial; EF=I'), { font: 'Arial', effects: 'I', color: undefined, charset: undefined, pitch: undefined, rtl: undefined });
});

test('MIME: typing, datacast nudge, invitation, e-mail notification', () => {
  assert.equal(interpretPayload('MSG', enc('MIME-Version: 1.0\r\nContent-Type: text/x-msmsgscontrol\r\nTypingUser: a@b.c\r\n\r\n\r\n')).typingUser, 'a@b.c');
  assert.equal(interpretPayload('MSG', enc('MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 1\r\n\r\n')).datacast?.name, 'nudge');
  assert.equal(interpretPayload('MSG', enc('MIME-Version: 1.0\r\nContent-Type: text/x-msnmsgr-datacast\r\n\r\nID: 2\r\n\r\n')).datacast?.name, 'wink');
  const inv = interpretPayload('MSG', enc('MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\nApplication-Name: File Transfer\r\nInvitation-Command: INVITE\r\nInvitation-Cookie: 7\r\n\r\n'));
  assert.deepEqual([inv.kind, inv.invite?.command, inv.invite?.application, inv.invite?.cookie], ['invite', 'INVITE', 'File Transfer', '7']);
  assert.equal(interpretPayload('MSG', enc('MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsactivemailnotification; charset=UTF-8\r\n\r\nSrc-Folder: ACTIVE\r\n\r\n')).kind, 'email');
});

test('P2P v1 binary header and MSNSLP INVITE', () => {
  const slp = enc('INVITE MSNMSGR:bob@example.com MSNSLP/1.0\r\nTo: <msnmsgr:bob@example.com>\r\nCall-ID: {1}\r\n\r\nEUF-GUID: {5D3E02AB-6190-11D3-BBBB-00C04F795683}\r\nSessionID: 9\r\n\r\n\0');
  const head = Buffer.alloc(48);
  head.writeUInt32LE(0, 0);
  head.writeUInt32LE(1234, 4);
  head.writeBigUInt64LE(BigInt(slp.length), 16);
  head.writeUInt32LE(slp.length, 24);
  head.writeUInt32LE(0x20, 28);
  head.writeUInt32LE(77, 32);
  const body = new Uint8Array([...head, ...slp, 0, 0, 0, 2]);
  const p = parseP2pV1(body);
  assert.notEqual(typeof p, 'string');
  if (typeof p === 'string') return;
  assert.deepEqual([p.identifier, p.length, p.flags, p.ackId, p.footer], [1234, slp.length, 0x20, 77, 2]);
  const s = parseSlp(p.data);
  assert.equal(s?.method, 'INVITE');
  assert.equal(s?.bodyHeaders.find((h) => h.name === 'EUF-GUID')?.value, '{5D3E02AB-6190-11D3-BBBB-00C04F795683}');
  assert.equal(typeof parseP2pV1(new Uint8Array(10)), 'string');
});

test('XML payload summaries and MSNP21 routing headers', () => {
  assert.equal(summariseXml('UBX', enc('<Data><PSM>a &amp; b</PSM><CurrentMedia></CurrentMedia></Data>')).psm, 'a & b');
  assert.match(summariseXml('ADL', enc('<ml><d n="x.com"><c n="a" l="3" t="1"/><c n="b" l="3" t="1"/></d></ml>')).summary, /2 contact\(s\) in 1 domain/);
  const r = parseRouted(enc('Routing: 1.0\r\nTo: 1:bob@x.com\r\nFrom: 1:a@x.com;epid={1}\r\n\r\nReliability: 1.0\r\n\r\nMessaging: 2.0\r\nMessage-Type: Text\r\n\r\nhello'));
  assert.equal(new TextDecoder().decode(r.body), 'hello');
  assert.equal(addressHandle('1:a@x.com;epid={1}'), 'a@x.com');
  assert.equal(urlDecode('Alice%20%E2%98%BA'), 'Alice ☺');
  assert.equal(urlDecode('100%'), '100%');
});

test('challenge answers: MSNP8 MD5 and MSNP11 algorithm (published examples)', () => {
  assert.equal(checkChallenge('22299241447072743325', 'msmsgs@msnmsgr.com', '20dba7e6e9817826b9cd5240cc8add99').state, 'ok');
  assert.equal(msnp11Answer('22940274951814684551', 'PROD0090YUAUV{2B', 'YMM8C_H7KCQ2S_KL'), 'ffeb4c3cf93db6a4b708b246baade0d9');
  assert.equal(checkChallenge('22940274951814684551', 'PROD0090YUAUV{2B', '00000000000000000000000000000000').state, 'wrong');
  assert.equal(checkChallenge('1', 'PROD9999UNKNOWN', 'x').state, 'unknown-client');
});

test('version inference narrows by command forms', () => {
  const r = new VersionRange();
  for (const e of evidenceFor('UBX', ['bob@example.com', '53'], 's')) r.apply(e);
  for (const e of evidenceFor('IRO', ['1', '1', '1', 'bob@example.com', 'Bob'], 's')) r.apply(e);
  assert.equal(r.text(), 'MSNP11');
  const s = new VersionRange();
  for (const e of evidenceFor('NLN', ['NLN', '1:bob@example.com', 'Bob', '1:0', '0'], 's')) s.apply(e);
  assert.equal(s.text(), 'MSNP18+');
});

test('detection by content: MSNP lines yes, HTTP and other text no; the gateway by its URL', () => {
  assert.equal(looksLikeMsnp(enc('VER 1 MSNP8 CVR0\r\n')), true);
  assert.equal(looksLikeMsnp(enc('NLN NLN bob@example.com Bob 0\r\n')), true);
  assert.equal(looksLikeMsnp(enc('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), false);
  assert.equal(looksLikeMsnp(enc('EHLO mail.example.com\r\n')), false);
  assert.equal(looksLikeMsnp(enc('USER anonymous\r\n')), false);
  assert.equal(looksLikeGateway(enc('POST http://gateway.messenger.hotmail.com/gateway/gateway.dll?Action=open&Server=NS&IP=1.2.3.4 HTTP/1.1\r\n')), true);
  assert.equal(looksLikeGateway(enc('POST /index.html HTTP/1.1\r\n')), false);
  assert.deepEqual({ ...gatewayQuery('/gateway/gateway.dll?Action=poll&SessionID=1.2') }, { Action: 'poll', SessionID: '1.2' });
  assert.deepEqual({ ...messengerHeader('SessionID=1.2; GW-IP=10.0.0.1; Session=close') }, { SessionID: '1.2', 'GW-IP': '10.0.0.1', Session: 'close' });
});

test('gateway query, X-MSN-Messenger and X-MMS-IM-Format keys from the wire are plain keys, never the prototype', () => {
  const q = gatewayQuery('/gateway/gateway.dll?__proto__=x&constructor=y&Action=open')!;
  assert.equal(Object.getPrototypeOf(q), null);
  assert.equal(q['__proto__'], 'x');
  assert.equal(q.constructor, 'y');
  assert.equal(q.Action, 'open');
  const h = messengerHeader('__proto__=1; SessionID=5; Session=close');
  assert.equal(h['__proto__'], '1');
  assert.equal(h.Session, 'close');
  assert.equal(parseImFormat('__PROTO__=z; FN=Arial').font, 'Arial');
});
