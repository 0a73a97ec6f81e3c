// Byte-level editing of captured frames for the benchmark generators: where the layers are,
// moving a frame to other addresses and ports (with every checksum recomputed, so the copy is
// as valid as a frame from a real network), and building the replies a real network adds: a
// TCP RST from a closed port and ICMP port-unreachable errors quoting a datagram.

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;

/**
 * Where the layers of an Ethernet frame are (VLAN tags and PPPoE sessions are walked through).
 * Returns undefined for frames without IPv4, IPv6 or ARP (LLC, IPX…).
 * @param {Uint8Array} d
 */
export function locate(d) {
  let o = 12;
  let type = d.length >= 14 ? (d[12] << 8) | d[13] : 0;
  let pppoe = -1;
  while ((type === 0x8100 || type === 0x88a8) && d.length >= o + 6) {
    o += 4;
    type = (d[o] << 8) | d[o + 1];
  }
  o += 2;
  if (type === 0x8864 && d.length >= o + 8) {
    pppoe = o;
    const ppp = (d[o + 6] << 8) | d[o + 7];
    type = ppp === 0x0021 ? ETH_IPV4 : ppp === 0x0057 ? ETH_IPV6 : 0;
    o += 8;
  }
  if (type === ETH_ARP && d.length >= o + 28 && d[o + 4] === 6 && d[o + 5] === 4) return { kind: 'arp', off: o, pppoe };
  if (type === ETH_IPV4 && d.length >= o + 20 && d[o] >> 4 === 4) return { kind: 'ipv4', ...ipv4At(d, o), pppoe };
  if (type === ETH_IPV6 && d.length >= o + 40 && d[o] >> 4 === 6) return { kind: 'ipv6', ...ipv6At(d, o), pppoe };
  return undefined;
}

function ipv4At(d, o) {
  const hl = (d[o] & 0x0f) * 4;
  const total = (d[o + 2] << 8) | d[o + 3];
  const proto = d[o + 9];
  const fragOff = ((d[o + 6] & 0x1f) << 8) | d[o + 7];
  const more = (d[o + 6] & 0x20) !== 0;
  const l4 = o + hl;
  const present = Math.min(d.length, o + total);
  const hasPorts = fragOff === 0 && (proto === 6 || proto === 17) && present >= l4 + 4;
  let quote;
  if (proto === 1 && fragOff === 0 && present >= l4 + 28 && [3, 4, 5, 11, 12].includes(d[l4]) && d[l4 + 8] >> 4 === 4) {
    const q = l4 + 8;
    const qhl = (d[q] & 0x0f) * 4;
    const qproto = d[q + 9];
    quote = { off: q, hl: qhl, proto: qproto, ports: (qproto === 6 || qproto === 17) && present >= q + qhl + 4 };
  }
  return { off: o, hl, total, proto, l4, hasPorts, complete: fragOff === 0 && !more && d.length >= o + total && total >= hl, quote };
}

function ipv6At(d, o) {
  const total = 40 + ((d[o + 4] << 8) | d[o + 5]);
  const proto = d[o + 6]; // extension headers are not walked: their L4 checksum is left as it was
  const l4 = o + 40;
  return { off: o, hl: 40, total, proto, l4, hasPorts: (proto === 6 || proto === 17) && d.length >= l4 + 4, complete: d.length >= o + total };
}

export const u32 = (d, o) => ((d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3]) >>> 0;
export const u16 = (d, o) => (d[o] << 8) | d[o + 1];
export function put32(d, o, v) {
  d[o] = v >>> 24;
  d[o + 1] = (v >>> 16) & 0xff;
  d[o + 2] = (v >>> 8) & 0xff;
  d[o + 3] = v & 0xff;
}
export function put16(d, o, v) {
  d[o] = (v >>> 8) & 0xff;
  d[o + 1] = v & 0xff;
}
export const ipNum = (text) => text.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);

/** Ones'-complement sum of d[from, to) added to `sum` (not folded). */
function sum16(d, from, to, sum = 0) {
  let i = from;
  for (; i + 1 < to; i += 2) sum += (d[i] << 8) | d[i + 1];
  if (i < to) sum += d[i] << 8;
  return sum;
}

