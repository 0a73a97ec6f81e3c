// The conversation tables of `stats` (tshark's -z conv,ip / ipv6 / tcp / udp): frames and bytes
// each way, first and last time, one row per pair of addresses or of address and port, A
// being the first frame's source; bounded at MAX_CONVERSATIONS rows per table.
//
// Kept compact because spam makes a conversation of nearly every message (spam-1m: 130,000
// IPv4 and 150,000 TCP and UDP rows; from about 2M frames on every table is at its bound):
// counters and times in typed arrays by row number, no object and no text per row. A row is
// found by three 32-bit numbers in an open-addressing table of row numbers: an IPv4 address
// pair by its two addresses (the lower first); an IPv4 port pair by its addresses and ports;
// an IPv6 port pair under an address pair that has a row by that row and the ports. Its ends
// are written from those numbers when the report is made. About 70 bytes a row, the same from
// the first row to the bound (a Map of text keys, row objects and address strings were ~210,
// and port pairs whose address table was full went by text). IPv6 address pairs, and IPv6
// port pairs under an address pair without a row (its table full), are found by their text.
import type { ConversationRow, EndpointRow } from './stats.js';
import type { Layer } from '../model/packet.js';
import { ipv4Text } from '../net/addr.js';
import { grown } from '../util/typed-arrays.js';

/** Rows per table (the report says when a table is cut). */
export const MAX_CONVERSATIONS = 200_000;

/** Per row: frames A→B, bytes A→B, frames B→A, bytes B→A, first and last time (seconds from the first frame). */
const FIELDS = 6;

/** How a row was found, and what its number key holds (`flags`, low bits). */
const TEXT = 0;
/** keyLo, keyHi: the two IPv4 addresses, the lower first (keyX 0). */
const V4 = 1;
/** V4's key, and keyX: the ports, the lower address's first (one address: the lower port first), first × 65536 + second. */
const PORTS4 = 2;
/** keyHi: the row of an address pair found by text (IPv6), × 2, + its table (0 ip, 1 ipv6); keyX: the ports, the address row's A's first (one address: the lower first). */
const PORTS_ROW = 3;
const KIND_MASK = 3;
/** V4, PORTS4: A is keyLo's address (else keyHi's). PORTS_ROW: A is the address row's A. */
const A_IS_LO_OR_ROW_A = 4;
/** PORTS4, PORTS_ROW: A's port is the second of keyX's (else the first). */
const A_PORT_SECOND = 8;

class ConvTable {
  /** Rows found by text: the ends' text. */
  readonly textIndex = new Map<string, number>();
  /** The ends' text, for rows found by text. */
  readonly a: (string | undefined)[] = [];
  readonly b: (string | undefined)[] = [];
  full = false;
  size = 0;
  private capacity = 1024;
  nums = new Float64Array(FIELDS * 1024);
  flags = new Uint8Array(1024);
  keyHi = new Uint32Array(1024);
  keyLo = new Uint32Array(1024);
  keyX = new Uint32Array(1024);
  /** Open addressing over number keys: row + 1, 0 for an empty slot; never more than half full. */
  private slots = new Int32Array(2048);

  constructor(private readonly maxRows: number) {}

