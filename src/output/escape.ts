// Text from the wire is hostile: it may hold terminal escape sequences, bidirectional
// overrides or spreadsheet formulas. Everything that reaches a terminal or a CSV goes
// through these functions first.

// C0 controls, DEL, C1 controls, and the Unicode bidi/format controls that can disguise text.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

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

/** For terminals and text output: control characters become visible escapes (`\n`, `\x1b`). */
export function escapeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
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
