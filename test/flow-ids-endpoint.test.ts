// parseEndpoint reads `a.b.c.d:port` without regular expressions: it must accept and reject
// exactly what the regular-expression reading (kept for everything else) does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseEndpoint } from '../src/runner/flow-ids.js';
import { parseIpv4, parseIpv6 } from '../src/filter/values.js';

/** The reading before the fast path, as it was. */
function reference(text: string): { addr: number[]; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const v4 = parseIpv4(m[1]!);
  if (v4 !== undefined) return { addr: [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255], port };
  let v6 = parseIpv6(m[1]!);
  if (v6 === undefined) return undefined;
  const addr: number[] = new Array<number>(16).fill(0);
  for (let i = 15; i >= 0; i--, v6 >>= 8n) addr[i] = Number(v6 & 255n);
  return { addr, port };
}

const plain = (e: ReturnType<typeof parseEndpoint>): { addr: number[]; port: number } | undefined => (e === undefined ? undefined : { addr: [...e.addr], port: e.port });

test('parseEndpoint: the same as the regular-expression reading, on endpoint-like text', () => {
  const digits = fc.stringMatching(/^[0-9]{0,7}$/);
  const near = fc.tuple(digits, digits, digits, digits, digits, fc.constantFrom('.', ':', '', '..', ' ', 'x'), fc.constantFrom(':', '.', '', '::'))
    .map(([a, b, c, d, p, s1, s2]) => `${a}.${b}${s1}${c}.${d}${s2}${p}`);
  const samples = fc.oneof(near, fc.string({ maxLength: 24 }), fc.constantFrom('[fe80::1]:1863', '1.2.3.4:0', '255.255.255.255:65535', '256.1.1.1:1', '1.2.3.4:65536', '01.002.3.4:00080', '1.2.3.4:', '1.2.3:4', ':1', '[::ffff:1.2.3.4]:5'));
  fc.assert(fc.property(samples, (text) => {
    assert.deepEqual(plain(parseEndpoint(text)), reference(text), text);
  }), { numRuns: 5000 });
});
