// Refusals the MSNP server answers with (issue 13): a CAL refused with 217 (offline) or
// 205/207/208 carries the refusal in its timeline invite, as `read -V` shows it; a VER refused
// with the failure marker 0 lists what the client offered, never the 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFrames, eth, ipv4, tcp, type FrameInput } from './capture-builders.js';
import type { SessionEvent } from '../src/model/events.js';

/** One TCP conversation client 10.0.0.1:40000 ↔ server 10.0.0.2:1863, handshake first, one segment per line. */
function conversation(lines: [fromClient: boolean, text: string][]): FrameInput[] {
  const seq = [1000, 5000];
  const frames: FrameInput[] = [];
  const send = (fromClient: boolean, text: string, flags: number): void => {
    const payload = new TextEncoder().encode(text);
    const i = fromClient ? 0 : 1;
    const seg = tcp({ sp: fromClient ? 40000 : 1863, dp: fromClient ? 1863 : 40000, seq: seq[i]!, ack: seq[1 - i]!, flags }, payload);
    seq[i]! += payload.length + ((flags & 0x02) !== 0 ? 1 : 0);
    frames.push({ data: eth(0x0800, ipv4({ src: fromClient ? [10, 0, 0, 1] : [10, 0, 0, 2], dst: fromClient ? [10, 0, 0, 2] : [10, 0, 0, 1], proto: 6 }, seg)) });
  };
  send(true, '', 0x02);
  send(false, '', 0x12);
  send(true, '', 0x10);
  for (const [c, text] of lines) send(c, text, 0x18);
  return frames;
}

const sessions = (inputs: FrameInput[]): SessionEvent[] => decodeFrames(inputs).events.filter((e): e is SessionEvent => e.kind === 'session');

test('CAL refused (217, 205, 208) and CAL ringing: each invite carries its answer frame and result', () => {
  const got = sessions(conversation([
    [true, 'USR 1 alice@example.com 17262740.1050826919.32308\r\n'], [false, 'USR 1 OK alice@example.com Alice\r\n'],
    [true, 'CAL 2 bob@example.com\r\n'], [false, '217 2\r\n'],
    [true, 'CAL 3 nobody@example.com\r\n'], [false, '205 3\r\n'],
    [true, 'CAL 4 bad..handle\r\n'], [false, '208 4\r\n'],
    [true, 'CAL 5 carol@example.com\r\n'], [false, 'CAL 5 RINGING 11752013\r\n'],
    [true, 'CAL 6 dave@example.com\r\n'],
  ])).filter((e) => e.action === 'invite');
  assert.deepEqual(got.map((e) => [e.frames, e.details?.['user'], e.details?.['result'], e.details?.['code'], e.details?.['error']]), [
    [[6, 7], 'bob@example.com', 'refused', 217, 'ERR_USER_NOT_ONLINE'],
    [[8, 9], 'nobody@example.com', 'refused', 205, 'ERR_INVALID_USER'],
    [[10, 11], 'bad..handle', 'refused', 208, 'ERR_INVALID_USERNAME'],
    [[12, 13], 'carol@example.com', 'ringing', undefined, undefined],
    // unanswered when the capture ends: the invite alone
    [[14], 'dave@example.com', undefined, undefined, undefined],
  ]);
  assert.ok(got.every((e) => e.src === '10.0.0.1:40000'), 'an invite is the client\'s, whatever frame answered it');
});

test('VER refused with the failure marker 0: offered lists the client\'s versions, not the 0', () => {
  const refused = sessions(conversation([[true, 'VER 1 MSNP8 MSNP9 CVR0\r\n'], [false, 'VER 1 0\r\n']])).find((e) => e.action === 'refused');
  assert.ok(refused !== undefined);
  assert.deepEqual(refused.details?.['offered'], ['MSNP8', 'MSNP9']);
  const serverOnly = sessions(conversation([[false, 'VER 1 0\r\n']])).find((e) => e.action === 'refused');
  assert.equal(serverOnly?.details?.['offered'], undefined, 'the client\'s VER is not in the capture: nothing offered is known');
});
