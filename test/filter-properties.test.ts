// Property-based tests of the display-filter language (fast-check):
//   - any text, and any soup of the language's tokens, either compiles or is a FilterError —
//     nothing else is thrown, nothing hangs — and a compiled filter evaluates without throwing;
//   - any syntax tree, printed as text, parses back to the same tree;
//   - well-typed filters over frames and over timeline events give the answer of a reference
//     evaluator written from docs/filters.md, on random frames and events;
//   - nesting exactly at the limit is accepted and keeps its meaning, one level more is refused.
// The normal run uses a fixed seed and small counts. A longer campaign:
//   FC_RUNS=20000 FC_SEED=$RANDOM node --test dist/test/filter-properties.test.js
// (a failure prints the seed and the path to replay it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CompareOp, Expr } from '../src/filter/ast.js';
import { EventFilter, FilterError, PacketFilter } from '../src/filter/index.js';
import { MAX_NESTING } from '../src/filter/nesting.js';
import { parseFilter } from '../src/filter/parse.js';
import type { Layer, Packet } from '../src/model/packet.js';
import type { TimelineEvent } from '../src/model/events.js';
import { f } from '../src/model/fields.js';
import type { Severity } from '../src/model/findings.js';
import { IP } from '../src/net/ipv4.js';
import { TCP, UDP } from '../src/net/transport.js';
import '../src/protocols/index.js';

const SEED = process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : 13;
const RUNS = process.env.FC_RUNS !== undefined ? Number(process.env.FC_RUNS) : 200;
const options = (share = 1): fc.Parameters<unknown> => ({ seed: SEED, numRuns: Math.max(1, Math.round(RUNS * share)) });

// ---------------------------------------------------------------- syntax trees without columns

type Fn = 'len' | 'count' | 'lower' | 'upper';
type Atom = { type: 'word'; text: string } | { type: 'string'; value: string };
type Entity = Atom | { type: 'mask'; base: Atom; mask: Atom } | { type: 'call'; fn: Fn; arg: Entity };
type Item = { low: Atom; high?: Atom };
type Tree =
  | { type: 'logic'; op: 'and' | 'or' | 'xor'; operands: Tree[] }
  | { type: 'not'; expr: Tree }
  | { type: 'compare'; op: CompareOp; left: Entity; right: Entity }
  | { type: 'contains' | 'matches'; left: Entity; right: Entity }
  | { type: 'in'; left: Entity; set: Item[]; negated: boolean }
  | { type: 'test'; entity: Entity };

/** A parsed tree without the columns, to compare with a generated one. */
function strip(tree: Expr): unknown {
  return JSON.parse(JSON.stringify(tree, (key, value: unknown) => (key === 'col' || key === 'opCol' ? undefined : value)));
}

const KEYWORDS = new Set(['and', 'or', 'xor', 'not', 'contains', 'matches', 'in', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'any_eq', 'all_eq', 'any_ne', 'all_ne']);

// ---------------------------------------------------------------- printing

interface Style {
  /** `and`, `not`, `eq`, `matches` rather than `&&`, `!`, `==`, `~`. */
  readonly words: boolean;
  /** Whitespace between tokens. */
  readonly space: string;
}

const PRECEDENCE = { or: 1, xor: 2, and: 3 } as const;
const LOGIC_TEXT = { or: ['||', 'or'], xor: ['^^', 'xor'], and: ['&&', 'and'] } as const;
const OP_TEXT: Record<CompareOp, [string, string]> = {
  eq: ['==', 'eq'], ne: ['!=', 'ne'], all_eq: ['===', 'all_eq'], any_eq: ['any_eq', 'any_eq'], all_ne: ['!==', 'all_ne'],
  any_ne: ['~=', 'any_ne'], lt: ['<', 'lt'], le: ['<=', 'le'], gt: ['>', 'gt'], ge: ['>=', 'ge'],
};

function printString(value: string): string {
  if (value.includes('\\') && !value.includes('"')) return `r"${value}"`;
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code < 0x20) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const printAtom = (a: Atom): string => (a.type === 'word' ? a.text : printString(a.value));

function printEntity(e: Entity, s: Style): string {
  switch (e.type) {
    case 'word':
    case 'string':
      return printAtom(e);
    case 'mask':
      return `${printAtom(e.base)}${s.space}&${s.space}${printAtom(e.mask)}`;
    case 'call':
      return `${e.fn}(${printEntity(e.arg, s)})`;
  }
}

