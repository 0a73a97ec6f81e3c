// Timeline events: what dissectors emit and analyses (timeline, audit, verify, stats) consume.
// The JSON schema of each kind is documented in docs/schema.md.
import type { Finding } from './findings.js';

/** `msnp` | `smb` | `mailslot` | `msrp` for messenger events; the layer name (`nbss`, `nbns`, `tcp`, …) otherwise. */
export type Protocol = string;

export type MessageStatus = 'ok' | 'error' | 'no-response' | 'unknown';

interface EventBase {
  /** Capture time of the first frame, as seconds and nanoseconds since the epoch. */
  readonly tsSec: number;
  readonly tsNsec: number;
  /** Frame numbers that carried the event, first one first. */
  readonly frames: number[];
  readonly protocol: Protocol;
  /** The path it travelled, e.g. `tcp/nbss/smb`. */
  readonly transport: string;
  readonly src: string;
  readonly dst: string;
  /**
   * Conversation id, Zeek-like (`C` + 16 base-62 digits): the same for every event of a flow in
   * one capture, and in every run over it. Set by the runner (src/runner/flow-ids.ts).
   */
  readonly uid?: string;
  /** Community ID v1 of the flow (`1:…`), when it is TCP or UDP between IP endpoints. Set by the runner. */
  readonly communityId?: string;
  readonly findings: Finding[];
}

export interface MessageEvent extends EventBase {
  readonly kind: 'message';
  readonly from: string;
  readonly to: string[];
  readonly text: string;
  status: MessageStatus;
  /** The error's name when status is `error` (e.g. `NERR_NameNotFound`, `ERRSRV/ERRmsgoff`). */
  error?: string;
  /** Protocol-specific extras (e.g. SMB group id, MSNP session id); documented per protocol. */
  readonly details?: Record<string, unknown>;
}

export interface SessionEvent extends EventBase {
  readonly kind: 'session';
  /** What happened: `open`, `accepted`, `refused`, `login`, `logout`, `join`, `leave`, `close`. */
  readonly action: string;
  readonly details?: Record<string, unknown>;
}

export interface PresenceEvent extends EventBase {
  readonly kind: 'presence';
  readonly user: string;
  readonly status: string;
  readonly details?: Record<string, unknown>;
}

export interface NameEvent extends EventBase {
  readonly kind: 'name';
  /** `register`, `query`, `release`, `refresh` (NBNS) or the msgsvc method name. */
  readonly operation: string;
  readonly name: string;
  readonly level?: number;
  readonly names?: string[];
  readonly result?: { readonly code: number; readonly name: string };
  readonly details?: Record<string, unknown>;
}

export interface CallEvent extends EventBase {
  readonly kind: 'call';
  readonly interface: string;
  readonly operation: string;
  readonly result?: { readonly code: number; readonly name: string };
  readonly details?: Record<string, unknown>;
}

export interface NoticeEvent extends EventBase {
  /** Light events: typing notifications, nudges, invitations, e-mail notices. */
  readonly kind: 'notice';
  readonly notice: string;
  readonly from?: string;
  readonly to?: string[];
  readonly details?: Record<string, unknown>;
}

export interface FindingEvent extends EventBase {
  /** A finding that belongs to no other event. `findings` holds exactly that finding. */
  readonly kind: 'finding';
}

export type TimelineEvent =
  | MessageEvent
  | SessionEvent
  | PresenceEvent
  | NameEvent
  | CallEvent
  | NoticeEvent
  | FindingEvent;
