// Content detection of MSNP on a port that is not MSNP's: one line is weak evidence (an FTP
// `213 1379369` SIZE reply frames as an MSNP error with a TrID), so a conversation is taken for
// MSNP only after several complete lines of known commands in both directions, one of them a
// server reply echoing a client TrID. Until then its segments are held (bounded) so the session
// is dissected from its first line once the evidence is in.
import type { Direction } from '../../engine/context.js';
import { commandSpec, type Side } from './commands.js';
import { frameCommand } from './parse.js';
import { copyBytes } from '../../util/bytes.js';

/** Complete command lines needed, across both directions. */
export const EVIDENCE_LINES = 3;
/** Bytes held per direction while undecided; past it the conversation is not MSNP. */
export const EVIDENCE_BYTES = 8192;

/**
 * Ports of other protocols whose lines can frame as MSNP (a three-digit reply code then a
 * number): content detection yields to them. Port 80 is HTTP unless the content is the MSNP
 * HTTP gateway, which is checked before this.
 */
export const OTHER_PROTOCOL_PORTS: ReadonlySet<number> = new Set([
  20, 21, // FTP
  22, 23, // SSH, Telnet
  25, 465, 587, // SMTP
  53, // DNS
  79, // Finger
  80, 8080, // HTTP
  110, 995, // POP3
  119, // NNTP
  143, 993, // IMAP
  194, 6667, // IRC
  443, // HTTPS
  5222, 5223, // XMPP
]);

export type Verdict = 'msnp' | 'not-msnp' | 'undecided';

/** One direction's bytes under one assignment of sides: what its complete lines say. */
class SideLines {
  private bytes = new Uint8Array(0);
  private parsed = 0;
  lines = 0;
  readonly trids: string[] = [];
  readonly names: string[] = [];
  bad = false;

  constructor(readonly side: Side) {}

  add(chunk: Uint8Array): void {
    if (this.bad) return;
    const joined = new Uint8Array(this.bytes.length + chunk.length);
    joined.set(this.bytes);
    joined.set(chunk, this.bytes.length);
    this.bytes = joined;
    while (this.parsed < this.bytes.length && !this.bad) {
      const r = frameCommand(this.bytes.subarray(this.parsed), this.side, undefined, true);
      if (r.kind === 'need') break;
      if (r.kind === 'garbage') {
        this.bad = true;
        break;
      }
      const cmd = r.cmd;
      const isError = /^\d{3}$/.test(cmd.name);
      const first = cmd.params[0];
      const numbered = first !== undefined && /^\d+$/.test(first);
      if (cmd.bareLf || cmd.unknown || cmd.badLength !== undefined || /HTTP\/\d/.test(cmd.line)) this.bad = true;
      else if (isError && (this.side === 'c' || !numbered)) this.bad = true;
      else if (!isError && commandSpec(cmd.name) === undefined) this.bad = true;
      if (this.bad) break;
      this.lines++;
      this.names.push(cmd.name);
      this.trids.push(numbered ? first : '');
      this.parsed += cmd.total;
    }
  }
}

/** The evidence for one assignment of sides (direction 0 the client, or the server). */
class Assignment {
  readonly dirs: [SideLines, SideLines];

  constructor(readonly serverDir: Direction) {
    this.dirs = serverDir === 1 ? [new SideLines('c'), new SideLines('s')] : [new SideLines('s'), new SideLines('c')];
  }

  verdict(): Verdict {
    const client = this.dirs[this.serverDir === 1 ? 0 : 1];
    const server = this.dirs[this.serverDir];
    if (client.bad || server.bad) return 'not-msnp';
    if (client.lines + server.lines < EVIDENCE_LINES || client.lines === 0 || server.lines === 0) return 'undecided';
    const asked = new Map<string, string>();
    for (let i = 0; i < client.lines; i++) if (client.trids[i] !== '') asked.set(client.trids[i]!, client.names[i]!);
    for (let i = 0; i < server.lines; i++) {
      const trid = server.trids[i]!;
      const name = asked.get(trid);
      if (trid !== '' && name !== undefined && (name === server.names[i] || /^\d{3}$/.test(server.names[i]!))) return 'msnp';
    }
    return 'undecided';
  }
}

/** A segment seen before the verdict, kept to be dissected once the conversation is MSNP. */
export interface HeldSegment<T> {
  readonly dir: Direction;
  readonly bytes: Uint8Array;
  readonly tag: T;
}

/** The evidence gathered on one conversation. `T` identifies a held segment's frame. */
export class MsnpEvidence<T> {
  private readonly assignments = [new Assignment(1), new Assignment(0)];
  private readonly held: HeldSegment<T>[] = [];
  private heldBytes: [number, number] = [0, 0];
  /** The server's direction once the verdict is `msnp`. */
  serverDir: Direction | undefined;

  /** Adds one segment (copied); the verdict after it. */
  add(dir: Direction, bytes: Uint8Array, tag: T): Verdict {
    this.heldBytes[dir] += bytes.length;
    if (this.heldBytes[dir] > EVIDENCE_BYTES) return 'not-msnp';
    let undecided = false;
    for (const a of this.assignments) {
      a.dirs[dir].add(bytes);
      const v = a.verdict();
      if (v === 'msnp') {
        this.serverDir = a.serverDir;
        return 'msnp';
      }
      if (v === 'undecided') undecided = true;
    }
    if (!undecided) return 'not-msnp';
    this.held.push({ dir, bytes: copyBytes(bytes), tag });
    return 'undecided';
  }

  /** Segments before the one that decided, in the order seen. */
  segments(): readonly HeldSegment<T>[] {
    return this.held;
  }
}
