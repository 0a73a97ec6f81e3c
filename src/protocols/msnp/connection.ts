// One MSNP connection: the commands of both directions (framed by stream.ts) with their
// layers and checks, and their meaning: logins, switchboard sessions and rosters, presence,
// messages and notices as timeline events. Its role and version (role.ts), TrID matching
// (trids.ts) and referral linking (referrals.ts) are kept by parts of their own.
import type { EngineContext, Route } from '../../engine/context.js';
import type { MessageEvent } from '../../model/events.js';
import type { Finding, FindingDef } from '../../model/findings.js';
import { MSNP_FINDINGS } from './findings.js';
import type { Carried } from '../../net/stream-buffer.js';
import { commandSpec, DRAFT as DRAFT_CLAUSE, errorName, STATUS_NAMES, type Role, type Side } from './commands.js';
import { checkChallenge } from './challenge.js';
import type { RawCommand } from './parse.js';
import { header, urlDecode } from './mime.js';
import { eufName, interpretPayload, type PayloadInfo } from './payload.js';
import { commandLayer, type CommandView } from './present.js';
import { ReferralLinks } from './referrals.js';
import { RoleAndVersion } from './role.js';
import { CommandStreams } from './stream.js';
import { handleOf, type Login, type MsnpShared, type Referral } from './shared.js';
import { ASYNC_SERVER, TridMatcher } from './trids.js';
import { LegRoutingContext } from './legs.js';
import { MovingHold } from '../../util/frame-holds.js';

const MAX_ROSTER = 256;
/** CAL invitations waiting for their answer on one switchboard (more are emitted unanswered). */
const MAX_INVITES = 64;

/** A CAL held until the server answers it: RINGING, or an error that refuses it (217 offline, 205/207 unknown). */
interface PendingInvite {
  readonly carried: Carried;
  readonly details: Record<string, unknown>;
}

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

/** Reports a finding of one connection, as a timeline `finding` event between its endpoints. */
/** Emits a finding about `side`; `clause` is the command's own section, for the rules stated per command. */
export type Reporter = (def: FindingDef, frame: number, summary: string, side: Side, carried?: Carried, clause?: string) => void;

export class MsnpConnection {
  private readonly profile: RoleAndVersion;
  private readonly trids: TridMatcher;
  private readonly referrals: ReferralLinks;
  private readonly streams: CommandStreams;
  private readonly seen: [boolean, boolean] = [false, false];
  private serverSegments = 0;
  /** Local user (the client's handle) and the switchboard roster (handle → friendly name). */
  private localUser: string | undefined;
  private readonly roster = new Map<string, string>();
  private sessid: string | undefined;
  private login: Login | undefined;
  private challenge: string | undefined;
  private authMethod: string | undefined;
  private loginHandle: string | undefined;
  private chatCount = 0;
  private sbOpened = false;
  /** The protocol versions the client's VER offered (MSNPn only: not CVR0, not the failure marker 0). */
  private offered: string[] = [];
  private readonly invites = new Map<string, PendingInvite>();
  private ended = false;
  /** Login (USR OK, or ANS OK on a switchboard) succeeded; before it only the handshake and authentication may be sent (§7.3). */
  private authenticated = false;
  private beforeAuthReported = false;
  /** Frame of an NS referral (XFR NS): the client must send nothing more here (§7.4). */
  private referredAt: number | undefined;
  private afterReferralReported = false;
  /** A CHL not answered yet, and how many client commands followed it. */
  private challengeAt: { frame: number; carried: Carried; after: number } | undefined;
  /** First and last frames that carried bytes of this connection (for events at its end). */
  private first: Carried | undefined;
  private last: Carried | undefined;
  /**
   * Holds for the reorder window: the first frame while the version is not known (a note at
   * the end may be keyed there), the last frame of a switchboard (its `close` event).
   */
  private readonly firstHold: MovingHold;
  private readonly lastHold: MovingHold;
  /** The frame of a CHL not answered yet (a note may be keyed there at the end). */
  private readonly challengeHold: MovingHold;

  /** The engine's context, with chat messages joined across the legs of a switchboard (legs.ts). */
  private readonly ctx: EngineContext;

