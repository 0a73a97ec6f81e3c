#!/usr/bin/env node
// Builds a large capture shaped like the traffic msgscope's users audit (issue 12): waves of
// messenger spam in which every message is its own short connection or exchange, over a
// background of long MSNP sessions and LAN noise. Everything is made from the repository's
// fixtures and the public captures, replicated with other addresses, ports and times so that
// every copy is NEW flows (new 5-tuples; TCP initial sequence numbers stay), as on a real
// network. Every IPv4 header, TCP, UDP and ICMP checksum of a copy is recomputed.
//
//   node scripts/make-spam-capture.mjs [--frames N] [--seed S] [--out file.pcap]
//
// Traffic (shares of frames; about 480 frames per second of capture time, so 1M frames span
// about 35 minutes):
// - SMB messenger over NBSS (TCP 139): one TCP connection per message, the fixtures' sessions
//   (session request, negotiate, 0xD0 or 0xD5/0xD7/0xD6, responses, FIN); some victims
//   answer the SYN with a RST, some never answer (SYN retransmitted after 3 and 9 s);
// - NetrSendMessage over connectionless DCE/RPC (UDP 1026/1027), one exchange per message, each
//   with a fresh activity UUID: answered, bounced by an ICMP port unreachable that quotes the
//   whole datagram (hosts) or its first 8 bytes (routers), or silent;
// - \MAILSLOT\MESSNGR datagrams (UDP 138) to LAN hosts and the LAN broadcast;
// - MSNP sessions of minutes (msnms.pcap as it was, the MSNP fixtures stretched in time);
// - LAN noise: replicas of the public captures (NBNS, browser mailslots, ARP, SMB, web, …).
// Spam waves are sweeps: one sender, one text, victims in address order at a steady rate.
//
// Deterministic (seeded) and prefix-stable: the first N frames do not depend on how many are
// asked for, so a 250k capture is the start of the 1M one. Streaming: only the templates and
// the flows in progress are in memory. Needs a build (dist/) for the capture readers.
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCapture, splitFlows } from './lib/capture-templates.mjs';
import { icmpUnreachableFor, ipNum, locate, rewriteArp, rewriteIpv4, rewriteIpv6, setMacFromIp, tcpResetFor, u16, u32 } from './lib/packet-edit.mjs';
import { PcapWriter } from './lib/pcap-writer.mjs';
import { Rng } from './lib/rng.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PUBLIC = resolve(ROOT, '..', 'shared', 'captures', 'public');
const FIXTURES = join(ROOT, 'test', 'fixtures');

/** Frames per second of capture time, all traffic together. */
const FRAMES_PER_SECOND = 480;
/** Shares of the frames by kind of traffic. */
const SHARES = { smb: 0.53, msrp: 0.12, mailslot: 0.015, msnp: 0.1, noise: 0.235 };
const START_US = Date.UTC(2003, 9, 14, 9, 0, 0) * 1000;
const SEC = 1_000_000;

// ---- addresses ----

/** The networks the capture point watches: spam sweeps their addresses. */
const MONITORED = ['24.64.0.0', '24.65.0.0', '68.144.0.0', '81.56.0.0', '201.12.0.0', '218.30.0.0'].map(ipNum);
/** Where spam comes from (first octets of networks that sent a lot of it in 2003). */
const SPAMMER_FIRST_OCTETS = [61, 62, 66, 80, 200, 202, 210, 211, 218, 219, 220, 221, 222];
/** The LAN of the mailslot senders and receivers. */
const LAN = ipNum('10.1.0.0');
const LAN_BROADCAST = ipNum('10.1.255.255');
/** Replicated files' private /24s are renumbered into 10.128.0.0/9, one /24 after another. */
const REPLICA_NETS = ipNum('10.128.0.0') >>> 8;
const REPLICA_NET_COUNT = 1 << 15;

const isPrivate = (a) => a >>> 24 === 10 || a >>> 20 === 0xac1 || a >>> 16 === 0xc0a8 || a >>> 24 === 127 || a >>> 16 === 0xa9fe;
const isGroup = (a) => a >>> 28 === 0xe || a === 0xffffffff || a === 0;
const isBroadcast = (a) => a === 0xffffffff || (a & 0xff) === 0xff;

