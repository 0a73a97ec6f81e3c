// Syntax tree → predicate. Generic over what is filtered (frames or timeline events): a
// FieldSource names the fields and reads their values from one item, lazily, so a filter
// touches only the fields it names. Semantics follow Wireshark 4.0: a relation holds when
// some value of the field satisfies it (`==`, `<`, `contains`, …), `!=` holds when the field
// is present and no value equals (the same as `!(a == b)` on a present field), `~=` when some
// value differs, `===` when all values equal; a missing field makes every relation false.
import type { Atom, CompareOp, Entity, Expr, SetItem } from './ast.js';
import { FilterError, printable } from './errors.js';
import { compileRegex } from './regex.js';
import { latin1 } from '../util/latin1.js';
import {
  addrLiteral, bytesIndexOf, bytesLiteral, compareValues, dynamicLiteral, numberLiteral, parseBytes, parseEther,
  parseNumber, parseTime, stringLiteral, utf8, type Kind, type Literal, type Val,
} from './values.js';

export interface FieldRef<T> {
  readonly name: string;
  readonly kind: Kind;
  /** Value strings of a coded integer field: lets `smb.cmd == "Send Message"` name a code. */
  readonly valueNames?: ReadonlyMap<number, string>;
  present(item: T): boolean;
  values(item: T): readonly Val[];
}

export interface FieldSource<T> {
  /** What the names are called in messages: "field" or "event field". */
  readonly noun: string;
  lookup(name: string): FieldRef<T> | undefined;
  /** A known name close to an unknown one, for the error message. */
  suggest(name: string): string | undefined;
}

export type Predicate<T> = (item: T) => boolean;

/** A compiled entity: a field, or a function or bit mask of one. */
interface Operand<T> {
  readonly name: string;
  readonly kind: Kind;
  readonly col: number;
  readonly valueNames?: ReadonlyMap<number, string>;
  present(item: T): boolean;
  values(item: T): readonly Val[];
}

const MIRROR: Record<CompareOp, CompareOp> = {
  eq: 'eq', ne: 'ne', all_eq: 'all_eq', any_eq: 'any_eq', all_ne: 'all_ne', any_ne: 'any_ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le',
};

const OP_TEXT: Record<CompareOp, string> = {
  eq: '==', ne: '!=', all_eq: '===', any_eq: 'any_eq', all_ne: '!==', any_ne: '~=', lt: '<', le: '<=', gt: '>', ge: '>=',
};

const ORDERED_KINDS: ReadonlySet<Kind> = new Set<Kind>(['number', 'bool', 'string', 'bytes', 'ipv4', 'ipv6', 'ip', 'ether', 'guid', 'time', 'dynamic']);

export function compile<T>(expr: Expr, source: FieldSource<T>): Predicate<T> {
  return new Compiler(source).expr(expr);
}

class Compiler<T> {
  constructor(private readonly source: FieldSource<T>) {}

  expr(e: Expr): Predicate<T> {
    switch (e.type) {
      case 'logic': {
        // One loop over the chain: a chain of 100,000 terms must not nest 100,000 calls.
        const parts = e.operands.map((operand) => this.expr(operand));
        if (e.op === 'and') return (x) => parts.every((p) => p(x));
        if (e.op === 'or') return (x) => parts.some((p) => p(x));
        return (x) => parts.reduce((odd, p) => odd !== p(x), false);
      }
      case 'not': {
        const a = this.expr(e.expr);
        return (x) => !a(x);
      }
      case 'test':
        return this.test(e.entity);
      case 'compare':
        return this.compare(e.op, e.left, e.right, e.opCol);
      case 'contains':
        return this.contains(e.left, e.right);
      case 'matches':
        return this.matches(e.left, e.right);
      case 'in':
        return this.inSet(e.left, e.set, e.negated);
    }
  }

  // ---- entities ----

  private unknown(name: string, col: number): never {
    const hint = this.source.suggest(name);
    throw new FilterError(col, `unknown ${this.source.noun} '${name}'${hint !== undefined ? ` (did you mean '${hint}'?)` : ''}`);
  }

