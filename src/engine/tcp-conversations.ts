// TCP in the engine: the conversation table (string-keyed, with a numeric IPv4 hash index so
// the common lookup builds no key), tshark's stream numbering and relative sequence numbers,
// per-direction reassembly into in-order byte streams, and the choice of the application
// protocol each conversation is given (by port, then by content).
import { endpoint } from '../net/addr.js';
import { f } from '../model/fields.js';
import type { FindingDef } from '../model/findings.js';
import { TCP_FINDINGS } from '../net/findings.js';
import type { Packet } from '../model/packet.js';
import { TcpDirection, type ReassemblySink } from '../net/tcp-reassembly.js';
import { ACK, FIN, parseTcp, RST, SYN, tcpFlagsText, tcpTree, TCP, type TcpHeader } from '../net/transport.js';
import type { Direction, EngineCore, Route, TcpApp, TcpAppFactory, TcpConversationInfo } from './context.js';
import { conversationKey, IDLE_SECONDS, MAX_CONVERSATIONS } from './flows.js';
import type { IpInfo } from './network.js';

/** Payload segments per conversation on which app detection is tried before giving up. */
const DETECT_TRIES = 16;

interface TcpConversation extends TcpConversationInfo {
  readonly dirs: [TcpDirection, TcpDirection];
  app: TcpApp | null | undefined;
  appName: string;
  detectTries: number;
  /** Directions whose next segment is where the app's stream starts (data before the app was chosen is skipped). */
  startHere: [boolean, boolean];
  finSeen: [boolean, boolean];
  /** Whether each direction has sent a segment (its sequence base is then its own, not guessed from an ACK). */
  sent: [boolean, boolean];
  closed: boolean;
  lastSec: number;
  sawHandshake: boolean;
  /** Made when an application is given the stream (most conversations never need them). */
  sinks: [ReassemblySink, ReassemblySink] | undefined;
  /** IPv4 addresses as numbers ([client, server]) for the fast lookup; undefined for IPv6. */
  readonly v4: readonly [number, number] | undefined;
  /** Its slot in the IPv4 index (-1 when not indexed). */
  readonly hash4: number;
  /** Whether the string-keyed table (the authority) holds this conversation. */
  inTable: boolean;
}

/** One side of an IPv4 conversation hashed (XOR-combined with the other side: the order does not matter). */
function mix4(addr: number, port: number): number {
  let x = Math.imul(addr ^ (port << 16) ^ port, 0x9e3779b1);
  x ^= x >>> 15;
  return Math.imul(x, 0x85ebca6b) ^ (x >>> 13);
}

export class TcpConversations {
  private readonly table = new Map<string, TcpConversation>();
  /**
   * IPv4 conversations by a number hashed from their addresses and ports: found without
   * building the key string per segment. A hint only: a hit is checked field by field and
   * against `inTable`, a miss falls back to `table`.
   */
  private readonly index4 = new Map<number, TcpConversation>();
  private streams = 0;
  private tableFullReported = false;

  constructor(private readonly core: EngineCore, private readonly apps: readonly TcpAppFactory[]) {}

  /** Ends conversations idle past the limit and forgets closed ones (all of them at the end). */
  sweep(now: number, all: boolean): void {
    for (const [, conv] of this.table) {
      if (all || (now - conv.lastSec > IDLE_SECONDS)) this.end(conv);
    }
    if (all) {
      for (const [, conv] of this.table) conv.inTable = false;
      this.table.clear();
      this.index4.clear();
    } else {
      for (const [key, conv] of this.table) {
        if (conv.closed && now - conv.lastSec > IDLE_SECONDS) {
          this.table.delete(key);
          conv.inTable = false;
          if (this.index4.get(conv.hash4) === conv) this.index4.delete(conv.hash4);
        }
      }
    }
  }

  /** End of capture, after every conversation ended: the protocols flush state shared across conversations. */
  finish(): void {
    for (const app of this.apps) this.core.guard(app.name, () => app.finish?.(this.core));
  }

