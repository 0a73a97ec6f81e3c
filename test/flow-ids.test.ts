// Conversation ids and Community IDs: the published vectors of the spec, tshark's own
// communityid field on real captures, and the CLI's JSON output and event filter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import fc from 'fast-check';
import { join } from 'node:path';
import { communityId } from '../src/net/community-id.js';
import { conversationUid, parseEndpoint } from '../src/runner/flow-ids.js';
import { cli, FIXTURES, hasTshark, SAMPLES, uidByDefinition } from './helpers.js';

function addr(text: string): Uint8Array {
  const ep = parseEndpoint(text.includes(':') ? `[${text}]:0` : `${text}:0`);
  assert.ok(ep !== undefined, text);
  return ep.addr;
}

// corelight/community-id-spec baseline/baseline_deflt.json (seed 0, base64). For ICMP the
// vectors give the port equivalents; the type and code that produce them are passed here
// (type 135 with code 0 maps to ports 135/136, type 3 code 0 is one-way 3/0).
const VECTORS: [number, string, string, number | undefined, number | undefined, string][] = [
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 135, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 136, 0, '1:dGHyGvjMfljg6Bppwm3bg0LO8TY='],
  [58, 'fe80::260:97ff:fe07:69ea', 'fe80::200:86ff:fe05:80da', 135, 0, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, 'fe80::200:86ff:fe05:80da', 'fe80::260:97ff:fe07:69ea', 136, 0, '1:zavyT/cezQr1fmImYCwYnMXbgck='],
  [58, '3ffe:501:1800:2345::2', '3ffe:507:0:1:200:86ff:fe05:80da', 3, 0, '1:2ObVBgIn28oZvibYZhZMBgh7WdQ='],
  [58, '3ffe:501:410:0:2c0:dfff:fe47:33e', '3ffe:507:0:1:200:86ff:fe05:80da', 1, 4, '1:hLZd0XGWojozrvxqE0dWB1iM6R0='],
  [58, '3ffe:507:0:1:200:86ff:fe05:80da', '3ffe:501:0:1001::2', 128, 0, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, '3ffe:501:0:1001::2', '3ffe:507:0:1:200:86ff:fe05:80da', 129, 0, '1:+TW+HtLHvV1xnGhV1lv7XoJrqQg='],
  [58, 'fe80::200:86ff:fe05:80da', 'ff02::2', 133, 0, '1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0='],
  [58, 'fe80::260:97ff:fe07:69ea', 'ff02::1', 134, 0, '1:pkvHqCL88/tg1k4cPigmZXUtL00='],
  [1, '192.168.0.89', '192.168.0.1', 8, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '192.168.0.1', '192.168.0.89', 0, 0, '1:X0snYXpgwiv9TZtqg64sgzUn6Dk='],
  [1, '10.0.0.1', '10.0.0.2', 11, 0, '1:YHxtAirCG//0OzkcVAukqKQN9xM='],
  [6, '2001:470:e5bf:dead:4957:2174:e82c:4887', '2607:f8b0:400c:c03::1a', 63943, 25, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [6, '2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887', 25, 63943, '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='],
  [132, '192.168.170.8', '192.168.170.56', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [132, '192.168.170.56', '192.168.170.8', 7, 7, '1:MP2EtRCAUIZvTw6MxJHLV7N7JDs='],
  [6, '128.232.110.120', '66.35.250.204', 34855, 80, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [6, '66.35.250.204', '128.232.110.120', 80, 34855, '1:LQU9qZlK+B5F3KDmev6m5PMibrg='],
  [17, '192.168.1.52', '8.8.8.8', 54585, 53, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [17, '8.8.8.8', '192.168.1.52', 53, 54585, '1:d/FP5EW3wiY1vCndhwleRRKHowQ='],
  [46, '10.1.12.1', '10.1.12.2', undefined, undefined, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
  [46, '10.1.12.2', '10.1.12.1', undefined, undefined, '1:KHlLkgoJW7ifUTyTSgyVfkFHzKw='],
];

test('community ID: the spec baseline vectors', () => {
  for (const [proto, src, dst, srcPort, dstPort, expected] of VECTORS) {
    assert.equal(communityId({ proto, src: addr(src), dst: addr(dst), srcPort, dstPort }), expected, `${proto} ${src} ${dst} ${srcPort} ${dstPort}`);
  }
});

test('uid: one per flow whichever the direction, different per capture start and per flow', () => {
  const start = { tsSec: 1000, tsNsec: 5 };
  const ab = conversationUid(start, { transport: 'tcp/nbss', src: '10.0.0.1:1025', dst: '10.0.0.2:139' });
  assert.match(ab, /^C[0-9A-Za-z]{16}$/);
  assert.equal(conversationUid(start, { transport: 'tcp/nbss/smb', src: '10.0.0.2:139', dst: '10.0.0.1:1025' }), ab);
  assert.notEqual(conversationUid({ tsSec: 1001, tsNsec: 5 }, { transport: 'tcp/nbss', src: '10.0.0.1:1025', dst: '10.0.0.2:139' }), ab);
  assert.notEqual(conversationUid(start, { transport: 'udp/nbdgm', src: '10.0.0.1:1025', dst: '10.0.0.2:139' }), ab);
  assert.notEqual(conversationUid(start, { transport: 'tcp/nbss', src: '10.0.0.1:1026', dst: '10.0.0.2:139' }), ab);
});

interface EventLine {
  kind: string;
  frames: number[];
  src: string;
  dst: string;
  uid?: string;
  community_id?: string;
}

function events(args: string[]): EventLine[] {
  const r = cli(['timeline', '--format', 'ndjson', ...args]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as EventLine);
}

const CAPTURES = [join(SAMPLES, 'messenger-mix.pcapng'), join(FIXTURES, 'msrp-udp.pcap'), join(FIXTURES, 'msgsvc-smb2.pcap'), join(FIXTURES, 'mailslot-messngr.pcap')];

test('timeline JSON: every event has a uid, flows over IP a community_id equal to tshark\'s for its first frame', { skip: hasTshark() ? false : 'tshark is not installed' }, () => {
  for (const path of CAPTURES) {
    const t = spawnSync('tshark', ['--enable-protocol', 'communityid', '-r', path, '-T', 'fields', '-e', 'frame.number', '-e', 'communityid'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const byFrame = new Map<number, string>();
    for (const line of t.stdout.split('\n')) {
      const [frame, id] = line.split('\t');
      // A frame that quotes another (ICMP error) has two ids; the outer one is the frame's own flow.
      if (frame !== undefined && id !== undefined && id !== '') byFrame.set(Number(frame), id.split(',')[0]!);
    }
    const list = events([path]);
    assert.ok(list.length > 0, path);
    let compared = 0;
    for (const e of list) {
      assert.match(e.uid ?? '', /^C[0-9A-Za-z]{16}$/, `${path}: ${JSON.stringify(e)}`);
      if (e.kind === 'finding' || e.frames.length === 0 || e.community_id === undefined) continue;
      const expected = byFrame.get(e.frames[0]!);
      if (expected === undefined) continue;
      assert.equal(e.community_id, expected, `${path} frame ${e.frames[0]}`);
      compared++;
    }
    assert.ok(compared > 0, `${path}: no event compared with tshark`);
  }
});

test('uid and community_id: the same in a second run, shared by a flow\'s events, usable in -Y', () => {
  const path = join(SAMPLES, 'messenger-mix.pcapng');
  const first = events([path]);
  assert.deepEqual(events([path]).map((e) => e.uid), first.map((e) => e.uid));
  const message = first.find((e) => e.kind === 'message' && e.community_id !== undefined)!;
  const sameFlow = first.filter((e) => e.uid === message.uid);
  assert.ok(sameFlow.length > 1, 'a session and its message share the flow');
  for (const e of sameFlow) assert.equal(e.community_id, message.community_id);
  const byUid = events(['-Y', `uid == "${message.uid}"`, path]);
  assert.deepEqual(byUid.map((e) => e.frames), sameFlow.map((e) => e.frames));
  const byCommunity = events(['-Y', `community_id == "${message.community_id}"`, path]);
  assert.deepEqual(byCommunity.map((e) => e.frames), sameFlow.map((e) => e.frames));
});

// The uid's base 62 is long division on 32-bit words; this is the definition it must equal
// (helpers.ts: the first 12 bytes of the SHA-1 as one big-endian number, in base 62).
function referenceUid(start: string, proto: string, a: string, b: string): string {
  return uidByDefinition(`${start}|${proto}|${a}|${b}`);
}

test('uid: the base-62 digits equal the big-integer definition for any flow', () => {
  const endpoint = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 })).map(([ip, port]) => `${ip}:${port}`);
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 0, max: 999_999_999 }), fc.constantFrom('tcp', 'udp'), endpoint, endpoint, (tsSec, tsNsec, proto, src, dst) => {
      const [a, b] = src <= dst ? [src, dst] : [dst, src];
      assert.equal(conversationUid({ tsSec, tsNsec }, { transport: `${proto}/x`, src, dst }), referenceUid(`${tsSec}.${tsNsec}`, proto, a, b));
    }),
    { numRuns: 2000 },
  );
});