function print(t: Tree, s: Style): string {
  const w = s.words ? 1 : 0;
  const sp = s.space;
  switch (t.type) {
    case 'logic': {
      // A logic operand of the same or a looser operator needs parentheses to stay a subtree.
      const parts = t.operands.map((o) => (o.type === 'logic' && PRECEDENCE[o.op] <= PRECEDENCE[t.op] ? `(${print(o, s)})` : print(o, s)));
      return parts.join(`${sp}${LOGIC_TEXT[t.op][w]}${sp}`);
    }
    case 'not':
      return `${s.words ? `not${sp}` : '!'}${t.expr.type === 'logic' ? `(${print(t.expr, s)})` : print(t.expr, s)}`;
    case 'compare':
      return `${printEntity(t.left, s)}${sp}${OP_TEXT[t.op][w]}${sp}${printEntity(t.right, s)}`;
    case 'contains':
      return `${printEntity(t.left, s)}${sp}contains${sp}${printEntity(t.right, s)}`;
    case 'matches':
      return `${printEntity(t.left, s)}${sp}${s.words ? 'matches' : '~'}${sp}${printEntity(t.right, s)}`;
    case 'in': {
      const items = t.set.map((i) => (i.high === undefined ? printAtom(i.low) : `${printAtom(i.low)}${sp}..${sp}${printAtom(i.high)}`));
      return `${printEntity(t.left, s)}${t.negated ? `${sp}not` : ''}${sp}in${sp}{${items.join(s.words ? sp : `,${sp}`)}}`;
    }
    case 'test':
      return printEntity(t.entity, s);
  }
}

const style: fc.Arbitrary<Style> = fc.record({ words: fc.boolean(), space: fc.constantFrom(' ', ' ', '  ', '\t', '\n') });

// ---------------------------------------------------------------- any tree the grammar can produce

const wordText = fc
  .stringMatching(/^[A-Za-z0-9_:/-][A-Za-z0-9_.:/-]{0,7}$/)
  .filter((text) => !text.includes('..') && !KEYWORDS.has(text.toLowerCase()));
const anyAtom: fc.Arbitrary<Atom> = fc.oneof(
  wordText.map((text): Atom => ({ type: 'word', text })),
  fc.string({ unit: 'binary', maxLength: 8 }).map((value): Atom => ({ type: 'string', value })),
);
const compareOp = fc.constantFrom<CompareOp>('eq', 'ne', 'all_eq', 'any_eq', 'all_ne', 'any_ne', 'lt', 'le', 'gt', 'ge');
const item: fc.Arbitrary<Item> = fc.oneof(fc.record({ low: anyAtom }), fc.record({ low: anyAtom, high: anyAtom }));

const { tree: anyTree } = fc.letrec<{ tree: Tree; entity: Entity }>((tie) => ({
  entity: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'entity' },
    anyAtom,
    fc.record({ type: fc.constant('mask' as const), base: anyAtom, mask: anyAtom }),
    fc.record({ type: fc.constant('call' as const), fn: fc.constantFrom<Fn>('len', 'count', 'lower', 'upper'), arg: tie('entity') }),
  ),
  tree: fc.oneof(
    { maxDepth: 4, depthIdentifier: 'tree' },
    fc.record({ type: fc.constant('test' as const), entity: tie('entity') }),
    fc.record({ type: fc.constant('compare' as const), op: compareOp, left: tie('entity'), right: tie('entity') }),
    fc.record({ type: fc.constantFrom('contains' as const, 'matches' as const), left: tie('entity'), right: tie('entity') }),
    fc.record({ type: fc.constant('in' as const), left: tie('entity'), set: fc.array(item, { maxLength: 4 }), negated: fc.boolean() }),
    fc.record({ type: fc.constant('not' as const), expr: tie('tree') }),
    fc.record({ type: fc.constant('logic' as const), op: fc.constantFrom('and' as const, 'or' as const, 'xor' as const), operands: fc.array(tie('tree'), { minLength: 2, maxLength: 4 }) }),
  ),
}));

// ---------------------------------------------------------------- a world of frames and events

type Kind = 'number' | 'string' | 'ipv4' | 'ip' | 'presence' | 'bytes';
type RVal = number | string;
interface Slot {
  present: boolean;
  values: RVal[];
}
type Model = Record<string, Slot>;

const slot = (values: RVal[], present = values.length > 0): Slot => ({ present, values });

const ADDRESSES = ['10.0.0.1', '10.0.0.2', '192.168.1.9'];
const PORTS = [53, 80, 139, 1025, 1026];
const ALPHABET = 'abSTOPx 19';
const ascii = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength });

