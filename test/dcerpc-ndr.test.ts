// NDR20 decoder unit tests on hand-built stubs: byte orders, alignment, strings and their
// counts, pointers (null, deferred referents in order, full pointers), conformant arrays with
// size_is, unions with switch_is, and hostile counts that must not allocate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  carray, cstring, decodeParams, DREP_BE, DREP_LE, full, NdrDecoder, NdrError, NdrReader, struct, u16, u32, union, unique, wcharText, wstring,
  type NdrValue,
} from '../src/protocols/dcerpc/ndr.js';

/** Little builder for stubs: u32 in either order, bytes, alignment padding (0xAB like impacket). */
class B {
  bytes: number[] = [];
  constructor(private readonly le = true) {}
  u32(v: number): this {
    this.align(4);
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.bytes.push(...(this.le ? b : b.reverse()));
    return this;
  }
  u16(v: number): this {
    this.align(2);
    const b = [v & 0xff, (v >>> 8) & 0xff];
    this.bytes.push(...(this.le ? b : b.reverse()));
    return this;
  }
  raw(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  align(n: number): this {
    while (this.bytes.length % n !== 0) this.bytes.push(0xab);
    return this;
  }
  str(s: string, nul = true): this {
    const chars = [...Buffer.from(s, 'latin1')];
    if (nul) chars.push(0);
    return this.u32(chars.length).u32(0).u32(chars.length).raw(...chars);
  }
  wstr(s: string): this {
    const n = s.length + 1;
    this.u32(n).u32(0).u32(n);
    for (const ch of s + '\0') this.u16(ch.charCodeAt(0));
    return this;
  }
  get(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

function str(v: NdrValue | undefined): string {
  assert.ok(v !== undefined && v.k === 'string');
  return Buffer.from(v.bytes).toString('latin1').replace(/\0.*$/s, '');
}

test('NetrSendMessage-style strings decode in both byte orders with 4-byte alignment between them', () => {
  for (const le of [true, false]) {
    const stub = new B(le).str('FROM').str('TO').str('Hello there').get();
    const params = [{ name: 'From', dir: 'in' as const, type: cstring }, { name: 'To', dir: 'in' as const, type: cstring }, { name: 'Text', dir: 'in' as const, type: cstring }];
    const d = decodeParams(stub, le ? DREP_LE : DREP_BE, params, 'request', false);
    assert.equal(d.error, undefined);
    assert.deepEqual([str(d.values.get('From')), str(d.values.get('To')), str(d.values.get('Text'))], ['FROM', 'TO', 'Hello there']);
    assert.equal(d.issues.length, 0);
    assert.equal(d.trailing, 0);
  }
});

test('string issues: no NUL, offset, actual over max, embedded NUL', () => {
  const noNul = decodeParams(new B().str('abc', false).get(), DREP_LE, [{ name: 's', dir: 'in', type: cstring }], 'request', false);
  assert.deepEqual(noNul.issues.map((i) => i.id), ['string-no-nul']);
  assert.match(noNul.issues[0]!.summary, /^s: /);
  const counts = new B().u32(2).u32(1).u32(3).raw(0x41, 0x42, 0).get();
  const c = decodeParams(counts, DREP_LE, [{ name: 's', dir: 'in', type: cstring }], 'request', false);
  assert.deepEqual(c.issues.map((i) => i.id).sort(), ['string-counts', 'string-offset']);
  const embedded = decodeParams(new B().u32(6).u32(0).u32(6).raw(0x41, 0, 0, 0, 0, 0).get(), DREP_LE, [{ name: 's', dir: 'in', type: cstring }], 'request', false);
  assert.deepEqual(embedded.issues.map((i) => i.id), ['embedded-nul']);
  assert.equal(str(embedded.values.get('s')), 'A');
});

test('a count larger than the stub is an error, not an allocation', () => {
  const huge = new B().u32(0x7fffffff).u32(0).u32(0x7fffffff).raw(0x41).get();
  const d = decodeParams(huge, DREP_LE, [{ name: 's', dir: 'in', type: cstring }], 'request', false);
  assert.ok(d.error !== undefined);
  assert.equal(d.error.err.kind, 'truncated');
  const arr = new B().u32(1).u32(0x20000).u32(0x40000000).get();
  const t = struct('C', [{ name: 'n', type: u32 }, { name: 'Buffer', type: unique(carray(struct('E', [{ name: 'p', type: unique(wstring) }]))), sizeIs: 'n' }]);
  const e = decodeParams(arr, DREP_LE, [{ name: 'c', dir: 'in', type: t }], 'request', false);
  assert.ok(e.error !== undefined);
  assert.equal(e.error.err.kind, 'bad-count');
});

test('unique pointers: null, and embedded referents deferred after the structure in pointer order', () => {
  // struct { unique wstring a; u32 x; unique wstring b; } then u32 after
  const stub = new B().u32(0x20000).u32(7).u32(0x20004).wstr('AB').wstr('C').u32(99).get();
  const t = struct('S', [{ name: 'a', type: unique(wstring) }, { name: 'x', type: u32 }, { name: 'b', type: unique(wstring) }]);
  const d = decodeParams(stub, DREP_LE, [{ name: 's', dir: 'in', type: t }, { name: 'after', dir: 'in', type: u32 }], 'request', false);
  assert.equal(d.error, undefined);
  const s = d.values.get('s');
  assert.ok(s !== undefined && s.k === 'struct');
  const a = s.members.get('a');
  const b = s.members.get('b');
  assert.ok(a?.k === 'ptr' && a.target?.k === 'string' && b?.k === 'ptr' && b.target?.k === 'string');
  assert.equal(wcharText(a.target, DREP_LE), 'AB');
  assert.equal(wcharText(b.target, DREP_LE), 'C');
  assert.equal(d.values.get('after')?.k === 'int' && d.values.get('after')?.k === 'int' ? (d.values.get('after') as { v: number }).v : -1, 99);
  const nul = decodeParams(new B().u32(0).u32(5).get(), DREP_LE, [{ name: 'p', dir: 'in', type: unique(wstring) }, { name: 'n', dir: 'in', type: u32 }], 'request', false);
  assert.equal(nul.values.get('p')?.k === 'ptr' ? (nul.values.get('p') as { target: unknown }).target : 'x', null);
});

test('wchar strings follow the integer byte order', () => {
  const be = new B(false).wstr('Hi').get();
  const r = new NdrDecoder(new NdrReader(be, DREP_BE)).string(2);
  assert.equal(wcharText(r, DREP_BE), 'Hi');
});

test('unions: the discriminant is on the wire, switch_is is checked, unknown arms fail', () => {
  const U = union('U', 'u32', { 0: unique(u32), 1: null });
  const T = struct('T', [{ name: 'Level', type: u32 }, { name: 'u', type: U, switchIs: 'Level' }]);
  const ok = decodeParams(new B().u32(0).u32(0).u32(0x20000).u32(42).get(), DREP_LE, [{ name: 't', dir: 'in', type: T }], 'request', false);
  assert.equal(ok.error, undefined);
  assert.equal(ok.issues.length, 0);
  const mismatch = decodeParams(new B().u32(0).u32(1).get(), DREP_LE, [{ name: 't', dir: 'in', type: T }], 'request', false);
  assert.deepEqual(mismatch.issues.map((i) => i.id), ['size-mismatch']);
  const bad = decodeParams(new B().u32(5).u32(5).get(), DREP_LE, [{ name: 't', dir: 'in', type: T }], 'request', false);
  assert.equal(bad.error?.err.kind, 'bad-union');
});

test('full pointers: a repeated referent id is decoded once', () => {
  const T = struct('T', [{ name: 'a', type: full(u32) }, { name: 'b', type: full(u32) }]);
  const d = new NdrDecoder(new NdrReader(new B().u32(0x100).u32(0x100).u32(7).get(), DREP_LE)).param(T);
  assert.ok(d.k === 'struct');
  const a = d.members.get('a');
  const b = d.members.get('b');
  assert.ok(a?.k === 'ptr' && b?.k === 'ptr');
  assert.equal(a.target, b.target);
});

test('response return value and alignment of u16 followed by u32', () => {
  const stub = new B().u16(3).u32(0x8e1).get();
  assert.equal(stub.length, 8);
  const d = decodeParams(stub, DREP_LE, [{ name: 'w', dir: 'out', type: u16 }], 'response', true);
  assert.equal(d.result, 0x8e1);
  assert.ok(new NdrError('truncated', 'x', 0) instanceof Error);
});
