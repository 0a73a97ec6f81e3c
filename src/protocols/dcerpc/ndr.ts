// NDR 2.0 transfer syntax decoding (C706 chapter 14; MS-RPCE 2.2.5): a reader over one stub in
// either byte order, and a decoder driven by type descriptions (interfaces describe their
// parameters as data, scapy-style), with conformant/varying arrays and strings, unique/ref/full
// pointers whose referents are deferred as C706 14.3.12 orders them, structures and unions.
// Pure: bytes in, values and issues out. Every count is checked against the bytes present
// before anything is allocated.

/** The data representation label (C706 14.1): integer byte order and character set. */
export interface Drep {
  readonly little: boolean;
  readonly ebcdic: boolean;
  /** Floating-point format code (0 IEEE, 1 VAX, 2 Cray, 3 IBM). */
  readonly float: number;
}

export const DREP_LE: Drep = { little: true, ebcdic: false, float: 0 };
export const DREP_BE: Drep = { little: false, ebcdic: false, float: 0 };

export function parseDrep(b0: number, b1: number): Drep {
  return { little: (b0 & 0xf0) === 0x10, ebcdic: (b0 & 0x0f) === 1, float: b1 };
}

/** A stub that cannot be decoded any further: where and why. */
export class NdrError extends Error {
  constructor(
    readonly kind: 'truncated' | 'bad-count' | 'limit' | 'bad-union',
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Something wrong that decoding survived (a string without NUL, counts that disagree). */
export interface NdrIssue {
  readonly id: 'string-no-nul' | 'string-counts' | 'string-offset' | 'size-mismatch' | 'embedded-nul' | 'bad-referent';
  readonly offset: number;
  readonly summary: string;
}

/** Most nodes one stub may decode to: bounds the work a hostile count can cause. */
const MAX_NODES = 200_000;

export class NdrReader {
  pos: number;
  private readonly view: DataView;
  issues: NdrIssue[] = [];
  nodes = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly drep: Drep,
    start = 0,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get little(): boolean {
    return this.drep.little;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** NDR alignment is relative to the start of the stub (C706 14.2.2). */
  align(n: number): void {
    const rem = this.pos % n;
    if (rem !== 0) this.pos += n - rem;
    if (this.pos > this.bytes.length) throw new NdrError('truncated', `stub ends inside alignment padding at offset ${this.bytes.length}`, this.bytes.length);
  }

  need(n: number, what: string): void {
    if (n > this.remaining) throw new NdrError('truncated', `${what} needs ${n} byte(s) at offset ${this.pos}, ${Math.max(0, this.remaining)} left`, this.pos);
  }

  u8(what = 'byte'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16(what = 'short'): number {
    this.align(2);
    this.need(2, what);
    const v = this.view.getUint16(this.pos, this.little);
    this.pos += 2;
    return v;
  }

  u32(what = 'long'): number {
    this.align(4);
    this.need(4, what);
    const v = this.view.getUint32(this.pos, this.little);
    this.pos += 4;
    return v;
  }

  i32(what = 'long'): number {
    this.align(4);
    this.need(4, what);
    const v = this.view.getInt32(this.pos, this.little);
    this.pos += 4;
    return v;
  }

  u64(what = 'hyper'): bigint {
    this.align(8);
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, this.little);
    this.pos += 8;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  issue(id: NdrIssue['id'], offset: number, summary: string): void {
    if (this.issues.length < 64) this.issues.push({ id, offset, summary });
  }

  count(n = 1): void {
    this.nodes += n;
    if (this.nodes > MAX_NODES) throw new NdrError('limit', `more than ${MAX_NODES} NDR elements in one stub`, this.pos);
  }
}

// ---- type descriptions ----

export type NdrScalar = 'u8' | 'u16' | 'u32' | 'i32' | 'u64' | 'enum16';

export type NdrType =
  | { readonly k: 'scalar'; readonly t: NdrScalar }
  /** A [string] conformant varying string of char (1) or wchar_t (2). */
  | { readonly k: 'string'; readonly char: 1 | 2 }
  | { readonly k: 'ptr'; readonly ptr: 'ref' | 'unique' | 'full'; readonly to: NdrType }
  | { readonly k: 'struct'; readonly name: string; readonly members: readonly NdrMember[] }
  /** A union; its discriminant is on the wire before the arm (C706 14.3.8). */
  | { readonly k: 'union'; readonly name: string; readonly tag: 'u16' | 'u32'; readonly arms: ReadonlyMap<number, NdrType | null>; readonly fallback?: NdrType | null }
  /** Conformant array ([size_is]): max_count then elements. */
  | { readonly k: 'carray'; readonly of: NdrType }
  /** Conformant varying array ([size_is, length_is]): max_count, offset, actual_count then elements. */
  | { readonly k: 'cvarray'; readonly of: NdrType }
  | { readonly k: 'farray'; readonly n: number; readonly of: NdrType };

export interface NdrMember {
  readonly name: string;
  readonly type: NdrType;
  /** [size_is(member)]: the sibling member giving the array's element count (checked against max_count). */
  readonly sizeIs?: string;
  /** [switch_is(member)]: the sibling member selecting a union's arm. */
  readonly switchIs?: string;
}

export const u8: NdrType = { k: 'scalar', t: 'u8' };
export const u16: NdrType = { k: 'scalar', t: 'u16' };
export const u32: NdrType = { k: 'scalar', t: 'u32' };
export const i32: NdrType = { k: 'scalar', t: 'i32' };
export const u64: NdrType = { k: 'scalar', t: 'u64' };
export const cstring: NdrType = { k: 'string', char: 1 };
export const wstring: NdrType = { k: 'string', char: 2 };
export const unique = (to: NdrType): NdrType => ({ k: 'ptr', ptr: 'unique', to });
export const ref = (to: NdrType): NdrType => ({ k: 'ptr', ptr: 'ref', to });
export const full = (to: NdrType): NdrType => ({ k: 'ptr', ptr: 'full', to });
export const struct = (name: string, members: readonly NdrMember[]): NdrType => ({ k: 'struct', name, members });
export const carray = (of: NdrType): NdrType => ({ k: 'carray', of });
export const cvarray = (of: NdrType): NdrType => ({ k: 'cvarray', of });
export const union = (name: string, tag: 'u16' | 'u32', arms: Record<number, NdrType | null>, fallback?: NdrType | null): NdrType => ({
  k: 'union', name, tag, arms: new Map(Object.entries(arms).map(([key, v]) => [Number(key), v])), fallback,
});

// ---- decoded values ----

export type NdrValue =
  | { readonly k: 'int'; readonly v: number; readonly off: number; readonly len: number }
  | { readonly k: 'hyper'; readonly v: bigint; readonly off: number }
  | NdrString
  | NdrPointer
  | { readonly k: 'struct'; readonly name: string; readonly members: Map<string, NdrValue>; readonly off: number }
  | { readonly k: 'union'; readonly tag: number; readonly arm: NdrValue | null; readonly off: number }
  | NdrArray;

export interface NdrString {
  readonly k: 'string';
  readonly char: 1 | 2;
  readonly max: number;
  readonly offset: number;
  readonly actual: number;
  /** The characters' bytes as sent (including the NUL when present). */
  readonly bytes: Uint8Array;
  /** The last character is NUL. */
  readonly terminated: boolean;
  /** Offset of max_count in the stub, and the string's length with its counts. */
  readonly off: number;
  readonly len: number;
}

export interface NdrPointer {
  readonly k: 'ptr';
  readonly referent: number;
  /** The referent, or null for a null pointer (filled in when the deferred referent is decoded). */
  target: NdrValue | null;
  readonly off: number;
}

export interface NdrArray {
  readonly k: 'array';
  readonly max?: number;
  readonly offset?: number;
  readonly actual?: number;
  readonly items: NdrValue[];
  readonly off: number;
}

/** Minimum wire size of one element, to reject counts the bytes present cannot hold. */
function minSize(t: NdrType): number {
  switch (t.k) {
    case 'scalar':
      return t.t === 'u8' ? 1 : t.t === 'u16' || t.t === 'enum16' ? 2 : t.t === 'u64' ? 8 : 4;
    case 'string':
      return 12;
    case 'ptr':
      return 4;
    case 'struct': {
      let n = 0;
      for (const m of t.members) n += m.type.k === 'carray' || m.type.k === 'cvarray' ? 0 : minSize(m.type);
      return Math.max(n, 1);
    }
    case 'union':
      return t.tag === 'u16' ? 2 : 4;
    case 'carray':
    case 'cvarray':
      return 4;
    case 'farray':
      return t.n * minSize(t.of);
  }
}

function alignOf(t: NdrType): number {
  switch (t.k) {
    case 'scalar':
      return t.t === 'u8' ? 1 : t.t === 'u16' || t.t === 'enum16' ? 2 : t.t === 'u64' ? 8 : 4;
    case 'string':
    case 'ptr':
    case 'carray':
    case 'cvarray':
      return 4;
    case 'struct':
      return Math.max(1, ...t.members.map((m) => alignOf(m.type)));
    case 'union': {
      let a = t.tag === 'u16' ? 2 : 4;
      for (const arm of t.arms.values()) if (arm !== null) a = Math.max(a, alignOf(arm));
      return a;
    }
    case 'farray':
      return alignOf(t.of);
  }
}

type Deferred = () => void;

/** Decodes NDR constructs from a reader; one instance per stub (full pointers are per stub). */
export class NdrDecoder {
  private readonly fullSeen = new Map<number, NdrValue | null>();

  constructor(readonly r: NdrReader) {}

  /**
   * A top-level parameter: its scalars, then the referents of the pointers embedded in it, in
   * order, each referent followed by its own embedded referents (C706 14.3.12).
   * `switchValue` is the [switch_is] of a top-level union.
   */
  param(type: NdrType, switchValue?: number): NdrValue {
    const deferred: Deferred[] = [];
    let value: NdrValue;
    if (type.k === 'ptr') {
      // A top-level [ref] pointer has no wire form; a top-level unique/full pointer is
      // followed directly by its referent.
      value = this.topPointer(type, switchValue);
    } else {
      value = this.scalars(type, deferred, switchValue, undefined);
    }
    this.drain(deferred);
    return value;
  }

  private topPointer(type: NdrType & { k: 'ptr' }, switchValue: number | undefined): NdrValue {
    const off = this.r.pos;
    let referent = 0x20000;
    if (type.ptr !== 'ref') {
      referent = this.r.u32('referent id');
      if (referent === 0) return { k: 'ptr', referent: 0, target: null, off };
    }
    const ptr: NdrPointer = { k: 'ptr', referent, target: null, off };
    ptr.target = this.referent(type, referent, switchValue);
    return ptr;
  }

  private referent(type: NdrType & { k: 'ptr' }, referent: number, switchValue: number | undefined): NdrValue | null {
    if (type.ptr === 'full') {
      if (this.fullSeen.has(referent)) return this.fullSeen.get(referent) ?? null;
      this.fullSeen.set(referent, null);
    }
    const inner: Deferred[] = [];
    const v = this.scalars(type.to, inner, switchValue, undefined);
    this.drain(inner);
    if (type.ptr === 'full') this.fullSeen.set(referent, v);
    return v;
  }

  private drain(deferred: Deferred[]): void {
    // Referents are decoded in pointer order; each may queue more, which the recursive
    // call in referent() handles before the next sibling's referent.
    for (let i = 0; i < deferred.length; i++) deferred[i]!();
  }

  /** The fixed part of a construct; embedded pointers queue their referents on `deferred`. */
  private scalars(type: NdrType, deferred: Deferred[], switchValue: number | undefined, sizeIs: number | undefined): NdrValue {
    const r = this.r;
    r.count();
    switch (type.k) {
      case 'scalar': {
        if (type.t === 'u64') {
          const off = (r.align(8), r.pos);
          return { k: 'hyper', v: r.u64(), off };
        }
        const size = type.t === 'u8' ? 1 : type.t === 'u16' || type.t === 'enum16' ? 2 : 4;
        r.align(size);
        const off = r.pos;
        const v = type.t === 'u8' ? r.u8() : size === 2 ? r.u16() : type.t === 'i32' ? r.i32() : r.u32();
        return { k: 'int', v, off, len: size };
      }
      case 'string':
        return this.string(type.char);
      case 'ptr': {
        r.align(4);
        const off = r.pos;
        const referent = r.u32('referent id');
        if (referent === 0) {
          if (type.ptr === 'ref') r.issue('bad-referent', off, 'embedded [ref] pointer is null');
          return { k: 'ptr', referent: 0, target: null, off };
        }
        const ptr: NdrPointer = { k: 'ptr', referent, target: null, off };
        deferred.push(() => {
          ptr.target = this.referent(type, referent, switchValue);
        });
        return ptr;
      }
      case 'struct':
        return this.struct(type, deferred);
      case 'union': {
        r.align(alignOf(type));
        const off = r.pos;
        const tag = type.tag === 'u16' ? r.u16('union discriminant') : r.u32('union discriminant');
        if (switchValue !== undefined && switchValue !== tag) {
          r.issue('size-mismatch', off, `union ${type.name} discriminant ${tag} disagrees with its switch_is value ${switchValue}`);
        }
        const arm = type.arms.has(tag) ? type.arms.get(tag)! : type.fallback;
        if (arm === undefined) throw new NdrError('bad-union', `union ${type.name} has no arm for discriminant ${tag}`, off);
        return { k: 'union', tag, arm: arm === null ? null : this.scalars(arm, deferred, undefined, undefined), off };
      }
      case 'carray':
      case 'cvarray': {
        r.align(4);
        const off = r.pos;
        const max = r.u32('max_count');
        if (sizeIs !== undefined && sizeIs !== max) r.issue('size-mismatch', off, `array max_count ${max} disagrees with its size_is value ${sizeIs}`);
        let offset = 0;
        let actual = max;
        if (type.k === 'cvarray') {
          offset = r.u32('offset');
          actual = r.u32('actual_count');
          if (offset + actual > max) r.issue('string-counts', off, `array offset ${offset} + actual_count ${actual} exceeds max_count ${max}`);
        }
        return this.elements(type.of, actual, deferred, off, type.k === 'cvarray' ? { max, offset, actual } : { max });
      }
      case 'farray':
        return this.elements(type.of, type.n, deferred, r.pos, {});
    }
  }

  private elements(of: NdrType, n: number, deferred: Deferred[], off: number, counts: { max?: number; offset?: number; actual?: number }): NdrArray {
    const r = this.r;
    if (n * minSize(of) > r.remaining) {
      throw new NdrError('bad-count', `array of ${n} element(s) needs at least ${n * minSize(of)} byte(s) at offset ${r.pos}, ${r.remaining} left`, r.pos);
    }
    const items: NdrValue[] = [];
    for (let i = 0; i < n; i++) items.push(this.scalars(of, deferred, undefined, undefined));
    return { k: 'array', ...counts, items, off };
  }

  private struct(type: NdrType & { k: 'struct' }, deferred: Deferred[]): NdrValue {
    const r = this.r;
    // A conformant array as the last member has its max_count moved to the start of the
    // structure (C706 14.3, structures containing a conformant array).
    const last = type.members[type.members.length - 1];
    let hoisted: number | undefined;
    if (last !== undefined && (last.type.k === 'carray' || last.type.k === 'cvarray')) {
      r.align(4);
      hoisted = r.u32('conformant max_count');
    }
    r.align(alignOf(type));
    const off = r.pos;
    const members = new Map<string, NdrValue>();
    const intOf = (name: string | undefined): number | undefined => {
      if (name === undefined) return undefined;
      const v = members.get(name);
      return v !== undefined && v.k === 'int' ? v.v : undefined;
    };
    for (const m of type.members) {
      if (hoisted !== undefined && m === last) {
        const size = intOf(m.sizeIs);
        if (size !== undefined && size !== hoisted) r.issue('size-mismatch', r.pos, `${type.name}.${m.name} max_count ${hoisted} disagrees with ${m.sizeIs} = ${size}`);
        let offset = 0;
        let actual = hoisted;
        const aoff = r.pos;
        if (m.type.k === 'cvarray') {
          offset = r.u32('offset');
          actual = r.u32('actual_count');
          if (offset + actual > hoisted) r.issue('string-counts', aoff, `${type.name}.${m.name}: offset ${offset} + actual_count ${actual} exceeds max_count ${hoisted}`);
        }
        const elemType = (m.type as { of: NdrType }).of;
        members.set(m.name, this.elements(elemType, actual, deferred, aoff, { max: hoisted, offset, actual }));
        continue;
      }
      if (m.type.k === 'ptr' && m.sizeIs !== undefined) {
        // [size_is(x)] T* member: the referent is a conformant array whose max_count is checked against x.
        const size = intOf(m.sizeIs);
        const target = m.type.to;
        const pOff = (r.align(4), r.pos);
        const referent = r.u32('referent id');
        const ptr: NdrPointer = { k: 'ptr', referent, target: null, off: pOff };
        if (referent !== 0) {
          deferred.push(() => {
            const inner: Deferred[] = [];
            ptr.target = this.scalars(target, inner, undefined, size);
            this.drain(inner);
          });
        }
        members.set(m.name, ptr);
        continue;
      }
      members.set(m.name, this.scalars(m.type, deferred, intOf(m.switchIs), undefined));
    }
    return { k: 'struct', name: type.name, members, off };
  }

  /** A [string] conformant varying string: max_count, offset, actual_count, characters (C706 14.3.4). */
  string(char: 1 | 2): NdrString {
    const r = this.r;
    r.align(4);
    const off = r.pos;
    const max = r.u32('string max_count');
    const offset = r.u32('string offset');
    const actual = r.u32('string actual_count');
    if (offset !== 0) r.issue('string-offset', off, `string offset is ${offset}, not 0`);
    if (actual + offset > max) r.issue('string-counts', off, `string actual_count ${actual} (offset ${offset}) exceeds max_count ${max}`);
    const byteLen = actual * char;
    if (byteLen > r.remaining) {
      throw new NdrError('truncated', `string actual_count ${actual} needs ${byteLen} byte(s) at offset ${r.pos}, ${r.remaining} left`, r.pos);
    }
    const bytes = r.take(byteLen, 'string');
    let terminated = false;
    if (actual > 0) {
      terminated = char === 1 ? bytes[byteLen - 1] === 0 : bytes[byteLen - 1] === 0 && bytes[byteLen - 2] === 0;
    }
    if (!terminated) r.issue('string-no-nul', off, `string of ${actual} character(s) has no terminating NUL`);
    else {
      const nul = char === 1 ? bytes.indexOf(0) : wcharNul(bytes);
      if (nul >= 0 && nul < actual - 1) r.issue('embedded-nul', off, `string has a NUL at character ${nul} before its end (${actual} characters)`);
    }
    return { k: 'string', char, max, offset, actual, bytes, terminated, off, len: r.pos - off };
  }
}

function wcharNul(bytes: Uint8Array): number {
  for (let i = 0; i + 1 < bytes.length; i += 2) if (bytes[i] === 0 && bytes[i + 1] === 0) return i / 2;
  return -1;
}

/** The characters of a string without its terminating NUL (and anything after an embedded one). */
export function stringChars(s: NdrString): Uint8Array {
  if (s.char === 1) {
    const nul = s.bytes.indexOf(0);
    return nul >= 0 ? s.bytes.subarray(0, nul) : s.bytes;
  }
  const nul = wcharNul(s.bytes);
  return nul >= 0 ? s.bytes.subarray(0, nul * 2) : s.bytes.subarray(0, s.bytes.length & ~1);
}

/** A wchar_t string's text: UTF-16 in the stub's byte order (C706 14.2.3: wchar_t is an unsigned short). */
export function wcharText(s: NdrString, drep: Drep): string {
  const chars = stringChars(s);
  if (drep.little) return new TextDecoder('utf-16le').decode(chars);
  const swapped = new Uint8Array(chars.length);
  for (let i = 0; i + 1 < chars.length; i += 2) {
    swapped[i] = chars[i + 1]!;
    swapped[i + 1] = chars[i]!;
  }
  return new TextDecoder('utf-16le').decode(swapped);
}

/** Reads a member of a decoded struct as a number, following pointers. */
export function intMember(v: NdrValue | null | undefined, name: string): number | undefined {
  const m = derefValue(v)?.k === 'struct' ? (derefValue(v) as { members: Map<string, NdrValue> }).members.get(name) : undefined;
  const d = derefValue(m);
  return d !== null && d !== undefined && d.k === 'int' ? d.v : undefined;
}

/** Follows pointers to the value they point to (null for a null pointer). */
export function derefValue(v: NdrValue | null | undefined): NdrValue | null | undefined {
  let cur = v;
  let guard = 0;
  while (cur !== null && cur !== undefined && cur.k === 'ptr' && guard++ < 16) cur = cur.target;
  return cur;
}

/** One parameter of an operation, in IDL order. */
export interface NdrParam {
  readonly name: string;
  readonly dir: 'in' | 'out' | 'inout';
  readonly type: NdrType;
  /** [switch_is(param)] for a union (or pointer to one): the earlier [in] parameter selecting the arm. */
  readonly switchIs?: string;
}

export interface DecodedParams {
  /** The parameters decoded, in order; those after a fatal error are missing. */
  readonly values: Map<string, NdrValue>;
  /** The parameter whose decoding failed, and why. */
  readonly error?: { readonly param: string; readonly err: NdrError };
  readonly issues: readonly NdrIssue[];
  /** Bytes left after the last parameter (a well-formed stub has at most alignment padding). */
  readonly trailing: number;
  /** The function's return value (the final u32 of a response stub), when asked for. */
  readonly result?: number;
}

/**
 * Decodes the [in] (request) or [out] (response) parameters of an operation; a response's
 * return value is the u32 after them. `inputs` gives [in] values a response's switch_is needs.
 */
export function decodeParams(
  stub: Uint8Array, drep: Drep, params: readonly NdrParam[], side: 'request' | 'response', withResult: boolean, inputs?: ReadonlyMap<string, NdrValue>,
): DecodedParams {
  const r = new NdrReader(stub, drep);
  const d = new NdrDecoder(r);
  const values = new Map<string, NdrValue>();
  const intOf = (name: string): number | undefined => {
    const v = derefValue(values.get(name) ?? inputs?.get(name));
    return v !== null && v !== undefined && v.k === 'int' ? v.v : undefined;
  };
  for (const p of params) {
    const wanted = side === 'request' ? p.dir !== 'out' : p.dir !== 'in';
    if (!wanted) continue;
    const before = r.issues.length;
    try {
      values.set(p.name, d.param(p.type, p.switchIs !== undefined ? intOf(p.switchIs) : undefined));
      for (let i = before; i < r.issues.length; i++) {
        const issue = r.issues[i]!;
        r.issues[i] = { id: issue.id, offset: issue.offset, summary: `${p.name}: ${issue.summary}` };
      }
    } catch (err) {
      if (!(err instanceof NdrError)) throw err;
      return { values, error: { param: p.name, err }, issues: r.issues, trailing: 0 };
    }
  }
  let result: number | undefined;
  if (withResult) {
    try {
      result = r.u32('return value');
    } catch (err) {
      if (!(err instanceof NdrError)) throw err;
      return { values, error: { param: 'return value', err }, issues: r.issues, trailing: 0 };
    }
  }
  return { values, issues: r.issues, trailing: stub.length - r.pos, result };
}
