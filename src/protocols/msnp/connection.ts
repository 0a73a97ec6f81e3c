// One MSNP connection's state: framing per direction over reassembled bytes (with resync after
// garbage and gaps), role and version, TrID request↔response matching, switchboard roster, and
// the timeline events (sessions, presence, messages, notices) and findings.
import type { EngineContext, Route } from '../../engine/context.js';
import type { MessageEvent, MessageStatus, TimelineEvent } from '../../model/events.js';
import type { Finding, FindingDef } from '../../model/findings.js';
import { MSNP_FINDINGS } from './findings.js';
import { StreamBuffer, type Carried } from '../../net/stream-buffer.js';
import { commandSpec, errorName, STATUS_NAMES, type Role, type Side } from './commands.js';
import { checkChallenge } from './challenge.js';
import { frameCommand, type RawCommand } from './framer.js';
import { header, urlDecode } from './mime.js';
import { eufName, interpretPayload, type PayloadInfo } from './payload.js';
import { commandLayer, continuationLayer, type CommandView } from './present.js';
import { normaliseAddress, type Login, type MsnpShared, type Referral } from './shared.js';
import { evidenceFor, VersionRange } from './version.js';

const DRAFT = 'draft-movva-msn-messenger-protocol-00';
const MAX_PENDING = 4096;
const MAX_ROSTER = 256;
const STREAM_LIMIT = 4 * 1024 * 1024;

export interface ConnectionRoute {
  /** `tcp/msnp` or `tcp/http/msnp` */
  readonly transport: string;
  /** Endpoints `ip:port` of the client and the server. */
  readonly client: string;
  readonly server: string;
  readonly clientIp: string;
  /** True when the TCP handshake was seen (the stream starts at its beginning). */
  readonly fromStart: boolean;
  /** Role announced by the transport (HTTP gateway `Server=NS|SB`). */
  readonly role?: Role;
}

interface Pending {
  readonly name: string;
  readonly frame: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  answered: boolean;
  /** Server segments seen before the request (to tell "never answered" from "capture ended"). */
  readonly serverAt: number;
}

interface PendingMessage {
  readonly event: MessageEvent;
  readonly mode: string;
}

interface GarbageRun {
  bytes: number;
  readonly frame: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  /** The payload command just before, when the run follows a payload (its length may be wrong). */
  readonly afterPayload: string | undefined;
  /** Why the first skipped line was not a command. */
  readonly reason: string;
}

/** Server commands that never answer a request, even when their first parameter is numeric. */
const ASYNC_SERVER = new Set(['MSG', 'NLN', 'FLN', 'UBX', 'UBN', 'UBM', 'RNG', 'JOI', 'BYE', 'NOT', 'IPG', 'QNG', 'NFY', 'BPR', 'OUT', 'CHL']);

const SIDE_INDEX: Record<Side, 0 | 1> = { c: 0, s: 1 };

export class MsnpConnection {
  role: Role | undefined;
  private roleCertain = false;
  version: number | undefined;
  private versionSource: 'VER' | 'referral' | undefined;
  readonly range = new VersionRange();
  private readonly bufs: [StreamBuffer, StreamBuffer] = [new StreamBuffer(STREAM_LIMIT), new StreamBuffer(STREAM_LIMIT)];
  /** False while resynchronising (after garbage, a gap, or a mid-stream start). */
  private readonly sync: [boolean, boolean];
  private readonly skip: [number, number] = [0, 0];
  private readonly garbage: [GarbageRun | undefined, GarbageRun | undefined] = [undefined, undefined];
  private readonly bareLfReported: [boolean, boolean] = [false, false];
  private readonly lastPayload: [string | undefined, string | undefined] = [undefined, undefined];
  private readonly seen: [boolean, boolean] = [false, false];
  private readonly pending = new Map<string, Pending>();
  private readonly pendingMessages = new Map<string, PendingMessage>();
  private pendingFull = false;
  private serverSegments = 0;
  private commands = 0;
  /** Local user (the client's handle) and the switchboard roster (handle → friendly name). */
  private localUser: string | undefined;
  private readonly roster = new Map<string, string>();
  private sessid: string | undefined;
  private referral: Referral | undefined;
  private login: Login | undefined;
  private challenge: string | undefined;
  private authMethod: string | undefined;
  private loginHandle: string | undefined;
  private chatCount = 0;
  private sbOpened = false;
  private ended = false;
  /** First and last frames that carried bytes of this connection (for events at its end). */
  private first: Carried | undefined;
  private last: Carried | undefined;

  constructor(private readonly shared: MsnpShared, private readonly ctx: EngineContext, readonly route: ConnectionRoute) {
    this.sync = [route.fromStart, route.fromStart];
    if (route.role !== undefined) this.setRole(route.role, true);
  }

  // ---- byte input ----