  segment(packet: Packet, d: Uint8Array, ip: IpInfo): void {
    const h = parseTcp(d, 0);
    if (typeof h === 'string') {
      if (!ip.quoted) packet.findings.push(TCP_FINDINGS.malformed.at(packet.frame.number, h));
      else this.quoted(packet, d);
      return;
    }
    if (ip.quoted) {
      this.quoted(packet, d);
      return;
    }
    const payload = d.subarray(h.headerLength);
    const { conv, dir } = this.conversation(ip.src, h.srcPort, ip.dst, h.dstPort, h, packet.frame.tsSec, ip.src4, ip.dst4);
    const mine = conv.dirs[dir];
    const peer = conv.dirs[dir === 0 ? 1 : 0];
    if ((h.flags & SYN) !== 0) {
      mine.syn(h.seq);
      if ((h.flags & ACK) !== 0) conv.sawHandshake = true;
    }
    if (mine.base === undefined) mine.startMidstream(h.seq);
    // Mid-stream start: the first ACK fixes the peer's base too, so relative numbers start at 1 as in tshark.
    if (peer.base === undefined && (h.flags & ACK) !== 0) peer.startMidstream(h.ack);
    const relSeq = mine.displayRelative(h.seq);
    // Without the ACK flag tshark still shows the acknowledgement field, as its raw value (e.g. a bare RST).
    const relAck = (h.flags & ACK) === 0 ? h.ack : peer.base !== undefined ? peer.displayRelative(h.ack) : 0;
    const layerIndex = packet.layers.length;
    let analysis: 'retransmission' | 'out-of-order' | undefined;
    packet.layers.push(this.layer(d, h, conv.index, relSeq, relAck, payload.length, analysis));

    if (conv.app === undefined && payload.length > 0) {
      this.detectApp(conv, dir, payload);
      // A late start skips what the peer sent before it: the detecting segment's ACK says how much.
      if (conv.app !== undefined && conv.startHere[dir === 0 ? 1 : 0] && (h.flags & ACK) !== 0 && peer.base !== undefined) {
        peer.next = Math.max(peer.next, peer.relative(h.ack));
      }
    }
    const app = conv.app;
    if (app !== null && app !== undefined) {
      const sinks = this.sinksOf(conv);
      if (conv.startHere[dir] && payload.length > 0) {
        conv.startHere[dir] = false;
        mine.next = Math.max(mine.next, mine.relative(h.seq));
      }
      if ((h.flags & ACK) !== 0 && peer.base !== undefined) {
        const ackRel = peer.relative(h.ack);
        this.core.guard(conv.appName, () => peer.acknowledged(ackRel, sinks[dir === 0 ? 1 : 0]));
      }
      const kind = mine.segment(h.seq, payload, sinks[dir]);
      if (kind === 'retransmission' || kind === 'out-of-order') {
        analysis = kind;
        packet.layers[layerIndex] = this.layer(d, h, conv.index, relSeq, relAck, payload.length, analysis);
      }
    }
    if ((h.flags & FIN) !== 0) {
      conv.finSeen[dir] = true;
      mine.fin = mine.relative(h.seq) + payload.length;
    }
    if ((h.flags & RST) !== 0 || (conv.finSeen[0] && conv.finSeen[1])) this.end(conv);
  }

  private layer(d: Uint8Array, h: TcpHeader, stream: number, relSeq: number, relAck: number, payloadLength: number, analysis: 'retransmission' | 'out-of-order' | undefined) {
    const flagText = tcpFlagsText(h.flags & 0x1ff);
    const prefix = analysis === 'retransmission' ? '[TCP Retransmission] ' : analysis === 'out-of-order' ? '[TCP Out-Of-Order] ' : '';
    return {
      name: 'tcp',
      bytes: d,
      offset: 0,
      length: h.headerLength,
      info: `${prefix}${h.srcPort} → ${h.dstPort} [${flagText}] Seq=${relSeq}${(h.flags & ACK) !== 0 ? ` Ack=${relAck}` : ''} Win=${h.window} Len=${payloadLength}`,
      tree: () => {
        const nodes = tcpTree(d, 0, h, { stream, relSeq, relAck, payloadLength });
        if (analysis === 'retransmission') nodes.push(f(TCP['analysis.retransmission'], true));
        if (analysis === 'out-of-order') nodes.push(f(TCP['analysis.out_of_order'], true));
        return nodes;
      },
    };
  }