/** A host address in a /16: skips .0 and .255 so sweeps never hit network or broadcast addresses. */
const hostIn16 = (net16, n) => (net16 | ((Math.floor(n / 254) % 256) << 8) | ((n % 254) + 1)) >>> 0;

// ---- the order of events: a binary heap on (time, sequence) ----

class Schedule {
  constructor() {
    this.items = [];
    this.seq = 0;
  }

  get size() {
    return this.items.length;
  }

  push(t, actor) {
    const item = { t, seq: this.seq++, actor };
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(item, a[p])) break;
      a[i] = a[p];
      i = p;
    }
    a[i] = item;
  }

  pop() {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && before(a[r], a[l]) ? r : l;
        if (!before(a[c], last)) break;
        a[i] = a[c];
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

const before = (x, y) => x.t < y.t || (x.t === y.t && x.seq < y.seq);

// ---- address maps of copies ----

/**
 * A copy of one flow: its initiator and responder endpoints become new ones; anything else
 * keeps its address, except broadcasts, which become the LAN broadcast.
 */
function roleMap(flow, init, resp) {
  const [ia, ip] = flow.init;
  const [ra, rp] = flow.resp;
  return (addr, port) => {
    if (port >= 0 && addr === ia && port === ip) return init;
    if (port >= 0 && addr === ra && port === rp) return resp;
    if (addr === ia) return [init[0], port];
    if (addr === ra) return [resp[0], port];
    if (isBroadcast(addr)) return [LAN_BROADCAST, port];
    return [addr, port];
  };
}

/**
 * A copy of a whole file or session group: each private /24 gets a fresh /24 of 10.128.0.0/9,
 * public addresses have their middle octets changed (or are kept, for servers everyone shares),
 * ports are kept (the new addresses already make new 5-tuples), MAC addresses change too.
 */
class ReplicaMap {
  constructor(id, nets, keepPublic) {
    this.id = id;
    this.nets = nets;
    this.keepPublic = keepPublic;
    this.renumbered = new Map();
    this.map = (addr, port) => [this.addr(addr), port];
    this.mac = (d, off) => {
      if ((d[off] & 1) !== 0 || (d[off] | d[off + 1] | d[off + 2] | d[off + 3] | d[off + 4] | d[off + 5]) === 0) return;
      d[off + 3] ^= (id >>> 16) & 0xff;
      d[off + 4] ^= (id >>> 8) & 0xff;
      d[off + 5] ^= id & 0xff;
    };
    this.map6 = (d, off) => {
      if (d[off] === 0xff) return;
      d[off + 13] ^= (id >>> 16) & 0xff;
      d[off + 14] ^= (id >>> 8) & 0xff;
      d[off + 15] ^= id & 0xff;
    };
  }

  addr(a) {
    if (isGroup(a)) return a;
    if (isPrivate(a)) {
      let net = this.renumbered.get(a >>> 8);
      if (net === undefined) {
        net = REPLICA_NETS + (this.nets.next++ % REPLICA_NET_COUNT);
        this.renumbered.set(a >>> 8, net);
      }
      return ((net << 8) | (a & 0xff)) >>> 0;
    }
    return this.keepPublic ? a : (a ^ ((this.id & 0xffff) << 8)) >>> 0;
  }
}

// ---- copies in progress ----

/**
 * A copy in progress: frames `length` of them, frame i due at `time(i)`; frames due before the
 * capture starts (copies already running at time 0) are skipped.
 */
class Copy {
  constructor(gen, kind, start) {
    this.gen = gen;
    this.kind = kind;
    this.start = start;
    this.i = 0;
  }

  schedule() {
    while (this.i < this.length && this.time(this.i) < 0) this.i++;
    if (this.i < this.length) this.gen.schedule.push(this.time(this.i), this);
  }

  fire(t) {
    this.gen.write(t, ...this.frame(this.i++), this.kind);
    this.schedule();
  }
}

/**
 * One copy of a flow: `steps` are [time offset µs, template frame, how] where how is 'copy',
 * 'rst' (the RST a closed port answers the SYN with) or 'icmp-long'/'icmp-short' (an ICMP port
 * unreachable quoting the datagram).
 */
class FlowCopy extends Copy {
  constructor(gen, kind, start, steps, map, salt) {
    super(gen, kind, start);
    this.steps = steps;
    this.length = steps.length;
    this.map = map;
    this.salt = salt;
  }

  time(i) {
    return this.start + this.steps[i][0];
  }

  /** The frame's bytes and length on the wire. */
  frame(i) {
    const [, tpl, how] = this.steps[i];
    const data = Uint8Array.from(tpl.data);
    const [src, dst] = rewriteIpv4(data, tpl.at, this.map, this.salt);
    setMacFromIp(data, 6, src);
    if (isBroadcast(dst)) data.fill(0xff, 0, 6);
    else setMacFromIp(data, 0, dst);
    if (how === 'copy') return [data, tpl.len];
    const reply = how === 'rst' ? tcpResetFor(data) : icmpUnreachableFor(data, how === 'icmp-long');
    return [reply, reply.length];
  }
}

/** One copy of a whole file or session group, its times multiplied by `stretch`. */
class GroupCopy extends Copy {
  constructor(gen, kind, start, frames, stretch, map) {
    super(gen, kind, start);
    this.frames = frames;
    this.length = frames.length;
    this.stretch = stretch;
    this.map = map;
  }

  time(i) {
    return this.start + Math.round(this.frames[i].rel * this.stretch);
  }

  frame(i) {
    const tpl = this.frames[i];
    const data = Uint8Array.from(tpl.data);
    const at = tpl.at;
    const m = this.map;
    m.mac(data, 0);
    m.mac(data, 6);
    if (at?.kind === 'ipv4') rewriteIpv4(data, at, m.map);
    else if (at?.kind === 'ipv6') rewriteIpv6(data, at, m.map6);
    else if (at?.kind === 'arp') rewriteArp(data, at, m.map, m.mac);
    return [data, tpl.len];
  }
}

// ---- spam: how each message goes ----

/** The TCP sessions of SMB messenger fixtures over NBSS, each a message (or a few) to one host. */
function smbSteps(rng, flow, outcome) {
  const syn = flow.frames[0];
  if (outcome === 'rst') return [[0, syn, 'copy'], [Math.round(rng.range(0.02, 0.3) * SEC), syn, 'rst']];
  if (outcome === 'silent') return [[0, syn, 'copy'], [3 * SEC, syn, 'copy'], [9 * SEC, syn, 'copy']];
  // Loopback fixtures take microseconds; over the Internet a session takes a fraction of a second or more.
  const k = flow.span > 0 ? rng.range(0.3, 3) * SEC / flow.span : 1;
  return flow.frames.map((f) => [Math.round(f.rel * k), f, 'copy']);
}

/** A NetrSendMessage exchange: the request datagram(s) and what the victim does with them. */
function msrpSteps(rng, flow, outcome) {
  const requests = flow.frames.filter((f) => f.fromInit && !f.icmp);
  const replies = flow.frames.filter((f) => !f.fromInit && !f.icmp);
  const latency = rng.range(0.02, 0.4) * SEC;
  const firstReply = replies.length > 0 ? replies[0].rel : 0;
  const k = firstReply > 0 ? Math.min(latency / firstReply, 2 * SEC / Math.max(1, flow.span)) : 1;
  const steps = requests.map((f) => [Math.round(f.rel * k), f, 'copy']);
  if (outcome === 'answered') for (const f of replies) steps.push([Math.round(f.rel * k), f, 'copy']);
  if (outcome === 'icmp-long' || outcome === 'icmp-short') for (const f of requests) steps.push([Math.round(f.rel * k + latency / 2), f, outcome]);
  return steps.sort((a, b) => a[0] - b[0]);
}

/**
 * The spam kinds: templates, a victim's outcome and the steps of one message.
 * `interval` is the mean gap between two messages of a wave (s).
 */
function spamKinds(templates) {
  return {
    smb: {
      flows: templates.smb,
      interval: [0.03, 0.3],
      outcome: (rng, wave) => (rng.chance(wave.pAnswer) ? 'full' : rng.chance(0.6) ? 'rst' : 'silent'),
      steps: smbSteps,
    },
    msrp: {
      flows: templates.msrp,
      interval: [0.005, 0.06],
      outcome: (rng, wave, flow) => {
        const r = rng.next();
        if (r < wave.pAnswer * 0.55 && flow.frames.some((f) => !f.fromInit && !f.icmp)) return 'answered';
        if (r < wave.pAnswer) return rng.chance(0.4) ? 'icmp-long' : 'icmp-short';
        return 'silent';
      },
      steps: msrpSteps,
    },
    mailslot: {
      flows: templates.mailslot,
      interval: [0.1, 1],
      outcome: () => 'sent',
      steps: (rng, flow) => [[0, flow.frames[rng.int(flow.frames.length)], 'copy']],
    },
  };
}

const MESSAGES_PER_WAVE = [20, 800];
const templateWeight = (flow) => flow.weight ?? 1;
const meanLogUniform = ([lo, hi]) => (hi - lo) / Math.log(hi / lo);

/** A spam wave: one sender, one template (one text), victims in address order. */
class Wave {
  constructor(gen, kindName, kind, rng, start) {
    this.gen = gen;
    this.kindName = kindName;
    this.kind = kind;
    this.rng = rng;
    this.flow = rng.weighted(kind.flows, templateWeight);
    this.left = Math.round(rng.logUniform(...MESSAGES_PER_WAVE));
    this.gap = rng.logUniform(...kind.interval) * SEC;
    this.pAnswer = rng.range(0.5, 0.9);
    if (kindName === 'mailslot') {
      this.sender = hostIn16(LAN, rng.int(65000));
      this.net = LAN;
    } else {
      this.sender = gen.spammers[rng.int(gen.spammers.length)];
      this.net = rng.pick(MONITORED);
    }
    this.next = rng.int(65000);
    gen.schedule.push(start, this);
    gen.count(`${kindName} waves`);
  }

  fire(t) {
    const rng = this.rng;
    const flow = this.flow;
    const outcome = this.kind.outcome(rng, this, flow);
    const victim = this.kindName === 'mailslot' && rng.chance(0.3) ? LAN_BROADCAST : hostIn16(this.net, this.next++);
    const steps = this.kind.steps(rng, flow, outcome);
    const initPort = flow.init[1] === 138 ? 138 : this.gen.nextPort(this.sender);
    const map = roleMap(flow, [this.sender, initPort], [victim, flow.resp[1]]);
    const salt = this.kindName === 'msrp' ? (rng.int(0xfffffffe) + 1) >>> 0 : 0;
    new FlowCopy(this.gen, this.kindName, t, steps, map, salt).schedule();
    this.gen.count(this.kindName === 'smb' ? `smb messages (${outcome})` : this.kindName === 'msrp' ? `msrp messages (${outcome})` : 'mailslot messages');
    if (--this.left > 0) this.gen.schedule.push(t + Math.max(1, Math.round(rng.exp(this.gap))), this);
  }
}

/** Starts waves of one kind as a Poisson process. */
class WaveStarter {
  constructor(gen, kindName, kind, rate, rng) {
    Object.assign(this, { gen, kindName, kind, rate, rng });
    gen.schedule.push(0, this);
  }

  fire(t) {
    new Wave(this.gen, this.kindName, this.kind, this.rng.fork(`wave@${t}`), t);
    this.gen.schedule.push(t + Math.round(this.rng.exp(SEC / this.rate)), this);
  }
}

/**
 * Starts copies of one file or session group as a Poisson process; copies already running
 * when the capture starts are there too (their frames before time 0 are skipped).
 */
class GroupStarter {
  constructor(gen, group, rate, rng) {
    Object.assign(this, { gen, group, rate, rng });
    const longest = group.span * group.stretch[1];
    for (let t = -Math.round(rng.exp(SEC / rate)); t > -longest; t -= Math.round(rng.exp(SEC / rate))) this.spawn(t);
    gen.schedule.push(Math.round(rng.exp(SEC / rate)), this);
  }

  spawn(t) {
    const g = this.group;
    const stretch = g.stretch[0] === g.stretch[1] ? g.stretch[0] : this.rng.logUniform(g.stretch[0], g.stretch[1]);
    const copy = new GroupCopy(this.gen, g.kind, t, g.frames, stretch, new ReplicaMap(this.gen.replicas++, this.gen.nets, g.keepPublic));
    copy.schedule();
    if (copy.i < g.frames.length) this.gen.count(g.kind === 'msnp' ? 'msnp sessions' : 'noise file copies');
  }

  fire(t) {
    this.spawn(t);
    this.gen.schedule.push(t + Math.round(this.rng.exp(SEC / this.rate)), this);
  }
}

// ---- templates ----

const publicFile = (name) => join(PUBLIC, name);
const fixture = (name) => join(FIXTURES, name);

/** LAN noise: public captures (and fixtures of LAN messenger-service calls), with weights. */
const NOISE = [
  ['ajbanjara__Wireshark/packet_capture.pcap', 6],
  ['ajbanjara__Wireshark/Sanaullah.pcap', 0.2],
  ['ajbanjara__Wireshark/es.pcap', 0.05],
  ['ajbanjara__Wireshark/SkypeIRC.cap', 1.5],
  ['ajbanjara__Wireshark/startmenu_Dameware.pcap', 1],
  ['ajbanjara__Wireshark/provabis.pcap', 1],
  ['ajbanjara__Wireshark/mapi.cap', 0.2],
  ['ajbanjara__Wireshark/FTPv6-1.cap', 0.3],
  ['ajbanjara__Wireshark/smb-browser-elections.pcapng', 1.5],
  ['ajbanjara__Wireshark/genbroad.snoop', 1],
  ['ajbanjara__Wireshark/smb-legacy-implementation.pcapng', 0.5],
  ['ajbanjara__Wireshark/MyFirstTeste.pcap', 0.1],
  ['ajbanjara__Wireshark/can-2003-0003.pcap', 0.2],
  ['ajbanjara__Wireshark/microsoft_npc_netbios.pcapng', 0.2],
  ['arkime__arkime/nbns.pcap', 1],
  ['arkime__arkime/smb-smb1-ascii.pcap', 0.2],
  ['ntop__nDPI/netbios.pcap', 3],
  ['ntop__nDPI/dcerpc.pcap', 0.2],
  ['ntop__nDPI/dos_win98_smb_netbeui.pcap', 0.5],
  ['the-tcpdump-group__tcpdump/ipx.pcap', 0.3],
  ['zeek__zeek/netbios-split-session-msg.pcap', 0.1],
].map(([name, weight]) => ({ path: publicFile(name), weight }))
  .concat(['msgsvc-tcp.pcap', 'msgsvc-smb1.pcap', 'msgsvc-smb2.pcap'].map((name) => ({ path: fixture(name), weight: 0.3 })));

/** MSNP sessions: msnms.pcap as it was (33 minutes); the fixtures stretched to minutes. */
const MSNP = [
  { path: publicFile('ajbanjara__Wireshark/msnms.pcap'), weight: 3, minutes: undefined },
  ...['msnp2-draft', 'msnp11-twn', 'msnp15-sso', 'msnp21-sdg', 'msnp-gateway'].map((name) => ({ path: fixture(`msnp/${name}.pcap`), weight: 1, minutes: [3, 30] })),
];

const SMB_FIXTURES = ['smb-d0', 'smb-d0-error', 'smb-d0-odd', 'smb-short', 'smb-long', 'smb-burst', 'smb-cp850', 'smb-crlf', 'smb-unmappable'];
const MSRP_FIXTURES = ['msrp-udp', 'msrp-burst', 'msrp-bigendian', 'msrp-frag'];
const MSRP_PUBLIC = ['messenger.pcap', 'startmenu_Dameware.pcap', 'SkypeIRC.cap', 'MyFirstTeste.pcap', 'packet_capture.pcap', 'FTPv6-1.cap'];

/** A NetrSendMessage request: a DCE/RPC v4 request, opnum 0, to UDP 1026 or 1027. */
function isMsrpRequestFlow(flow) {
  const f = flow.frames[0];
  if (flow.proto !== 17 || f.icmp || ![1026, 1027].includes(flow.resp[1])) return false;
  const p = f.at.l4 + 8;
  return f.data[p] === 4 && f.data[p + 1] === 0;
}

async function loadTemplates() {
  for (const dir of [PUBLIC, FIXTURES]) if (!existsSync(dir)) throw new Error(`${dir} not found`);
  const load = (path) => loadCapture(ROOT, path);
  const flowsOf = async (path) => splitFlows((await load(path)).frames);
  const smb = [];
  for (const name of SMB_FIXTURES) for (const flow of await flowsOf(fixture(`${name}.pcap`))) if (flow.proto === 6 && flow.resp[1] === 139 && flow.frames.length > 3) smb.push(flow);
  const msrp = [];
  for (const name of MSRP_FIXTURES) msrp.push(...(await flowsOf(fixture(`${name}.pcap`))).filter(isMsrpRequestFlow).map((f) => ({ ...f, weight: 3 })));
  // Real spam requests from the public captures (long texts, no answers in the files): a third as often each.
  for (const name of MSRP_PUBLIC) msrp.push(...(await flowsOf(publicFile(`ajbanjara__Wireshark/${name}`))).filter(isMsrpRequestFlow).map((f) => ({ ...f, weight: 1 })));
  const mailslot = (await flowsOf(fixture('mailslot-messngr.pcap'))).filter((f) => f.proto === 17);
  const groups = [];
  for (const m of MSNP) {
    const { frames, span } = await load(m.path);
    const stretch = m.minutes === undefined ? [1, 1] : [(m.minutes[0] * 60 * SEC) / span, (m.minutes[1] * 60 * SEC) / span];
    groups.push({ kind: 'msnp', name: m.path, frames, span, weight: m.weight, stretch, keepPublic: true });
  }
  for (const n of NOISE) {
    const { frames, span } = await load(n.path);
    if (frames.length > 0) groups.push({ kind: 'noise', name: n.path, frames, span, weight: n.weight, stretch: [1, 1], keepPublic: false });
  }
  for (const [name, list] of Object.entries({ smb, msrp, mailslot })) if (list.length === 0) throw new Error(`no ${name} templates found`);
  return { smb, msrp, mailslot, groups };
}

/** Mean frames per message of a spam kind, by drawing many messages with a scratch generator. */
function meanFramesPerMessage(kind) {
  const rng = new Rng(1, 'calibration');
  let frames = 0;
  const draws = 4000;
  for (let i = 0; i < draws; i++) {
    const flow = rng.weighted(kind.flows, templateWeight);
    const wave = { pAnswer: rng.range(0.5, 0.9) };
    frames += kind.steps(rng, flow, kind.outcome(rng, wave, flow)).length;
  }
  return frames / draws;
}

// ---- the generator ----

class Generator {
  constructor(out, frames, seed) {
    this.writer = new PcapWriter(out);
    this.target = frames;
    this.schedule = new Schedule();
    this.rng = new Rng(seed, 'spam-capture');
    this.counts = new Map();
    /** Frames and bytes written per kind of traffic. */
    this.volume = new Map();
    /** Distinct TCP and UDP 5-tuples (either direction) written, for the summary. */
    this.flows = { 6: new Set(), 17: new Set() };
    this.ports = new Map();
    this.replicas = 0;
    this.nets = { next: 0 };
    this.lastTime = 0;
    const spammerRng = this.rng.fork('spammers');
    this.spammers = Array.from({ length: 300 }, () => ((spammerRng.pick(SPAMMER_FIRST_OCTETS) << 24) | (spammerRng.int(256) << 16) | (spammerRng.int(256) << 8) | (1 + spammerRng.int(254))) >>> 0);
  }

  count(what) {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
  }

  noteFlow(data) {
    const at = locate(data);
    if (at?.kind !== 'ipv4' || !at.hasPorts) return;
    const a = `${u32(data, at.off + 12)}:${u16(data, at.l4)}`;
    const b = `${u32(data, at.off + 16)}:${u16(data, at.l4 + 2)}`;
    this.flows[at.proto].add(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  /** Windows hands out source ports 1025–5000 in turn: each sender has its own counter. */
  nextPort(sender) {
    const p = this.ports.get(sender) ?? 1025 + (sender % 3976);
    this.ports.set(sender, p >= 5000 ? 1025 : p + 1);
    return p;
  }

  write(t, data, len, kind) {
    if (this.writer.frames >= this.target) return;
    this.writer.write(START_US + t, data, len);
    this.lastTime = t;
    this.noteFlow(data);
    const k = this.volume.get(kind) ?? { frames: 0, bytes: 0 };
    k.frames++;
    k.bytes += 16 + data.length;
    this.volume.set(kind, k);
  }

  run(templates) {
    const kinds = spamKinds(templates);
    for (const [name, kind] of Object.entries(kinds)) {
      const waveRate = (SHARES[name] * FRAMES_PER_SECOND) / (meanLogUniform(MESSAGES_PER_WAVE) * meanFramesPerMessage(kind));
      new WaveStarter(this, name, kind, waveRate, this.rng.fork(`${name} waves`));
    }
    for (const kind of ['msnp', 'noise']) {
      const groups = templates.groups.filter((g) => g.kind === kind);
      const total = groups.reduce((s, g) => s + g.weight, 0);
      for (const g of groups) {
        const rate = (SHARES[kind] * FRAMES_PER_SECOND * (g.weight / total)) / g.frames.length;
        new GroupStarter(this, g, rate, this.rng.fork(g.name));
      }
    }
    while (this.writer.frames < this.target && this.schedule.size > 0) {
      const { t, actor } = this.schedule.pop();
      actor.fire(t);
    }
    const { frames, bytes } = this.writer.close();
    const volume = Object.fromEntries([...this.volume].sort().map(([kind, v]) => [kind, { ...v, share: Number((v.frames / frames).toFixed(3)), meanFrameBytes: Math.round(v.bytes / v.frames) - 16 }]));
    const flows = { tcp: this.flows[6].size, udp: this.flows[17].size };
    return { frames, bytes, seconds: this.lastTime / SEC, flows, counts: Object.fromEntries([...this.counts].sort()), volume };
  }
}

/**
 * Writes the capture and a summary beside it (`<out>.json`).
 * @returns {Promise<{ path: string, frames: number, bytes: number, seconds: number, counts: Record<string, number> }>}
 */
export async function makeSpamCapture({ out = join(ROOT, 'bench-data', 'spam-1m.pcap'), frames = 1_000_000, seed = 12 } = {}) {
  const templates = await loadTemplates();
  const summary = { path: out, seed, ...new Generator(out, frames, seed).run(templates) };
  summary.templates = { smbSessions: templates.smb.length, msrpExchanges: templates.msrp.length, mailslotFlows: templates.mailslot.length, groups: templates.groups.length };
  writeFileSync(`${out}.json`, `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
  };
  const frames = Number(opt('--frames', 1_000_000));
  const seed = Number(opt('--seed', 12));
  if (!Number.isInteger(frames) || frames <= 0 || !Number.isInteger(seed)) {
    console.error('usage: node scripts/make-spam-capture.mjs [--frames N] [--seed S] [--out file.pcap]');
    process.exit(2);
  }
  const out = resolve(opt('--out', join(ROOT, 'bench-data', `spam-${frames % 1_000_000 === 0 ? `${frames / 1_000_000}m` : frames}.pcap`)));
  const t0 = Date.now();
  const r = await makeSpamCapture({ out, frames, seed });
  console.log(`wrote ${r.path}: ${r.frames} frames, ${(r.bytes / 1e6).toFixed(1)} MB, ${(r.seconds / 60).toFixed(1)} min of capture time, ${r.flows.tcp} TCP and ${r.flows.udp} UDP 5-tuples (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  for (const [what, n] of Object.entries(r.counts)) console.log(`  ${what}: ${n}`);
  for (const [kind, v] of Object.entries(r.volume)) console.log(`  ${kind}: ${v.frames} frames (${(v.share * 100).toFixed(1)}%), ${(v.bytes / 1e6).toFixed(1)} MB, ${v.meanFrameBytes} B/frame`);
}
