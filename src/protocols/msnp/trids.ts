// TrID matching on one MSNP connection (draft §5.3): each client request that expects an
// answer waits for the server lines carrying its TrID (several may: SYN → GTC/BLP/LST), and is
// reported when the server kept sending but never answered; each MSG sent with ack mode A, N
// or D waits for its ACK or NAK (draft §8.7). Both tables are bounded.
import type { EngineContext } from '../../engine/context.js';
import type { MessageEvent, MessageStatus } from '../../model/events.js';
import type { Carried } from '../../net/stream-buffer.js';
import type { Role } from './commands.js';
import type { Reporter } from './connection.js';
import { MSNP_FINDINGS } from './findings.js';
import type { Timer } from '../../engine/timers.js';

const MAX_PENDING = 4096;
/**
 * A message still without its ACK or NAK this long (capture time) is settled as if the
 * connection had ended: the switchboard acknowledges within seconds.
 */
const ACK_TIMEOUT = 60;

/** Server commands that never answer a request, even when their first parameter is numeric. */
export const ASYNC_SERVER = new Set(['MSG', 'NLN', 'FLN', 'UBX', 'UBN', 'UBM', 'RNG', 'JOI', 'BYE', 'NOT', 'IPG', 'QNG', 'NFY', 'BPR', 'OUT', 'CHL']);

export interface Pending {
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
  timer?: Timer;
}

export class TridMatcher {
  private readonly pending = new Map<string, Pending>();
  private readonly pendingMessages = new Map<string, PendingMessage>();
  private pendingFull = false;

  /** `serverSeen`: whether the server's half of the connection is in the capture. */
  constructor(private readonly ctx: EngineContext, private readonly report: Reporter, private readonly serverSeen: () => boolean) {}

  /** A client request that expects an answer with its TrID. */
  request(trid: string, p: Pending): void {
    if (this.pending.size >= MAX_PENDING) {
      for (const [k, v] of this.pending) if (v.answered) this.drop(k);
      if (this.pending.size >= MAX_PENDING) {
        const first = this.pending.keys().next().value;
        if (first !== undefined) this.drop(first);
        if (!this.pendingFull) {
          this.pendingFull = true;
          this.report(MSNP_FINDINGS.pendingLimit, p.frame, `more than ${MAX_PENDING} requests awaiting answers: the oldest are no longer tracked`, 'c');
        }
      }
    }
    if (this.pending.has(trid)) this.drop(trid);
    this.pending.set(trid, p);
    // An unanswered request is reported when the connection ends: it holds its frame until answered.
    this.ctx.holds?.hold(p.frame);
  }

  private drop(trid: string): void {
    const p = this.pending.get(trid);
    if (p === undefined) return;
    if (!p.answered) this.ctx.holds?.release(p.frame);
    this.pending.delete(trid);
  }

  /** A server line with this TrID answers its request: returns the request's frame. */
  answer(trid: string): number | undefined {
    const p = this.pending.get(trid);
    if (p === undefined) return undefined;
    if (!p.answered) this.ctx.holds?.release(p.frame);
    p.answered = true;
    return p.frame;
  }

  /** Holds a message sent with an ack mode until its ACK or NAK (or the end of the connection). */
  awaitAck(trid: string, event: MessageEvent, mode: string, carried: Carried): void {
    if (this.pendingMessages.has(trid)) {
      // A reused TrID would overwrite the earlier message: report that one as it stands.
      const item = MSNP_FINDINGS.trIdReused.at(carried.frames[carried.frames.length - 1] ?? 0,
        `MSG TrID ${trid} reused while an earlier message with it awaits its acknowledgement: an answer is matched to the later one`);
      event.findings.push(item);
      this.ctx.packetFinding(item);
      this.finishMessage(trid);
    } else if (this.pendingMessages.size >= MAX_PENDING) {
      const [k] = this.pendingMessages.keys();
      if (k !== undefined) this.finishMessage(k);
    }
    const pm: PendingMessage = { event, mode };
    this.pendingMessages.set(trid, pm);
    this.ctx.holds?.hold(event.frames[0] ?? 0); // released when answered or settled
    pm.timer = this.ctx.schedule(event.tsSec + ACK_TIMEOUT, () => {
      if (this.pendingMessages.get(trid) === pm) this.finishMessage(trid);
    });
  }

  awaitsAck(trid: string): boolean {
    return this.pendingMessages.has(trid);
  }

  /** An ACK, NAK or error answered a message. */
  resolveMessage(trid: string, status: MessageStatus, error: string | undefined, frame: number): void {
    const pm = this.pendingMessages.get(trid);
    if (pm === undefined) return;
    pm.timer?.cancel();
    this.pendingMessages.delete(trid);
    this.ctx.holds?.release(pm.event.frames[0] ?? 0);
    pm.event.status = status;
    if (error !== undefined) pm.event.error = error;
    if (!pm.event.frames.includes(frame)) pm.event.frames.push(frame);
    this.ctx.emit(pm.event);
  }

  private finishMessage(trid: string): void {
    const pm = this.pendingMessages.get(trid);
    if (pm === undefined) return;
    pm.timer?.cancel();
    this.pendingMessages.delete(trid);
    this.ctx.holds?.release(pm.event.frames[0] ?? 0);
    // N: silence means delivered, if the server half is in the capture; A/D: an answer was due.
    pm.event.status = !this.serverSeen() ? 'unknown' : pm.mode === 'N' ? 'ok' : 'no-response';
    this.ctx.emit(pm.event);
  }

  /** End of the connection: messages still waiting are settled, requests never answered reported. */
  finish(serverSegments: number, role: Role | undefined): void {
    for (const trid of [...this.pendingMessages.keys()]) this.finishMessage(trid);
    for (const [trid, p] of this.pending) {
      if (p.answered || serverSegments <= p.serverAt) continue;
      if (p.name === 'OUT' || p.name === 'XFR' && role === 'DS') continue;
      this.report(MSNP_FINDINGS.trIdUnanswered, p.frame, `${p.name} with TrID ${trid} was never answered although the server kept sending`, 'c', { frames: [p.frame], tsSec: p.tsSec, tsNsec: p.tsNsec });
    }
    for (const trid of [...this.pending.keys()]) this.drop(trid);
  }
}
