// The conversation tables of `stats` (tshark's -z conv,ip / ipv6 / tcp / udp): frames and bytes
// each way, first and last time, one row per pair of addresses or of address and port, A
// being the first frame's source; bounded at MAX_CONVERSATIONS rows per table.
//
// Kept compact because spam makes a conversation of nearly every message (spam-1m: 130,000
// IPv4 and 150,000 TCP and UDP rows): counters and times in typed arrays by row number, no
// object per row. An address pair's row is found by its text (`a\0b`, the lower first); a
// port pair under an address pair that has a row by a number made of that row and the ports,
// so a TCP or UDP frame makes no string, and the row keeps no text of its own: its ends are
// written from the address row's when the report is made. Under an address pair without a row
// (its table full) a port pair is found by its text, as the address pairs are.
import type { ConversationRow, EndpointRow } from './stats.js';
import type { Layer } from '../model/packet.js';

/** Rows per table (the report says when a table is cut). */
export const MAX_CONVERSATIONS = 200_000;
const TWO_32 = 2 ** 32;

/** Per row: frames A→B, bytes A→B, frames B→A, bytes B→A, first and last time (seconds from the first frame). */
const FIELDS = 6;

class ConvTable {
  /** Row by key: the ends' text, or (port pairs under an address row) portKey's number. */
  readonly index = new Map<string | number, number>();
  full = false;
  size = 0;
  nums = new Float64Array(FIELDS * 1024);
  /** The ends' text, for rows found by text; undefined for port rows (made from their address row). */
  readonly a: (string | undefined)[] = [];
  readonly b: (string | undefined)[] = [];
  // Port rows: the address row (its table and number), whether A is that row's A, and A's and B's ports.
  readonly addressTable: (ConvTable | undefined)[] = [];
  addressRow = new Int32Array(1024);
  aIsAddressA = new Uint8Array(1024);
  aPort = new Uint16Array(1024);
  bPort = new Uint16Array(1024);

  /** A new row (the caller checked the bound), its first frame going from A to B. */
  add(key: string | number, t: number, len: number): number {
    const r = this.size++;
    if (r === this.addressRow.length) this.grow();
    this.index.set(key, r);
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

  row(r: number): ConversationRow {
    const o = r * FIELDS;
    const n = this.nums;
    const framesAB = n[o]!;
    const bytesAB = n[o + 1]!;
    const framesBA = n[o + 2]!;
    const bytesBA = n[o + 3]!;
    const relStart = n[o + 4]!;
    let a = this.a[r];
    let b = this.b[r];
    const addresses = this.addressTable[r];
    if (addresses !== undefined) {
      const ar = this.addressRow[r]!;
      const aIsA = this.aIsAddressA[r] === 1;
      a = endpointText((aIsA ? addresses.a[ar] : addresses.b[ar])!, this.aPort[r]!);
      b = endpointText((aIsA ? addresses.b[ar] : addresses.a[ar])!, this.bPort[r]!);
    }
    return {
      a: a!, b: b!, framesAB, bytesAB, framesBA, bytesBA,
      frames: framesAB + framesBA, bytes: bytesAB + bytesBA, relStart, duration: n[o + 5]! - relStart,
    };
  }

  private grow(): void {
    const size = this.addressRow.length * 2;
    const nums = new Float64Array(size * FIELDS);
    nums.set(this.nums);
    this.nums = nums;
    const addressRow = new Int32Array(size);
    addressRow.set(this.addressRow);
    this.addressRow = addressRow;
    const aIsAddressA = new Uint8Array(size);
    aIsAddressA.set(this.aIsAddressA);
    this.aIsAddressA = aIsAddressA;
    const aPort = new Uint16Array(size);
    aPort.set(this.aPort);
    this.aPort = aPort;
    const bPort = new Uint16Array(size);
    bPort.set(this.bPort);
    this.bPort = bPort;
  }
}

export type ConvKind = 'tcp' | 'udp' | 'ip' | 'ipv6';

/** Rows in order, each made when asked for. */
export interface SortedRows<T> {
  readonly length: number;
  at(i: number): T;
}

export class Conversations {
  /** `maxRows`: the bound of each table (smaller in tests). */
  constructor(private readonly maxRows = MAX_CONVERSATIONS) {}

