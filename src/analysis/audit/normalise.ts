// Message texts to templates: the variable parts of spam (links, e-mail addresses, phone numbers,
// numbers, and the recipient's or sender's own name pasted into the text) are masked into slots,
// and what is left is split into lower-case word tokens. Two messages with the same tokens are the
// same template; near-duplicates are found from the tokens' shingles (minhash.ts).
//
// Pure functions over one text: no state, no I/O.

export type SlotKind = 'url' | 'email' | 'phone' | 'number' | 'name';

/** One word of a masked text: how it reads, how it compares, and the separator before it. */
export interface Piece {
  /** Text between the previous piece and this one (spaces, punctuation), as in the message. */
  readonly sep: string;
  /** The word as written, or `<slot>` for a masked part. */
  readonly show: string;
  /** Lower-case comparison form (`<url>` for slots). */
  readonly key: string;
}

export interface Masked {
  readonly pieces: readonly Piece[];
  /** Text after the last piece. */
  readonly tail: string;
  /** Slot kinds that occur, in order of first occurrence. */
  readonly slots: readonly SlotKind[];
  /** The links, e-mail addresses and phone numbers masked, as written (the indicators). */
  readonly found: readonly { readonly kind: 'url' | 'email' | 'phone'; readonly text: string }[];
}

/** Texts longer than this are cut before masking: grouping looks at their beginning only. */
export const MAX_TEXT = 8192;
/** At most this many tokens count (bounded work per message whatever its length). */
export const MAX_TOKENS = 512;

// Each alternative is one kind of variable part; the first that matches at a position wins.
// Trailing punctuation is not part of a URL (a sentence ending in a link).
const URL = String.raw`(?:(?:https?|ftp|file):\/\/|www\.)[^\s<>"'\u0000-\u001f]*[^\s<>"'.,;:!?)\]\u0000-\u001f]`;
const EMAIL = String.raw`[\p{L}\p{N}._%+-]+@(?:[\p{L}\p{N}-]+\.)+\p{L}{2,24}`;
// A bare host name: labels joined by dots ending in an alphabetic top-level label, with an optional path.
const DOMAIN = String.raw`(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24}(?![\p{L}\p{N}@])(?:\/[^\s<>"']*[^\s<>"'.,;:!?)\]])?`;
// Dates count as numbers, not phones.
const DATE = String.raw`\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}`;
// A phone number: an optional +country code and area code in parentheses, then groups of digits
// joined by spaces, dots or dashes; checked for 7 to 15 digits in all.
const PHONE = String.raw`(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{2,5}(?:[ .-]\d{2,5}){1,4}|\+\d{7,15}`;
const WORD = String.raw`[\p{L}\p{M}\p{N}_]+(?:['’][\p{L}]+)*`;
const SCANNER = new RegExp(
  `(?<url>${URL})|(?<email>${EMAIL})|(?<domain>(?<![\\p{L}\\p{N}.@-])${DOMAIN})|(?<date>(?<![\\p{N}])(?:${DATE})(?![\\p{N}]))|(?<phone>(?<![\\p{L}\\p{N}+])(?:${PHONE})(?![\\p{N}]))|(?<word>${WORD})`,
  'gu',
);
const DIGITS = /\p{N}+/gu;
const HAS_DIGIT = /\p{N}/u;

function digitCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) n++;
  }
  return n;
}

/** One scanned part of a text before name masking. */
interface Part {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly slot?: SlotKind;
}

function scan(text: string): Part[] {
  const parts: Part[] = [];
  SCANNER.lastIndex = 0;
  for (let m = SCANNER.exec(text); m !== null && parts.length < MAX_TOKENS; m = SCANNER.exec(text)) {
    const g = m.groups!;
    const start = m.index;
    const end = start + m[0].length;
    if (g.url !== undefined || g.domain !== undefined) parts.push({ start, end, text: m[0], slot: 'url' });
    else if (g.email !== undefined) parts.push({ start, end, text: m[0], slot: 'email' });
    else if (g.date !== undefined) parts.push({ start, end, text: m[0], slot: 'number' });
    else if (g.phone !== undefined) {
      const digits = digitCount(m[0]);
      if (digits >= 7 && digits <= 15) parts.push({ start, end, text: m[0], slot: 'phone' });
      else for (const d of m[0].matchAll(DIGITS)) parts.push({ start: start + d.index, end: start + d.index + d[0].length, text: d[0], slot: 'number' });
    } else if (/^\p{N}+$/u.test(m[0])) parts.push({ start, end, text: m[0], slot: 'number' });
    else parts.push({ start, end, text: m[0] });
  }
  return parts;
}

