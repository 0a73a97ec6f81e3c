// Filter values: parsing literals (numbers, addresses, CIDR, MAC addresses, bytes) and the
// comparisons between a field's values and a literal. Pure functions, no registry access.

/** How a field's values are compared. */
export type Kind =
  | 'number' // uint, int, float (number or bigint)
  | 'bool'
  | 'string'
  | 'bytes' // Uint8Array
  | 'ipv4' // Addr with v 4
  | 'ipv6' // Addr with v 6
  | 'ip' // Addr of either family (event endpoints)
  | 'ether' // "aa:bb:cc:dd:ee:ff"
  | 'guid' // lower-case text
  | 'time' // seconds since the epoch (number)
  | 'protocol' // a layer: present or not; its bytes for contains/matches
  | 'dynamic'; // event values: compared by their run-time type

export interface Addr {
  readonly v: 4 | 6;
  readonly n: bigint;
}

/** A normalised value, as compared. */
export type Val = number | bigint | boolean | string | Uint8Array | Addr;

/** A literal compiled against one kind. */
export interface Literal {
  /** Equality; for a CIDR range, membership. */
  eq(v: Val): boolean;
  /** Order of the value against the literal (<0, 0, >0), or undefined when they cannot be ordered. */
  cmp(v: Val): number | undefined;
  /** Human text for messages. */
  readonly text: string;
}

// ---- numbers ----

export function parseNumber(text: string): number | bigint | undefined {
  const t = text.trim();
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO]?[0-7]+|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)$/.exec(t);
  if (m === null) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2]!;
  let n: number | bigint;
  if (/^0[xX]/.test(body)) n = BigInt(body);
  else if (/^0[bB]/.test(body)) n = BigInt(body);
  else if (/^0[oO]/.test(body)) n = BigInt(body);
  else if (/^0[0-7]+$/.test(body)) n = BigInt(`0o${body.slice(1)}`); // C-style octal, as Wireshark reads it
  else if (/^\d+$/.test(body)) n = BigInt(body);
  else return sign * Number(body);
  if (typeof n === 'bigint') {
    if (sign < 0) n = -n;
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  return n;
}

function numCmp(a: number | bigint, b: number | bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- IP addresses ----

export function parseIpv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (m === null) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function parseIpv6(text: string): bigint | undefined {
  let t = text;
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(t) || !t.includes(':')) return undefined;
  let tail: number[] = [];
  // A dotted IPv4 tail (::ffff:1.2.3.4) is two groups.
  const lastColon = t.lastIndexOf(':');
  const last = t.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIpv4(last);
    if (v4 === undefined) return undefined;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    t = t.slice(0, lastColon + 1);
    if (!t.endsWith('::')) t = t.slice(0, -1);
  }
  const halves = t.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  const explicit = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (explicit > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest, ...tail];
  } else {
    if (explicit !== 8) return undefined;
    groups = [...head, ...tail];
  }
  let n = 0n;
  for (const g of groups) n = (n << 16n) | BigInt(g);
  return n;
}

export function addrOf(text: string): Addr | undefined {
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return { v: 4, n: BigInt(v4) };
  const v6 = parseIpv6(text);
  return v6 === undefined ? undefined : { v: 6, n: v6 };
}

/** An address or CIDR range (`10.0.0.0/8`, `fe80::/10`) of the families allowed. */
export function addrLiteral(text: string, families: readonly (4 | 6)[]): Literal | undefined {
  const slash = text.lastIndexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const addr = addrOf(addrText);
  if (addr === undefined || !families.includes(addr.v)) return undefined;
  const bits = addr.v === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) return undefined;
    prefix = Number(p);
  }
  const shift = BigInt(bits - prefix);
  const network = (addr.n >> shift) << shift;
  return {
    text,
    eq: (v) => isAddr(v) && v.v === addr.v && v.n >> shift === network >> shift,
    cmp: (v) => (isAddr(v) && v.v === addr.v ? numCmp(v.n, network) : undefined),
  };
}

export function isAddr(v: Val): v is Addr {
  return typeof v === 'object' && !(v instanceof Uint8Array);
}

// ---- MAC addresses and bytes ----

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `aa:bb:cc:dd:ee:ff`, `aa-bb-…`, `aabb.ccdd.eeff` or `aabbccddeeff` → `aa:bb:cc:dd:ee:ff`. */
export function parseEther(text: string): string | undefined {
  const bytes = parseBytes(text);
  if (bytes === undefined || bytes.length !== 6) return undefined;
  return Array.from(bytes, (b) => HEX2[b]).join(':');
}

