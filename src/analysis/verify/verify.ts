// `msgscope verify` as an analysis: dissected frames and timeline events in (never bytes),
// verdicts out — for each selected rule and each conversation (or host, for rules about a host)
// where its protocol was seen: pass (with the frames it was checked on), fail (the frames of its
// findings, what was expected and what was seen), not-applicable, or inconclusive (one side of
// an exchange missing from the capture, the conversation's start missing, or bytes lost).
import { EventFilter, PacketFilterGroup } from '../../filter/index.js';
import type { FindingCatalogue } from '../../model/catalogue.js';
import { ANOMALY, BOUND, type Finding } from '../../model/findings.js';
import type { Packet } from '../../model/packet.js';
import type { TimelineEvent } from '../../model/events.js';
import type { Analysis, FileInfo } from '../../runner/analysis.js';
import {
  Conversation, EVIDENCE_FRAMES, eventCarrier, frameFlow, FROM_CLIENT, FROM_SERVER, KEPT_FINDINGS, openingOf, pairKey, sidesOf, type FrameFlow, type Opening,
} from './conversations.js';
import type { Rule } from './rules.js';
import type { CaptureRef, Verdict, VerdictKind } from './result.js';
import { FifoMap } from '../../util/fifo-map.js';

/** Conversations followed at once; later ones are not judged (and the report says so). */
export const MAX_CONVERSATIONS = 100_000;
/** TCP openings (SYNs) remembered for streams not followed yet; the oldest are forgotten first (a SYN scan). */
const MAX_OPENINGS = 100_000;

export interface VerifyOutcome {
  readonly captures: readonly CaptureRef[];
  readonly rules: readonly Rule[];
  readonly verdicts: Verdict[];
  readonly conversations: number;
  readonly warnings: string[];
}

/** One rule's compiled check: which frame filter (index into the group) or event filter decides where it applies. */
interface CompiledCheck {
  readonly rule: Rule;
  readonly frameFilter: number | undefined;
  readonly eventFilter: EventFilter | undefined;
}

export class VerifyAnalysis implements Analysis {
  private readonly checks: CompiledCheck[];
  private readonly frameFilters: PacketFilterGroup;
  /** Layer or event protocol → the checks of the rules that apply to it. */
  private readonly byProtocol = new Map<string, CompiledCheck[]>();
  private readonly byId = new Map<string, Rule>();
  private readonly conversations = new Map<string, Conversation>();
  /** The current conversation of each pair of endpoints (a reused port pair starts a new TCP stream). */
  private readonly byPair = new Map<string, Conversation>();
  /** TCP stream → who opened it, until the stream carries something a rule looks at. */
  /** A FifoMap: a full Map evicting from its front scans the holes deletions left there (~50 µs each). */
  private readonly openings = new FifoMap<number, Opening>();
  private readonly captures: CaptureRef[] = [];
  private capture = 0;
  private dropped = 0;

  constructor(private readonly rules: readonly Rule[], private readonly catalogue: FindingCatalogue, private readonly done: (outcome: VerifyOutcome) => void | Promise<void>) {
    const texts: string[] = [];
    const eventFilters = new Map<string, EventFilter>();
    this.checks = rules.map((rule) => {
      const { frames, events } = rule.check;
      let frameFilter: number | undefined;
      if (frames !== undefined) {
        frameFilter = texts.indexOf(frames);
        if (frameFilter < 0) frameFilter = texts.push(frames) - 1;
      }
      let eventFilter: EventFilter | undefined;
      if (events !== undefined) {
        eventFilter = eventFilters.get(events);
        if (eventFilter === undefined) eventFilters.set(events, (eventFilter = new EventFilter(events)));
      }
      return { rule, frameFilter, eventFilter };
    });
    this.frameFilters = new PacketFilterGroup(texts);
    for (const c of this.checks) {
      this.byId.set(c.rule.def.id, c.rule);
      for (const p of c.rule.def.appliesTo) {
        const list = this.byProtocol.get(p) ?? [];
        list.push(c);
        this.byProtocol.set(p, list);
      }
    }
  }