  /** The row of a number key of a kind, -1 when none. */
  find(kind: number, hi: number, lo: number, x: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let i = slotHash(hi, lo, x) & mask; ; i = (i + 1) & mask) {
      const s = slots[i]!;
      if (s === 0) return -1;
      const r = s - 1;
      if (this.keyHi[r] === hi && this.keyLo[r] === lo && this.keyX[r] === x && (this.flags[r]! & KIND_MASK) === kind) return r;
    }
  }

  /** A new row found by text (the caller checked the bound), its first frame going from A to B. */
  addText(key: string, a: string, b: string, t: number, len: number): number {
    const r = this.add(TEXT, t, len);
    this.textIndex.set(key, r);
    this.a[r] = a;
    this.b[r] = b;
    return r;
  }

  /** A new row found by a number key (the caller checked the bound and that it is not there). */
  addNumbered(hi: number, lo: number, x: number, flags: number, t: number, len: number): number {
    const r = this.add(flags, t, len);
    this.keyHi[r] = hi;
    this.keyLo[r] = lo;
    this.keyX[r] = x;
    if ((this.size + 1) * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    else this.place(r);
    return r;
  }

  private add(flags: number, t: number, len: number): number {
    const r = this.size++;
    if (r === this.capacity) this.grow();
    this.flags[r] = flags;
    const o = r * FIELDS;
    this.nums[o] = 1;
    this.nums[o + 1] = len;
    this.nums[o + 4] = t;
    this.nums[o + 5] = t;
    return r;
  }

  count(r: number, forward: boolean, t: number, len: number): void {
    const nums = this.nums;
    const o = r * FIELDS;
    if (forward) {
      nums[o]++;
      nums[o + 1] += len;
    } else {
      nums[o + 2]++;
      nums[o + 3] += len;
    }
    if (t < nums[o + 4]!) nums[o + 4] = t;
    if (t > nums[o + 5]!) nums[o + 5] = t;
  }

  /** Whether IPv4 row `r` (V4 or PORTS4) has A at address `src`, B at `dst`. */
  v4Forward(r: number, src: number, dst: number): boolean {
    const aIsLo = (this.flags[r]! & A_IS_LO_OR_ROW_A) !== 0;
    return src === (aIsLo ? this.keyLo[r] : this.keyHi[r]) && dst === (aIsLo ? this.keyHi[r] : this.keyLo[r]);
  }

  /** Whether port row `r` has A's port `sp` and B's `dp` (what tells the way with one address at both ends). */
  portsForward(r: number, sp: number, dp: number): boolean {
    const x = this.keyX[r]!;
    const aPortSecond = (this.flags[r]! & A_PORT_SECOND) !== 0;
    return sp === (aPortSecond ? x & 0xffff : x >>> 16) && dp === (aPortSecond ? x >>> 16 : x & 0xffff);
  }

  /** Row `r`'s ends as text (`addressTables`: where PORTS_ROW rows find their address row). */
  ends(r: number, addressTables: readonly ConvTable[]): [string, string] {
    const flags = this.flags[r]!;
    const hi = this.keyHi[r]!;
    const lo = this.keyLo[r]!;
    const aFirst = (flags & A_IS_LO_OR_ROW_A) !== 0;
    const kind = flags & KIND_MASK;
    if (kind === TEXT) return [this.a[r]!, this.b[r]!];
    let a: string;
    let b: string;
    if (kind === PORTS_ROW) [a, b] = addressTables[hi & 1]!.ends(hi >>> 1, addressTables);
    else [a, b] = [ipv4Text(lo), ipv4Text(hi)];
    if (!aFirst) [a, b] = [b, a];
    if (kind === V4) return [a, b];
    const x = this.keyX[r]!;
    const aPortSecond = (flags & A_PORT_SECOND) !== 0;
    return [endpointText(a, aPortSecond ? x & 0xffff : x >>> 16), endpointText(b, aPortSecond ? x >>> 16 : x & 0xffff)];
  }

  row(r: number, addressTables: readonly ConvTable[]): ConversationRow {
    const o = r * FIELDS;
    const n = this.nums;
    const framesAB = n[o]!;
    const bytesAB = n[o + 1]!;
    const framesBA = n[o + 2]!;
    const bytesBA = n[o + 3]!;
    const relStart = n[o + 4]!;
    const [a, b] = this.ends(r, addressTables);
    return {
      a, b, framesAB, bytesAB, framesBA, bytesBA,
      frames: framesAB + framesBA, bytes: bytesAB + bytesBA, relStart, duration: n[o + 5]! - relStart,
    };
  }

  private place(r: number): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let i = slotHash(this.keyHi[r]!, this.keyLo[r]!, this.keyX[r]!) & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = r + 1;
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    for (let r = 0; r < this.size; r++) if ((this.flags[r]! & KIND_MASK) !== TEXT) this.place(r);
  }

  /** Doubles the row arrays, up to the bound (no room past it is ever used). */
  private grow(): void {
    const size = Math.max(this.capacity + 1, Math.min(this.capacity * 2, this.maxRows));
    this.nums = grown(this.nums, new Float64Array(size * FIELDS));
    this.flags = grown(this.flags, new Uint8Array(size));
    this.keyHi = grown(this.keyHi, new Uint32Array(size));
    this.keyLo = grown(this.keyLo, new Uint32Array(size));
    this.keyX = grown(this.keyX, new Uint32Array(size));
    this.capacity = size;
  }
}