  constructor(private readonly shared: MsnpShared, engineCtx: EngineContext, readonly route: ConnectionRoute) {
    const ctx = new LegRoutingContext(engineCtx, shared.legs, () => ({ server: route.server, localUser: this.localUser ?? this.loginHandle }));
    this.ctx = ctx;
    this.firstHold = new MovingHold(engineCtx.holds);
    this.lastHold = new MovingHold(engineCtx.holds);
    this.challengeHold = new MovingHold(engineCtx.holds);
    shared.legs.connectionOpened(route.server);
    const report: Reporter = (def, frame, summary, side, carried, clause) => this.report(def, frame, summary, side, carried, clause);
    this.profile = new RoleAndVersion(shared, route.clientIp, report);
    this.trids = new TridMatcher(ctx, report, () => this.seen[1]);
    this.referrals = new ReferralLinks(shared, route, (r) => this.adoptReferral(r));
    this.streams = new CommandStreams(ctx, route, this.profile, report, (side, cmd, bytes, carried, missing, atEnd) => this.process(side, cmd, bytes, carried, missing, atEnd));
    if (route.role !== undefined) this.profile.setRole(route.role, true);
  }

  // ---- byte input ----

  feed(side: Side, bytes: Uint8Array): void {
    const packet = this.ctx.packet;
    if (packet === undefined) return;
    this.seen[side === 'c' ? 0 : 1] = true;
    const here: Carried = { frames: [packet.frame.number], tsSec: packet.frame.tsSec, tsNsec: packet.frame.tsNsec };
    this.shared.legs.expire(packet.frame.tsSec + packet.frame.tsNsec / 1e9);
    if (this.first === undefined) {
      this.first = here;
      if (this.profile.version === undefined) this.firstHold.set(here.frames[0]!);
    }
    this.last = here;
    if (this.profile.role === 'SB' || this.profile.role === undefined) this.lastHold.set(here.frames[0]!);
    if (side === 's') this.serverSegments++;
    this.streams.feed(side, bytes, packet);
  }

  gap(side: Side, length: number): void {
    this.streams.gap(side, length);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.shared.legs.connectionClosed(this.route.server);
    this.streams.end();
    for (const trid of [...this.invites.keys()]) this.answerInvite(trid, undefined, {});
    this.trids.finish(this.serverSegments, this.profile.role);
    const chl = this.challengeAt;
    if (chl !== undefined && chl.after > 0) {
      this.report(MSNP_FINDINGS.challengeUnanswered, chl.frame, `CHL ${this.challenge ?? ''} was never answered with QRY, although the client sent ${chl.after} command(s) after it`, 'c', chl.carried);
    }
    this.profile.finish(this.streams.commands, this.first);
    if (this.profile.role === 'SB' && (this.sbOpened || this.roster.size > 0 || this.chatCount > 0)) {
      this.emitSession('close', 's', this.last, { users: [...this.roster.keys()], messages: this.chatCount, sessid: this.sessid });
    }
    this.firstHold.clear();
    this.lastHold.clear();
    this.challengeHold.clear();
  }

  // ---- one command ----

  /** One command framed from either direction: its layer, checks and meaning. */
  private process(side: Side, cmd: RawCommand, bytes: Uint8Array, carried: Carried, missing: number, atEnd: boolean): void {
    const frame = carried.frames[0] ?? this.ctx.packet?.frame.number ?? 0;
    this.profile.infer(side, cmd, this.loginHandle);
    this.profile.evidence(side, cmd);
    this.profile.validate(side, cmd, frame, carried);
    if (this.profile.version !== undefined) this.firstHold.clear();
    if (this.profile.role !== undefined && this.profile.role !== 'SB') this.lastHold.clear();

    const payload = cmd.payloadIndex >= 0 ? bytes.subarray(cmd.lineLength) : undefined;
    const info: PayloadInfo | undefined = payload !== undefined ? interpretPayload(cmd.name, payload) : undefined;
    let requestFrame: number | undefined;
    const trid = cmd.params[0];
    const isError = /^\d{3}$/.test(cmd.name);
    const spec = commandSpec(cmd.name);
    if (side === 'c' && spec?.answered === true && trid !== undefined && /^\d+$/.test(trid) && !(cmd.name === 'MSG')) {
      this.trids.request(trid, { name: cmd.name, frame, tsSec: carried.tsSec, tsNsec: carried.tsNsec, answered: false, serverAt: this.serverSegments });
    }
    if (side === 's' && trid !== undefined && /^\d+$/.test(trid) && !ASYNC_SERVER.has(cmd.name)) {
      // Any non-asynchronous server line with the TrID answers the request (draft §5.3, §5.6):
      // several lines may share it (SYN → GTC/BLP/LST, CHG → ILN, ANS → IRO), and a DS answers USR with XFR.
      requestFrame = this.trids.answer(trid);
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
      side, cmd, bytes, payload: info, version: this.profile.shownVersion, versionText: this.profile.versionText(),
      role: this.profile.role ?? '', requestFrame, challenge: challengeView, missing,
    };
    if (this.ctx.packet !== undefined && !atEnd) this.ctx.packet.layers.push(commandLayer(view));

    this.semantics(side, cmd, info, carried, frame, isError);
  }