  beginFile(file: FileInfo): void {
    this.capture = file.index;
    this.captures.push({ index: file.index, path: file.path, label: file.label });
    this.frameFilters.reset();
    this.byPair.clear();
    this.openings.clear();
  }

  packet(packet: Packet): void {
    this.noteOpening(packet);
    let relevant: CompiledCheck[] | undefined;
    const protocols: string[] = [];
    for (const layer of packet.layers) {
      if (layer.quoted === true) continue;
      const checks = this.byProtocol.get(layer.name);
      if (checks === undefined) continue;
      if (!protocols.includes(layer.name)) protocols.push(layer.name);
      relevant = relevant === undefined ? [...checks] : [...relevant, ...checks.filter((c) => !relevant!.includes(c))];
    }
    const findings = packet.findings.filter((f) => this.byId.has(f.id) || this.isLoss(f));
    if (relevant === undefined && findings.length === 0) return;
    const flow = frameFlow(packet);
    if (flow === undefined) return;
    // A frame with nothing but a loss (a TCP gap) only matters to a conversation already followed.
    const conv = this.frameConversation(flow, relevant !== undefined || findings.some((f) => this.byId.has(f.id)));
    if (conv === undefined) return;
    for (const p of protocols) {
      conv.protocols.add(p);
      conv.sawSide(p, flow.src);
    }
    for (const f of findings) this.record(conv, f);
    if (relevant === undefined) return;
    const frame = [packet.frame.number];
    const wanted = new Set<number>();
    for (const c of relevant) {
      if (c.eventFilter !== undefined && c.frameFilter === undefined) continue;
      if (c.frameFilter === undefined) conv.checked(c.rule, frame);
      else if ((conv.evidence.get(c.rule)?.frames.length ?? 0) < EVIDENCE_FRAMES) wanted.add(c.frameFilter);
    }
    if (wanted.size === 0) return;
    const matched = new Set(this.frameFilters.matching(packet, wanted));
    for (const c of relevant) if (c.frameFilter !== undefined && matched.has(c.frameFilter)) conv.checked(c.rule, frame);
  }

  event(event: TimelineEvent): void {
    const carrier = eventCarrier(event);
    if (carrier === undefined || event.src === '' || event.dst === '') return;
    const checks = this.byProtocol.get(event.protocol);
    const findings = event.findings.filter((f) => this.byId.has(f.id) || this.isLoss(f));
    if (checks === undefined && findings.length === 0) return;
    const conv = this.eventConversation(carrier, event);
    if (conv === undefined) return;
    conv.protocols.add(event.protocol);
    for (const f of findings) this.record(conv, f);
    for (const c of checks ?? []) if (c.eventFilter?.match(event) === true) conv.checked(c.rule, event.frames);
  }

  async finish(): Promise<void> {
    const warnings: string[] = [];
    if (this.dropped > 0) warnings.push(`more than ${MAX_CONVERSATIONS} conversations: ${this.dropped} frame(s) or event(s) of later ones were not judged`);
    const verdicts = [...this.conversationVerdicts(), ...this.endpointVerdicts()];
    await this.done({ captures: this.captures, rules: this.rules, verdicts, conversations: this.conversations.size, warnings });
  }

  // ---- conversations ----

  /**
   * Remembers who opened a TCP stream. Only a frame whose TCP Info shows SYN has its TCP tree
   * built for this (the Info text is a cheap pre-filter; the flags are read from the tree).
   */
  private noteOpening(packet: Packet): void {
    const tcp = packet.layers.find((l) => l.name === 'tcp' && l.quoted !== true);
    if (tcp?.info?.includes('SYN') !== true) return;
    const flow = frameFlow(packet);
    const opened = flow !== undefined ? openingOf(flow) : undefined;
    if (flow === undefined || opened === undefined || this.openings.has(flow.stream)) return;
    if (this.conversations.has(`${this.capture} tcp ${flow.stream}`)) return;
    if (this.openings.size >= MAX_OPENINGS) this.openings.deleteOldest();
    this.openings.set(flow.stream, opened);
  }