  feed(side: Side, bytes: Uint8Array): void {
    const i = SIDE_INDEX[side];
    const packet = this.ctx.packet;
    if (packet === undefined) return;
    this.seen[i] = true;
    const here: Carried = { frames: [packet.frame.number], tsSec: packet.frame.tsSec, tsNsec: packet.frame.tsNsec };
    if (this.first === undefined) this.first = here;
    this.last = here;
    if (side === 's') this.serverSegments++;
    const before = packet.layers.length;
    let data = bytes;
    if (this.skip[i] > 0) {
      const n = Math.min(this.skip[i], data.length);
      this.skip[i] -= n;
      data = data.subarray(n);
    }
    const buf = this.bufs[i];
    if (!buf.append(data, packet.frame.number, packet.frame.tsSec, packet.frame.tsNsec)) {
      this.report(MSNP_FINDINGS.bufferLimit, packet.frame.number, `more than ${STREAM_LIMIT} bytes without a complete command: buffer dropped, resynchronising`, side);
      buf.clear();
      this.sync[i] = false;
      buf.append(data.subarray(Math.max(0, data.length - 65536)), packet.frame.number, packet.frame.tsSec, packet.frame.tsNsec);
    }
    this.drain(side);
    if (packet.layers.length === before && bytes.length > 0) {
      const view = buf.view();
      const r = view.length > 0 ? frameCommand(view, side, this.framingVersion(), this.sync[i]) : undefined;
      const info = r?.kind === 'need' && r.cmd !== undefined
        ? `[${r.cmd.name} payload, ${view.length - r.cmd.lineLength} of ${r.cmd.payloadLength} bytes]`
        : this.garbage[i] !== undefined ? '[not a command: resynchronising]' : view.length > 0 ? '[partial command line]' : '[continuation]';
      packet.layers.push(continuationLayer(bytes.slice(0, Math.min(bytes.length, 65536)), info));
    }
  }

