// SHA-1 (FIPS 180-4) in plain JavaScript, for the short messages of the timeline's flow ids
// (src/runner/flow-ids.ts: a few dozen bytes per new flow, two digests each). node:crypto's
// createHash costs about 1.5 µs a digest in set-up and native calls, several times the hashing
// of one or two blocks here; on spam-shaped traffic nearly every event opens a new flow.
// Not for secrets or long inputs: the message is walked byte by byte.

/** The message schedule, reused (digests are computed one at a time). */
const W = new Int32Array(80);

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/** The 20-byte SHA-1 digest of `data`'s first `length` bytes (length below 2^29). */
export function sha1(data: Uint8Array, length = data.length): Uint8Array {
  let h0 = 0x67452301;
  let h1 = 0xefcdab89 | 0;
  let h2 = 0x98badcfe | 0;
  let h3 = 0x10325476;
  let h4 = 0xc3d2e1f0 | 0;
  // The message, a 1 bit, zeros, and its length in bits in the last 8 bytes of the last block.
  const blocks = ((length + 8) >>> 6) + 1;
  for (let block = 0; block < blocks; block++) {
    const base = block * 64;
    for (let i = 0; i < 16; i++) {
      const at = base + i * 4;
      if (at + 3 < length) {
        W[i] = (data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!;
        continue;
      }
      let word = 0;
      for (let j = at; j < at + 4; j++) word = (word << 8) | (j < length ? data[j]! : j === length ? 0x80 : 0);
      W[i] = word;
    }
    if (block === blocks - 1) {
      W[14] = 0;
      W[15] = length * 8;
    }
    for (let t = 16; t < 80; t++) W[t] = rotl(W[t - 3]! ^ W[t - 8]! ^ W[t - 14]! ^ W[t - 16]!, 1);
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    // The four rounds of twenty steps, each with its function and constant.
    for (let t = 0; t < 20; t++) {
      const temp = (rotl(a, 5) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[t]!) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    for (let t = 20; t < 40; t++) {
      const temp = (rotl(a, 5) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[t]!) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    for (let t = 40; t < 60; t++) {
      const temp = (rotl(a, 5) + ((b & c) | (b & d) | (c & d)) + e + (0x8f1bbcdc | 0) + W[t]!) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    for (let t = 60; t < 80; t++) {
      const temp = (rotl(a, 5) + (b ^ c ^ d) + e + (0xca62c1d6 | 0) + W[t]!) | 0;
      e = d;
      d = c;
      c = rotl(b, 30);
      b = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  const out = new Uint8Array(20);
  const view = new DataView(out.buffer);
  view.setInt32(0, h0);
  view.setInt32(4, h1);
  view.setInt32(8, h2);
  view.setInt32(12, h3);
  view.setInt32(16, h4);
  return out;
}