  private frameConversation(flow: FrameFlow, create: boolean): Conversation | undefined {
    const key = `${this.capture} ${flow.carrier} ${flow.stream}`;
    let conv = this.conversations.get(key);
    if (conv === undefined) {
      if (!create) return undefined;
      if (this.conversations.size >= MAX_CONVERSATIONS) {
        this.dropped++;
        return undefined;
      }
      const opened = flow.carrier === 'tcp' ? this.openings.get(flow.stream) : undefined;
      if (opened !== undefined) this.openings.delete(flow.stream);
      const sides = sidesOf(flow, opened);
      conv = new Conversation(this.capture, flow.carrier, sides.client, sides.server, sides.startSeen);
      this.conversations.set(key, conv);
    }
    this.byPair.set(pairKey(this.capture, flow.carrier, flow.src, flow.dst), conv);
    return conv;
  }

  /** An event's conversation: the one its endpoints are in now, or a new one it opens (client first). */
  private eventConversation(carrier: string, event: TimelineEvent): Conversation | undefined {
    const pair = pairKey(this.capture, carrier, event.src, event.dst);
    let conv = this.byPair.get(pair);
    if (conv !== undefined) return conv;
    if (this.conversations.size >= MAX_CONVERSATIONS) {
      this.dropped++;
      return undefined;
    }
    conv = new Conversation(this.capture, carrier, event.src, event.dst, carrier !== 'tcp');
    this.conversations.set(`${pair} event`, conv);
    this.byPair.set(pair, conv);
    return conv;
  }

  private isLoss(f: Finding): boolean {
    const def = this.catalogue.lookup(f.id);
    return def !== undefined && (def.spec === BOUND || def.spec === ANOMALY);
  }

  private record(conv: Conversation, f: Finding): void {
    const rule = this.byId.get(f.id);
    if (rule !== undefined) conv.found(rule, f);
    else conv.lost(f);
  }

  // ---- verdicts ----

  private appliesTo(rule: Rule, conv: Conversation): boolean {
    if (conv.findings.has(rule)) return true;
    if (rule.carriers !== undefined && !rule.carriers.has(conv.carrier)) return false;
    return rule.def.appliesTo.some((p) => conv.protocols.has(p));
  }

  /** The verdict of one rule on one conversation, or undefined when its protocol never appeared there. */
  private judge(rule: Rule, conv: Conversation): Omit<Verdict, 'rule' | 'capture' | 'conversation' | 'endpoint'> | undefined {
    if (!this.appliesTo(rule, conv)) return undefined;
    const found = conv.findings.get(rule);
    const evidence = conv.evidence.get(rule);
    const cutStart = rule.check.fromStart === true && !conv.startSeen;
    const startNote = 'the capture starts after the conversation did (no TCP handshake), and this rule judges the conversation from its start';
    const sides = conv.sidesOf(rule.def.appliesTo);
    const oneSided = rule.check.bothSides === true && (sides & (FROM_CLIENT | FROM_SERVER)) !== (FROM_CLIENT | FROM_SERVER);
    const only = sides === FROM_CLIENT ? 'client' : sides === FROM_SERVER ? 'server' : 'no';
    const sideNote = `the rule judges an exchange and only the ${only} side's frames are in the capture`;
    if (found !== undefined) {
      const frames = [...new Set(found.items.map((f) => f.frame).filter((n) => n > 0))].sort((a, b) => a - b);
      const seen = found.items.map((f) => f.summary);
      const spec = found.items[0]!.spec;
      const severity = found.items.reduce((s, f) => (f.severity === 'error' || (f.severity === 'warning' && s === 'note') ? f.severity : s), found.items[0]!.severity);
      if (cutStart || oneSided) {
        return { verdict: 'inconclusive', spec, severity, frames, detail: `${found.count} finding(s), but ${cutStart ? startNote : sideNote}`, seen, findings: found.count };
      }
      const more = found.count > KEPT_FINDINGS ? ` (${found.count} in all)` : '';
      return {
        verdict: 'fail', spec, severity, frames, expected: rule.def.requirement, seen, findings: found.count,
        detail: `${found.count} finding(s)${more}: ${seen[0]}`,
      };
    }
    const base = { spec: rule.def.spec, severity: rule.severity };
    if (evidence === undefined) {
      return { ...base, verdict: 'not-applicable', frames: [], detail: `nothing on this conversation is what the rule judges${this.judgedText(rule)}` };
    }
    const checked = `checked on ${evidence.count} frame(s) or event(s)`;
    const frames = [...evidence.frames].sort((a, b) => a - b);
    if (oneSided) return { ...base, verdict: 'inconclusive', frames, detail: `${checked}, but ${sideNote}` };
    if (cutStart) return { ...base, verdict: 'inconclusive', frames, detail: `${checked}, but ${startNote}` };
    if (rule.def.scope !== 'frame' && conv.lossCount > 0) {
      const l = conv.losses[0]!;
      return { ...base, verdict: 'inconclusive', frames, detail: `${checked}, but the capture or its decoding is incomplete here (${l.id} at frame ${l.frame}: ${l.summary})` };
    }
    return { ...base, verdict: 'pass', frames, detail: checked };
  }

