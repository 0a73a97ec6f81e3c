// The NetBIOS name service on UDP 137: labels every packet and reports who registers,
// queries, refreshes or releases messenger (<03>) names, with the outcome, as `name` events.
import type { EngineContext, UdpAppFactory, UdpDatagram } from '../../engine/context.js';
import type { NameEvent } from '../../model/events.js';
import { f, type FieldNode } from '../../model/fields.js';
import { NBNS_FINDINGS } from './findings.js';
import { endpoint } from '../../net/addr.js';
import { NBNS, NBNS_OPCODES, NBNS_RCODES, NBNS_TYPES } from './fields.js';
import { formatName, suffixOf } from './names.js';
import { parseNbns, type NbnsPacket } from './nbns-parse.js';
import type { Timer } from '../../engine/timers.js';

const MAX_PENDING = 4096;
/** A request unanswered this long (capture time) is reported as such. */
const ANSWER_SECONDS = 30;

const OPERATIONS = new Map([[0, 'query'], [5, 'register'], [15, 'register'], [6, 'release'], [8, 'refresh'], [9, 'refresh']]);

interface PendingName {
  readonly key: string;
  readonly operation: string;
  readonly name: string;
  readonly frames: number[];
  readonly tsSec: number;
  readonly tsNsec: number;
  readonly src: string;
  readonly dst: string;
  /** Whether any copy was broadcast (a B-node falls back to broadcast when its name server is silent). */
  broadcastSeen: boolean;
  readonly details: Record<string, unknown>;
  /** Reports the request unanswered after ANSWER_SECONDS. */
  timer?: Timer;
}

export class NbnsService implements UdpAppFactory {
  readonly name = 'nbns';
  readonly ports = [137];
  private readonly pending = new Map<string, PendingName>();

