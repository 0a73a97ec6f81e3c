// Address formatting shared by the layers and the outputs.

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// Most frames carry addresses seen just before: a small direct-mapped cache of their texts
// saves building (and later flattening) two strings per IPv4 header.
const V4_CACHE = 4096;
const v4Keys = new Float64Array(V4_CACHE).fill(-1);
const v4Texts: string[] = new Array<string>(V4_CACHE).fill('');

export function ipv4String(b: Uint8Array, o: number): string {
  if (o < 0 || o + 4 > b.length) return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  const n = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  const slot = (n ^ (n >>> 11) ^ (n >>> 22)) & (V4_CACHE - 1);
  if (v4Keys[slot] === n) return v4Texts[slot]!;
  const text = `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
  v4Keys[slot] = n;
  v4Texts[slot] = text;
  return text;
}

/** An IPv4 address kept as a number (unsigned, or signed 32-bit) as dotted text. */
export function ipv4Text(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export function macString(b: Uint8Array, o: number): string {
  return `${HEX2[b[o]!]}:${HEX2[b[o + 1]!]}:${HEX2[b[o + 2]!]}:${HEX2[b[o + 3]!]}:${HEX2[b[o + 4]!]}:${HEX2[b[o + 5]!]}`;
}

/** RFC 5952 text form: lower case, longest run of zero groups (two or more) as `::`. */
export function ipv6String(b: Uint8Array, o: number): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // IPv4-mapped addresses keep their dotted tail, as tshark shows them.
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) return `::ffff:${ipv4String(b, o + 12)}`;
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** `ip:port`, or `[v6]:port` for IPv6, as the timeline contract writes endpoints. */
export function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
