// Bounds how deeply a filter nests, before the parser sees it. The peggy parser descends
// once per parenthesis and per function call, and the syntax tree (so compiling and
// evaluating) once per `not` too: a filter of 2,000 parentheses or 10,000 `!` would exhaust
// the stack. This scan reads the filter's tokens the way the grammar does — strings (so a
// parenthesis in a string is text), words, `!` against `!=`, `not` against `not in` — and
// counts, at every point, the open parentheses and function calls plus the `not`s whose
// operand is still being read. It is linear in the filter and needs no recursion.
import { FilterError } from './errors.js';

/** The deepest nesting a filter may have: parentheses, function calls and `not`s counted together. */
export const MAX_NESTING = 256;

const FUNCTIONS: ReadonlySet<string> = new Set(['len', 'count', 'lower', 'upper']);
const LOGIC_WORDS: ReadonlySet<string> = new Set(['and', 'or', 'xor']);
/** An open function call's parenthesis, on the frame stack (groups store the `not`s they carry). */
const CALL = -1;

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_.:/-]/.test(c);
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

/** Index after the string that starts at `start` (its opening quote), as the grammar reads it. */
function skipString(text: string, start: number, raw: boolean): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += !raw && text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** Index after the word that starts at `start`; a word stops before `..` (a range). */
function skipWord(text: string, start: number): number {
  let i = start;
  while (isWordChar(text[i]) && !(text[i] === '.' && text[i + 1] === '.')) i++;
  return i;
}

/** True when `in` (a keyword) follows `from`, after optional whitespace: `a not in {…}`. */
function inKeywordAt(text: string, from: number): boolean {
  let i = from;
  while (isSpace(text[i])) i++;
  return text.slice(i, i + 2).toLowerCase() === 'in' && !isWordChar(text[i + 2]);
}

/** Throws a FilterError at the first point where `text` nests deeper than MAX_NESTING. */
export function checkNesting(text: string): void {
  const frames: number[] = [];
  let depth = 0; // open parentheses and calls, plus the `not`s in front of the open groups
  let nots = 0; // `not`s whose operand (a group or a relation) is being read
  let lastWord = ''; // the word just before, to tell `len(` (a call) from `(` (a group)
  const deeper = (at: number, level: number): void => {
    if (level > MAX_NESTING) {
      // Columns count within the line, as the parser's do.
      throw new FilterError(at - text.lastIndexOf('\n', at - 1), `the filter nests too deeply: more than ${MAX_NESTING} levels of parentheses, function calls and not operators`);
    }
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    const word = lastWord;
    lastWord = '';
    if (c === '"' || (c === 'r' && text[i + 1] === '"')) {
      // `r"` is a raw string only where a token starts, and words are read whole below.
      i = c === 'r' ? skipString(text, i + 1, true) : skipString(text, i, false);
    } else if (c === '.' && text[i + 1] === '.') {
      i += 2; // a range in a set, `1..5`
    } else if (isWordChar(c)) {
      const end = skipWord(text, i);
      const lower = text.slice(i, end).toLowerCase();
      const keyword = !isWordChar(text[end]);
      if (keyword && lower === 'not' && !inKeywordAt(text, end)) deeper(i, depth + ++nots);
      else if (keyword && LOGIC_WORDS.has(lower)) nots = 0;
      else lastWord = lower;
      i = end;
    } else if (c === '!' && text[i + 1] !== '=') {
      deeper(i, depth + ++nots);
      i++;
    } else if ((c === '&' || c === '|' || c === '^') && text[i + 1] === c) {
      nots = 0;
      i += 2;
    } else if (c === '(') {
      if (FUNCTIONS.has(word)) {
        frames.push(CALL);
        depth += 1;
      } else {
        // A group: the `not`s in front of it apply to it and end with it.
        frames.push(nots);
        depth += nots + 1;
        nots = 0;
      }
      deeper(i, depth + nots);
      i++;
    } else if (c === ')') {
      const frame = frames.pop();
      if (frame === CALL) depth -= 1;
      else if (frame !== undefined) {
        depth -= frame + 1;
        nots = 0;
      }
      i++;
    } else {
      i++;
    }
  }
}