  /** The operand an entity names, or undefined when it is a literal. */
  private operand(e: Entity): Operand<T> | undefined {
    switch (e.type) {
      case 'string':
        return undefined;
      case 'word': {
        const ref = this.source.lookup(e.text);
        if (ref === undefined) return undefined;
        return { name: ref.name, kind: ref.kind, col: e.col, valueNames: ref.valueNames, present: (x) => ref.present(x), values: (x) => ref.values(x) };
      }
      case 'mask': {
        const base = this.requireOperand(e.base);
        if (base.kind !== 'number' && base.kind !== 'bool' && base.kind !== 'dynamic') throw new FilterError(e.col, `'&' needs an integer field; ${base.name} is ${base.kind}`);
        const maskText = e.mask.type === 'word' ? e.mask.text : e.mask.value;
        const mask = parseNumber(maskText);
        if (mask === undefined || typeof mask === 'number' && !Number.isInteger(mask)) throw new FilterError(e.mask.col, `'${printable(maskText)}' is not an integer bit mask`);
        const big = BigInt(mask);
        return {
          name: `${base.name} & ${maskText}`,
          kind: 'number',
          col: e.col,
          present: (x) => base.present(x),
          values: (x) => {
            const out: Val[] = [];
            for (const v of base.values(x)) {
              if (typeof v === 'number' && Number.isInteger(v)) out.push(Number(BigInt(v) & big));
              else if (typeof v === 'bigint') out.push(v & big);
              else if (typeof v === 'boolean') out.push(Number(BigInt(Number(v)) & big));
            }
            return out;
          },
        };
      }
      case 'call': {
        const arg = this.operand(e.arg);
        if (arg === undefined) throw new FilterError(e.arg.col, `${e.fn}() takes a field`);
        return this.call(e.fn, arg, e.col);
      }
    }
  }

  private requireOperand(e: Entity): Operand<T> {
    const op = this.operand(e);
    if (op !== undefined) return op;
    if (e.type === 'string') throw new FilterError(e.col, `expected a ${this.source.noun}, found the string "${printable(e.value)}"`);
    if (e.type === 'word') this.unknown(e.text, e.col);
    throw new FilterError(e.col, `expected a ${this.source.noun}`);
  }

  private call(fn: 'len' | 'count' | 'lower' | 'upper', arg: Operand<T>, col: number): Operand<T> {
    const name = `${fn}(${arg.name})`;
    switch (fn) {
      case 'count':
        return { name, kind: 'number', col, present: () => true, values: (x) => [arg.values(x).length] };
      case 'len':
        if (arg.kind === 'number' || arg.kind === 'bool' || arg.kind === 'time') throw new FilterError(col, `len() needs a string, bytes or address field; ${arg.name} is ${arg.kind}`);
        return { name, kind: 'number', col, present: (x) => arg.present(x), values: (x) => arg.values(x).map(valueLength) };
      case 'lower':
      case 'upper': {
        if (arg.kind !== 'string' && arg.kind !== 'guid' && arg.kind !== 'dynamic') throw new FilterError(col, `${fn}() needs a string field; ${arg.name} is ${arg.kind}`);
        const conv = fn === 'lower' ? (s: string) => s.toLowerCase() : (s: string) => s.toUpperCase();
        return { name, kind: 'string', col, present: (x) => arg.present(x), values: (x) => arg.values(x).map((v) => (typeof v === 'string' ? conv(v) : v)) };
      }
    }
  }

  // ---- literals ----

  private literal(op: Operand<T>, atom: Atom): Literal {
    const text = atom.type === 'word' ? atom.text : atom.value;
    const quoted = atom.type === 'string';
    const bad = (what: string): never => {
      throw new FilterError(atom.col, `${quoted ? `"${printable(text)}"` : `'${printable(text)}'`} is not ${what} (${op.name} is ${kindText(op.kind)})`);
    };
    switch (op.kind) {
      case 'number': {
        const named = op.valueNames !== undefined ? valueByName(op.valueNames, text) : undefined;
        if (named !== undefined) return numberLiteral(text, named);
        const n = quoted ? undefined : parseNumber(text);
        if (n === undefined) return bad(op.valueNames !== undefined ? 'a number or one of the field\'s value names' : 'a number');
        return numberLiteral(text, n);
      }
      case 'bool': {
        const lower = text.toLowerCase();
        if (lower === 'true' || lower === '1') return numberLiteral(text, 1);
        if (lower === 'false' || lower === '0') return numberLiteral(text, 0);
        return bad('a boolean (true, false, 1 or 0)');
      }
      case 'string':
        return stringLiteral(text, text);
      case 'guid':
        return stringLiteral(text, text, true);
      case 'bytes':
      case 'protocol': {
        if (op.kind === 'protocol') throw new FilterError(atom.col, `${op.name} is a protocol: test it alone, or use contains or matches`);
        const b = quoted ? utf8(text) : parseBytes(text);
        if (b === undefined) return bad('a byte string (like de:ad:be:ef, or a quoted string)');
        return bytesLiteral(text, b);
      }
      case 'ether': {
        const mac = parseEther(text);
        if (mac === undefined) return bad('a MAC address (like 00:11:22:33:44:55)');
        return stringLiteral(text, mac, true);
      }
      case 'ipv4':
        return addrLiteral(text, [4]) ?? bad('an IPv4 address or CIDR range (host names are not resolved)');
      case 'ipv6':
        return addrLiteral(text, [6]) ?? bad('an IPv6 address or prefix (host names are not resolved)');
      case 'ip':
        return addrLiteral(text, [4, 6]) ?? bad('an IP address or CIDR range');
      case 'time': {
        const t = parseTime(text);
        if (t === undefined) return bad('a time (2005-06-10 12:00:00, UTC, or seconds since the epoch)');
        return numberLiteral(text, t);
      }
      case 'dynamic':
        return dynamicLiteral(text, quoted);
    }
  }