// Words that name roles, not people: a From or To made only of these ("SYSTEM", "Windows
// Security", "TO") is not masked where the text uses the same words in their ordinary sense.
const GENERIC = new Set(
  `a an and at by for from in of on or the to with you your me my we our us it is are this that all
  user users system systems security secure windows microsoft msoft update updates monitor service services support
  center centre admin administrator administrators alert alerts message messages messenger network server
  computer help helpdesk desk team info information notice warning error errors critical important official
  net send sender recipient everyone guest root domain workgroup staff office manager department local home
  customer customers client account accounts mail email registry cleaner protection antivirus virus defender
  technical tech dept urgent attention notification popup pop up`
    .split(/\s+/)
    .filter((w) => w !== ''),
);

/** The word tokens of a name (From, To) to mask in its message, or none when it names no one in particular. */
export function nameTokens(name: string): string[] {
  // NetBIOS names carry a `<03>` suffix and padding; handles keep their local part too.
  const bare = name.replace(/<[0-9a-fA-F]{2}>$/, '').trim();
  const words = (bare.match(/[\p{L}\p{M}\p{N}_]+/gu) ?? []).map((w) => w.toLowerCase());
  if (words.length === 0 || words.length > 6) return [];
  if (words.every((w) => GENERIC.has(w) || w.length < 2)) return [];
  return words;
}

/** Name token sequences for a message: From, every To, and the local part of handles (`bob@…` → `bob`). */
export function messageNames(from: string, to: readonly string[]): string[][] {
  const out: string[][] = [];
  const add = (name: string): void => {
    const at = name.indexOf('@');
    const tokens = nameTokens(at > 0 ? name.slice(0, at) : name);
    if (tokens.length > 0 && !out.some((n) => n.join(' ') === tokens.join(' '))) out.push(tokens);
  };
  add(from);
  for (const name of to.slice(0, 16)) add(name);
  // Longest first, so "Alice Smith" wins over "Alice".
  return out.sort((a, b) => b.length - a.length);
}

/**
 * Masks the variable parts of a message text. `names` are the message's own From/To names as
 * token sequences (messageNames): where the text spells one of them (any case), it becomes `<name>`.
 */
export function mask(text: string, names: readonly (readonly string[])[] = []): Masked {
  const source = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
  const parts = scan(source);
  const pieces: Piece[] = [];
  const slots: SlotKind[] = [];
  const found: { kind: 'url' | 'email' | 'phone'; text: string }[] = [];
  const addSlot = (kind: SlotKind): void => {
    if (!slots.includes(kind)) slots.push(kind);
  };
  let last = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const sep = source.slice(last, part.start);
    if (part.slot === undefined) {
      const matched = matchName(parts, i, names);
      if (matched > 0) {
        pieces.push({ sep, show: '<name>', key: '<name>' });
        addSlot('name');
        last = parts[i + matched - 1]!.end;
        i += matched - 1;
        continue;
      }
      // Digits inside a word ("2nd", "MS03") are masked, the letters kept.
      if (HAS_DIGIT.test(part.text)) {
        const show = part.text.replace(DIGITS, '<number>');
        pieces.push({ sep, show, key: show.toLowerCase() });
        addSlot('number');
      } else pieces.push({ sep, show: part.text, key: part.text.toLowerCase() });
    } else {
      pieces.push({ sep, show: `<${part.slot}>`, key: `<${part.slot}>` });
      addSlot(part.slot);
      if (part.slot === 'url' || part.slot === 'email' || part.slot === 'phone') found.push({ kind: part.slot, text: part.text });
    }
    last = part.end;
  }
  return { pieces, tail: source.slice(last), slots, found };
}

/** How many parts from `i` on spell one of the names (0 for none). Names may span several words. */
function matchName(parts: readonly Part[], i: number, names: readonly (readonly string[])[]): number {
  for (const name of names) {
    if (i + name.length > parts.length) continue;
    let ok = true;
    for (let k = 0; k < name.length && ok; k++) {
      const part = parts[i + k]!;
      ok = part.slot === undefined && part.text.toLowerCase() === name[k];
    }
    if (ok) return name.length;
  }
  return 0;
}

/** The comparison tokens of a masked text. */
export function tokens(masked: Masked): string[] {
  return masked.pieces.map((p) => p.key);
}

/** The masked text as a person reads it (`Dear <name>, call <phone> now`). */
export function render(pieces: readonly Piece[], tail: string): string {
  let out = '';
  for (const p of pieces) out += p.sep + p.show;
  return out + tail;
}
