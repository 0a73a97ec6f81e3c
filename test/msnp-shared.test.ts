// MSNP's tables shared across connections: the referral looked up by server and client must be
// the one a scan of every referral would find, whatever the order, repeats and evictions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MsnpShared, type Referral } from '../src/protocols/msnp/shared.js';

function referral(frame: number, clientIp: string, address: string, cookie: string): Referral {
  return { kind: 'XFR', type: 'SB', address, cookie, clientIp, frame, login: undefined, version: undefined };
}

test('referralTo finds the latest referral to that server for that client made by the frame, as a scan of the table would', () => {
  const clients = ['10.0.0.1', '10.0.0.2', '10.0.0.3'];
  const servers = ['207.46.0.1:1863', '207.46.0.2:1863', '[2001:db8::1]:1863'];
  const step = fc.record({ client: fc.nat(2), server: fc.nat(2), cookie: fc.nat(50), gap: fc.nat(3) });
  fc.assert(
    fc.property(fc.oneof(fc.array(step, { maxLength: 50 }), fc.array(step, { minLength: 4090, maxLength: 4400 })), fc.nat(2), fc.nat(2), fc.nat(20_000), (steps, c, s, at) => {
      const shared = new MsnpShared();
      const added: Referral[] = [];
      let frame = 1;
      for (const x of steps) {
        frame += x.gap;
        const r = referral(frame, clients[x.client]!, servers[x.server]!, String(x.cookie));
        shared.addReferral(r);
        added.push(r);
      }
      // What the table keeps: the newest 4,096.
      const kept = added.slice(-4096);
      const scan = [...kept].reverse().find((r) => r.frame <= at && r.clientIp === clients[c] && r.address === servers[s]);
      assert.equal(shared.referralTo(servers[s]!, clients[c]!, at), scan);
      // A cookie names its newest referral among those kept.
      const cookie = String(steps[0]?.cookie ?? 0);
      assert.equal(shared.referralByCookie(cookie), [...kept].reverse().find((r) => r.cookie === cookie));
    }),
    { seed: 20261201, numRuns: 60, endOnFailure: true },
  );
});