  // ---- relations ----

  private test(e: Entity): Predicate<T> {
    const op = this.requireOperand(e);
    if (e.type === 'mask') {
      return (x) => op.values(x).some((v) => v !== 0 && v !== 0n);
    }
    return (x) => op.present(x);
  }

  private compare(opName: CompareOp, leftE: Entity, rightE: Entity, opCol: number): Predicate<T> {
    let left = this.operand(leftE);
    let right = this.operand(rightE);
    let op = opName;
    let literalE = rightE;
    if (left === undefined) {
      if (right === undefined) {
        if (leftE.type === 'word' && /^[A-Za-z_][\w-]*\.[\w.-]*[A-Za-z_]/.test(leftE.text)) this.unknown(leftE.text, leftE.col);
        if (rightE.type === 'word' && /^[A-Za-z_][\w-]*\.[\w.-]*[A-Za-z_]/.test(rightE.text)) this.unknown(rightE.text, rightE.col);
        throw new FilterError(opCol, `neither side of '${OP_TEXT[opName]}' is a ${this.source.noun}`);
      }
      left = right;
      right = undefined;
      literalE = leftE;
      op = MIRROR[op];
    }
    const l = left;
    if (l.kind === 'protocol') throw new FilterError(l.col, `${l.name} is a protocol: test it alone, or use contains or matches`);
    if ((op === 'lt' || op === 'le' || op === 'gt' || op === 'ge') && !ORDERED_KINDS.has(l.kind)) {
      throw new FilterError(opCol, `${l.name} (${kindText(l.kind)}) cannot be ordered with '${OP_TEXT[op]}'`);
    }
    if (right !== undefined) {
      const r = right;
      if (!compatible(l.kind, r.kind)) throw new FilterError(opCol, `cannot compare ${l.name} (${kindText(l.kind)}) with ${r.name} (${kindText(r.kind)})`);
      const test = orderTest(op);
      return (x) => {
        const rv = r.values(x);
        const lv = l.values(x);
        if (op === 'ne' || op === 'all_ne') return lv.length > 0 && rv.length > 0 && lv.every((a) => rv.every((b) => compareValues(a, b) !== 0));
        if (op === 'all_eq') return lv.length > 0 && rv.length > 0 && lv.every((a) => rv.every((b) => compareValues(a, b) === 0));
        return lv.some((a) => rv.some((b) => test(compareValues(a, b))));
      };
    }
    if (literalE.type !== 'word' && literalE.type !== 'string') throw new FilterError(literalE.col, 'expected a value');
    const lit = this.literal(l, literalE);
    switch (op) {
      case 'eq':
      case 'any_eq':
        return (x) => l.values(x).some((v) => lit.eq(v));
      case 'ne':
      case 'all_ne':
        return (x) => {
          const vs = l.values(x);
          return vs.length > 0 && vs.every((v) => !lit.eq(v));
        };
      case 'all_eq':
        return (x) => {
          const vs = l.values(x);
          return vs.length > 0 && vs.every((v) => lit.eq(v));
        };
      case 'any_ne':
        return (x) => l.values(x).some((v) => !lit.eq(v));
      default: {
        const test = orderTest(op);
        return (x) => l.values(x).some((v) => test(lit.cmp(v)));
      }
    }
  }

