// UDP in the engine: datagrams decoded, numbered by conversation (tshark's udp.stream), and
// handed to the first application protocol that claims them (by port, then by content).
import type { FieldNode } from '../model/fields.js';
import type { Layer, Packet } from '../model/packet.js';
import { UDP_FINDINGS } from '../net/findings.js';
import { parseUdp, udpTree, type UdpHeader } from '../net/transport.js';
import type { EngineCore, UdpAppFactory, UdpDatagram } from './context.js';
import { RetiredNumbers } from './flow-numbers.js';
import { evictBatch, FlowRecord, flowHash, FlowTable } from './flows.js';
import type { IpInfo } from './network.js';

class UdpConversation extends FlowRecord {
  index = 0;
}

/**
 * A UDP flow silent this long (capture time) leaves the table for the retired numbers: only its
 * udp.stream is kept (Zeek's UDP inactivity timeout is a minute; the engine sweeps every 65,536
 * frames, so a flow may stay a little longer).
 */
const UDP_IDLE_SECONDS = 120;
/** Retired UDP flows whose numbers are kept (about 64 MB of table at most). */
export const RETIRED_UDP_LIMIT = 1 << 21;

/** A datagram's layer: its Info text and tree are made when an output asks (no closure per datagram). */
class UdpLayer implements Layer {
  readonly name = 'udp';
  readonly offset = 0;
  readonly length = 8;

  /** `numbers` shows the capture's udp.stream for `stream` (another number only in a lane of a split capture). */
  constructor(
    readonly bytes: Uint8Array,
    readonly quoted: boolean,
    private readonly h: UdpHeader,
    private readonly stream: number,
    private readonly numbers: Pick<EngineCore, 'udpStream'>,
    private readonly payloadLength: number,
  ) {}

  get info(): string {
    return `${this.h.srcPort} → ${this.h.dstPort} Len=${this.payloadLength}`;
  }

  get srcPort(): number {
    return this.h.srcPort;
  }

  get dstPort(): number {
    return this.h.dstPort;
  }

  tree(): FieldNode[] {
    return udpTree(0, this.h, this.numbers.udpStream(this.stream));
  }
}

export class UdpFlows {
  private readonly flows = new FlowTable<UdpConversation>();
  private readonly retired = new RetiredNumbers(RETIRED_UDP_LIMIT);
  private streams = 0;

  constructor(private readonly core: EngineCore, private readonly apps: readonly UdpAppFactory[]) {}

  datagram(packet: Packet, d: Uint8Array, ip: IpInfo): void {
    const h = parseUdp(d, 0);
    if (typeof h === 'string') {
      if (!ip.quoted) packet.findings.push(UDP_FINDINGS.truncated.at(packet.frame.number, h));
      return;
    }
    let end = d.length;
    if (h.length >= 8 && h.length <= d.length) end = h.length;
    else if (!ip.quoted && h.length !== d.length) {
      packet.findings.push(UDP_FINDINGS.badLength.at(packet.frame.number, `UDP length ${h.length} disagrees with the ${d.length} bytes present`));
    }
    const payload = d.subarray(8, end);
    // tshark gives a quoted datagram the stream index of the conversation it belongs to (creating one if needed).
    const stream = this.stream(ip, h.srcPort, h.dstPort, packet.frame.tsSec);
    packet.layers.push(new UdpLayer(d, ip.quoted, h, stream, this.core, payload.length));
    const datagram: UdpDatagram = {
      src: ip.src, dst: ip.dst, srcPort: h.srcPort, dstPort: h.dstPort, stream, payload, quoted: ip.quoted, icmpReason: ip.icmpReason, icmp: ip.icmp,
      ipId: ip.ipId, frames: ip.frames, tsSec: packet.frame.tsSec, tsNsec: packet.frame.tsNsec,
    };
    const app = this.pickApp(datagram);
    if (app === undefined) return;
    // Guarded as EngineCore.guard does, without a closure per datagram.
    try {
      app.dissect(this.core, datagram);
    } catch (err) {
      this.core.internalError(app.name, err);
    }
  }

  /** Retires flows idle past the limit (forgets all of them at the end). */
  sweep(now: number, all: boolean): void {
    if (all) {
      this.flows.clear();
      this.retired.clear();
      return;
    }
    for (const conv of this.flows.records()) if (now - conv.lastSec > UDP_IDLE_SECONDS) this.retire(conv);
  }

  private retire(conv: UdpConversation): void {
    this.flows.remove(conv);
    if (this.retired.remember(conv, conv.index)) return;
    this.core.packetFinding(UDP_FINDINGS.numberingLimit.at(this.core.packet?.frame.number ?? 0,
      `more than ${RETIRED_UDP_LIMIT} idle UDP flows remembered: their stream numbers were forgotten (a later datagram of one starts a new stream)`));
  }

  /** End of capture: the protocols flush what they hold. */
  finish(): void {
    for (const app of this.apps) this.core.guard(app.name, () => app.finish?.(this.core));
  }

  private pickApp(dg: UdpDatagram): UdpAppFactory | undefined {
    for (const app of this.apps) if (app.ports?.includes(dg.dstPort)) return app;
    for (const app of this.apps) if (app.ports?.includes(dg.srcPort)) return app;
    if (dg.quoted) for (const app of this.apps) if (app.ownsBounce?.(dg) === true) return app;
    for (const app of this.apps) if (app.detect?.(dg.payload) === true) return app;
    return undefined;
  }

  private stream(ip: IpInfo, sp: number, dp: number, now: number): number {
    const src4 = ip.src4 ?? -1;
    const dst4 = ip.dst4 ?? -1;
    const hash = flowHash(ip.src, sp, ip.dst, dp, src4, dst4);
    let conv = this.flows.find(hash, ip.src, sp, ip.dst, dp, src4, dst4);
    if (conv === undefined) {
      if (this.flows.size >= this.core.options.conversationLimit) this.evictOldest();
      conv = new UdpConversation(ip.src, ip.dst, sp, dp, src4, dst4, hash, now);
      conv.index = this.retired.find(hash, ip.src, sp, ip.dst, dp, src4, dst4) ?? this.newStream();
      this.flows.insert(conv);
    }
    conv.lastSec = now;
    return conv.index;
  }

  /** The next udp.stream index, told to the engine (a lane of a split capture keeps a log of them). */
  private newStream(): number {
    const index = this.streams++;
    this.core.udpStreamCreated(index);
    return index;
  }

  /** The table is full: the oldest flows are retired (a later datagram of one keeps its udp.stream). */
  private evictOldest(): void {
    const victims = this.flows.oldest(evictBatch(this.core.options.conversationLimit));
    for (const conv of victims) this.retire(conv);
    this.core.packetFinding(UDP_FINDINGS.tableFull.at(this.core.packet?.frame.number ?? 0,
      `more than ${this.core.options.conversationLimit} UDP flows tracked: the ${victims.length} oldest were retired (only their stream numbers are kept)`));
  }
}