function fold(sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function ipv4HeaderChecksum(d, o, hl) {
  put16(d, o + 10, 0);
  put16(d, o + 10, fold(sum16(d, o, o + hl)));
}

/** Recomputes the TCP, UDP or ICMP checksum of a complete IPv4 or IPv6 packet at `ip`. */
function transportChecksum(d, ip) {
  const { off, l4, total, proto } = ip;
  const end = off + total;
  if (end < l4 || end > d.length) return;
  const at = proto === 6 ? 16 : proto === 17 ? 6 : proto === 1 || proto === 58 ? 2 : -1;
  if (at < 0 || l4 + at + 2 > end) return;
  if (proto === 17 && ip.kind === 'ipv4' && u16(d, l4 + 6) === 0) return; // no checksum: leave it so
  put16(d, l4 + at, 0);
  let sum = sum16(d, l4, end);
  if (proto !== 1) {
    // Pseudo-header: addresses, protocol, length (ICMPv4 has none).
    sum = ip.kind === 'ipv4' ? sum16(d, off + 12, off + 20, sum) : sum16(d, off + 8, off + 40, sum);
    sum += proto + (end - l4);
  }
  let c = fold(sum);
  if (proto === 17 && c === 0) c = 0xffff;
  put16(d, l4 + at, c);
}

/**
 * Rewrites a located IPv4 frame in place to new endpoints. `map(addr, port)` returns the new
 * [addr, port] of an endpoint (port is -1 for an address alone). In an ICMP error the quoted
 * datagram moves with the flow it quotes and the outer addresses follow it. `salt`, when not
 * zero, changes the activity identifier of a connectionless DCE/RPC datagram, as each new call
 * of a real client has its own.
 * @param {Uint8Array} d @param {ReturnType<typeof locate>} at
 */
export function rewriteIpv4(d, at, map, salt = 0) {
  const o = at.off;
  const src = u32(d, o + 12);
  const dst = u32(d, o + 16);
  let nsrc;
  let ndst;
  if (at.hasPorts) {
    const [a, ap] = map(src, u16(d, at.l4));
    const [b, bp] = map(dst, u16(d, at.l4 + 2));
    nsrc = a;
    ndst = b;
    put16(d, at.l4, ap);
    put16(d, at.l4 + 2, bp);
    if (at.proto === 17) editUdpPayload(d, at.l4 + 8, Math.min(d.length, o + at.total), src, a, ap, salt);
  } else if (at.quote !== undefined) {
    const q = at.quote;
    const qsrc = u32(d, q.off + 12);
    const qdst = u32(d, q.off + 16);
    const qsp = q.ports ? u16(d, q.off + q.hl) : -1;
    const qdp = q.ports ? u16(d, q.off + q.hl + 2) : -1;
    const [a, ap] = map(qsrc, qsp);
    const [b, bp] = map(qdst, qdp);
    put32(d, q.off + 12, a);
    put32(d, q.off + 16, b);
    if (q.ports) {
      put16(d, q.off + q.hl, ap);
      put16(d, q.off + q.hl + 2, bp);
    }
    const qtotal = u16(d, q.off + 2);
    if (q.proto === 17 && q.ports) editUdpPayload(d, q.off + q.hl + 8, Math.min(d.length, q.off + qtotal), qsrc, a, ap, salt);
    ipv4HeaderChecksum(d, q.off, q.hl);
    // A quote of the whole datagram keeps a checksum that can be checked: it must still be right.
    if (q.ports && q.off + qtotal <= d.length) transportChecksum(d, { kind: 'ipv4', off: q.off, l4: q.off + q.hl, total: qtotal, proto: q.proto });
    // The error comes from the quoted destination (or a router on its way) back to the sender.
    nsrc = src === qdst ? b : map(src, -1)[0];
    ndst = dst === qsrc ? a : map(dst, -1)[0];
  } else {
    nsrc = map(src, -1)[0];
    ndst = map(dst, -1)[0];
  }
  put32(d, o + 12, nsrc);
  put32(d, o + 16, ndst);
  ipv4HeaderChecksum(d, o, at.hl);
  if (at.complete) transportChecksum(d, { ...at, kind: 'ipv4' });
  return [nsrc, ndst];
}

/** NetBIOS datagrams carry their source address again; DCE/RPC CL calls get a fresh activity. */
function editUdpPayload(d, p, end, oldSrc, newSrc, newPort, salt) {
  if (end - p >= 10 && d[p] >= 0x10 && d[p] <= 0x16 && u32(d, p + 4) === oldSrc) {
    put32(d, p + 4, newSrc);
    put16(d, p + 8, newPort);
  }
  if (salt !== 0 && end - p >= 80 && d[p] === 4 && d[p + 1] <= 10) {
    // The activity UUID's first field, in the byte order of this PDU (a big-endian request may
    // get a little-endian answer): the same call keeps the same activity whatever each side uses.
    const little = (d[p + 4] & 0xf0) === 0x10;
    const v = little ? (d[p + 40] | (d[p + 41] << 8) | (d[p + 42] << 16) | (d[p + 43] << 24)) >>> 0 : u32(d, p + 40);
    const x = (v ^ salt) >>> 0;
    if (little) {
      d[p + 40] = x & 0xff;
      d[p + 41] = (x >>> 8) & 0xff;
      d[p + 42] = (x >>> 16) & 0xff;
      d[p + 43] = x >>> 24;
    } else put32(d, p + 40, x);
  }
}

/** Rewrites an IPv6 frame in place: `map6(bytes, offset)` edits one 16-byte address. */
export function rewriteIpv6(d, at, map6) {
  map6(d, at.off + 8);
  map6(d, at.off + 24);
  if (at.complete) transportChecksum(d, { ...at, kind: 'ipv6' });
}

/** Rewrites an ARP packet's protocol addresses (`map(addr, -1)`) and hardware addresses (`mac`). */
export function rewriteArp(d, at, map, mac) {
  const o = at.off;
  put32(d, o + 14, map(u32(d, o + 14), -1)[0]);
  put32(d, o + 24, map(u32(d, o + 24), -1)[0]);
  mac(d, o + 8);
  mac(d, o + 18);
}

/** Unicast MAC addresses of a flow copy: locally administered, derived from the IPv4 address. */
export function setMacFromIp(d, off, addr) {
  if ((d[off] & 1) !== 0) return; // broadcast/multicast stays
  d[off] = 0x02;
  d[off + 1] = 0x42;
  put32(d, off + 2, addr);
}

/** The PPPoE length field follows the IP packet it carries. */
function fixPppoeLength(d, pppoe, ipLength) {
  if (pppoe >= 0) put16(d, pppoe + 4, ipLength + 2);
}

/**
 * A RST|ACK from the destination of a SYN (a closed port), built from the SYN frame.
 * @param {Uint8Array} syn a rewritten SYN frame
 */
export function tcpResetFor(syn) {
  const at = locate(syn);
  const o = at.off;
  const out = new Uint8Array(o + 40);
  out.set(syn.subarray(6, 12), 0);
  out.set(syn.subarray(0, 6), 6);
  out.set(syn.subarray(12, o), 12);
  fixPppoeLength(out, at.pppoe, 40);
  out[o] = 0x45;
  put16(out, o + 2, 40);
  put16(out, o + 4, u16(syn, o + 4) ^ 0x2b1d);
  out[o + 6] = 0x40; // DF
  out[o + 8] = 128;
  out[o + 9] = 6;
  out.set(syn.subarray(o + 16, o + 20), o + 12);
  out.set(syn.subarray(o + 12, o + 16), o + 16);
  const t = o + 20;
  const s = at.l4;
  put16(out, t, u16(syn, s + 2));
  put16(out, t + 2, u16(syn, s));
  put32(out, t + 8, (u32(syn, s + 4) + 1) >>> 0);
  out[t + 12] = 0x50;
  out[t + 13] = 0x14; // RST|ACK
  ipv4HeaderChecksum(out, o, 20);
  transportChecksum(out, { kind: 'ipv4', off: o, l4: t, total: 40, proto: 6 });
  return out;
}

/**
 * An ICMP port-unreachable from the destination of a datagram back to its sender, quoting
 * the datagram: `long` quotes as much as fits in 576 bytes (what Windows and Linux send),
 * otherwise the IP header and 8 bytes (RFC 792, what routers send).
 * @param {Uint8Array} datagram a rewritten IPv4 UDP frame
 */
export function icmpUnreachableFor(datagram, long) {
  const at = locate(datagram);
  const o = at.off;
  const present = Math.min(datagram.length, o + at.total) - o;
  const quoted = long ? Math.min(present, 576 - 28) : Math.min(present, at.hl + 8);
  const total = 28 + quoted;
  const out = new Uint8Array(o + total);
  out.set(datagram.subarray(6, 12), 0);
  out.set(datagram.subarray(0, 6), 6);
  out.set(datagram.subarray(12, o), 12);
  fixPppoeLength(out, at.pppoe, total);
  out[o] = 0x45;
  out[o + 1] = 0xc0;
  put16(out, o + 2, total);
  put16(out, o + 4, u16(datagram, o + 4) ^ 0x6c3a);
  out[o + 8] = 128;
  out[o + 9] = 1;
  out.set(datagram.subarray(o + 16, o + 20), o + 12);
  out.set(datagram.subarray(o + 12, o + 16), o + 16);
  const icmp = o + 20;
  out[icmp] = 3;
  out[icmp + 1] = 3;
  out.set(datagram.subarray(o, o + quoted), icmp + 8);
  ipv4HeaderChecksum(out, o, 20);
  transportChecksum(out, { kind: 'ipv4', off: o, l4: icmp, total, proto: 1 });
  return out;
}
