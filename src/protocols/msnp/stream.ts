// The two byte streams of an MSNP connection framed into commands: bounded buffering,
// resynchronisation at the next command line after garbage, a gap or a mid-stream start, a
// hole inside a payload of known length bridged, and the skipped runs and truncations
// reported. Each command goes to the connection (connection.ts).
import type { EngineContext } from '../../engine/context.js';
import type { Packet } from '../../model/packet.js';
import { StreamBuffer, type Carried } from '../../net/stream-buffer.js';
import type { Side } from './commands.js';
import type { ConnectionRoute, Reporter } from './connection.js';
import { MSNP_FINDINGS } from './findings.js';
import { frameCommand, type RawCommand } from './parse.js';
import { continuationLayer } from './present.js';
import type { RoleAndVersion } from './role.js';

const STREAM_LIMIT = 4 * 1024 * 1024;

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

const SIDE_INDEX: Record<Side, 0 | 1> = { c: 0, s: 1 };

/** Takes each command: the side that sent it, its bytes, the frames that carried them, bytes missing from its payload, and whether the stream ended inside it. */
export type CommandSink = (side: Side, cmd: RawCommand, bytes: Uint8Array, carried: Carried, missing: number, atEnd: boolean) => void;

export class CommandStreams {
  private readonly bufs: [StreamBuffer, StreamBuffer] = [new StreamBuffer(STREAM_LIMIT), new StreamBuffer(STREAM_LIMIT)];
  /** False while resynchronising (after garbage, a gap, or a mid-stream start). */
  private readonly sync: [boolean, boolean];
  private readonly skip: [number, number] = [0, 0];
  private readonly garbage: [GarbageRun | undefined, GarbageRun | undefined] = [undefined, undefined];
  private readonly bareLfReported: [boolean, boolean] = [false, false];
  private readonly lastPayload: [string | undefined, string | undefined] = [undefined, undefined];
  /** Commands framed so far, both directions. */
  commands = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly route: ConnectionRoute,
    private readonly profile: RoleAndVersion,
    private readonly report: Reporter,
    private readonly onCommand: CommandSink,
  ) {
    this.sync = [route.fromStart, route.fromStart];
    this.bufs[0].attach(ctx.buffers, () => this.gap('c', 0), ctx.holds);
    this.bufs[1].attach(ctx.buffers, () => this.gap('s', 0), ctx.holds);
  }

  /** Bytes of one direction, carried by `packet`; a segment that completes no command gets a continuation layer. */
  feed(side: Side, bytes: Uint8Array, packet: Packet): void {
    const i = SIDE_INDEX[side];
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
      const r = view.length > 0 ? frameCommand(view, side, this.profile.framingVersion(), this.sync[i]) : undefined;
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
    const r = view.length > 0 ? frameCommand(view, side, this.profile.framingVersion(), this.sync[i]) : undefined;
    if (r?.kind === 'need' && r.cmd !== undefined) {
      const missing = r.cmd.total - view.length;
      if (length <= missing) {
        // The hole lies inside a payload whose length we know: keep the framing.
        const bytes = view.slice();
        const carried = buf.consume(view.length);
        this.command(side, r.cmd, bytes, carried, missing, false);
        this.skip[i] = missing - length;
        return;
      }
    }
    buf.clear();
    this.sync[i] = false;
  }


  /** End of the connection: skipped runs reported, a command cut short given as it stands. */
  end(): void {
    for (const side of ['c', 's'] as const) {
      const i = SIDE_INDEX[side];
      const buf = this.bufs[i];
      this.flushGarbage(side);
      if (buf.length === 0) continue;
      const view = buf.view();
      const r = frameCommand(view, side, this.profile.framingVersion(), this.sync[i]);
      const carried = buf.carried(view.length);
      const frame = carried.frames[0] ?? 0;
      if (r.kind === 'need' && r.cmd !== undefined) {
        this.report(MSNP_FINDINGS.payloadTruncated, frame, `${r.cmd.name} declares a ${r.cmd.payloadLength}-byte payload but only ${view.length - r.cmd.lineLength} byte(s) follow before the connection ends`, side, carried);
        this.command(side, r.cmd, view.slice(), carried, r.cmd.total - view.length, true);
      } else if (r.kind === 'need') {
        this.report(MSNP_FINDINGS.truncatedLine, frame, `${view.length} byte(s) at the end of the stream are not a complete command line`, side, carried);
      }
      buf.clear();
    }
  }

  private drain(side: Side): void {
    const i = SIDE_INDEX[side];
    const buf = this.bufs[i];
    for (let guard = 0; guard < 1_000_000 && buf.length > 0; guard++) {
      if (this.skip[i] > 0) {
        const n = Math.min(this.skip[i], buf.length);
        buf.discard(n);
        this.skip[i] -= n;
        continue;
      }
      const view = buf.view();
      const r = frameCommand(view, side, this.profile.framingVersion(), this.sync[i]);
      if (r.kind === 'need') return;
      if (r.kind === 'garbage') {
        const carried = buf.consume(r.skip);
        const g = this.garbage[i];
        if (g === undefined) {
          this.garbage[i] = { bytes: r.skip, frame: carried.frames[0] ?? 0, tsSec: carried.tsSec, tsNsec: carried.tsNsec, afterPayload: this.sync[i] ? this.lastPayload[i] : undefined, reason: r.reason };
          this.ctx.holds?.hold(carried.frames[0] ?? 0); // reported (and released) by flushGarbage
        }
        else g.bytes += r.skip;
        this.sync[i] = false;
        continue;
      }
      this.flushGarbage(side);
      const bytes = view.slice(0, r.cmd.total);
      const carried = buf.consume(r.cmd.total);
      this.sync[i] = true;
      this.command(side, r.cmd, bytes, carried, 0, false);
    }
  }

  /** Reports a run of skipped bytes once the stream is back in sync (or ends). */
  private flushGarbage(side: Side): void {
    const i = SIDE_INDEX[side];
    const g = this.garbage[i];
    if (g === undefined) return;
    this.garbage[i] = undefined;
    this.ctx.holds?.release(g.frame);
    const carried: Carried = { frames: [g.frame], tsSec: g.tsSec, tsNsec: g.tsNsec };
    if (g.afterPayload !== undefined) {
      this.report(MSNP_FINDINGS.payloadLengthMismatch, g.frame, `${g.bytes} byte(s) after the payload of ${g.afterPayload} do not start a command: the declared payload length disagrees with the bytes present; resynchronised at the next command line`, side, carried);
    } else if (this.commands === 0 && !this.route.fromStart) {
      this.report(MSNP_FINDINGS.midstream, g.frame, `capture starts inside the stream: ${g.bytes} byte(s) skipped up to the first command line`, side, carried);
    } else {
      this.report(MSNP_FINDINGS.garbage, g.frame, `${g.bytes} byte(s) are not an MSNP command (${g.reason}); resynchronised at the next command line`, side, carried);
    }
  }

  /** A framed command: the framing checks, then the connection's handling. */
  private command(side: Side, cmd: RawCommand, bytes: Uint8Array, carried: Carried, missing: number, atEnd: boolean): void {
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
    this.onCommand(side, cmd, bytes, carried, missing, atEnd);
  }
}