function ipNumber(text: string): number {
  return text.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

interface Frame {
  number: number;
  src: string;
  dst: string;
  ttl: number;
  transport: 'tcp' | 'udp' | 'none';
  sport: number;
  dport: number;
  data: string;
  severities: Severity[];
}

const severity = fc.constantFrom<Severity>('error', 'warning', 'note');
const frameArb: fc.Arbitrary<Frame> = fc.record({
  number: fc.integer({ min: 1, max: 9 }),
  src: fc.constantFrom(...ADDRESSES),
  dst: fc.constantFrom(...ADDRESSES),
  ttl: fc.constantFrom(1, 64, 128),
  transport: fc.constantFrom('tcp' as const, 'udp' as const, 'none' as const),
  sport: fc.constantFrom(...PORTS),
  dport: fc.constantFrom(...PORTS),
  data: ascii(16),
  severities: fc.array(severity, { maxLength: 2 }),
});

function packetOf(fr: Frame): Packet {
  const layer = (name: string, tree: Layer['tree']): Layer => ({ name, bytes: new Uint8Array(8), offset: 0, length: 8, tree });
  const layers = [layer('ip', () => [f(IP.src, fr.src), f(IP.dst, fr.dst), f(IP.ttl, fr.ttl)])];
  if (fr.transport === 'tcp') layers.push(layer('tcp', () => [f(TCP.srcport, fr.sport), f(TCP.dstport, fr.dport)]));
  if (fr.transport === 'udp') layers.push(layer('udp', () => [f(UDP.srcport, fr.sport), f(UDP.dstport, fr.dport)]));
  const data = new TextEncoder().encode(fr.data);
  return {
    frame: { number: fr.number, tsSec: 1000, tsNsec: 0, caplen: data.length, len: data.length, linkType: 1, data, interfaceId: 0 },
    layers,
    src: fr.src,
    dst: fr.dst,
    findings: fr.severities.map((s) => ({ id: `x.${s}`, severity: s, summary: s, frame: fr.number, spec: '' })),
  };
}

function frameModel(fr: Frame): Model {
  const ports = fr.transport === 'none' ? [] : [fr.sport, fr.dport];
  const on = (t: 'tcp' | 'udp', values: RVal[]): RVal[] => (fr.transport === t ? values : []);
  return {
    ip: slot([], true),
    tcp: slot([], fr.transport === 'tcp'),
    udp: slot([], fr.transport === 'udp'),
    frame: slot([fr.data]),
    'ip.src': slot([ipNumber(fr.src)]),
    'ip.dst': slot([ipNumber(fr.dst)]),
    'ip.addr': slot([ipNumber(fr.src), ipNumber(fr.dst)]),
    'ip.ttl': slot([fr.ttl]),
    'tcp.srcport': slot(on('tcp', [fr.sport])),
    'tcp.dstport': slot(on('tcp', [fr.dport])),
    'tcp.port': slot(on('tcp', ports)),
    'udp.srcport': slot(on('udp', [fr.sport])),
    'udp.dstport': slot(on('udp', [fr.dport])),
    'udp.port': slot(on('udp', ports)),
    'frame.len': slot([fr.data.length]),
    'frame.number': slot([fr.number]),
    'frame.protocols': slot([['ip', ...(fr.transport === 'none' ? [] : [fr.transport])].join(':')]),
    'expert.severity': slot(fr.severities),
  };
}

const FRAME_FIELDS: Record<string, Kind> = {
  ip: 'presence', tcp: 'presence', udp: 'presence', frame: 'bytes',
  'ip.src': 'ipv4', 'ip.dst': 'ipv4', 'ip.addr': 'ipv4', 'ip.ttl': 'number',
  'tcp.srcport': 'number', 'tcp.dstport': 'number', 'tcp.port': 'number',
  'udp.srcport': 'number', 'udp.dstport': 'number', 'udp.port': 'number',
  'frame.len': 'number', 'frame.number': 'number', 'frame.protocols': 'string', 'expert.severity': 'string',
};

interface Happening {
  kind: 'message' | 'session';
  protocol: 'smb' | 'msnp';
  src: string;
  sport: number;
  dst: string;
  dport: number;
  frames: number[];
  findings: { severity: Severity; frame: number }[];
  from: string;
  to: string[];
  text: string;
}

const happeningArb: fc.Arbitrary<Happening> = fc.record({
  kind: fc.constantFrom('message' as const, 'session' as const),
  protocol: fc.constantFrom('smb' as const, 'msnp' as const),
  src: fc.constantFrom(...ADDRESSES),
  sport: fc.constantFrom(...PORTS),
  dst: fc.constantFrom(...ADDRESSES),
  dport: fc.constantFrom(...PORTS),
  frames: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 3 }),
  findings: fc.array(fc.record({ severity, frame: fc.integer({ min: 1, max: 5 }) }), { maxLength: 2 }),
  from: fc.constantFrom('A', 'B', 'SYSTEM'),
  to: fc.array(fc.constantFrom('A', 'B', 'ALERT'), { maxLength: 2 }),
  text: ascii(16),
});

