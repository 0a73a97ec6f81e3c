// Filter text → syntax tree, through the peggy-generated parser, once the nesting is known to
// be bounded. Syntax errors become a FilterError naming the column and what was expected there.
import { parse as peggyParse, SyntaxError as PeggySyntaxError } from './grammar.generated.js';
import type { Expr } from './ast.js';
import { FilterError, printable } from './errors.js';
import { checkNesting } from './nesting.js';

interface PeggyExpectation {
  type: string;
  text?: string;
  description?: string;
}

interface PeggyError {
  expected: PeggyExpectation[] | null;
  found: string | null;
  location: { start: { column: number; offset: number } };
}

function describeExpected(expected: readonly PeggyExpectation[]): string {
  const names = new Set<string>();
  for (const e of expected) {
    if (e.type === 'end') names.add('end of filter');
    else if (e.type === 'other' && e.description !== undefined && e.description !== 'whitespace') names.add(e.description);
    else if (e.type === 'literal' && e.text !== undefined && /^[^\w]/.test(e.text)) names.add(`"${e.text}"`);
  }
  const list = [...names];
  if (list.length === 0) return 'something else';
  if (list.length === 1) return list[0]!;
  return `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
}

export function parseFilter(text: string): Expr {
  if (text.trim() === '') throw new FilterError(1, 'the filter is empty');
  checkNesting(text);
  try {
    return peggyParse(text, {}) as Expr;
  } catch (err) {
    if (err instanceof PeggySyntaxError) {
      const e = err as unknown as PeggyError;
      const found = e.found === null ? 'the end of the filter' : `'${printable(e.found)}'`;
      throw new FilterError(e.location.start.column, `expected ${describeExpected(e.expected ?? [])}, found ${found}`);
    }
    throw err;
  }
}