  // ---- role, version, validity ----

  // ---- meaning ----

  /** The order rules of a client command: authentication first (§7.3, §8.2, §8.4), nothing after an NS referral (§7.4), CHL answered. */
  private order(cmd: RawCommand, carried: Carried, frame: number): void {
    const n = cmd.name;
    if (this.referredAt !== undefined && n !== 'OUT' && !this.afterReferralReported) {
      this.afterReferralReported = true;
      this.report(MSNP_FINDINGS.afterReferral, frame, `${n} sent after the server referred the client to another NS (XFR NS in frame ${this.referredAt})`, 'c', carried);
    }
    if (this.route.fromStart && !this.authenticated && !this.beforeAuthReported) {
      const sb = this.profile.role === 'SB';
      const allowed = sb ? ['USR', 'ANS', 'OUT'] : ['VER', 'CVR', 'CVQ', 'INF', 'USR', 'OUT'];
      if (!allowed.includes(n)) {
        this.beforeAuthReported = true;
        this.report(MSNP_FINDINGS.beforeAuth, frame, `${n} sent before the login succeeded (only ${allowed.join(', ')} may come first)`, 'c', carried,
          sb ? `${DRAFT_CLAUSE} 8.2` : `${DRAFT_CLAUSE} 7.3`);
      }
    }
    if (this.challengeAt !== undefined) {
      if (n === 'QRY') {
        this.challengeHold.clear();
        this.challengeAt = undefined;
      }
      else this.challengeAt.after++;
    }
  }

