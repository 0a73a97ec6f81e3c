// Text from the wire is hostile: it may hold terminal escape sequences, bidirectional
// overrides or spreadsheet formulas. Everything that reaches a terminal or a CSV goes
// through these functions first.

// C0 controls, DEL, C1 controls, and the Unicode bidi/format controls that can disguise text.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;
// The same class without /g (no lastIndex state), for the check.
// eslint-disable-next-line no-control-regex
const UNSAFE_ANY = new RegExp(UNSAFE.source);

function escapeChar(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default: {
      const code = ch.codePointAt(0)!;
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
    }
  }
}

/** Whether every code unit of `text` lies between U+0020 and `max` (a loop: cheaper than a regular expression's class of ranges). */
function plainUpTo(text: string, max: number): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > max) return false;
  }
  return true;
}

/**
 * Whether `text` from code unit `from` on holds a character `escapeText` escapes (UNSAFE's class,
 * tested in a loop: text that needs none is written as it is, without a copy).
 */
export function needsEscapeFrom(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x7f) {
      if (c < 0x20) return true;
    } else if (c <= 0x9f || (c >= 0x200b && c <= 0x200f) || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2060 && c <= 0x2069) || c === 0xfeff || (c >= 0xfff9 && c <= 0xfffb)) {
      return true;
    }
  }
  return false;
}

/** For terminals and text output: control characters become visible escapes (`\n`, `\x1b`). */
export function escapeText(text: string): string {
  // Most texts are printable ASCII, which holds nothing to escape: a loop over the code units
  // says so without the regular expression's class of ranges.
  if (plainUpTo(text, 0x7e)) return text;
  // Otherwise a test is cheaper than a replace with a callback.
  return UNSAFE_ANY.test(text) ? text.replace(UNSAFE, escapeChar) : text;
}

// What JSON may carry raw but a terminal acts on or that disguises text once `jq -r` prints it:
// DEL and the C1 controls (U+009B is a one-byte CSI), the line and paragraph separators, and
// every invisible format character (Unicode category Cf: bidi embeddings, overrides and isolates
// U+202A–U+202E and U+2066–U+2069, zero-width characters, the soft hyphen, tag characters …).
const JSON_UNSAFE = /[\u007f-\u009f\u2028\u2029\p{Cf}]/gu;
const JSON_UNSAFE_ANY = new RegExp(JSON_UNSAFE.source, 'u');
const BEYOND_ASCII = /[^\u0000-\u007e]/;

function jsonEscapeChar(ch: string): string {
  let out = '';
  // An astral character (a tag, U+E0001) is written as its two UTF-16 escapes, as JSON requires.
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * JSON text made safe for terminals: the characters above become `\u` escapes of four hex digits. They can
 * only stand inside strings (JSON's syntax is ASCII), so the whole text is rewritten at once.
 */
export function jsonSafe(json: string): string {
  // Every character above lies at or above U+007F: an all-ASCII text (most lines) needs no Unicode-property scan.
  if (!BEYOND_ASCII.test(json)) return json;
  return JSON_UNSAFE_ANY.test(json) ? json.replace(JSON_UNSAFE, jsonEscapeChar) : json;
}

/** JSON.stringify, then jsonSafe: what every JSON output writes. */
export function jsonText(value: unknown, indent?: number): string {
  return jsonSafe(JSON.stringify(value, null, indent));
}

/**
 * For CSV (RFC 4180): escaped like text, quoted when needed, and a leading character that
 * makes spreadsheets evaluate a formula (= + - @, tab, CR) is neutralised with a quote
 * character (OWASP's CSV-injection advice).
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  let text = escapeText(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

// East Asian wide and fullwidth ranges (two terminal columns) and combining marks (none).
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
const ZERO = /[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u200b-\u200f\ufe00-\ufe0f\ufe20-\ufe2f]/u;

function charWidth(ch: string): number {
  if (ZERO.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

/** Terminal columns that (already escaped, colourless) text takes. */
export function displayWidth(text: string): number {
  // Fast path: ASCII and Latin text (U+0020–U+02FF) is one column a character.
  if (plainUpTo(text, 0x2ff)) return text.length;
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/** Cuts text to at most `columns` terminal columns, ending with … when something was cut. */
export function fitWidth(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = charWidth(ch);
    if (w + cw > columns - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}
