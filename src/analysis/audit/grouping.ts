// Grouping message texts into campaigns. Each distinct masked text is a template; a new template
// joins the cluster of an earlier one whose MinHash signature is similar enough (LSH finds the
// candidates), so a campaign is a cluster of templates. Memory grows with distinct templates, not
// with messages, and is capped: past the cap the oldest one-off templates (a single message, in no
// cluster) are forgotten first — a one-off stays a one-off.
import { createHash } from 'node:crypto';
import { bandKeys, DEFAULT_SIMILARITY, hashString, LshIndex, shingles, signature, similarity, type Signature } from './minhash.js';
import { render, tokens, type Masked, type Piece, type SlotKind } from './normalise.js';

/** Default bound on templates kept (about 2 KB each). */
export const DEFAULT_MAX_TEMPLATES = 50_000;
/** Texts shorter than this (in tokens) group only when identical after masking: a word or two in common says nothing. */
const MIN_NEAR_TOKENS = 4;
/** A representative text is kept up to this length. */
const MAX_REPRESENTATIVE = 2000;
/** Template merging (LCS) runs on texts of at most this many words; longer ones keep the first template. */
const MAX_MERGE = 200;

interface Template {
  readonly id: number;
  readonly key: string;
  readonly sig: Signature;
  readonly bands: number[];
  readonly tokenCount: number;
  /** Union-find parent (itself for a cluster root). */
  parent: number;
  count: number;
}

/** A cluster of templates, kept at its root template. */
export interface Cluster {
  readonly root: number;
  /** Messages in all its templates. */
  count: number;
  templates: number;
  /** Arrival number of its first message. */
  firstSeq: number;
  /** Whether its messages' texts differ at all (a template campaign) or are identical. */
  varied: boolean;
  firstTextHash: number;
  representative: string;
  pieces: Piece[];
  tail: string;
  slots: Set<SlotKind>;
  /** Signature of the first template, for matching campaigns across runs. */
  readonly signature: Signature;
  /** A stable name for the cluster: a hash of its first template's tokens. */
  readonly key: string;
}

export interface GroupingOptions {
  readonly maxTemplates: number;
  readonly similarity: number;
}

export const DEFAULT_GROUPING: GroupingOptions = { maxTemplates: DEFAULT_MAX_TEMPLATES, similarity: DEFAULT_SIMILARITY };

export class TemplateStore {
  private readonly templates = new Map<number, Template>();
  private readonly byKey = new Map<string, number>();
  private readonly clusters = new Map<number, Cluster>();
  private readonly lsh = new LshIndex();
  /** Templates that are a cluster of their own with one message, oldest first: what is forgotten first. */
  private readonly lonely = new Map<number, true>();
  private nextId = 0;
  /** Templates forgotten to stay within the bound. */
  evicted = 0;
  /** Messages whose new template could not be kept (every kept template belongs to a campaign). */
  overflow = 0;

  constructor(private readonly options: GroupingOptions = DEFAULT_GROUPING) {}

  get size(): number {
    return this.templates.size;
  }

  /**
   * Files a message text (masked by normalise.ts's `mask`) under its template and returns the
   * template id, or -1 for a text with no words (or one that could not be kept). `seq` is the
   * message's arrival number.
   */
  add(text: string, masked: Masked, seq: number): number {
    const toks = tokens(masked);
    if (toks.length === 0) return -1;
    const key = createHash('sha1').update(toks.join('\u0001')).digest('hex');
    const textHash = hashString(text);
    const known = this.byKey.get(key);
    if (known !== undefined) {
      const t = this.templates.get(known)!;
      this.bump(t, textHash);
      return t.id;
    }
    const sig = signature(shingles(toks));
    const bands = bandKeys(sig);
    const roots = toks.length >= MIN_NEAR_TOKENS ? this.similarRoots(sig, bands) : [];
    if (this.templates.size >= this.options.maxTemplates && !this.evictOne()) {
      // No room: the message still counts for the campaign it resembles, under that template.
      const root = roots[0];
      if (root === undefined) {
        this.overflow++;
        return -1;
      }
      const t = this.templates.get(root)!;
      this.bump(t, textHash);
      this.cluster(t).varied = true;
      return t.id;
    }
    const id = this.nextId++;
    const t: Template = { id, key, sig, bands, tokenCount: toks.length, parent: id, count: 1 };
    this.templates.set(id, t);
    this.byKey.set(key, id);
    if (toks.length >= MIN_NEAR_TOKENS) this.lsh.add(id, bands);
    const own: Cluster = {
      root: id, count: 1, templates: 1, firstSeq: seq, varied: false, firstTextHash: textHash,
      representative: text.length > MAX_REPRESENTATIVE ? `${text.slice(0, MAX_REPRESENTATIVE)}…` : text,
      pieces: [...masked.pieces], tail: masked.tail, slots: new Set(masked.slots), signature: sig, key: key.slice(0, 16),
    };
    this.clusters.set(id, own);
    if (roots.length === 0) {
      this.lonely.set(id, true);
      return id;
    }
    let root = id;
    for (const other of roots) root = this.union(root, other);
    return id;
  }