function eventOf(h: Happening): TimelineEvent {
  const common = {
    tsSec: 0, tsNsec: 0, frames: h.frames, protocol: h.protocol, transport: h.protocol === 'smb' ? 'tcp/nbss/smb' : 'tcp/msnp',
    src: `${h.src}:${h.sport}`, dst: `${h.dst}:${h.dport}`,
    findings: h.findings.map((x) => ({ id: `x.${x.severity}`, severity: x.severity, summary: x.severity, frame: x.frame, spec: '' })),
  };
  return h.kind === 'message' ? { kind: 'message', ...common, from: h.from, to: h.to, text: h.text, status: 'ok' } : { kind: 'session', ...common, action: 'open' };
}

function eventModel(h: Happening): Model {
  const message = h.kind === 'message';
  return {
    message: slot([], message),
    session: slot([], !message),
    finding: slot([], h.findings.length > 0),
    smb: slot([], h.protocol === 'smb'),
    tcp: slot([], true),
    msnp: slot([], h.protocol === 'msnp'),
    kind: slot([h.kind]),
    protocol: slot([h.protocol]),
    'src.port': slot([h.sport]),
    'dst.port': slot([h.dport]),
    port: slot([h.sport, h.dport]),
    'src.addr': slot([ipNumber(h.src)]),
    addr: slot([ipNumber(h.src), ipNumber(h.dst)]),
    frames: slot(h.frames),
    'finding.severity': slot(h.findings.map((x) => x.severity)),
    'finding.frame': slot(h.findings.map((x) => x.frame)),
    'message.text': slot(message ? [h.text] : []),
    'message.from': slot(message ? [h.from] : []),
    'message.to': slot(message ? h.to : []),
  };
}

const EVENT_FIELDS: Record<string, Kind> = {
  message: 'presence', session: 'presence', finding: 'presence', smb: 'presence', tcp: 'presence', msnp: 'presence',
  kind: 'string', protocol: 'string', 'src.port': 'number', 'dst.port': 'number', port: 'number',
  'src.addr': 'ip', addr: 'ip', frames: 'number', 'finding.severity': 'string', 'finding.frame': 'number',
  'message.text': 'string', 'message.from': 'string', 'message.to': 'string',
};

// ---------------------------------------------------------------- well-typed filters

