// Regular expressions for `matches`, with RE2 semantics (re2js, a pure-JavaScript port of
// RE2). The text they run over comes from the capture, and a backtracking engine lets one
// crafted packet hang an innocent pattern (`(a+)+$` over "aaa…!"); RE2 matches in time
// linear in the text. re2js was measured against re2-wasm (RE2 in WebAssembly) and won on
// every count that matters here (docs/filters.md: module load, compiling, short and long
// subjects). It is loaded on the first `matches`, so other filters do not pay for it.
import { createRequire } from 'node:module';
import { FilterError, printable } from './errors.js';

type Re2js = typeof import('re2js');

/**
 * The largest program a pattern may compile to, in RE2 instructions. RE2 itself refuses
 * patterns beyond its memory budget (about 170,000 instructions by default); re2js has no
 * such budget, and compiling costs time and memory in proportion, so msgscope sets one.
 */
export const MAX_PROGRAM = 100_000;

/** RE2 refuses counted repetitions above this (`x{1001}`). */
const MAX_REPEAT = 1000;

const require = createRequire(import.meta.url);
let engine: Re2js | undefined;

function re2js(): Re2js {
  engine ??= require('re2js') as Re2js;
  return engine;
}

/** Index after the character class that opens at `start` (`[...]`, `[^]...]`, `[[:alpha:]]`). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\') i += 2;
    else if (pattern.startsWith('[:', i)) {
      const end = pattern.indexOf(':]', i + 2);
      i = end < 0 ? i + 1 : end + 2;
    } else i++;
  }
  return i + 1;
}

interface Sequence {
  /** Size of the alternatives already closed by `|`. */
  done: number;
  /** Size of the alternative being read. */
  seq: number;
  /** Size of its last atom, which a repetition operator applies to. */
  last: number;
}

/**
 * An upper bound of the instructions RE2 compiles `pattern` to, read from the text alone:
 * `x{1000}` copies its operand a thousand times, `(?:…){1000}` its whole group. Checked
 * before compiling, so that a short pattern cannot make re2js build millions of instructions.
 */
export function expandedSize(pattern: string): number {
  const stack: Sequence[] = [{ done: 0, seq: 0, last: 0 }];
  let top = stack[0]!;
  const atom = (size: number): void => {
    top.seq += size;
    top.last = size;
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const stop = end < 0 ? pattern.length : end;
        atom(stop - (i + 2) + 1);
        i = end < 0 ? stop : end + 2;
      } else if ((next === 'x' || next === 'p' || next === 'P') && pattern[i + 2] === '{') {
        const end = pattern.indexOf('}', i + 3);
        atom(1);
        i = end < 0 ? pattern.length : end + 1;
      } else {
        atom(1);
        i += 2;
      }
    } else if (c === '[') {
      atom(1);
      i = classEnd(pattern, i);
    } else if (c === '(') {
      top = { done: 0, seq: 0, last: 0 };
      stack.push(top);
      i += pattern[i + 1] === '?' ? 2 : 1;
    } else if (c === ')') {
      if (stack.length > 1) {
        const group = stack.pop()!;
        top = stack[stack.length - 1]!;
        atom(group.done + group.seq + 2);
      }
      i++;
    } else if (c === '|') {
      top.done += top.seq + 1;
      top.seq = 0;
      top.last = 0;
      i++;
    } else if (c === '*' || c === '+' || c === '?') {
      top.seq += 1;
      i++;
    } else {
      const repeat = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 16)) : null;
      if (repeat !== null) {
        const min = Number(repeat[1]);
        const max = repeat[3] !== undefined && repeat[3] !== '' ? Number(repeat[3]) : repeat[2] !== undefined ? min + 1 : min;
        const times = Math.min(Math.max(min, max, 1), MAX_REPEAT);
        top.seq += top.last * (times - 1) + times;
        top.last *= times;
        i += repeat[0].length;
      } else {
        atom(1);
        i++;
      }
    }
  }
  let size = top.done + top.seq;
  for (let k = stack.length - 2; k >= 0; k--) size += stack[k]!.done + stack[k]!.seq + 2;
  return size;
}