  /** The cluster a template belongs to now (undefined for a forgotten template). */
  clusterOf(templateId: number): Cluster | undefined {
    const t = this.templates.get(templateId);
    return t === undefined ? undefined : this.cluster(t);
  }

  /** Every cluster, in order of first message. */
  allClusters(): Cluster[] {
    return [...this.clusters.values()].sort((a, b) => a.firstSeq - b.firstSeq);
  }

  private cluster(t: Template): Cluster {
    return this.clusters.get(this.find(t.id))!;
  }

  private bump(t: Template, textHash: number): void {
    t.count++;
    const c = this.cluster(t);
    c.count++;
    if (textHash !== c.firstTextHash) c.varied = true;
    this.lonely.delete(c.root);
  }

  private find(id: number): number {
    let root = id;
    while (this.templates.get(root)!.parent !== root) root = this.templates.get(root)!.parent;
    // Path compression.
    let node = id;
    while (node !== root) {
      const t = this.templates.get(node)!;
      node = t.parent;
      t.parent = root;
    }
    return root;
  }

  /** Roots of the clusters whose templates resemble `sig`, earliest cluster first. */
  private similarRoots(sig: Signature, bands: readonly number[]): number[] {
    const roots = new Set<number>();
    for (const id of this.lsh.candidates(bands)) {
      const other = this.templates.get(id);
      if (other !== undefined && similarity(sig, other.sig) >= this.options.similarity) roots.add(this.find(id));
    }
    return [...roots].sort((a, b) => this.clusters.get(a)!.firstSeq - this.clusters.get(b)!.firstSeq);
  }

  /** Joins two clusters; the one with the earlier first message stays root. */
  private union(a: number, b: number): number {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return ra;
    const ca = this.clusters.get(ra)!;
    const cb = this.clusters.get(rb)!;
    const [keep, gone] = ca.firstSeq <= cb.firstSeq ? [ca, cb] : [cb, ca];
    this.templates.get(gone.root)!.parent = keep.root;
    keep.count += gone.count;
    keep.templates += gone.templates;
    keep.varied = true;
    for (const s of gone.slots) keep.slots.add(s);
    const merged = mergePieces(keep.pieces, gone.pieces);
    if (merged !== undefined) {
      keep.pieces = merged;
      if (keep.tail !== gone.tail) keep.tail = '';
    }
    this.clusters.delete(gone.root);
    this.lonely.delete(keep.root);
    this.lonely.delete(gone.root);
    return keep.root;
  }

  /** Forgets the oldest one-off template; false when there is none. */
  private evictOne(): boolean {
    const oldest = this.lonely.keys().next();
    if (oldest.done === true) return false;
    const id = oldest.value;
    this.lonely.delete(id);
    const t = this.templates.get(id)!;
    this.templates.delete(id);
    this.byKey.delete(t.key);
    this.lsh.remove(id, t.bands);
    this.clusters.delete(id);
    this.evicted++;
    return true;
  }
}

const WILDCARD: Piece = { sep: ' ', show: '<*>', key: '<*>' };

/**
 * Merges two masked texts into one template: words both share (in order, by longest common
 * subsequence) are kept, each run of words only one of them has becomes `<*>`.
 */
export function mergePieces(a: readonly Piece[], b: readonly Piece[]): Piece[] | undefined {
  if (a.length > MAX_MERGE || b.length > MAX_MERGE) return undefined;
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: LCS length of a[i..] and b[j..], flattened.
  const lcs = new Uint16Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * (m + 1) + j] = a[i]!.key === b[j]!.key && a[i]!.key !== '<*>' ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
    }
  }
  const out: Piece[] = [];
  let gap: Piece | undefined;
  const open = (p: Piece): void => {
    gap ??= { ...WILDCARD, sep: p.sep };
  };
  const close = (): void => {
    if (gap !== undefined) out.push(gap);
    gap = undefined;
  };
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i]!.key === b[j]!.key && a[i]!.key !== '<*>') {
      close();
      out.push(a[i]!);
      i++;
      j++;
    } else if (lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!) {
      open(a[i]!);
      i++;
    } else {
      open(b[j]!);
      j++;
    }
  }
  if (i < n) open(a[i]!);
  if (j < m) open(b[j]!);
  close();
  return out;
}

/** A cluster's template as text. */
export function templateText(c: Cluster): string {
  return render(c.pieces, c.tail);
}
