// A small seeded random number generator (sfc32) for deterministic benchmark captures, with
// the draws the generators need. Independent streams come from `fork(label)`, so adding draws
// to one traffic source does not change what the others produce.

function hash32(text, seed) {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export class Rng {
  constructor(seed, label = '') {
    this.a = hash32(label, seed);
    this.b = hash32(`${label}#b`, seed);
    this.c = hash32(`${label}#c`, seed);
    this.d = 1;
    this.seed = seed;
    this.label = label;
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  fork(label) {
    return new Rng((this.seed + Math.floor(this.next() * 0x7fffffff)) >>> 0, `${this.label}/${label}`);
  }

  /** Integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }

  range(lo, hi) {
    return lo + this.next() * (hi - lo);
  }

  /** Exponentially distributed with this mean (the gaps of a Poisson process). */
  exp(mean) {
    return -Math.log(1 - this.next()) * mean;
  }

  logUniform(lo, hi) {
    return Math.exp(this.range(Math.log(lo), Math.log(hi)));
  }

  chance(p) {
    return this.next() < p;
  }

  pick(items) {
    return items[this.int(items.length)];
  }

  /** One of `items` with probability proportional to `weight(item)`. */
  weighted(items, weight) {
    const total = items.reduce((s, x) => s + weight(x), 0);
    let r = this.next() * total;
    for (const item of items) {
      r -= weight(item);
      if (r < 0) return item;
    }
    return items[items.length - 1];
  }
}