  private contains(leftE: Entity, rightE: Entity): Predicate<T> {
    const l = this.requireOperand(leftE);
    if (rightE.type !== 'word' && rightE.type !== 'string') throw new FilterError(rightE.col, 'contains takes a value (a quoted string or bytes)');
    const text = rightE.type === 'word' ? rightE.text : rightE.value;
    switch (l.kind) {
      case 'string':
      case 'guid':
      case 'dynamic':
        return (x) => l.values(x).some((v) => (typeof v === 'string' ? v.includes(text) : typeof v === 'number' || typeof v === 'bigint' ? String(v).includes(text) : false));
      case 'bytes':
      case 'protocol':
      case 'ether': {
        const needle = rightE.type === 'string' ? utf8(text) : parseBytes(text);
        if (needle === undefined) throw new FilterError(rightE.col, `'${printable(text)}' is not a byte string (like de:ad:be:ef, or a quoted string)`);
        if (l.kind === 'ether') {
          const hex = Array.from(needle, (b) => b.toString(16).padStart(2, '0')).join(':');
          return (x) => l.values(x).some((v) => typeof v === 'string' && v.includes(hex));
        }
        return (x) => l.values(x).some((v) => v instanceof Uint8Array && bytesIndexOf(v, needle) >= 0);
      }
      default:
        throw new FilterError(l.col, `contains needs a string, bytes or protocol; ${l.name} is ${kindText(l.kind)}`);
    }
  }

  private matches(leftE: Entity, rightE: Entity): Predicate<T> {
    const l = this.requireOperand(leftE);
    if (rightE.type !== 'string') throw new FilterError(rightE.col, 'matches takes a quoted regular expression');
    // RE2 reads PCRE's inline flags, (?i) (?s) (?m), itself, anywhere in the pattern.
    const test = compileRegex(rightE.value, rightE.col);
    if (l.kind === 'string' || l.kind === 'guid' || l.kind === 'dynamic') {
      return (x) => l.values(x).some((v) => (typeof v === 'string' ? test(v) : typeof v === 'number' || typeof v === 'bigint' ? test(String(v)) : false));
    }
    if (l.kind === 'bytes' || l.kind === 'protocol') return (x) => l.values(x).some((v) => v instanceof Uint8Array && test(latin1(v)));
    throw new FilterError(l.col, `matches needs a string, bytes or protocol; ${l.name} is ${kindText(l.kind)}`);
  }

  private inSet(leftE: Entity, set: readonly SetItem[], negated: boolean): Predicate<T> {
    const l = this.requireOperand(leftE);
    if (l.kind === 'protocol') throw new FilterError(l.col, `${l.name} is a protocol: test it alone, or use contains or matches`);
    const tests = set.map((item): ((v: Val) => boolean) => {
      const low = this.literal(l, item.low);
      if (item.high === undefined) return (v) => low.eq(v);
      const high = this.literal(l, item.high);
      return (v) => {
        const a = low.cmp(v);
        const b = high.cmp(v);
        return a !== undefined && b !== undefined && a >= 0 && b <= 0;
      };
    });
    const any = (x: T): boolean => l.values(x).some((v) => tests.some((t) => t(v)));
    // `a not in {…}` is `!(a in {…})`, as in Wireshark.
    return negated ? (x) => !any(x) : any;
  }
}

function orderTest(op: CompareOp): (c: number | undefined) => boolean {
  switch (op) {
    case 'lt':
      return (c) => c !== undefined && c < 0;
    case 'le':
      return (c) => c !== undefined && c <= 0;
    case 'gt':
      return (c) => c !== undefined && c > 0;
    case 'ge':
      return (c) => c !== undefined && c >= 0;
    case 'ne':
    case 'all_ne':
    case 'any_ne':
      return (c) => c !== undefined && c !== 0;
    default:
      return (c) => c === 0;
  }
}

function compatible(a: Kind, b: Kind): boolean {
  if (a === b || a === 'dynamic' || b === 'dynamic') return true;
  const numeric = (k: Kind): boolean => k === 'number' || k === 'bool' || k === 'time';
  const address = (k: Kind): boolean => k === 'ipv4' || k === 'ipv6' || k === 'ip';
  const text = (k: Kind): boolean => k === 'string' || k === 'guid';
  return (numeric(a) && numeric(b)) || (address(a) && address(b)) || (text(a) && text(b));
}

function kindText(kind: Kind): string {
  switch (kind) {
    case 'number':
      return 'a number';
    case 'bool':
      return 'a boolean';
    case 'string':
      return 'a string';
    case 'bytes':
      return 'bytes';
    case 'ipv4':
      return 'an IPv4 address';
    case 'ipv6':
      return 'an IPv6 address';
    case 'ip':
      return 'an IP address';
    case 'ether':
      return 'a MAC address';
    case 'guid':
      return 'a GUID';
    case 'time':
      return 'a time';
    case 'protocol':
      return 'a protocol';
    case 'dynamic':
      return 'a value';
  }
}

function valueByName(names: ReadonlyMap<number, string>, text: string): number | undefined {
  const want = text.toLowerCase();
  for (const [code, name] of names) if (name.toLowerCase() === want) return code;
  return undefined;
}

function valueLength(v: Val): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (v instanceof Uint8Array) return v.length;
  if (typeof v === 'object') return v.v === 4 ? 4 : 16;
  return 0;
}