  /** A TCP header quoted in an ICMP error: ports (and sequence number) only, no reassembly. */
  private quoted(packet: Packet, d: Uint8Array): void {
    if (d.length < 4) return;
    const sp = (d[0]! << 8) | d[1]!;
    const dp = (d[2]! << 8) | d[3]!;
    packet.layers.push({
      name: 'tcp',
      bytes: d,
      offset: 0,
      length: Math.min(d.length, 20),
      quoted: true,
      info: `${sp} → ${dp}`,
      tree: () => [f(TCP.srcport, sp, 0, 2), f(TCP.dstport, dp, 2, 2)],
    });
  }

  private conversation(src: string, sp: number, dst: string, dp: number, h: TcpHeader, now: number, src4?: number, dst4?: number): { conv: TcpConversation; dir: Direction } {
    let conv: TcpConversation | undefined;
    let hash4 = -1;
    if (src4 !== undefined && dst4 !== undefined) {
      hash4 = (mix4(src4, sp) ^ mix4(dst4, dp)) & 0x3fffffff;
      const hit = this.index4.get(hash4);
      if (hit !== undefined && hit.inTable && hit.v4 !== undefined) {
        const v4 = hit.v4;
        const port = hit.port;
        if ((v4[0] === src4 && port[0] === sp && v4[1] === dst4 && port[1] === dp) || (v4[0] === dst4 && port[0] === dp && v4[1] === src4 && port[1] === sp)) conv = hit;
      }
    }
    const indexed = conv !== undefined;
    let key: string | undefined;
    if (conv === undefined) {
      key = conversationKey(src, sp, dst, dp);
      conv = this.table.get(key);
    }
    const pureSyn = (h.flags & (SYN | ACK)) === SYN;
    let reuseIndex: number | undefined;
    if (conv !== undefined && pureSyn) {
      // As tshark: a SYN whose sequence number differs from its direction's base starts a new
      // stream (port reuse); a retransmitted SYN (same ISN) stays in the same stream, even
      // after a RST or FIN closed it (then with fresh state for the application).
      const senderDir = conv.addr[0] === src && conv.port[0] === sp ? 0 : 1;
      const sender = conv.dirs[senderDir];
      const sameIsn = !conv.sent[senderDir] || (sender.sawSyn ? sender.base === h.seq : ((sender.base ?? 0) + 1) >>> 0 === h.seq);
      if (!sameIsn || conv.closed) {
        if (sameIsn) reuseIndex = conv.index;
        this.end(conv);
        conv = undefined;
      }
    }
    if (conv === undefined) {
      // The SYN's sender is the client; otherwise guess the side on the well-known (lower) port is the server.
      const srcIsClient = pureSyn || (h.flags & (SYN | ACK)) !== (SYN | ACK) ? !(sp < dp && sp < 1024 && dp >= 1024) : false;
      const c: [string, number] = srcIsClient ? [src, sp] : [dst, dp];
      const s: [string, number] = srcIsClient ? [dst, dp] : [src, sp];
      const v4: [number, number] | undefined = src4 !== undefined && dst4 !== undefined ? (srcIsClient ? [src4, dst4] : [dst4, src4]) : undefined;
      const dirs: [TcpDirection, TcpDirection] = [new TcpDirection(), new TcpDirection()];
      const created: TcpConversation = {
        index: reuseIndex ?? this.streams++,
        addr: [c[0], s[0]],
        port: [c[1], s[1]],
        endpoint: [endpoint(c[0], c[1]), endpoint(s[0], s[1])],
        sawHandshake: false,
        dirs,
        app: undefined,
        appName: '',
        detectTries: 0,
        startHere: [false, false],
        finSeen: [false, false],
        sent: [false, false],
        closed: false,
        lastSec: now,
        sinks: undefined,
        v4,
        hash4,
        inTable: false,
      };
      conv = created;
      if (this.table.size < MAX_CONVERSATIONS) {
        key ??= conversationKey(src, sp, dst, dp);
        const replaced = this.table.get(key);
        if (replaced !== undefined) replaced.inTable = false;
        this.table.set(key, conv);
        conv.inTable = true;
        if (hash4 >= 0) this.index4.set(hash4, conv);
      } else if (!this.tableFullReported) {
        this.tableFullReported = true;
        this.core.packetFinding(TCP_FINDINGS.tableFull.at(this.core.packet?.frame.number ?? 0, `more than ${MAX_CONVERSATIONS} TCP conversations in progress: later ones are not reassembled`));
        conv.app = null;
      }
    }
    if (hash4 >= 0 && !indexed && conv.inTable && conv.v4 !== undefined) this.index4.set(hash4, conv);
    conv.lastSec = now;
    const dir: Direction = conv.addr[0] === src && conv.port[0] === sp ? 0 : 1;
    conv.sent[dir] = true;
    return { conv, dir };
  }