  private readonly tables: Readonly<Record<ConvKind, ConvTable>> = { tcp: new ConvTable(), udp: new ConvTable(), ip: new ConvTable(), ipv6: new ConvTable() };
  /** Address tables get distinct numbers in port keys. */
  private readonly addressTables: readonly ConvTable[] = [this.tables.ip, this.tables.ipv6];
  /** What `byText` found: whether the frame went from A to B. */
  private forward = false;

  /** Counts one frame in the tables of its (not quoted) IP and TCP/UDP layers. */
  packet(layers: readonly Layer[], t: number, len: number): void {
    let src = '';
    let dst = '';
    // The last address pair's row (-1: none), and whether the frame went from its A to its B.
    let addressTable: ConvTable | undefined;
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
        addressTable = this.tables[name];
        addressRow = src !== '' && dst !== '' ? this.byText(addressTable, src, dst, t, len) : -1;
        addressForward = this.forward;
      } else if (src !== '' && dst !== '') {
        const sp = layer.srcPort ?? fields?.get(`${name}.srcport`);
        const dp = layer.dstPort ?? fields?.get(`${name}.dstport`);
        if (typeof sp !== 'number' || typeof dp !== 'number') continue;
        const table = this.tables[name];
        if (addressRow >= 0 && addressTable !== undefined && isPort(sp) && isPort(dp)) this.byPorts(table, addressTable, addressRow, addressForward, src === dst, sp, dp, t, len);
        else this.byText(table, endpointText(src, sp), endpointText(dst, dp), t, len);
      }
    }
  }

  /** The row of two ends found by their text (counted), -1 when the table is full; `forward` says which way the frame went. */
  private byText(table: ConvTable, src: string, dst: string, t: number, len: number): number {
    const key = src < dst ? `${src}\u0000${dst}` : `${dst}\u0000${src}`;
    let r = table.index.get(key);
    if (r === undefined) {
      if (table.size >= this.maxRows) {
        table.full = true;
        return -1;
      }
      r = table.add(key, t, len);
      table.a[r] = src;
      table.b[r] = dst;
      this.forward = true;
      return r;
    }
    this.forward = table.a[r] === src && table.b[r] === dst;
    table.count(r, this.forward, t, len);
    return r;
  }

  /**
   * A port pair under the address pair of row `addressRow`. Its key: that row, and the ports
   * with the address row's A side's first (with one address at both ends, the lower first), so
   * both ways of a conversation meet; the frame went from A to B when its source is the row's
   * A (one address: when its ports are the row's).
   */
  private byPorts(table: ConvTable, addresses: ConvTable, addressRow: number, addressForward: boolean, oneAddress: boolean, sp: number, dp: number, t: number, len: number): void {
    // With two addresses, the frame's source is the address row's A exactly when it went forward there.
    const srcIsA = oneAddress || addressForward;
    const first = oneAddress ? Math.min(sp, dp) : srcIsA ? sp : dp;
    const second = oneAddress ? Math.max(sp, dp) : srcIsA ? dp : sp;
    const key = (addressRow * 2 + this.addressTables.indexOf(addresses)) * TWO_32 + first * 65536 + second;
    const r = table.index.get(key);
    if (r === undefined) {
      if (table.size >= this.maxRows) {
        table.full = true;
        return;
      }
      const made = table.add(key, t, len);
      table.addressTable[made] = addresses;
      table.addressRow[made] = addressRow;
      table.aIsAddressA[made] = srcIsA ? 1 : 0;
      table.aPort[made] = sp;
      table.bPort[made] = dp;
      return;
    }
    const forward = oneAddress ? sp === table.aPort[r] && dp === table.bPort[r] : srcIsA === (table.aIsAddressA[r] === 1);
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
    return { length: order.length, at: (i) => table.row(order[i]!) };
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
    for (let r = 0; r < table.size; r++) {
      const c = table.row(r);
      const a = get(c.a);
      const b = get(c.b);
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
      const self = table.index.get(`${r.address}\u0000${r.address}`);
      if (self !== undefined) {
        const c = table.row(self);
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