  private semantics(side: Side, cmd: RawCommand, info: PayloadInfo | undefined, carried: Carried, frame: number, isError: boolean): void {
    const p = cmd.params;
    if (side === 'c' && !isError) this.order(cmd, carried, frame);
    if (isError) {
      const code = Number(cmd.name);
      if (code === 911 || code === 917 || code === 928 || code === 933) this.emitSession('refused', side, carried, { error: errorName(code), code });
      if (code === 540) this.report(MSNP_FINDINGS.challengeRejected, frame, 'server rejected the challenge answer (540)', side, carried);
      if (side === 's' && p[0] !== undefined && this.invites.has(p[0])) this.answerInvite(p[0], carried, { result: 'refused', code, error: errorName(code) });
      // A NAK-like error in answer to a message.
      if (p[0] !== undefined && this.trids.awaitsAck(p[0])) this.trids.resolveMessage(p[0], 'error', errorName(code), frame);
      return;
    }
    switch (cmd.name) {
      case 'VER':
        if (side === 'c') this.offered = p.slice(1).filter((d) => /^MSNP\d+$/i.test(d));
        else {
          if (p[1] !== undefined && p[1] !== '0' && this.offered.length > 0 && !this.offered.some((d) => d.toUpperCase() === p[1]?.toUpperCase())) {
            this.report(MSNP_FINDINGS.verNotOffered, frame, `server chose ${p[1]}, which the client did not offer (${this.offered.join(' ')})`, side, carried);
          }
          const versions = p.slice(1).map((d) => /^MSNP(\d+)$/i.exec(d)?.[1]).filter((x): x is string => x !== undefined).map(Number);
          // `VER TrID 0` (draft §7.1) says no version is common: the 0 is a marker, not a version.
          if (p[1] === '0') this.emitSession('refused', side, carried, { reason: 'no common protocol version', offered: this.offered.length > 0 ? this.offered : undefined });
          else if (versions.length > 0) this.profile.fromVer(Math.max(...versions));
        }
        break;
      case 'USR':
        this.usr(side, cmd, carried, frame);
        break;
      case 'XFR':
        if (side === 's' && p[1] === 'NS' && this.referredAt === undefined) this.referredAt = frame;
        if (side === 's' && p.length >= 3) this.referrals.announce('XFR', p[1] === 'SB' ? 'SB' : 'NS', p[2]!, p[4] ?? '', undefined, undefined, frame, this.login, this.profile.version);
        break;
      case 'RNG':
        if (side === 's' && p.length >= 4) {
          this.referrals.announce('RNG', 'SB', p[1]!, p[3]!, p[0], p[4], frame, this.login, this.profile.version);
          this.emitNotice('invitation', side, carried, p[4], this.loginHandle !== undefined ? [this.loginHandle] : undefined, { kind: 'switchboard', sessid: p[0], server: p[1], caller_friendly: p[5] !== undefined ? urlDecode(p[5]) : undefined });
        }
        break;
      case 'CHL':
        if (side === 's') {
          this.challenge = p[1];
          if (this.challengeAt === undefined) {
            this.challengeHold.set(frame);
            this.challengeAt = { frame, carried, after: 0 };
          }
        }
        break;
      case 'OUT':
        if (this.profile.role === 'SB') {
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
        if (side === 'c' && p[1] !== undefined) this.invite(p[0], carried, { user: p[1], by: this.localUser });
        else if (side === 's' && p[0] !== undefined && p[1] === 'RINGING') this.answerInvite(p[0], carried, { result: 'ringing', sessid: p[2] });
        else if (side === 's' && p[1] !== undefined && p[1] !== 'RINGING') this.report(MSNP_FINDINGS.calStatus, frame, `CAL answered with status ${p[1]}, not RINGING`, side, carried);
        break;
      case 'ANS':
        if (side === 'c' && p.length >= 3) {
          this.localUser = handleOf(p[1]!);
          this.sessid = p[3];
          this.referrals.linkByCookie(p[2]!, frame);
        } else if (side === 's' && p[1] === 'OK') {
          this.authenticated = true;
          this.sbOpened = true;
          this.referrals.linkByServer(frame);
          this.emitSession('accepted', side, carried, { user: this.localUser, sessid: this.sessid, caller: this.referrals.referral?.caller, roster: [...this.roster.keys()] });
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
        if (side === 's' && p[0] !== undefined) this.trids.resolveMessage(p[0], cmd.name === 'ACK' ? 'ok' : 'error', cmd.name === 'NAK' ? 'NAK' : undefined, frame);
        break;
      case 'MSG':
        if (side === 'c' && p[1] !== undefined && !/^[UNAD]$/.test(p[1])) this.report(MSNP_FINDINGS.ackMode, frame, `MSG with acknowledgement mode ${p[1]}, not U, N, A or D`, side, carried);
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
        this.referrals.linkByCookie(p[2]!, frame);
      }
      return;
    }
    if (p[1] !== 'OK') return;
    this.authenticated = true;
    const handle = p[2] !== undefined ? handleOf(p[2]) : this.localUser;
    if (handle !== undefined) this.localUser = handle;
    if (this.profile.role === 'SB') {
      this.sbOpened = true;
      this.referrals.linkByServer(frame);
      this.emitSession('open', side, carried, { user: handle, friendly: p[3] !== undefined && !/^\d$/.test(p[3]) ? urlDecode(p[3]) : undefined, referral_frame: this.referrals.referral?.frame });
      return;
    }
    this.loginHandle = handle;
    const versionText = this.profile.versionText();
    const login: Login = { handle: handle ?? '', clientIp: this.route.clientIp, frame, version: this.profile.version, versionText, auth: this.authMethod };
    this.login = login;
    this.shared.setLogin(login);
    this.emitSession('login', side, carried, { handle, version: versionText, auth: this.authMethod ?? 'unknown', friendly: p[3] !== undefined && !/^\d$/.test(p[3]) ? urlDecode(p[3]) : undefined });
  }

  /** What the referral that sent the client here tells this connection. */
  private adoptReferral(r: Referral): void {
    if (r.sessid !== undefined && this.sessid === undefined) this.sessid = r.sessid;
    this.profile.fromReferral(r.version);
    if (this.localUser === undefined && r.login !== undefined && r.login.handle !== '') this.localUser = r.login.handle;
    if (r.kind === 'RNG' && r.caller !== undefined && !this.roster.has(r.caller) && this.roster.size < MAX_ROSTER) this.roster.set(r.caller, '');
  }

  /** A CAL: its invite event waits for the server's answer, which may refuse it (draft §8.3). */
  private invite(trid: string | undefined, carried: Carried, details: Record<string, unknown>): void {
    if (trid === undefined || !/^\d+$/.test(trid) || this.invites.has(trid)) {
      this.emitSession('invite', 'c', carried, details);
      return;
    }
    if (this.invites.size >= MAX_INVITES) this.answerInvite(this.invites.keys().next().value as string, undefined, {});
    this.invites.set(trid, { carried, details });
    this.ctx.holds?.hold(carried.frames[0] ?? 0); // released by answerInvite
  }

  /** Emits a held invite with its answer (none when the connection ended first). */
  private answerInvite(trid: string, answer: Carried | undefined, outcome: Record<string, unknown>): void {
    const held = this.invites.get(trid);
    if (held === undefined) return;
    this.invites.delete(trid);
    this.ctx.holds?.release(held.carried.frames[0] ?? 0);
    const frames = answer !== undefined ? [...held.carried.frames, ...answer.frames.filter((n) => !held.carried.frames.includes(n))] : held.carried.frames;
    this.emitSession('invite', 'c', { ...held.carried, frames }, { ...held.details, ...outcome });
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
        if (!fromServer && (mode === 'A' || mode === 'N' || mode === 'D') && p[0] !== undefined) this.trids.awaitAck(p[0], event, mode, carried);
        else this.ctx.emit(event);
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

  // ---- events ----

  private endpointOf(side: Side): string {
    return side === 'c' ? this.route.client : this.route.server;
  }

  // Each event written out whole, its common fields first as before: not `{ ...common, kind, … }`,
  // whose added properties V8 (Node 20) sets through its slow path (about 0.5 µs each).
  private emitSession(action: string, side: Side, carried: Carried | undefined, details: Record<string, unknown>): void {
    if (this.ctx.wantsEvents === false) return;
    const c = this.common(side, carried);
    this.ctx.emit({
      tsSec: c.tsSec, tsNsec: c.tsNsec, frames: c.frames, protocol: 'msnp', transport: this.route.transport, src: c.src, dst: c.dst, findings: [],
      kind: 'session', action, details: clean({ role: this.profile.role, ...details }),
    });
  }

  private emitPresence(side: Side, carried: Carried, user: string, code: string, details: Record<string, unknown> | undefined): void {
    if (this.ctx.wantsEvents === false) return;
    const status = STATUS_NAMES[code] ?? code;
    const c = this.common(side, carried);
    this.ctx.emit({
      tsSec: c.tsSec, tsNsec: c.tsNsec, frames: c.frames, protocol: 'msnp', transport: this.route.transport, src: c.src, dst: c.dst, findings: [],
      kind: 'presence', user, status, details: clean({ code: STATUS_NAMES[code] !== undefined ? code : undefined, ...(details ?? {}) }),
    });
  }

  private emitNotice(notice: string, side: Side, carried: Carried, from: string | undefined, to: string[] | undefined, details: Record<string, unknown> | undefined): void {
    if (this.ctx.wantsEvents === false) return;
    const c = this.common(side, carried);
    this.ctx.emit({
      tsSec: c.tsSec, tsNsec: c.tsNsec, frames: c.frames, protocol: 'msnp', transport: this.route.transport, src: c.src, dst: c.dst, findings: [],
      kind: 'notice', notice, from, to, details: details !== undefined ? clean(details) : undefined,
    });
  }

  /** An event's time, frames and endpoints: of what carried it, else of the current frame. */
  private common(side: Side, carried: Carried | undefined): { tsSec: number; tsNsec: number; frames: number[]; src: string; dst: string } {
    const frames = carried?.frames ?? [];
    const packet = this.ctx.packet;
    return {
      tsSec: carried?.tsSec ?? packet?.frame.tsSec ?? 0,
      tsNsec: carried?.tsNsec ?? packet?.frame.tsNsec ?? 0,
      frames: frames.length > 0 ? [...frames] : packet !== undefined ? [packet.frame.number] : [],
      src: this.endpointOf(side),
      dst: this.endpointOf(side === 'c' ? 's' : 'c'),
    };
  }

  /** Emits a finding about `side`; `clause` is the command's own section, for the rules stated per command. */
  private report(def: FindingDef, frame: number, summary: string, side: Side, carried?: Carried, clause?: string): void {
    const item: Finding = def.at(frame, summary, clause !== undefined ? { clause } : undefined);
    const route: Route = { transport: this.route.transport, src: this.endpointOf(side), dst: this.endpointOf(side === 'c' ? 's' : 'c') };
    const packet = this.ctx.packet;
    this.ctx.standaloneFinding(item, 'msnp', route, carried?.tsSec ?? packet?.frame.tsSec ?? 0, carried?.tsNsec ?? packet?.frame.tsNsec ?? 0);
  }
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
