// Near-duplicate texts: MinHash signatures over word shingles, and an LSH index that finds the
// earlier signatures likely to be similar to a new one (rspamd's fuzzy hashes work the same way).
// Pop-up spam is short, which rules out TLSH/ssdeep (they need 50+ bytes of varied input); word
// bigrams of the masked text work on a dozen words.

/** Hash functions per signature. */
export const SIGNATURE_SIZE = 64;
/** LSH bands × rows = SIGNATURE_SIZE. 16 bands of 4 rows: a pair at Jaccard 0.5 shares a band with probability 0.65, at 0.7 with 0.98. */
export const BANDS = 16;
export const ROWS = SIGNATURE_SIZE / BANDS;
/** Estimated Jaccard similarity at or above which two templates are near-duplicates. */
export const DEFAULT_SIMILARITY = 0.5;

export type Signature = Uint32Array;

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function hashString(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** MurmurHash3's finaliser: a bijection on 32-bit integers that mixes every bit. */
export function mix(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

// One seed per hash function, fixed so signatures stored in a database compare across runs.
const SEEDS = Uint32Array.from({ length: SIGNATURE_SIZE }, (_, i) => mix(0x9e3779b9 ^ Math.imul(i + 1, 0x7feb352d)));

/** Word bigrams (a single token stands for itself), hashed. Duplicates are harmless to MinHash. */
export function shingles(tokens: readonly string[]): number[] {
  if (tokens.length === 0) return [];
  if (tokens.length === 1) return [hashString(tokens[0]!)];
  const out: number[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(hashString(tokens[i + 1]!, hashString(tokens[i]!) ^ 0x20));
  return out;
}

/** The MinHash signature of a shingle set: per hash function, the smallest hash of any shingle. */
export function signature(shingleHashes: readonly number[]): Signature {
  const sig = new Uint32Array(SIGNATURE_SIZE).fill(0xffffffff);
  for (const s of shingleHashes) {
    for (let i = 0; i < SIGNATURE_SIZE; i++) {
      const h = mix(s ^ SEEDS[i]!);
      if (h < sig[i]!) sig[i] = h;
    }
  }
  return sig;
}

/** Estimated Jaccard similarity: the share of hash functions whose minimum agrees. */
export function similarity(a: Signature, b: Signature): number {
  let same = 0;
  for (let i = 0; i < SIGNATURE_SIZE; i++) if (a[i] === b[i]) same++;
  return same / SIGNATURE_SIZE;
}

/** The band keys of a signature: band number and a hash of its rows. */
export function bandKeys(sig: Signature): number[] {
  const keys: number[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h = mix(b + 1);
    for (let r = 0; r < ROWS; r++) h = mix(h ^ sig[b * ROWS + r]!);
    keys.push(h);
  }
  return keys;
}

/**
 * Signatures indexed by band: candidates for a new signature are those sharing at least one
 * band. Entries are removed when their owner is forgotten, so the index stays as large as the
 * set of live items.
 */
export class LshIndex {
  private readonly bands: Map<number, number[]>[] = Array.from({ length: BANDS }, () => new Map());

  add(id: number, keys: readonly number[]): void {
    for (let b = 0; b < BANDS; b++) {
      const map = this.bands[b]!;
      const list = map.get(keys[b]!);
      if (list === undefined) map.set(keys[b]!, [id]);
      else list.push(id);
    }
  }

  remove(id: number, keys: readonly number[]): void {
    for (let b = 0; b < BANDS; b++) {
      const map = this.bands[b]!;
      const list = map.get(keys[b]!);
      if (list === undefined) continue;
      const at = list.indexOf(id);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) map.delete(keys[b]!);
    }
  }

  /** Ids sharing a band with `keys`, each once, at most `limit` of them (bounded work per lookup). */
  candidates(keys: readonly number[], limit = 256): number[] {
    const seen = new Set<number>();
    for (let b = 0; b < BANDS && seen.size < limit; b++) {
      const list = this.bands[b]!.get(keys[b]!);
      if (list === undefined) continue;
      // The most recent entries are the likeliest to belong to a live wave.
      for (let i = list.length - 1; i >= 0 && seen.size < limit; i--) seen.add(list[i]!);
    }
    return [...seen];
  }
}