  private sinksOf(conv: TcpConversation): [ReassemblySink, ReassemblySink] {
    return (conv.sinks ??= [this.reassemblySink(() => conv, 0), this.reassemblySink(() => conv, 1)]);
  }

  private reassemblySink(conv: () => TcpConversation, dir: Direction): ReassemblySink {
    const route = (): Route => {
      const c = conv();
      return { transport: 'tcp', src: c.endpoint[dir], dst: c.endpoint[dir === 0 ? 1 : 0] };
    };
    const report = (def: FindingDef, summary: string): void => {
      const frame = this.core.packet?.frame;
      this.core.standaloneFinding(def.at(frame?.number ?? 0, summary), 'tcp', route(), frame?.tsSec ?? this.core.lastSec, frame?.tsNsec ?? 0);
    };
    return {
      data: (bytes) => {
        const c = conv();
        if (c.app) this.core.guard(c.appName, () => c.app!.data(dir, bytes));
      },
      gap: (from, length) => {
        const c = conv();
        report(TCP_FINDINGS.gap, `TCP stream ${c.index}: ${length} byte(s) from ${route().src} not captured (relative seq ${from}–${from + length - 1})`);
        if (c.app) this.core.guard(c.appName, () => c.app!.gap(dir, length));
      },
      conflict: (from, length) => {
        report(TCP_FINDINGS.overlapConflict, `TCP stream ${conv().index}: retransmitted bytes at relative seq ${from} (${length} byte(s)) differ from the first copy; the first copy was kept`);
      },
      limitHit: (bytes) => {
        report(TCP_FINDINGS.reassemblyLimit, `TCP stream ${conv().index}: ${bytes} bytes of out-of-order data waiting; the oldest hole is declared a gap`);
      },
    };
  }

  private detectApp(conv: TcpConversation, dir: Direction, payload: Uint8Array): void {
    const byPort = this.apps.find((app) => app.ports?.includes(conv.port[1])) ?? this.apps.find((app) => app.ports?.includes(conv.port[0]));
    let chosen: TcpAppFactory | undefined;
    if (byPort !== undefined && (byPort.detect === undefined || byPort.detect(payload, dir, conv, this.core) || conv.detectTries >= 2)) chosen = byPort;
    if (chosen === undefined) chosen = this.apps.find((app) => app !== byPort && app.detect?.(payload, dir, conv, this.core) === true);
    if (chosen === undefined && byPort !== undefined) chosen = byPort;
    if (chosen === undefined) {
      if (++conv.detectTries >= DETECT_TRIES) conv.app = null;
      return;
    }
    const factory = chosen;
    conv.appName = factory.name;
    this.core.guard(factory.name, () => {
      conv.app = factory.create(conv, this.core);
    });
    if (conv.app === undefined) conv.app = null;
    // Data seen before the app was chosen was not kept: each direction's stream starts at its
    // next segment, so the skipped bytes are not mistaken for a gap. When the handshake was
    // seen and this is the first payload, nothing was skipped: keep the streams at their start,
    // or a first segment that arrives out of order would be taken as the start.
    conv.startHere = conv.sawHandshake && conv.detectTries === 0 ? [false, false] : [true, true];
  }

  private end(conv: TcpConversation): void {
    if (conv.closed) return;
    conv.closed = true;
    const app = conv.app;
    if (app === null || app === undefined) return;
    this.core.guard(conv.appName, () => {
      const sinks = this.sinksOf(conv);
      conv.dirs[0].flush(sinks[0]);
      conv.dirs[1].flush(sinks[1]);
      app.end();
    });
  }
}
