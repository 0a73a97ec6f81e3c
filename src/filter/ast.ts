// The syntax tree the filter grammar (grammar.peggy) produces. `col` is the 1-based column
// where a node starts, for error messages.

export interface StringAtom {
  readonly type: 'string';
  readonly value: string;
  readonly col: number;
}

/** An unquoted token: a field or protocol name, or a literal (number, address, bytes, word). */
export interface WordAtom {
  readonly type: 'word';
  readonly text: string;
  readonly col: number;
}

export type Atom = StringAtom | WordAtom;

export interface MaskEntity {
  readonly type: 'mask';
  readonly base: Atom;
  readonly mask: Atom;
  readonly col: number;
}

export interface CallEntity {
  readonly type: 'call';
  readonly fn: 'len' | 'count' | 'lower' | 'upper';
  readonly arg: Entity;
  readonly col: number;
}

export type Entity = Atom | MaskEntity | CallEntity;

export type CompareOp = 'eq' | 'ne' | 'all_eq' | 'any_eq' | 'all_ne' | 'any_ne' | 'lt' | 'le' | 'gt' | 'ge';

export interface SetItem {
  readonly low: Atom;
  readonly high?: Atom;
}

export type Expr =
  /** A chain of one operator, `a || b || c`, as one node with two or more operands, in order. */
  | { readonly type: 'logic'; readonly op: 'and' | 'or' | 'xor'; readonly operands: readonly Expr[]; readonly col: number }
  | { readonly type: 'not'; readonly expr: Expr; readonly col: number }
  | { readonly type: 'compare'; readonly op: CompareOp; readonly left: Entity; readonly right: Entity; readonly col: number; readonly opCol: number }
  | { readonly type: 'contains'; readonly left: Entity; readonly right: Entity; readonly col: number }
  | { readonly type: 'matches'; readonly left: Entity; readonly right: Entity; readonly col: number }
  | { readonly type: 'in'; readonly left: Entity; readonly set: readonly SetItem[]; readonly negated: boolean; readonly col: number }
  | { readonly type: 'test'; readonly entity: Entity; readonly col: number };
