// The analysis contract: what the runner hands an analysis, and when. An analysis never sees
// bytes: it consumes dissected packets (with lazily built field trees) and typed events, and
// produces records as it goes (a listing) or a report at the end (stats, audit, verify).
import type { Packet } from '../model/packet.js';
import type { TimelineEvent } from '../model/events.js';

/** The capture being read. */
export interface FileInfo {
  /** The path as given (`/dev/stdin` for `-`), or the interface name for live capture. */
  readonly path: string;
  /** How to name it to a person: the path, `standard input`, or `interface eth0`. */
  readonly label: string;
  /** 0-based position among the captures of this run. */
  readonly index: number;
  /** Whether the run reads several captures (records then say which one they came from). */
  readonly multi: boolean;
  /** Bytes of the capture when it is a regular file; undefined for standard input, a pipe or an interface. */
  readonly size: number | undefined;
  /** Time of the capture's first frame, shown or not (relative times count from it, as in tshark). */
  readonly start: Timestamp | undefined;
}

export interface Timestamp {
  readonly tsSec: number;
  readonly tsNsec: number;
}

export interface Analysis {
  /** Before the first capture. */
  start?(): void;
  /** Called before the first frame of each capture. */
  beginFile?(file: FileInfo): void;
  /**
   * A dissected frame that passed the frame filter (`-Y` of `read`, `stats`, `live`), in frame
   * order. The packet and its byte views are valid during the call only.
   */
  packet?(packet: Packet, file: FileInfo): void;
  /**
   * A complete timeline event that passed the event filter, in frame order (through the
   * runner's reorder window; a late event carries a note saying so, TIMELINE_FINDINGS.late).
   */
  event?(event: TimelineEvent, file: FileInfo): void;
  /**
   * False when `event` never reads an event's `uid` or `communityId`: if no other analysis of
   * the run and no event filter does either, the runner does not work them out (two SHA-1s for
   * most events of spam). Undefined counts as true.
   */
  readonly flowIds?: boolean;
  /** After the last frame and event of a capture. */
  endFile?(file: FileInfo): void;
  /** End of all input: print or store the report. */
  finish?(): void | Promise<void>;
}