/** Regular expressions in the part of the syntax where RE2 and JavaScript agree on these subjects. */
const regexArb: fc.Arbitrary<string> = (() => {
  const atom = fc.constantFrom('a', 'b', 'S', 'T', 'O', 'P', ' ', 'x', '1', '.', '[ab]', '[^a ]', '\\d', '\\w', '\\s', '[A-Z]');
  const quant = fc.constantFrom('', '', '', '*', '+', '?', '{1,2}', '{2}', '*?');
  const piece = fc.tuple(atom, quant).map(([a, q]) => a + q);
  const seq = fc.array(piece, { minLength: 1, maxLength: 3 }).map((p) => p.join(''));
  const group = fc.oneof(
    fc.tuple(seq, seq).map(([a, b]) => `(${a}|${b})`),
    fc.tuple(seq, quant).map(([a, q]) => `(?:${a})${q}`),
  );
  return fc
    .tuple(fc.boolean(), fc.boolean(), fc.array(fc.oneof(piece, group), { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([fold, start, parts, end]) => `${fold ? '(?i)' : ''}${start ? '^' : ''}${parts.join('')}${end ? '$' : ''}`);
})();

const STRINGS = ['message', 'session', 'smb', 'msnp', 'error', 'note', 'warning', 'STOP', 'A', 'B', 'ALERT', 'SYSTEM', '', 'ip', 'ip:tcp', 'ip:udp', 'a', 'x'];
const NUMBERS = [0, 1, 2, 3, 5, 53, 64, 80, 139, 1025, 1026];
const CIDRS = ['10.0.0.0/8', '192.168.0.0/16', '10.0.0.2/32', '0.0.0.0/0'];

const word = (text: string): Atom => ({ type: 'word', text });
const str = (value: string): Atom => ({ type: 'string', value });
const numberAtom = fc.tuple(fc.constantFrom(...NUMBERS), fc.boolean()).map(([n, hex]) => word(hex ? `0x${n.toString(16)}` : String(n)));
const stringAtom = fc.oneof(fc.constantFrom(...STRINGS), ascii(4)).map(str);
const addressAtom = fc.constantFrom(...ADDRESSES).map(word);
const addressOrRange = fc.constantFrom(...ADDRESSES, ...CIDRS).map(word);
/** The same relation with its sides swapped: `80 < tcp.port` is `tcp.port > 80`. */
const MIRROR: Record<CompareOp, CompareOp> = { eq: 'eq', ne: 'ne', all_eq: 'all_eq', any_eq: 'any_eq', all_ne: 'all_ne', any_ne: 'any_ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' };
const EQUALITY: CompareOp[] = ['eq', 'ne', 'all_eq', 'any_eq', 'all_ne', 'any_ne'];
const ORDER: CompareOp[] = ['lt', 'le', 'gt', 'ge'];

function typedTree(fields: Record<string, Kind>): fc.Arbitrary<Tree> {
  const named = (kind: Kind): string[] => Object.keys(fields).filter((n) => fields[n] === kind);
  const field = (kind: Kind): fc.Arbitrary<Atom> => fc.constantFrom(...named(kind)).map(word);
  const presence = fc.constantFrom(...Object.keys(fields)).map((n): Tree => ({ type: 'test', entity: word(n) }));
  const compareWith = (left: fc.Arbitrary<Entity>, ops: CompareOp[], literal: fc.Arbitrary<Atom>): fc.Arbitrary<Tree> =>
    fc.tuple(left, fc.constantFrom(...ops), literal, fc.boolean()).map(([l, op, r, mirrored]): Tree => {
      return mirrored ? { type: 'compare', op: MIRROR[op], left: r, right: l } : { type: 'compare', op, left: l, right: r };
    });
  const setOf = (left: fc.Arbitrary<Entity>, low: fc.Arbitrary<Atom>, ranged: fc.Arbitrary<Atom>): fc.Arbitrary<Tree> =>
    fc.tuple(left, fc.array(fc.oneof(low.map((l): Item => ({ low: l })), fc.tuple(ranged, ranged).map(([l, h]): Item => ({ low: l, high: h }))), { maxLength: 3 }), fc.boolean())
      .map(([l, set, negated]): Tree => ({ type: 'in', left: l, set, negated }));
  const numbers = field('number');
  const strings = field('string');
  const counted = fc.constantFrom(...Object.keys(fields).filter((n) => fields[n] !== 'presence' && fields[n] !== 'bytes')).map((n): Entity => ({ type: 'call', fn: 'count', arg: word(n) }));
  const lengths = strings.map((s): Entity => ({ type: 'call', fn: 'len', arg: s }));
  const folded = fc.tuple(fc.constantFrom<Fn>('lower', 'upper'), strings).map(([fn, s]): Entity => ({ type: 'call', fn, arg: s }));
  const masked = fc.tuple(numbers, fc.constantFrom(1, 2, 4, 0x10, 0xff)).map(([n, m]): Entity => ({ type: 'mask', base: n, mask: word(String(m)) }));
  const relations: fc.Arbitrary<Tree>[] = [
    presence,
    compareWith(fc.oneof(numbers, counted, lengths, masked), [...EQUALITY, ...ORDER], numberAtom),
    fc.tuple(numbers, fc.constantFrom(...EQUALITY, ...ORDER), numbers).map(([l, op, r]): Tree => ({ type: 'compare', op, left: l, right: r })),
    setOf(numbers, numberAtom, numberAtom),
    masked.map((m): Tree => ({ type: 'test', entity: m })),
    compareWith(fc.oneof(strings, folded), [...EQUALITY, ...ORDER], stringAtom),
    fc.tuple(strings, stringAtom).map(([l, r]): Tree => ({ type: 'contains', left: l, right: r })),
    fc.tuple(named('bytes').length > 0 ? fc.oneof(strings, field('bytes')) : strings, regexArb).map(([l, re]): Tree => ({ type: 'matches', left: l, right: str(re) })),
    setOf(strings, stringAtom, stringAtom),
  ];
  const ips = [...named('ipv4'), ...named('ip')];
  if (ips.length > 0) {
    const ipField = fc.constantFrom(...ips).map(word);
    relations.push(compareWith(ipField, EQUALITY, addressOrRange), compareWith(ipField, ORDER, addressAtom), setOf(ipField, addressOrRange, addressAtom));
  }
  if (named('bytes').length > 0) relations.push(fc.tuple(field('bytes'), stringAtom).map(([l, r]): Tree => ({ type: 'contains', left: l, right: r })));
  const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'typed' },
      fc.oneof(...relations),
      fc.record({ type: fc.constant('not' as const), expr: tie('tree') }),
      fc.record({ type: fc.constant('logic' as const), op: fc.constantFrom('and' as const, 'or' as const, 'xor' as const), operands: fc.array(tie('tree'), { minLength: 2, maxLength: 4 }) }),
    ),
  }));
  return tree;
}