/** Hex bytes separated by `:`, `-` or `.` (`de:ad:be:ef`), a dotted group form, or one run of hex digits. */
export function parseBytes(text: string): Uint8Array | undefined {
  const t = text.trim();
  let hex: string;
  if (/^[0-9a-fA-F]{1,2}([:\-.][0-9a-fA-F]{1,2})*$/.test(t)) hex = t.split(/[:\-.]/).map((b) => b.padStart(2, '0')).join('');
  else if (/^[0-9a-fA-F]{4}(\.[0-9a-fA-F]{4})+$/.test(t)) hex = t.replace(/\./g, '');
  else if (/^(0x)?[0-9a-fA-F]+$/.test(t) && t.replace(/^0x/, '').length % 2 === 0) hex = t.replace(/^0x/, '');
  else return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesCmp(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function bytesIndexOf(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength));
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

// ---- times ----

/** `2005-06-10 12:00:00`, `2005-06-10T12:00:00.5Z`, or seconds since the epoch; UTC unless a zone is given. */
export function parseTime(text: string): number | undefined {
  const n = parseNumber(text);
  if (n !== undefined) return Number(n);
  const t = text.trim().replace(' ', 'T');
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return undefined;
  const zoned = /([zZ]|[+-]\d{2}:?\d{2})$/.test(t) ? t : `${t}Z`;
  const ms = Date.parse(zoned);
  if (Number.isNaN(ms)) return undefined;
  const frac = /\.(\d+)/.exec(t);
  // Date keeps milliseconds only; take the full fraction from the text.
  return Math.floor(ms / 1000) + (frac !== null ? Number(`0.${frac[1]}`) : 0);
}

// ---- comparing values of one kind with each other (field == field) ----

export function compareValues(a: Val, b: Val): number | undefined {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) return numCmp(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesCmp(a, b);
  if (isAddr(a) && isAddr(b)) return a.v === b.v ? numCmp(a.n, b.n) : undefined;
  return undefined;
}

// ---- literals per kind ----

export function numberLiteral(text: string, n: number | bigint): Literal {
  return {
    text,
    eq: (v) => (typeof v === 'number' || typeof v === 'bigint' ? numCmp(v, n) === 0 : typeof v === 'boolean' ? Number(v) === Number(n) : false),
    cmp: (v) => (typeof v === 'number' || typeof v === 'bigint' ? numCmp(v, n) : typeof v === 'boolean' ? numCmp(Number(v), n) : undefined),
  };
}

export function stringLiteral(text: string, s: string, fold = false): Literal {
  const want = fold ? s.toLowerCase() : s;
  return {
    text,
    eq: (v) => typeof v === 'string' && (fold ? v.toLowerCase() : v) === want,
    cmp: (v) => {
      if (typeof v !== 'string') return undefined;
      const x = fold ? v.toLowerCase() : v;
      return x < want ? -1 : x > want ? 1 : 0;
    },
  };
}

export function bytesLiteral(text: string, b: Uint8Array): Literal {
  return {
    text,
    eq: (v) => v instanceof Uint8Array && bytesCmp(v, b) === 0,
    cmp: (v) => (v instanceof Uint8Array ? bytesCmp(v, b) : undefined),
  };
}

/** For event values whose type is only known at run time. */
export function dynamicLiteral(text: string, quoted: boolean): Literal {
  const n = quoted ? undefined : parseNumber(text);
  const addr = quoted ? undefined : addrLiteral(text, [4, 6]);
  const lower = text.toLowerCase();
  const bool = lower === 'true' || lower === '1' ? true : lower === 'false' || lower === '0' ? false : undefined;
  return {
    text,
    eq: (v) => {
      if (typeof v === 'string') return v === text;
      if (typeof v === 'number' || typeof v === 'bigint') return n !== undefined && numCmp(v, n) === 0;
      if (typeof v === 'boolean') return bool !== undefined && v === bool;
      if (isAddr(v)) return addr !== undefined && addr.eq(v);
      return false;
    },
    cmp: (v) => {
      if (typeof v === 'string') return v < text ? -1 : v > text ? 1 : 0;
      if (typeof v === 'number' || typeof v === 'bigint') return n !== undefined ? numCmp(v, n) : undefined;
      if (isAddr(v)) return addr?.cmp(v);
      return undefined;
    },
  };
}
