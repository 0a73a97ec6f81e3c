// A captured frame as the capture readers hand it on.

export interface Frame {
  /** 1-based, in file order, as tshark numbers frames. */
  readonly number: number;
  readonly tsSec: number;
  /** Nanoseconds within the second, 0..999999999. */
  readonly tsNsec: number;
  /** Bytes present in the capture (may be less than `len` when the snap length cut it). */
  readonly caplen: number;
  /** Length on the wire. */
  readonly len: number;
  /** LINKTYPE_* value (tcpdump.org link-layer header types). */
  readonly linkType: number;
  /** A view into the reader's buffer: valid during the callback only; copy what you keep. */
  readonly data: Uint8Array;
  readonly interfaceId: number;
  readonly comments?: readonly string[];
}

export interface CaptureSink {
  frame(frame: Frame): void;
  /** A problem with the file itself (truncation, bad block); processing goes on where it can. */
  warning(message: string): void;
  /**
   * After each chunk of the file: a promise when the sink wants the reader to wait before the
   * next one (its consumers are behind), undefined to go on.
   */
  ready?(): Promise<void> | undefined;
  /**
   * A frame of the capture that this reader is not given (a lane of a capture split by flow):
   * its number and capture time (seconds) move time and the periodic sweeps on (Engine.tick).
   */
  tick?(number: number, tsSec: number): void;
}

/** A push parser for one capture-file format: fed chunks in order, calls the sink per frame. */
export interface CaptureParser {
  readonly format: string;
  push(chunk: Uint8Array): void;
  /** No more input: reports a record cut short by the end of the file. */
  end(): void;
}

export class CaptureFormatError extends Error {}

export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  TOKEN_RING: 6,
  PPP: 9,
  FDDI: 10,
  RAW: 101,
  PPP_HDLC: 50,
  PPP_ETHER: 51,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11: 105,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** Largest record we accept: larger ones mean a corrupt file, and reading them would be unbounded. */
export const MAX_RECORD = 16 * 1024 * 1024;