/** A slot for three 32-bit numbers (murmur3's finaliser over them). */
function slotHash(hi: number, lo: number, x: number): number {
  let h = Math.imul(hi ^ 0x9e3779b9, 0x85ebca6b) ^ lo;
  h = Math.imul(h ^ (h >>> 15), 0xcc9e2d51) ^ x;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export type ConvKind = 'tcp' | 'udp' | 'ip' | 'ipv6';

/** Rows in order, each made when asked for. */
export interface SortedRows<T> {
  readonly length: number;
  at(i: number): T;
}

export class Conversations {
  private readonly tables: Readonly<Record<ConvKind, ConvTable>>;
  /** The address tables, by their number in PORTS_ROW keys. */
  private readonly addressTables: readonly ConvTable[];
  /** What `byText` and `byV4` found: whether the frame went from A to B. */
  private forward = false;

  /** `maxRows`: the bound of each table (smaller in tests). */
  constructor(private readonly maxRows = MAX_CONVERSATIONS) {
    this.tables = { tcp: new ConvTable(maxRows), udp: new ConvTable(maxRows), ip: new ConvTable(maxRows), ipv6: new ConvTable(maxRows) };
    this.addressTables = [this.tables.ip, this.tables.ipv6];
  }

  /** Counts one frame in the tables of its (not quoted) IP and TCP/UDP layers. */
  packet(layers: readonly Layer[], t: number, len: number): void {
    let src = '';
    let dst = '';
    // The last address pair as numbers (IPv4; -1: none), else its row found by text (-1: none),
    // that row's table (0 ip, 1 ipv6), and whether the frame went from its A to its B.
    let src4 = -1;
    let dst4 = -1;
    let addressTable = 0;
    let addressRow = -1;
    let addressForward = false;
    for (const layer of layers) {
      // Headers quoted in ICMP errors are not conversations of their own (as in tshark).
      if (layer.quoted === true) continue;
      const name = layer.name;
      if (name !== 'ip' && name !== 'ipv6' && name !== 'tcp' && name !== 'udp') continue;
      // The layer's own addresses and ports when it has them; its tree's fields otherwise.
      const fields = layer.srcAddress === undefined && layer.srcPort === undefined ? topFields(layer) : undefined;
      if (name === 'ip' || name === 'ipv6') {
        src = layer.srcAddress ?? String(fields?.get(`${name}.src`) ?? '');
        dst = layer.dstAddress ?? String(fields?.get(`${name}.dst`) ?? '');
        const table = this.tables[name];
        addressTable = name === 'ip' ? 0 : 1;
        src4 = dst4 = addressRow = -1;
        if (src === '' || dst === '') continue;
        // An IPv4 layer gives its addresses as numbers too (then the text is theirs).
        if (layer.srcAddress4 !== undefined && layer.dstAddress4 !== undefined) {
          src4 = layer.srcAddress4;
          dst4 = layer.dstAddress4;
          this.byV4(table, src4, dst4, t, len);
        } else {
          addressRow = this.byText(table, src, dst, t, len);
          addressForward = this.forward;
        }
      } else if (src !== '' && dst !== '') {
        const sp = layer.srcPort ?? fields?.get(`${name}.srcport`);
        const dp = layer.dstPort ?? fields?.get(`${name}.dstport`);
        if (typeof sp !== 'number' || typeof dp !== 'number') continue;
        const table = this.tables[name];
        if (!isPort(sp) || !isPort(dp)) this.byText(table, endpointText(src, sp), endpointText(dst, dp), t, len);
        else if (src4 >= 0) this.byPorts4(table, src4, dst4, sp, dp, t, len);
        else if (addressRow >= 0) this.byPortsUnderRow(table, addressTable, addressRow, addressForward, src === dst, sp, dp, t, len);
        else this.byText(table, endpointText(src, sp), endpointText(dst, dp), t, len);
      }
    }
  }

  /** The row of two ends found by their text (counted), -1 when the table is full; `forward` says which way the frame went. */
  private byText(table: ConvTable, src: string, dst: string, t: number, len: number): number {
    const key = src < dst ? `${src}\u0000${dst}` : `${dst}\u0000${src}`;
    const r = table.textIndex.get(key);
    if (r === undefined) {
      if (table.size >= this.maxRows) {
        table.full = true;
        return -1;
      }
      this.forward = true;
      return table.addText(key, src, dst, t, len);
    }
    this.forward = table.a[r] === src && table.b[r] === dst;
    table.count(r, this.forward, t, len);
    return r;
  }

  /** As byText, for two IPv4 addresses as numbers. */
  private byV4(table: ConvTable, src: number, dst: number, t: number, len: number): number {
    const lo = Math.min(src, dst);
    const hi = Math.max(src, dst);
    const r = table.find(V4, hi, lo, 0);
    if (r < 0) {
      if (table.size >= this.maxRows) {
        table.full = true;
        return -1;
      }
      this.forward = true;
      return table.addNumbered(hi, lo, 0, V4 | (src === lo ? A_IS_LO_OR_ROW_A : 0), t, len);
    }
    this.forward = table.v4Forward(r, src, dst);
    table.count(r, this.forward, t, len);
    return r;
  }

  /**
   * An IPv4 port pair. Its key: the addresses (the lower first) and the ports, the lower
   * address's first (with one address at both ends, the lower port first), so both ways of a
   * conversation meet; A is the first frame's source.
   */
  private byPorts4(table: ConvTable, src: number, dst: number, sp: number, dp: number, t: number, len: number): void {
    const lo = Math.min(src, dst);
    const hi = Math.max(src, dst);
    const srcIsLo = src === lo;
    const first = src === dst ? Math.min(sp, dp) : srcIsLo ? sp : dp;
    const second = src === dst ? Math.max(sp, dp) : srcIsLo ? dp : sp;
    this.byPorts(table, PORTS4, hi, lo, srcIsLo, src === dst, sp, dp, first, second, t, len);
  }

  /**
   * A port pair under the address pair of row `addressRow` (found by text) of address table
   * `addresses` (0 ip, 1 ipv6), keyed as byPorts4's with the row for the addresses and the
   * address row's A for the lower address.
   */
  private byPortsUnderRow(table: ConvTable, addresses: number, addressRow: number, addressForward: boolean, oneAddress: boolean, sp: number, dp: number, t: number, len: number): void {
    // With two addresses, the frame's source is the address row's A exactly when it went forward there.
    const srcIsA = oneAddress || addressForward;
    const first = oneAddress ? Math.min(sp, dp) : srcIsA ? sp : dp;
    const second = oneAddress ? Math.max(sp, dp) : srcIsA ? dp : sp;
    this.byPorts(table, PORTS_ROW, addressRow * 2 + addresses, 0, srcIsA, oneAddress, sp, dp, first, second, t, len);
  }

  /**
   * The row of a port pair (counted), made when new: `srcFirst` says whether the frame's source
   * is the key's first address (the lower, or the address row's A); with one address the way
   * is told by the ports.
   */
  private byPorts(table: ConvTable, kind: number, hi: number, lo: number, srcFirst: boolean, oneAddress: boolean, sp: number, dp: number, first: number, second: number, t: number, len: number): void {
    const x = first * 65536 + second;
    const r = table.find(kind, hi, lo, x);
    if (r < 0) {
      if (table.size >= this.maxRows) {
        table.full = true;
        return;
      }
      // A is the frame's source: the key's first address or its second, and the first port or the second.
      table.addNumbered(hi, lo, x, kind | (srcFirst ? A_IS_LO_OR_ROW_A : 0) | (sp === first ? 0 : A_PORT_SECOND), t, len);
      return;
    }
    const forward = oneAddress ? table.portsForward(r, sp, dp) : srcFirst === ((table.flags[r]! & A_IS_LO_OR_ROW_A) !== 0);
    table.count(r, forward, t, len);
  }

  /** A table's rows, most frames first (then most bytes, then the earliest; else first seen first). */
  rows(kind: ConvKind): ConversationRow[] {
    const sorted = this.sorted(kind);
    const out: ConversationRow[] = [];
    for (let i = 0; i < sorted.length; i++) out.push(sorted.at(i));
    return out;
  }

  /** The same rows in the same order, each made when asked for: only the order (4 bytes a row) is kept. */
  sorted(kind: ConvKind): SortedRows<ConversationRow> {
    const table = this.tables[kind];
    const n = table.nums;
    const order = new Int32Array(table.size);
    for (let r = 0; r < order.length; r++) order[r] = r;
    order.sort((x, y) => {
      const ox = x * FIELDS;
      const oy = y * FIELDS;
      return n[oy]! + n[oy + 2]! - (n[ox]! + n[ox + 2]!) || n[oy + 1]! + n[oy + 3]! - (n[ox + 1]! + n[ox + 3]!) || n[ox + 4]! - n[oy + 4]! || x - y;
    });
    return { length: order.length, at: (i) => table.row(order[i]!, this.addressTables) };
  }

  /** The endpoints of an address table (tshark's -z endpoints). */
  endpoints(kind: 'ip' | 'ipv6'): EndpointRow[] {
    const table = this.tables[kind];
    const map = new Map<string, EndpointRow>();
    const get = (address: string): EndpointRow => {
      let row = map.get(address);
      if (row === undefined) map.set(address, (row = { address, frames: 0, bytes: 0, txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0 }));
      return row;
    };
    /** Hosts talking to themselves: their row's frames and bytes. */
    const self = new Map<string, ConversationRow>();
    for (let r = 0; r < table.size; r++) {
      const c = table.row(r, this.addressTables);
      const a = get(c.a);
      const b = get(c.b);
      if (c.a === c.b) self.set(c.a, c);
      a.txFrames += c.framesAB;
      a.txBytes += c.bytesAB;
      a.rxFrames += c.framesBA;
      a.rxBytes += c.bytesBA;
      b.txFrames += c.framesBA;
      b.txBytes += c.bytesBA;
      b.rxFrames += c.framesAB;
      b.rxBytes += c.bytesAB;
    }
    for (const r of map.values()) {
      r.frames = r.txFrames + r.rxFrames;
      r.bytes = r.txBytes + r.rxBytes;
      // A host talking to itself counts each frame once, as tshark does.
      const c = self.get(r.address);
      if (c !== undefined) {
        r.frames -= c.frames;
        r.bytes -= c.bytes;
      }
    }
    return [...map.values()].sort((x, y) => y.frames - x.frames || y.bytes - x.bytes || (x.address < y.address ? -1 : 1));
  }

  /** The tables that hit their bound. */
  truncated(): ConvKind[] {
    return (Object.keys(this.tables) as ConvKind[]).filter((k) => this.tables[k].full);
  }
}

const isPort = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 0xffff;

function endpointText(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A layer's top-level fields by name, the first of each. */
function topFields(layer: Layer): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  for (const node of layer.tree()) if (!fields.has(node.def.name)) fields.set(node.def.name, node.value);
  return fields;
}