// ---------------------------------------------------------------- the reference evaluator

interface Literal {
  eq(v: RVal): boolean;
  cmp(v: RVal): number | undefined;
}

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/** A literal read for a field of `kind`, from the documentation's rules. */
function literalFor(kind: Kind, atom: Atom): Literal {
  const text = atom.type === 'word' ? atom.text : atom.value;
  if (kind === 'number') {
    const n = Number(text);
    return { eq: (v) => v === n, cmp: (v) => (typeof v === 'number' ? Math.sign(v - n) : undefined) };
  }
  if (kind === 'ipv4' || kind === 'ip') {
    const [address, bits] = text.split('/');
    const prefix = bits === undefined ? 32 : Number(bits);
    const net = ipNumber(address!);
    const block = 2 ** (32 - prefix);
    const network = Math.floor(net / block) * block;
    return { eq: (v) => typeof v === 'number' && Math.floor(v / block) * block === network, cmp: (v) => (typeof v === 'number' ? Math.sign(v - network) : undefined) };
  }
  return { eq: (v) => v === text, cmp: (v) => (typeof v === 'string' ? (v < text ? -1 : v > text ? 1 : 0) : undefined) };
}

interface Operand {
  kind: Kind;
  present: boolean;
  values: RVal[];
}

function operandOf(e: Entity, fields: Record<string, Kind>, model: Model): Operand {
  switch (e.type) {
    case 'word': {
      const s = model[e.text]!;
      return { kind: fields[e.text]!, present: s.present, values: s.values };
    }
    case 'mask': {
      const base = operandOf(e.base, fields, model);
      const mask = Number(e.mask.type === 'word' ? e.mask.text : e.mask.value);
      return { kind: 'number', present: base.present, values: base.values.map((v) => Number(v) & mask) };
    }
    case 'call': {
      const arg = operandOf(e.arg, fields, model);
      if (e.fn === 'count') return { kind: 'number', present: true, values: [arg.values.length] };
      if (e.fn === 'len') return { kind: 'number', present: arg.present, values: arg.values.map((v) => utf8Length(String(v))) };
      return { kind: 'string', present: arg.present, values: arg.values.map((v) => (e.fn === 'lower' ? String(v).toLowerCase() : String(v).toUpperCase())) };
    }
    default:
      throw new Error('a literal is not an operand');
  }
}

function orderHolds(op: CompareOp, c: number | undefined): boolean {
  if (c === undefined) return false;
  switch (op) {
    case 'lt':
      return c < 0;
    case 'le':
      return c <= 0;
    case 'gt':
      return c > 0;
    case 'ge':
      return c >= 0;
    default:
      return false;
  }
}

function relate(op: CompareOp, values: RVal[], eq: (v: RVal) => boolean, cmp: (v: RVal) => number | undefined): boolean {
  switch (op) {
    case 'eq':
    case 'any_eq':
      return values.some(eq);
    case 'ne':
    case 'all_ne':
      return values.length > 0 && values.every((v) => !eq(v));
    case 'all_eq':
      return values.length > 0 && values.every(eq);
    case 'any_ne':
      return values.some((v) => !eq(v));
    default:
      return values.some((v) => orderHolds(op, cmp(v)));
  }
}

function jsRegex(pattern: string): RegExp {
  return pattern.startsWith('(?i)') ? new RegExp(pattern.slice(4), 'i') : new RegExp(pattern);
}