/** What to write instead of a PCRE2 escape RE2 lacks. */
const ESCAPE_HINTS: Readonly<Record<string, string>> = {
  '\\e': 'write \\x1b',
  '\\c': 'write the control character as \\x01 … \\x1f',
  '\\h': 'write [\\t ]',
  '\\Z': 'write \\z or $',
  '\\u': 'write \\x{hhhh}',
  '\\R': 'write (?:\\r\\n|\\n|\\r)',
};

/** The PCRE2 (or JavaScript) construct an RE2 syntax error is about, when RE2 has no such thing. */
function unsupported(code: string, snippet: string, pattern: string): string | undefined {
  const shown = printable(snippet);
  if (code === 'invalid or unsupported Perl syntax') {
    if (snippet.startsWith('(?=') || snippet.startsWith('(?!')) return `lookahead ${shown}…)`;
    if (snippet.startsWith('(?>')) return `atomic group ${shown}…)`;
    if (snippet.startsWith('(?(')) return `conditional group ${shown}…)`;
    if (snippet.startsWith('(?#')) return `comment ${shown}…)`;
    if (/^\(\?([Rr+-]?\d*$|&|P>)/.test(snippet)) return `recursion or subroutine call ${shown}…)`;
    if (snippet === '(?P' && pattern.includes('(?P=')) return 'named backreference (?P=…)';
    if (snippet === '(?P' && pattern.includes('(?P>')) return 'subroutine call (?P>…)';
    return `flag or group ${shown}…) (RE2 knows the flags i, m, s and U)`;
  }
  if (code === 'invalid named capture' && /^\(\?<[=!]/.test(snippet)) return `lookbehind ${shown.slice(0, 4)}…)`;
  if (code === 'invalid escape sequence') {
    if (/^\\[1-9]/.test(snippet) || snippet === '\\k' || snippet === '\\g') return `backreference ${shown}`;
    if (snippet === '\\C') return 'single-byte escape \\C';
    if (snippet === '\\K') return 'match-start reset \\K';
    const hint = ESCAPE_HINTS[snippet];
    return `escape ${shown}${hint !== undefined ? ` (${hint})` : ''}`;
  }
  if (code === 'invalid nested repetition operator' && snippet.endsWith('+')) return `possessive quantifier ${shown}`;
  return undefined;
}

/**
 * Compiles a `matches` pattern (the quoted string at `col`) to a test over text. Throws a
 * FilterError naming the construct when RE2 cannot run the pattern.
 */
export function compileRegex(pattern: string, col: number): (text: string) => boolean {
  const tooLarge = (): never => {
    throw new FilterError(col, `regular expression too large: more than ${MAX_PROGRAM} RE2 instructions once its repetitions are expanded`);
  };
  if (expandedSize(pattern) > MAX_PROGRAM) tooLarge();
  const { RE2JS, RE2JSException, RE2JSSyntaxException } = re2js();
  let re: InstanceType<Re2js['RE2JS']>;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    if (pattern.startsWith('(*')) throw new FilterError(col, 'regular expression: RE2 has no PCRE2 start-of-pattern options like (*UTF) (see docs/filters.md)');
    if (err instanceof RE2JSSyntaxException) {
      const snippet = err.input ?? '';
      const construct = unsupported(err.error, snippet, pattern);
      if (construct !== undefined) throw new FilterError(col, `regular expression: RE2 does not support the ${construct} (see docs/filters.md)`);
      throw new FilterError(col, `bad regular expression: ${err.error}${snippet !== '' ? `: ${printable(snippet)}` : ''}`);
    }
    if (err instanceof RE2JSException) throw new FilterError(col, `bad regular expression: ${printable(err.message)}`);
    throw err;
  }
  if (re.programSize() > MAX_PROGRAM) tooLarge();
  return (text) => re.test(text);
}