  gap(side: Side, length: number): void {
    const i = SIDE_INDEX[side];
    const buf = this.bufs[i];
    if (this.skip[i] > 0) {
      const n = Math.min(this.skip[i], length);
      this.skip[i] -= n;
      length -= n;
      if (length === 0) return;
    }
    const view = buf.view();
    const r = view.length > 0 ? frameCommand(view, side, this.framingVersion(), this.sync[i]) : undefined;
    if (r?.kind === 'need' && r.cmd !== undefined) {
      const missing = r.cmd.total - view.length;
      if (length <= missing) {
        // The hole lies inside a payload whose length we know: keep the framing.
        const bytes = view.slice();
        const carried = buf.consume(view.length);
        this.process(side, r.cmd, bytes, carried, missing);
        this.skip[i] = missing - length;
        return;
      }
    }
    buf.clear();
    this.sync[i] = false;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const side of ['c', 's'] as const) {
      const i = SIDE_INDEX[side];
      const buf = this.bufs[i];
      this.flushGarbage(side);
      if (buf.length === 0) continue;
      const view = buf.view();
      const r = frameCommand(view, side, this.framingVersion(), this.sync[i]);
      const carried = buf.carried(view.length);
      const frame = carried.frames[0] ?? 0;
      if (r.kind === 'need' && r.cmd !== undefined) {
        this.report(MSNP_FINDINGS.payloadTruncated, frame,
          `${r.cmd.name} declares a ${r.cmd.payloadLength}-byte payload but only ${view.length - r.cmd.lineLength} byte(s) follow before the connection ends`, side, carried);
        this.process(side, r.cmd, view.slice(), carried, r.cmd.total - view.length, true);
      } else if (r.kind === 'need') {
        this.report(MSNP_FINDINGS.truncatedLine, frame, `${view.length} byte(s) at the end of the stream are not a complete command line`, side, carried);
      }
      buf.clear();
    }
    this.finishPending();
    this.finishVersion();
    if (this.role === 'SB' && (this.sbOpened || this.roster.size > 0 || this.chatCount > 0)) {
      this.emitSession('close', 's', this.last, { users: [...this.roster.keys()], messages: this.chatCount, sessid: this.sessid });
    }
  }

  // ---- framing loop ----

  private framingVersion(): number | undefined {
    if (this.version !== undefined) return this.version;
    const r = this.shared.range(this.route.clientIp);
    return r.known ? r.best : this.range.known ? this.range.best : undefined;
  }

  private drain(side: Side): void {
    const i = SIDE_INDEX[side];
    const buf = this.bufs[i];
    for (let guard = 0; guard < 1_000_000 && buf.length > 0; guard++) {
      if (this.skip[i] > 0) {
        const n = Math.min(this.skip[i], buf.length);
        buf.consume(n);
        this.skip[i] -= n;
        continue;
      }
      const view = buf.view();
      const r = frameCommand(view, side, this.framingVersion(), this.sync[i]);
      if (r.kind === 'need') return;
      if (r.kind === 'garbage') {
        const carried = buf.consume(r.skip);
        const g = this.garbage[i];
        if (g === undefined) this.garbage[i] = { bytes: r.skip, frame: carried.frames[0] ?? 0, tsSec: carried.tsSec, tsNsec: carried.tsNsec, afterPayload: this.sync[i] ? this.lastPayload[i] : undefined, reason: r.reason };
        else g.bytes += r.skip;
        this.sync[i] = false;
        continue;
      }
      this.flushGarbage(side);
      const bytes = view.slice(0, r.cmd.total);
      const carried = buf.consume(r.cmd.total);
      this.sync[i] = true;
      this.process(side, r.cmd, bytes, carried, 0);
    }
  }

  /** Reports a run of skipped bytes once the stream is back in sync (or ends). */
  private flushGarbage(side: Side): void {
    const i = SIDE_INDEX[side];
    const g = this.garbage[i];
    if (g === undefined) return;
    this.garbage[i] = undefined;
    const carried: Carried = { frames: [g.frame], tsSec: g.tsSec, tsNsec: g.tsNsec };
    if (g.afterPayload !== undefined) {
      this.report(MSNP_FINDINGS.payloadLengthMismatch, g.frame,
        `${g.bytes} byte(s) after the payload of ${g.afterPayload} do not start a command: the declared payload length disagrees with the bytes present; resynchronised at the next command line`, side, carried);
    } else if (this.commands === 0 && !this.route.fromStart) {
      this.report(MSNP_FINDINGS.midstream, g.frame, `capture starts inside the stream: ${g.bytes} byte(s) skipped up to the first command line`, side, carried);
    } else {
      this.report(MSNP_FINDINGS.garbage, g.frame, `${g.bytes} byte(s) are not an MSNP command (${g.reason}); resynchronised at the next command line`, side, carried);
    }
  }

  // ---- one command ----

  private process(side: Side, cmd: RawCommand, bytes: Uint8Array, carried: Carried, missing: number, atEnd = false): void {
    this.commands++;
    const frame = carried.frames[0] ?? this.ctx.packet?.frame.number ?? 0;
    const i = SIDE_INDEX[side];
    if (cmd.bareLf && !this.bareLfReported[i]) {
      this.bareLfReported[i] = true;
      this.report(MSNP_FINDINGS.bareLf, frame, `${cmd.name} line ends in a bare LF, not CRLF (accepted; further ones in this direction not reported)`, side, carried);
    }
    if (cmd.badLength !== undefined) {
      this.report(MSNP_FINDINGS.malformed, frame, `${cmd.name}: payload length parameter "${cmd.badLength}" is not a number`, side, carried);
    }
    this.lastPayload[i] = cmd.payloadLength > 0 ? `${cmd.name} (frame ${frame}, ${cmd.payloadLength} bytes)` : undefined;
    this.inferRole(side, cmd);
    for (const e of evidenceFor(cmd.name, cmd.params, side)) {
      this.range.apply(e);
      this.shared.range(this.route.clientIp).apply(e);
    }
    this.validate(side, cmd, frame, carried);

    const payload = cmd.payloadIndex >= 0 ? bytes.subarray(cmd.lineLength) : undefined;
    const info: PayloadInfo | undefined = payload !== undefined ? interpretPayload(cmd.name, payload) : undefined;
    let requestFrame: number | undefined;
    const trid = cmd.params[0];
    const isError = /^\d{3}$/.test(cmd.name);
    const spec = commandSpec(cmd.name);
    if (side === 'c' && spec?.answered === true && trid !== undefined && /^\d+$/.test(trid) && !(cmd.name === 'MSG')) {
      this.addPending(trid, { name: cmd.name, frame, tsSec: carried.tsSec, tsNsec: carried.tsNsec, answered: false, serverAt: this.serverSegments });
    }
    if (side === 's' && trid !== undefined && /^\d+$/.test(trid) && !ASYNC_SERVER.has(cmd.name)) {
      // Any non-asynchronous server line with the TrID answers the request (draft §5.3, §5.6):
      // several lines may share it (SYN → GTC/BLP/LST, CHG → ILN, ANS → IRO), and a DS answers USR with XFR.
      const p = this.pending.get(trid);
      if (p !== undefined) {
        p.answered = true;
        requestFrame = p.frame;
      }
    }
    let challengeView: CommandView['challenge'];
    if (cmd.name === 'QRY' && side === 'c' && payload !== undefined && this.challenge !== undefined) {
      const answer = new TextDecoder().decode(payload);
      const check = checkChallenge(this.challenge, cmd.params[1] ?? '', answer);
      if (check.state !== 'unknown-client') {
        challengeView = { expected: check.expected, ok: check.state === 'ok' };
        if (check.state === 'wrong') {
          this.report(MSNP_FINDINGS.challengeWrong, frame, `QRY answer to challenge ${this.challenge} is wrong for client ID ${cmd.params[1]} (expected ${check.expected})`, side, carried);
        }
      }
    }

    const view: CommandView = {
      side, cmd, bytes, payload: info, version: this.version ?? (this.range.known ? this.range.best : undefined), versionText: this.versionText(),
      role: this.role ?? '', requestFrame, challenge: challengeView, missing,
    };
    if (this.ctx.packet !== undefined && !atEnd) this.ctx.packet.layers.push(commandLayer(view));

    this.semantics(side, cmd, info, carried, frame, isError);
  }

  private addPending(trid: string, p: Pending): void {
    if (this.pending.size >= MAX_PENDING) {
      for (const [k, v] of this.pending) if (v.answered) this.pending.delete(k);
      if (this.pending.size >= MAX_PENDING) {
        const first = this.pending.keys().next().value;
        if (first !== undefined) this.pending.delete(first);
        if (!this.pendingFull) {
          this.pendingFull = true;
          this.report(MSNP_FINDINGS.pendingLimit, p.frame, `more than ${MAX_PENDING} requests awaiting answers: the oldest are no longer tracked`, 'c');
        }
      }
    }
    this.pending.set(trid, p);
  }

  // ---- role, version, validity ----

  /** The first certain role sticks (a later contradiction is a finding), except NS → DS on a login referral. */
  private setRole(role: Role, certain: boolean): void {
    if (this.roleCertain) {
      if (this.role === 'NS' && role === 'DS') this.role = 'DS';
      return;
    }
    this.role = role;
    if (certain) this.roleCertain = true;
  }

  private inferRole(side: Side, cmd: RawCommand): void {
    const n = cmd.name;
    const p = cmd.params;
    if (side === 'c') {
      if (n === 'VER' && this.role === undefined) this.setRole('NS', false);
      else if (n === 'ANS' || n === 'CAL') this.setRole('SB', true);
      else if (n === 'USR' && p.length === 3 && !/^(MD5|TWN|SSO|CTP)$/.test(p[1] ?? '')) this.setRole('SB', true);
      else if (n === 'MSG' && /^[UNAD]$/.test(p[1] ?? '')) this.setRole('SB', false);
      else if (['PNG', 'CHG', 'SYN', 'ADL', 'UUX', 'QRY', 'BLP', 'LST'].includes(n)) this.setRole('NS', true);
    } else {
      if (n === 'VER') this.setRole('NS', true); // VER exists on DS/NS only (draft §8.2: none on a switchboard)
      else if (['IRO', 'JOI', 'BYE', 'ACK', 'NAK', 'CAL', 'ANS'].includes(n)) this.setRole('SB', true);
      else if (n === 'MSG' && p[0] !== 'Hotmail') this.setRole('SB', false);
      else if (['NLN', 'ILN', 'FLN', 'RNG', 'CHL', 'QNG', 'UBX', 'LST', 'NOT', 'SYN', 'ADL', 'GCF', 'SBS', 'UBN', 'NFY', 'SDG'].includes(n) || (n === 'MSG' && p[0] === 'Hotmail')) {
        if (this.role !== 'DS') this.setRole('NS', true);
      } else if (n === 'XFR' && p[1] === 'NS' && this.loginHandle === undefined && this.role !== 'SB') this.setRole('DS', true);
    }
  }

  private versionText(): string {
    if (this.version !== undefined) return `MSNP${this.version}${this.versionSource === 'referral' ? ' (from the referring login)' : ''}`;
    const r = this.pooledRange();
    return r.known ? `${r.text()} (inferred)` : 'unknown';
  }

  private pooledRange(): VersionRange {
    const pooled = new VersionRange();
    pooled.merge(this.shared.range(this.route.clientIp));
    pooled.merge(this.range);
    return pooled;
  }

  private finishVersion(): void {
    if (this.version !== undefined || this.commands === 0) return;
    const r = this.pooledRange();
    if (!r.known) return;
    const at = this.first;
    this.report(MSNP_FINDINGS.versionInferred, at?.frames[0] ?? 0,
      `no VER exchange seen on this connection: version inferred as ${r.text()} from ${r.reasons.join(', ')}`, 's', at);
  }

  private validate(side: Side, cmd: RawCommand, frame: number, carried: Carried): void {
    if (/^\d{3}$/.test(cmd.name)) {
      if (side === 'c') this.report(MSNP_FINDINGS.invalidDirection, frame, `error code ${cmd.name} sent by the client`, side, carried, `${DRAFT} 7.11`);
      return;
    }
    const spec = commandSpec(cmd.name);
    if (spec === undefined) {
      this.report(MSNP_FINDINGS.unknownCommand, frame, `unknown command ${cmd.name}`, side, carried);
      return;
    }
    if (!spec.senders.includes(side)) {
      this.report(MSNP_FINDINGS.invalidDirection, frame, `${cmd.name} is only sent by the ${spec.senders[0] === 'c' ? 'client' : 'server'}`, side, carried, spec.spec);
    }
    if (this.version !== undefined && (this.version < spec.since || this.version > spec.until)) {
      this.report(MSNP_FINDINGS.invalidForVersion, frame, `${cmd.name} is not part of MSNP${this.version} (MSNP${spec.since}–${spec.until})`, side, carried);
    }
    if (this.roleCertain && this.role !== undefined && !spec.roles.includes(this.role) && !(this.role === 'DS' && spec.roles.includes('NS'))) {
      this.report(MSNP_FINDINGS.invalidForRole, frame, `${cmd.name} is not valid on a ${this.role} connection`, side, carried, spec.spec);
    }
  }

  // ---- meaning ----

  private semantics(side: Side, cmd: RawCommand, info: PayloadInfo | undefined, carried: Carried, frame: number, isError: boolean): void {
    const p = cmd.params;
    if (isError) {
      const code = Number(cmd.name);
      if (code === 911 || code === 917 || code === 928 || code === 933) this.emitSession('refused', side, carried, { error: errorName(code), code });
      if (code === 540) this.report(MSNP_FINDINGS.challengeRejected, frame, 'server rejected the challenge answer (540)', side, carried);
      // A NAK-like error in answer to a message.
      const pm = p[0] !== undefined ? this.pendingMessages.get(p[0]) : undefined;
      if (pm !== undefined) this.resolveMessage(p[0]!, 'error', errorName(code), frame);
      return;
    }
    switch (cmd.name) {
      case 'VER':
        if (side === 's') {
          const versions = p.slice(1).map((d) => /^MSNP(\d+)$/i.exec(d)?.[1]).filter((x): x is string => x !== undefined).map(Number);
          if (p[1] === '0') this.emitSession('refused', side, carried, { reason: 'no common protocol version', offered: p.slice(1) });
          else if (versions.length > 0) {
            this.version = Math.max(...versions);
            this.versionSource = 'VER';
            this.range.apply({ min: this.version, max: this.version, reason: 'VER' });
          }
        }
        break;
      case 'USR':
        this.usr(side, cmd, carried, frame);
        break;
      case 'XFR':
        if (side === 's' && p.length >= 3) this.referralFrom('XFR', p[1] === 'SB' ? 'SB' : 'NS', p[2]!, p[4] ?? '', undefined, undefined, frame);
        break;
      case 'RNG':
        if (side === 's' && p.length >= 4) {
          this.referralFrom('RNG', 'SB', p[1]!, p[3]!, p[0], p[4], frame);
          this.emitNotice('invitation', side, carried, p[4], this.loginHandle !== undefined ? [this.loginHandle] : undefined, { kind: 'switchboard', sessid: p[0], server: p[1], caller_friendly: p[5] !== undefined ? urlDecode(p[5]) : undefined });
        }
        break;
      case 'CHL':
        if (side === 's') this.challenge = p[1];
        break;
      case 'OUT':
        if (this.role === 'SB') {
          if (side === 'c') this.emitSession('leave', side, carried, { user: this.localUser });
        } else this.emitSession('logout', side, carried, { user: this.loginHandle, reason: side === 'c' ? 'client signed out' : outReason(p[0]) });
        break;
      case 'CHG':
        if (side === 's' && p.length >= 2) this.emitPresence(side, carried, this.loginHandle ?? '(self)', p[1]!, { client_id: p[2] });
        break;
      case 'NLN':
        if (side === 's' && p.length >= 2) this.emitPresence(side, carried, handleOf(p[1]!), p[0]!, { friendly: friendlyOf(p, 2) });
        break;
      case 'ILN':
        if (side === 's' && p.length >= 3) this.emitPresence(side, carried, handleOf(p[2]!), p[1]!, { initial: true, friendly: friendlyOf(p, 3) });
        break;
      case 'FLN':
        if (side === 's' && p.length >= 1) this.emitPresence(side, carried, handleOf(p[0]!), 'FLN', undefined);
        break;
      case 'UBX':
        if (side === 's' && info?.xml !== undefined && p[0] !== undefined) {
          this.emitPresence(side, carried, handleOf(p[0]), 'personal message', { psm: info.xml.psm, media: info.xml.media, friendly: info.xml.friendly });
        }
        break;
      case 'UUX':
        if (side === 'c' && info?.xml !== undefined && (info.xml.psm !== undefined || info.xml.media !== undefined)) this.emitPresence(side, carried, this.loginHandle ?? '(self)', 'personal message', { psm: info.xml.psm, media: info.xml.media });
        break;
      case 'CAL':
        if (side === 'c' && p[1] !== undefined) this.emitSession('invite', side, carried, { user: p[1], by: this.localUser });
        break;
      case 'ANS':
        if (side === 'c' && p.length >= 3) {
          this.localUser = handleOf(p[1]!);
          this.sessid = p[3];
          this.linkReferral(p[2]!, frame);
        } else if (side === 's' && p[1] === 'OK') {
          this.sbOpened = true;
          this.linkByServer(frame);
          this.emitSession('accepted', side, carried, { user: this.localUser, sessid: this.sessid, caller: this.referral?.caller, roster: [...this.roster.keys()] });
        }
        break;
      case 'IRO':
        if (side === 's' && p.length >= 4) this.join(handleOf(p[3]!), p[4], 'IRO', side, carried);
        break;
      case 'JOI':
        if (side === 's' && p.length >= 1) this.join(handleOf(p[0]!), p[1], 'JOI', side, carried);
        break;
      case 'BYE':
        if (side === 's' && p.length >= 1) {
          const user = handleOf(p[0]!);
          this.roster.delete(user);
          this.emitSession('leave', side, carried, { user, idle: p[1] === '1' ? true : undefined });
        }
        break;
      case 'ACK':
      case 'NAK':
        if (side === 's' && p[0] !== undefined) this.resolveMessage(p[0], cmd.name === 'ACK' ? 'ok' : 'error', cmd.name === 'NAK' ? 'NAK' : undefined, frame);
        break;
      case 'MSG':
        this.msg(side, cmd, info, carried);
        break;
      case 'SDG':
        this.routedMessage(side, cmd, info, carried);
        break;
      case 'NFY':
        if (info?.routed !== undefined) this.emitNotice('notification', side, carried, info.routedFrom, info.routedTo, { operation: p[0], type: info.messageType });
        break;
      case 'NOT':
      case 'IPG':
        this.emitNotice(cmd.name === 'NOT' ? 'alert' : 'page', side, carried, undefined, this.loginHandle !== undefined ? [this.loginHandle] : undefined, { summary: info?.xml?.summary });
        break;
      default:
        break;
    }
  }

  private usr(side: Side, cmd: RawCommand, carried: Carried, frame: number): void {
    const p = cmd.params;
    if (side === 'c') {
      if (/^(MD5|TWN|SSO|CTP)$/.test(p[1] ?? '')) {
        this.authMethod = p[1];
        if (p[2] === 'I' && p[3] !== undefined) this.localUser = p[3];
        if (p[1] === 'MD5' && p[2] === 'S') {
          this.report(MSNP_FINDINGS.authMd5, frame,
            `MD5 login for ${this.localUser ?? 'an unknown user'}: the response is MD5(challenge + password) in clear, so the password can be recovered offline by dictionary or brute force`,
            side, carried);
        }
      } else if (p.length >= 3) {
        // Switchboard login with the XFR cookie (draft §8.2).
        this.localUser = handleOf(p[1]!);
        this.authMethod = 'CKI';
        this.linkReferral(p[2]!, frame);
      }
      return;
    }
    if (p[1] !== 'OK') return;
    const handle = p[2] !== undefined ? handleOf(p[2]) : this.localUser;
    if (handle !== undefined) this.localUser = handle;
    if (this.role === 'SB') {
      this.sbOpened = true;
      this.linkByServer(frame);
      this.emitSession('open', side, carried, { user: handle, friendly: p[3] !== undefined && !/^\d$/.test(p[3]) ? urlDecode(p[3]) : undefined, referral_frame: this.referral?.frame });
      return;
    }
    this.loginHandle = handle;
    const versionText = this.versionText();
    const login: Login = { handle: handle ?? '', clientIp: this.route.clientIp, frame, version: this.version, versionText, auth: this.authMethod };
    this.login = login;
    this.shared.setLogin(login);
    this.emitSession('login', side, carried, { handle, version: versionText, auth: this.authMethod ?? 'unknown', friendly: p[3] !== undefined && !/^\d$/.test(p[3]) ? urlDecode(p[3]) : undefined });
  }

  private referralFrom(kind: 'XFR' | 'RNG', type: 'NS' | 'SB', address: string, cookie: string, sessid: string | undefined, caller: string | undefined, frame: number): void {
    this.shared.addReferral({
      kind, type, address: normaliseAddress(address), cookie, sessid, caller: caller !== undefined ? handleOf(caller) : undefined,
      clientIp: this.route.clientIp, frame, login: this.login ?? this.shared.loginFor(this.route.clientIp), version: this.version,
    });
  }

  /** Links this switchboard to the referral whose cookie the client presented. */
  private linkReferral(cookie: string, frame: number): void {
    if (this.referral !== undefined) return;
    const r = this.shared.referralByCookie(cookie);
    if (r !== undefined) this.adoptReferral(r);
    else this.linkByServer(frame);
  }

  /** Without the client's half: the latest referral to this server for this client. */
  private linkByServer(frame: number): void {
    if (this.referral !== undefined) return;
    const r = this.shared.referralTo(this.route.server, this.route.clientIp, frame);
    if (r !== undefined) this.adoptReferral(r);
  }

  private adoptReferral(r: Referral): void {
    this.referral = r;
    if (r.sessid !== undefined && this.sessid === undefined) this.sessid = r.sessid;
    if (this.version === undefined && r.version !== undefined) {
      this.version = r.version;
      this.versionSource = 'referral';
    }
    if (this.localUser === undefined && r.login !== undefined && r.login.handle !== '') this.localUser = r.login.handle;
    if (r.kind === 'RNG' && r.caller !== undefined && !this.roster.has(r.caller) && this.roster.size < MAX_ROSTER) this.roster.set(r.caller, '');
  }

  private join(user: string, friendly: string | undefined, via: string, side: Side, carried: Carried): void {
    const isSelf = user === this.localUser;
    if (!isSelf && this.roster.size < MAX_ROSTER) this.roster.set(user, friendly !== undefined ? urlDecode(friendly) : '');
    this.emitSession('join', side, carried, { user, via, friendly: friendly !== undefined ? urlDecode(friendly) : undefined });
  }

  private recipients(sender: string): string[] {
    const out: string[] = [];
    if (this.localUser !== undefined && this.localUser !== sender) out.push(this.localUser);
    for (const h of this.roster.keys()) if (h !== sender && !out.includes(h)) out.push(h);
    return out;
  }

  private msg(side: Side, cmd: RawCommand, info: PayloadInfo | undefined, carried: Carried): void {
    const p = cmd.params;
    if (info === undefined) return;
    const fromServer = side === 's';
    // A client's typing notice names the local user (TypingUser), even when its login is not in the capture.
    if (!fromServer && this.localUser === undefined && info.kind === 'typing' && info.typingUser !== undefined) this.localUser = handleOf(info.typingUser);
    const sender = fromServer ? handleOf(p[0] ?? '') : this.localUser ?? '(local user)';
    if (fromServer && p[0] === 'Hotmail') {
      // NS system messages are notifications, not chat (draft §8.8 "system-generated message").
      const notice = info.kind === 'email' ? 'email' : info.kind === 'profile' ? 'profile' : info.kind === 'offline-message' ? 'offline-message' : `system-message`;
      this.emitNotice(notice, side, carried, 'Hotmail', this.loginHandle !== undefined ? [this.loginHandle] : undefined, { content_type: info.mime?.contentType, ...(info.notice ?? {}) });
      return;
    }
    const to = this.recipients(sender);
    switch (info.kind) {
      case 'chat': {
        this.chatCount++;
        const mode = fromServer ? '' : p[1] ?? '';
        const details: Record<string, unknown> = { sessid: this.sessid, ack_mode: mode !== '' ? mode : undefined, font: info.format?.font, color: info.format?.color, effects: info.format?.effects || undefined };
        if (fromServer && p[1] !== undefined) details.friendly = urlDecode(p[1]);
        const event: MessageEvent = {
          kind: 'message', tsSec: carried.tsSec, tsNsec: carried.tsNsec, frames: [...carried.frames], protocol: 'msnp', transport: this.route.transport,
          src: this.endpointOf(side), dst: this.endpointOf(side === 'c' ? 's' : 'c'), findings: [], from: sender, to, text: info.text ?? '', status: fromServer ? 'ok' : 'unknown',
          details: clean(details),
        };
        // Ack modes (draft §8.7): U none; N a NAK on failure only; A (and D, MSNP9+) ACK or NAK.
        if (!fromServer && (mode === 'A' || mode === 'N' || mode === 'D') && p[0] !== undefined) {
          if (this.pendingMessages.has(p[0])) {
            // A reused TrID would overwrite the earlier message: report that one as it stands.
            const item = MSNP_FINDINGS.trIdReused.at(carried.frames[carried.frames.length - 1] ?? 0,
              `MSG TrID ${p[0]} reused while an earlier message with it awaits its acknowledgement: an answer is matched to the later one`);
            event.findings.push(item);
            this.ctx.packetFinding(item);
            this.finishMessage(p[0]);
          } else if (this.pendingMessages.size >= MAX_PENDING) {
            const [k] = this.pendingMessages.keys();
            if (k !== undefined) this.finishMessage(k);
          }
          this.pendingMessages.set(p[0], { event, mode });
        } else this.ctx.emit(event);
        break;
      }
      case 'typing':
        this.emitNotice('typing', side, carried, info.typingUser ?? sender, to, undefined);
        break;
      case 'datacast':
        this.emitNotice(info.datacast?.name ?? 'datacast', side, carried, sender, to, { id: info.datacast?.id });
        break;
      case 'invite':
        this.emitNotice('invitation', side, carried, sender, to, { command: info.invite?.command, application: info.invite?.application, cookie: info.invite?.cookie, file: info.invite?.file });
        break;
      case 'p2p':
        if (info.slp !== undefined) {
          const s = info.slp;
          const what = s.method === 'INVITE' ? 'p2p-invite' : s.status === 200 ? 'p2p-accept' : s.status === 603 ? 'p2p-decline' : s.method === 'BYE' ? 'p2p-bye' : `p2p-${s.status ?? s.method.toLowerCase()}`;
          const euf = header(s.bodyHeaders, 'EUF-GUID');
          // P2P-Dest names the one recipient; without it, every other participant.
          const dest = header(info.mime?.headers ?? [], 'P2P-Dest');
          this.emitNotice(what, side, carried, sender, dest !== undefined && dest !== '' ? [dest] : to, {
            start_line: s.startLine, application: eufName(euf), call_id: header(s.headers, 'Call-ID'), session_id: header(s.bodyHeaders, 'SessionID'),
          });
        }
        break;
      case 'emoticon':
        this.emitNotice('emoticons', side, carried, sender, to, { shortcuts: info.emoticons });
        break;
      default:
        break;
    }
  }

  /** MSNP21 SDG: routing headers say who sends to whom; Message-Type says what. */
  private routedMessage(side: Side, cmd: RawCommand, info: PayloadInfo | undefined, carried: Carried): void {
    if (info?.routed === undefined) return;
    const from = info.routedFrom ?? (side === 'c' ? this.loginHandle ?? '(local user)' : '(unknown)');
    const to = info.routedTo ?? [];
    const type = (info.messageType ?? '').toLowerCase();
    if (type === 'text') {
      this.chatCount++;
      this.ctx.emit({
        kind: 'message', tsSec: carried.tsSec, tsNsec: carried.tsNsec, frames: [...carried.frames], protocol: 'msnp', transport: this.route.transport,
        src: this.endpointOf(side), dst: this.endpointOf(side === 'c' ? 's' : 'c'), findings: [], from, to, text: info.text ?? '', status: side === 's' ? 'ok' : 'unknown',
        details: { command: cmd.name },
      });
    } else if (type.startsWith('control/typing')) this.emitNotice('typing', side, carried, from, to, undefined);
    else if (type === 'nudge') this.emitNotice('nudge', side, carried, from, to, undefined);
    else if (type !== '') this.emitNotice(type, side, carried, from, to, undefined);
  }

  private resolveMessage(trid: string, status: MessageStatus, error: string | undefined, frame: number): void {
    const pm = this.pendingMessages.get(trid);
    if (pm === undefined) return;
    this.pendingMessages.delete(trid);
    pm.event.status = status;
    if (error !== undefined) pm.event.error = error;
    if (!pm.event.frames.includes(frame)) pm.event.frames.push(frame);
    this.ctx.emit(pm.event);
  }

  private finishMessage(trid: string): void {
    const pm = this.pendingMessages.get(trid);
    if (pm === undefined) return;
    this.pendingMessages.delete(trid);
    // N: silence means delivered, if the server half is in the capture; A/D: an answer was due.
    pm.event.status = !this.seen[1] ? 'unknown' : pm.mode === 'N' ? 'ok' : 'no-response';
    this.ctx.emit(pm.event);
  }

  private finishPending(): void {
    for (const trid of [...this.pendingMessages.keys()]) this.finishMessage(trid);
    for (const [trid, p] of this.pending) {
      if (p.answered || this.serverSegments <= p.serverAt) continue;
      if (p.name === 'OUT' || p.name === 'XFR' && this.role === 'DS') continue;
      this.report(MSNP_FINDINGS.trIdUnanswered, p.frame, `${p.name} with TrID ${trid} was never answered although the server kept sending`, 'c',
        { frames: [p.frame], tsSec: p.tsSec, tsNsec: p.tsNsec });
    }
    this.pending.clear();
  }

  // ---- events ----

  private endpointOf(side: Side): string {
    return side === 'c' ? this.route.client : this.route.server;
  }

  private base(side: Side, carried: Carried | undefined): Omit<TimelineEvent, 'kind'> {
    const frames = carried?.frames ?? [];
    const packet = this.ctx.packet;
    return {
      tsSec: carried?.tsSec ?? packet?.frame.tsSec ?? 0,
      tsNsec: carried?.tsNsec ?? packet?.frame.tsNsec ?? 0,
      frames: frames.length > 0 ? [...frames] : packet !== undefined ? [packet.frame.number] : [],
      protocol: 'msnp',
      transport: this.route.transport,
      src: this.endpointOf(side),
      dst: this.endpointOf(side === 'c' ? 's' : 'c'),
      findings: [],
    };
  }

  private emitSession(action: string, side: Side, carried: Carried | undefined, details: Record<string, unknown>): void {
    this.ctx.emit({ ...this.base(side, carried), kind: 'session', action, details: clean({ role: this.role, ...details }) });
  }

  private emitPresence(side: Side, carried: Carried, user: string, code: string, details: Record<string, unknown> | undefined): void {
    const status = STATUS_NAMES[code] ?? code;
    this.ctx.emit({ ...this.base(side, carried), kind: 'presence', user, status, details: clean({ code: STATUS_NAMES[code] !== undefined ? code : undefined, ...(details ?? {}) }) });
  }

  private emitNotice(notice: string, side: Side, carried: Carried, from: string | undefined, to: string[] | undefined, details: Record<string, unknown> | undefined): void {
    this.ctx.emit({ ...this.base(side, carried), kind: 'notice', notice, from, to, details: details !== undefined ? clean(details) : undefined });
  }

  /** Emits a finding about `side`; `clause` is the command's own section, for the rules stated per command. */
  private report(def: FindingDef, frame: number, summary: string, side: Side, carried?: Carried, clause?: string): void {
    const item: Finding = def.at(frame, summary, clause !== undefined ? { clause } : undefined);
    const route: Route = { transport: this.route.transport, src: this.endpointOf(side), dst: this.endpointOf(side === 'c' ? 's' : 'c') };
    const packet = this.ctx.packet;
    this.ctx.standaloneFinding(item, 'msnp', route, carried?.tsSec ?? packet?.frame.tsSec ?? 0, carried?.tsNsec ?? packet?.frame.tsNsec ?? 0);
  }
}

/** `1:bob@example.com` → `bob@example.com`; `bob@example.com;{guid}` → `bob@example.com`. */
export function handleOf(param: string): string {
  let h = param;
  const semi = h.indexOf(';');
  if (semi >= 0) h = h.slice(0, semi);
  const m = /^\d+:(.+)$/.exec(h);
  return m ? m[1]! : h;
}

/** Friendly name in NLN/ILN: after the handle, skipping the MSNP14–17 numeric network ID. */
function friendlyOf(p: readonly string[], at: number): string | undefined {
  let v = p[at];
  if (v !== undefined && /^\d+$/.test(v) && p.length >= at + 3) v = p[at + 1];
  return v !== undefined ? urlDecode(v) : undefined;
}

function outReason(code: string | undefined): string {
  if (code === undefined) return 'server closed the session';
  if (code === 'OTH') return 'OTH: signed in from another location';
  if (code === 'SSD') return 'SSD: server shutting down';
  if (code === 'MIG') return 'MIG: migrated';
  return code;
}

function clean(d: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(d)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