function reference(t: Tree, fields: Record<string, Kind>, model: Model): boolean {
  const isOperand = (e: Entity): boolean => e.type === 'mask' || e.type === 'call' || (e.type === 'word' && fields[e.text] !== undefined);
  switch (t.type) {
    case 'logic': {
      const results = t.operands.map((o) => reference(o, fields, model));
      if (t.op === 'and') return results.every(Boolean);
      if (t.op === 'or') return results.some(Boolean);
      return results.filter(Boolean).length % 2 === 1;
    }
    case 'not':
      return !reference(t.expr, fields, model);
    case 'test': {
      const op = operandOf(t.entity, fields, model);
      return t.entity.type === 'mask' ? op.values.some((v) => v !== 0) : op.present;
    }
    case 'compare': {
      if (isOperand(t.left) && isOperand(t.right)) {
        const l = operandOf(t.left, fields, model).values;
        const r = operandOf(t.right, fields, model).values;
        const pairs = l.flatMap((a) => r.map((b) => Math.sign(Number(a) - Number(b))));
        if (t.op === 'ne' || t.op === 'all_ne') return l.length > 0 && r.length > 0 && pairs.every((c) => c !== 0);
        if (t.op === 'all_eq') return l.length > 0 && r.length > 0 && pairs.every((c) => c === 0);
        if (t.op === 'eq' || t.op === 'any_eq') return pairs.some((c) => c === 0);
        if (t.op === 'any_ne') return pairs.some((c) => c !== 0);
        return pairs.some((c) => orderHolds(t.op, c));
      }
      // A literal on the left is mirrored: `80 < tcp.port` is `tcp.port > 80`.
      const [field, literal, op] = isOperand(t.left) ? [t.left, t.right, t.op] : [t.right, t.left, MIRROR[t.op]];
      const operand = operandOf(field, fields, model);
      const lit = literalFor(operand.kind, literal as Atom);
      return relate(op, operand.values, (v) => lit.eq(v), (v) => lit.cmp(v));
    }
    case 'contains': {
      const operand = operandOf(t.left, fields, model);
      const needle = (t.right as Atom).type === 'word' ? (t.right as { text: string }).text : (t.right as { value: string }).value;
      return operand.values.some((v) => String(v).includes(needle));
    }
    case 'matches': {
      const operand = operandOf(t.left, fields, model);
      const re = jsRegex((t.right as { value: string }).value);
      return operand.values.some((v) => re.test(String(v)));
    }
    case 'in': {
      const operand = operandOf(t.left, fields, model);
      const tests = t.set.map((i) => {
        const low = literalFor(operand.kind, i.low);
        if (i.high === undefined) return (v: RVal) => low.eq(v);
        const high = literalFor(operand.kind, i.high);
        return (v: RVal) => {
          const a = low.cmp(v);
          const b = high.cmp(v);
          return a !== undefined && b !== undefined && a >= 0 && b <= 0;
        };
      });
      const any = operand.values.some((v) => tests.some((check) => check(v)));
      return t.negated ? !any : any;
    }
  }
}

// ---------------------------------------------------------------- properties

/** Compiles `text` for frames and for events; only a FilterError may be thrown, and a compiled filter evaluates. */
function compilesOrRefuses(text: string, frames: Packet[], events: TimelineEvent[]): void {
  for (const [make, items] of [[(t: string) => new PacketFilter(t), frames], [(t: string) => new EventFilter(t), events]] as const) {
    let filter: { match(item: never): boolean } | undefined;
    try {
      filter = make(text);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      assert.ok(!err.message.includes('\n') && !err.message.includes('\r'), `one line: ${JSON.stringify(err.message.slice(0, 200))}`);
      assert.ok(err.column >= 1 && err.column <= text.length + 1, `column ${err.column} within ${text.length + 1}`);
      continue;
    }
    for (const item of items) assert.equal(typeof filter.match(item as never), 'boolean');
  }
}

const sampleFrames = fc.array(frameArb.map(packetOf), { minLength: 1, maxLength: 2 });
const sampleEvents = fc.array(happeningArb.map(eventOf), { minLength: 1, maxLength: 2 });

test('any text compiles or is a FilterError, and a compiled filter evaluates', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), sampleFrames, sampleEvents, compilesOrRefuses), options());
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'()!&|^=<>~{}.,"\\ r0x1:/-aZ_\t'), maxLength: 60 }), sampleFrames, sampleEvents, compilesOrRefuses), options());
});

const TOKENS = [
  '(', ')', '!', 'not', 'and', 'or', 'xor', '&&', '||', '^^', '==', '!=', '===', '!==', '~=', '<', '<=', '>', '>=', 'eq', 'ne', 'any_eq',
  'contains', 'matches', '~', 'in', '{', '}', ',', '..', '&', 'len(', 'count(', 'lower(', 'upper(', '"', '"x"', 'r"', 'r"\\"', '\\', '"\\"',
  '"(a+)+$"', '"(?i)stop"', '"(?=x)"', 'r"(a)\\1"', '"x{1000}"', '"[a-"', 'udp', 'tcp', 'ip', 'ip.src', 'ip.addr', 'tcp.port', 'udp.port',
  'frame', 'frame.len', 'frame.protocols', 'expert.severity', 'eth.addr', '10.0.0.0/8', '::1', 'fe80::/10', '00:11:22:33:44:55', '1', '0x1f',
  '017', '-3', '1.5', '0b101', 'de:ad:be:ef', '"2005-06-10 12:00:00"', 'kind', 'message', 'message.text', 'message.to', 'message.details.x',
  'src.port', 'addr', 'finding', 'finding.frame', 'smb', 'x', 'true', 'UDP',
];