  dissect(ctx: EngineContext, dg: UdpDatagram): void {
    const packet = ctx.packet;
    const frame = packet?.frame.number ?? dg.frames[0] ?? 0;
    const b = dg.payload;
    const route = { transport: 'udp/nbns', src: endpoint(dg.src, dg.srcPort), dst: endpoint(dg.dst, dg.dstPort) };
    const p = parseNbns(b);
    if (typeof p === 'string') {
      packet?.layers.push({ name: 'nbns', bytes: b, offset: 0, length: b.length, quoted: dg.quoted, info: `Malformed NBNS packet: ${p}`, column: 'NBNS', tree: () => [] });
      if (!dg.quoted) ctx.standaloneFinding(NBNS_FINDINGS.malformed.at(frame, p), 'nbns', route, dg.tsSec, dg.tsNsec);
      return;
    }
    const cp = ctx.options.oemCodepage;
    packet?.layers.push({ name: 'nbns', bytes: b, offset: 0, length: b.length, quoted: dg.quoted, info: nbnsInfo(p, cp), column: 'NBNS', tree: () => nbnsTree(p, cp) });
    if (dg.quoted) return;
    for (const prob of p.problems) ctx.packetFinding(NBNS_FINDINGS.malformed.at(frame, prob, { severity: 'warning' }));
    const operation = OPERATIONS.get(p.opcode);
    if (!p.response) {
      if (operation === undefined) return;
      for (const q of p.questions) {
        if (suffixOf(q.name) !== 0x03) continue;
        const name = formatName(q.name, cp);
        const key = `${dg.src}|${p.id}|${name}`;
        const existing = this.pending.get(key);
        if (existing !== undefined) {
          // A retransmission (B-nodes repeat registrations) joins the same event.
          if (!existing.frames.includes(frame)) existing.frames.push(frame);
          if (p.broadcast) existing.broadcastSeen = true;
          continue;
        }
        if (this.pending.size >= MAX_PENDING) {
          const oldest = this.pending.values().next().value;
          if (oldest !== undefined) this.flush(ctx, oldest);
        }
        const details: Record<string, unknown> = { transactionId: p.id, broadcast: p.broadcast };
        const rec = p.records.find((r) => r.nb !== undefined && r.nb.length > 0);
        if (rec?.nb !== undefined) {
          details.address = rec.nb[0]!.addr;
          details.group = (rec.nb[0]!.flags & 0x8000) !== 0;
          details.ttl = rec.ttl;
        }
        const pend: PendingName = { key, operation, name, frames: [...dg.frames], tsSec: dg.tsSec, tsNsec: dg.tsNsec, src: route.src, dst: route.dst, details, broadcastSeen: p.broadcast };
        this.pending.set(key, pend);
        ctx.holds?.hold(pend.frames[0] ?? 0); // released when answered or flushed
        pend.timer = ctx.schedule(dg.tsSec + ANSWER_SECONDS, () => {
          if (this.pending.get(key) === pend) this.flush(ctx, pend);
        });
      }
      return;
    }
    // Responses name the name in their answer record (RFC 1002 §4.2.13 onwards).
    for (const r of p.records) {
      if (r.section !== 'answer' || suffixOf(r.name) !== 0x03) continue;
      const name = formatName(r.name, cp);
      const key = `${dg.dst}|${p.id}|${name}`;
      const pend = this.pending.get(key);
      if (p.opcode === 7) {
        // WACK: the server asks the requester to wait; the request stays open.
        if (pend !== undefined && !pend.frames.includes(frame)) pend.frames.push(frame);
        continue;
      }
      const op = OPERATIONS.get(p.opcode) ?? pend?.operation ?? `opcode ${p.opcode}`;
      const details: Record<string, unknown> = { ...(pend?.details ?? { transactionId: p.id }), responder: route.src };
      if (r.nb !== undefined && r.nb.length > 0) {
        details.addresses = r.nb.map((e) => e.addr);
        details.group = (r.nb[0]!.flags & 0x8000) !== 0;
        details.ttl = r.ttl;
      }
      const event: NameEvent = {
        kind: 'name', operation: op, name, tsSec: pend?.tsSec ?? dg.tsSec, tsNsec: pend?.tsNsec ?? dg.tsNsec,
        frames: pend !== undefined ? [...pend.frames, ...dg.frames.filter((n) => !pend.frames.includes(n))] : [...dg.frames],
        protocol: 'nbns', transport: 'udp/nbns', src: pend?.src ?? route.dst, dst: pend?.dst ?? route.src, findings: [],
        result: { code: p.rcode, name: p.rcode === 0 ? 'ok' : NBNS_RCODES.get(p.rcode) ?? `rcode ${p.rcode}` }, details,
      };
      if (pend !== undefined) {
        pend.timer?.cancel();
        this.pending.delete(key);
        ctx.holds?.release(pend.frames[0] ?? 0);
      }
      ctx.emit(event);
    }
  }

  private flush(ctx: EngineContext, pend: PendingName): void {
    pend.timer?.cancel();
    this.pending.delete(pend.key);
    ctx.holds?.release(pend.frames[0] ?? 0);
    // RFC 1002 §5.1.1: a broadcast registration that draws no objection succeeds, and a broadcast
    // release is never answered (§4.2.9 is for the NBNS): silence is the normal outcome, so it is
    // `unknown` (also when the broadcasts followed unanswered requests to a name server, as a
    // B-node's fallback); a query, a refresh, or a request only ever sent to a name server expected an answer.
    const unanswerable = pend.broadcastSeen && (pend.operation === 'register' || pend.operation === 'release');
    ctx.emit({
      kind: 'name', operation: pend.operation, name: pend.name, tsSec: pend.tsSec, tsNsec: pend.tsNsec, frames: pend.frames, protocol: 'nbns',
      transport: 'udp/nbns', src: pend.src, dst: pend.dst, findings: [], result: { code: -1, name: unanswerable ? 'unknown' : 'no-response' }, details: pend.details,
    });
  }