  private judgedText(rule: Rule): string {
    const c = rule.check;
    if (c.frames !== undefined) return ` (frames where ${c.frames})`;
    if (c.events !== undefined) return ` (events where ${c.events})`;
    return '';
  }

  private *conversationVerdicts(): Generator<Verdict> {
    for (const conv of this.conversations.values()) {
      for (const rule of this.rules) {
        if (rule.def.scope === 'endpoint') continue;
        const v = this.judge(rule, conv);
        if (v !== undefined) yield { ...v, rule, capture: conv.capture, conversation: conv };
      }
    }
  }

  /**
   * Rules about a host: the verdicts on each of its conversations joined — fail when any failed,
   * else pass when any passed, else inconclusive, else not applicable. The host is the side the
   * rule's role names (the client when it names none).
   */
  private *endpointVerdicts(): Generator<Verdict> {
    for (const rule of this.rules) {
      if (rule.def.scope !== 'endpoint') continue;
      const hosts = new Map<string, { capture: number; host: string; parts: { conv: Conversation; v: NonNullable<ReturnType<VerifyAnalysis['judge']>> }[] }>();
      for (const conv of this.conversations.values()) {
        const v = this.judge(rule, conv);
        if (v === undefined) continue;
        const host = rule.def.role === 'server' ? conv.serverHost : conv.clientHost;
        const key = `${conv.capture} ${host}`;
        let h = hosts.get(key);
        if (h === undefined) hosts.set(key, (h = { capture: conv.capture, host, parts: [] }));
        h.parts.push({ conv, v });
      }
      for (const h of hosts.values()) {
        const order: VerdictKind[] = ['fail', 'pass', 'inconclusive', 'not-applicable'];
        const kind = order.find((k) => h.parts.some((p) => p.v.verdict === k))!;
        const parts = h.parts.filter((p) => p.v.verdict === kind);
        const first = parts[0]!.v;
        const frames = [...new Set(parts.flatMap((p) => p.v.frames))].sort((a, b) => a - b);
        const on = parts.length === 1 ? ` on ${parts[0]!.conv.name}` : ` on ${parts.length} conversations`;
        const seen = parts.flatMap((p) => p.v.seen ?? []);
        yield {
          ...first, rule, capture: h.capture, endpoint: h.host, frames, detail: `${first.detail}${on}`,
          ...(seen.length > 0 ? { seen: seen.slice(0, KEPT_FINDINGS), findings: parts.reduce((n, p) => n + (p.v.findings ?? 0), 0) } : {}),
        };
      }
    }
  }
}