test('any soup of the language\'s tokens compiles or is a FilterError, and evaluates', () => {
  const soup = fc.array(fc.tuple(fc.constantFrom(...TOKENS), fc.constantFrom('', ' ', ' ', '\n')), { maxLength: 24 }).map((parts) => parts.map(([t, s]) => t + s).join(''));
  fc.assert(fc.property(soup, sampleFrames, sampleEvents, compilesOrRefuses), options(2));
});

test('a syntax tree printed as text parses back to the same tree', () => {
  fc.assert(
    fc.property(anyTree, style, (tree, s) => {
      const text = print(tree, s);
      assert.deepStrictEqual(strip(parseFilter(text)), JSON.parse(JSON.stringify(tree)), text);
    }),
    options(2),
  );
});

/** A world: its field kinds, random things in it, the filter over them and their reference model. */
interface World<S, T> {
  readonly fields: Record<string, Kind>;
  readonly things: fc.Arbitrary<S>;
  filter(text: string): { match(item: T): boolean };
  item(thing: S): T;
  model(thing: S): Model;
}

function agreesWithReference<S, T>(world: World<S, T>): void {
  fc.assert(
    fc.property(typedTree(world.fields), style, fc.array(world.things, { minLength: 1, maxLength: 4 }), (tree, s, things) => {
      const text = print(tree, s);
      const filter = world.filter(text);
      for (const thing of things) assert.equal(filter.match(world.item(thing)), reference(tree, world.fields, world.model(thing)), `${text} on ${JSON.stringify(thing)}`);
    }),
    options(2),
  );
}

test('filters over frames give the reference evaluator\'s answer', () => {
  agreesWithReference({ fields: FRAME_FIELDS, things: frameArb, filter: (t) => new PacketFilter(t), item: packetOf, model: frameModel });
});

test('filters over timeline events give the reference evaluator\'s answer', () => {
  agreesWithReference({ fields: EVENT_FIELDS, things: happeningArb, filter: (t) => new EventFilter(t), item: eventOf, model: eventModel });
});

test('matches agrees with a backtracking engine where both can answer', () => {
  fc.assert(
    fc.property(regexArb, fc.array(ascii(24), { minLength: 1, maxLength: 4 }), (pattern, texts) => {
      const filter = new EventFilter(`message.text matches ${printString(pattern)}`);
      const re = jsRegex(pattern);
      for (const text of texts) assert.equal(filter.match(eventOf({ kind: 'message', protocol: 'smb', src: '10.0.0.1', sport: 1, dst: '10.0.0.2', dport: 2, frames: [1], findings: [], from: 'A', to: [], text })), re.test(text), `${pattern} on ${JSON.stringify(text)}`);
    }),
    options(),
  );
});

type Level = 'paren' | '!' | 'not' | 'call';

test(`nesting at the limit (${MAX_NESTING}) is accepted and keeps its meaning; one level more is refused`, () => {
  const build = (outer: Level[], calls: number): string => {
    let text = `${'count('.repeat(calls)}udp.port${')'.repeat(calls)} == 1`;
    for (const level of [...outer].reverse()) text = level === 'paren' ? `( ${text})` : level === '!' ? `!${text}` : `not ${text}`;
    return text;
  };
  const level = fc.constantFrom<Level>('paren', '!', 'not', 'call');
  fc.assert(
    fc.property(fc.array(level, { minLength: MAX_NESTING, maxLength: MAX_NESTING }), level, (spine, extra) => {
      // Calls go innermost (they wrap a field); parentheses and nots wrap the relation in any order.
      const calls = spine.filter((l) => l === 'call').length;
      const outer = spine.filter((l) => l !== 'call');
      const nots = outer.filter((l) => l === '!' || l === 'not').length;
      const atLimit = new PacketFilter(build(outer, calls));
      // udp.port == 1 and count(…count(udp.port)…) == 1 both hold on this frame; each not flips it.
      assert.equal(atLimit.match(packetOf({ number: 1, src: '10.0.0.1', dst: '10.0.0.2', ttl: 1, transport: 'udp', sport: 1, dport: 2, data: '', severities: [] })), nots % 2 === 0);
      const over = extra === 'call' ? build(outer, calls + 1) : build([extra, ...outer], calls);
      assert.throws(() => new PacketFilter(over), (err: unknown) => err instanceof FilterError && /nests too deeply/.test(err.detail));
    }),
    options(0.1),
  );
});