  finish(ctx: EngineContext): void {
    for (const pend of [...this.pending.values()]) this.flush(ctx, pend);
  }
}

export function nbnsInfo(p: NbnsPacket, cp: string): string {
  let s = NBNS_OPCODES.get(p.opcode) ?? `Unknown operation (${p.opcode})`;
  if (p.response) s += ' response';
  if (p.response && p.rcode !== 0) s += `, ${NBNS_RCODES.get(p.rcode) ?? `rcode ${p.rcode}`}`;
  for (const q of p.questions) s += ` ${NBNS_TYPES.get(q.type) ?? q.type} ${formatName(q.name, cp)}`;
  for (const r of p.records) {
    if (r.section !== 'answer') continue;
    s += ` ${NBNS_TYPES.get(r.type) ?? r.type}`;
    if (p.opcode === 0 && r.nb !== undefined && r.nb.length > 0) s += ` ${r.nb.map((e) => e.addr).join(' ')}`;
    else s += ` ${formatName(r.name, cp)}`;
  }
  return s;
}

function nbnsTree(p: NbnsPacket, cp: string): FieldNode[] {
  const flags = p.flags;
  const nodes: FieldNode[] = [
    f(NBNS.id, p.id, 0, 2),
    f(NBNS.flags, flags, 2, 2, [
      f(NBNS['flags.response'], p.response, 2, 2), f(NBNS['flags.opcode'], p.opcode, 2, 2), f(NBNS['flags.authoritative'], (flags & 0x0400) !== 0, 2, 2),
      f(NBNS['flags.truncated'], (flags & 0x0200) !== 0, 2, 2), f(NBNS['flags.recdesired'], (flags & 0x0100) !== 0, 2, 2),
      f(NBNS['flags.recavail'], (flags & 0x0080) !== 0, 2, 2), f(NBNS['flags.broadcast'], p.broadcast, 2, 2), f(NBNS['flags.rcode'], p.rcode, 2, 2),
    ]),
    f(NBNS['count.queries'], p.counts[0], 4, 2), f(NBNS['count.answers'], p.counts[1], 6, 2),
    f(NBNS['count.auth_rr'], p.counts[2], 8, 2), f(NBNS['count.add_rr'], p.counts[3], 10, 2),
  ];
  for (const q of p.questions) {
    nodes.push(f(NBNS.name, formatName(q.name, cp), q.offset, q.name.length, [f(NBNS.type, q.type, q.name.end, 2), f(NBNS.class, q.class, q.name.end + 2, 2)]));
  }
  for (const r of p.records) {
    const children: FieldNode[] = [f(NBNS.type, r.type, r.name.end, 2), f(NBNS.class, r.class, r.name.end + 2, 2), f(NBNS.ttl, r.ttl, r.name.end + 4, 4), f(NBNS.data_length, r.rdLength, r.name.end + 8, 2)];
    for (const e of r.nb ?? []) {
      children.push(f(NBNS.nb_flags, e.flags, e.offset, 2, [f(NBNS['nb_flags.group'], (e.flags & 0x8000) !== 0, e.offset, 2), f(NBNS['nb_flags.ont'], (e.flags >> 13) & 3, e.offset, 2)]), f(NBNS.addr, e.addr, e.offset + 2, 4));
    }
    if (r.names !== undefined) {
      children.push(f(NBNS.number_of_names, r.names.length, r.rdOffset, 1));
      for (const n of r.names) children.push(f(NBNS.netbios_name, formatName(n.name, cp), n.offset, 16), f(NBNS.name_flags, n.flags, n.offset + 16, 2));
      if (r.unitId !== undefined) children.push(f(NBNS.unit_id, macText(r.unitId)));
    }
    nodes.push(f(NBNS.name, formatName(r.name, cp), r.offset, r.rdOffset + r.rdLength - r.offset, children));
  }
  return nodes;
}

function macText(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}
