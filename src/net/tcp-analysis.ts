// TCP sequence analysis as tshark does it (Wireshark's tcp_analyze_sequence_number and the
// User's Guide, "TCP Analysis"): per direction, the highest sequence number sent so far, the
// last acknowledgement and window, and duplicate-ACK counts; from them each segment is
// classified — retransmission, fast retransmission, spurious retransmission, out-of-order,
// keep-alive, duplicate ACK… — and each direction's window scale is learned from the SYNs.
// Pure state over header values: no bytes kept, a few numbers per direction.

export const TA_RETRANSMISSION = 0x1;
export const TA_LOST_PACKET = 0x2;
export const TA_ACK_LOST_PACKET = 0x4;
export const TA_KEEP_ALIVE = 0x8;
export const TA_DUPLICATE_ACK = 0x10;
export const TA_ZERO_WINDOW = 0x20;
export const TA_ZERO_WINDOW_PROBE = 0x40;
export const TA_ZERO_WINDOW_PROBE_ACK = 0x80;
export const TA_KEEP_ALIVE_ACK = 0x100;
export const TA_OUT_OF_ORDER = 0x200;
export const TA_FAST_RETRANSMISSION = 0x400;
export const TA_WINDOW_UPDATE = 0x800;
export const TA_SPURIOUS_RETRANSMISSION = 0x2000;

/** Every flag tshark reports as `tcp.analysis.retransmission` (fast and spurious ones too). */
export const TA_ANY_RETRANSMISSION = TA_RETRANSMISSION | TA_FAST_RETRANSMISSION | TA_SPURIOUS_RETRANSMISSION;

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const SFR = SYN | FIN | RST;

/** Window scale not known (no SYN seen with the option). */
export const WSCALE_UNKNOWN = -1;
/** Window scaling not in use (a SYN without the option). */
export const WSCALE_NONE = -2;

/** One direction's analysis state; sequence numbers are raw (32-bit, wrapping). */
export class TcpAnalysisSide {
  /** Sequence number after the highest byte sent (0: none yet, as tshark). */
  nextseq = 0;
  nextseqSec = 0;
  nextseqNsec = 0;
  /** Highest in-order sequence number, for ACKed-unseen detection (0: none yet). */
  maxseqtobeacked = 0;
  /** The last acknowledgement number this direction sent, and when. */
  lastack = 0;
  lastackSec = 0;
  lastackNsec = 0;
  /** The last raw window this direction advertised. */
  window = 0;
  /** Duplicate ACKs in a row (-1: an ACKed-unseen segment was reported). */
  dupacks = 0;
  /** Analysis flags of this direction's previous segment. */
  lastFlags = 0;
  /** Shift count from this direction's SYN, or WSCALE_UNKNOWN / WSCALE_NONE. */
  winScale = WSCALE_UNKNOWN;
}

/** The conversation's analysis: both directions and the handshake round trip. */
export class TcpAnalysis {
  sides: [TcpAnalysisSide, TcpAnalysisSide] = [new TcpAnalysisSide(), new TcpAnalysisSide()];
  /** When the last pure SYN was sent (seconds, nanoseconds; -1: none). */
  private synSec = -1;
  private synNsec = 0;
  /** Handshake round trip in nanoseconds (0: not measured): the out-of-order threshold. */
  private firstRttNs = 0;

  /**
   * Classifies one segment of direction `dir` and updates the state. `window` is the raw
   * header value, `seglen` the payload length. Returns TA_* flags.
   */
  analyze(dir: 0 | 1, seq: number, ack: number, seglen: number, flags: number, window: number, sec: number, nsec: number): number {
    const fwd = this.sides[dir];
    const rev = this.sides[dir === 0 ? 1 : 0];
    let ta = 0;
    checks: {
      if (seglen === 1 && seq === fwd.nextseq && rev.window === 0) {
        ta |= TA_ZERO_WINDOW_PROBE;
        break checks;
      }
      if (window === 0 && (flags & SFR) === 0) ta |= TA_ZERO_WINDOW;
      if (fwd.nextseq !== 0 && gt(seq, fwd.nextseq) && (flags & RST) === 0) ta |= TA_LOST_PACKET;
      const sameAsLast = seglen === 0 && seq === fwd.nextseq && ack === fwd.lastack && (flags & SFR) === 0;
      if ((seglen === 0 || seglen === 1) && seq === ((fwd.nextseq - 1) >>> 0) && (flags & SFR) === 0) ta |= TA_KEEP_ALIVE;
      if (sameAsLast && window !== 0 && window !== fwd.window) ta |= TA_WINDOW_UPDATE;
      if (sameAsLast && window !== 0 && window === fwd.window && (rev.lastFlags & TA_KEEP_ALIVE) !== 0) {
        ta |= TA_KEEP_ALIVE_ACK;
        break checks;
      }
      if (sameAsLast && window === 0 && window === fwd.window && (rev.lastFlags & TA_ZERO_WINDOW_PROBE) !== 0) {
        ta |= TA_ZERO_WINDOW_PROBE_ACK;
        break checks;
      }
      if (sameAsLast && window !== 0 && window === fwd.window) {
        fwd.dupacks = fwd.dupacks === -1 ? 1 : fwd.dupacks + 1;
        ta |= TA_DUPLICATE_ACK;
      }
    }
    if (ack !== fwd.lastack) fwd.dupacks = 0;
    if (rev.maxseqtobeacked !== 0 && gt(ack, rev.maxseqtobeacked) && (flags & ACK) !== 0) {
      // Compared as plain unsigned numbers, as tshark does.
      if (rev.maxseqtobeacked > rev.nextseq) {
        rev.maxseqtobeacked = rev.nextseq;
        ta |= TA_ACK_LOST_PACKET;
      } else {
        if (rev.dupacks === 0) ta |= TA_ACK_LOST_PACKET;
        rev.dupacks = -1;
      }
    }
    if ((seglen > 0 || (flags & (SYN | FIN)) !== 0) && (ta & TA_KEEP_ALIVE) === 0) ta |= this.retransmission(fwd, rev, seq, seglen, flags, sec, nsec);

    let nextseq = (seq + seglen) >>> 0;
    if ((seglen > 0 || (flags & (SYN | FIN)) !== 0) && (flags & (SYN | FIN)) !== 0) nextseq = (nextseq + 1) >>> 0;
    if ((gt(nextseq, fwd.nextseq) || fwd.nextseq === 0) && (ta & TA_ZERO_WINDOW_PROBE) === 0) {
      fwd.nextseq = nextseq;
      fwd.nextseqSec = sec;
      fwd.nextseqNsec = nsec;
    }
    if ((seq === fwd.maxseqtobeacked || fwd.maxseqtobeacked === 0) && (ta & TA_ZERO_WINDOW_PROBE) === 0) fwd.maxseqtobeacked = fwd.nextseq;
    fwd.window = window;
    fwd.lastack = ack;
    fwd.lastackSec = sec;
    fwd.lastackNsec = nsec;
    fwd.lastFlags = ta;

    // The handshake's round trip: from the last pure SYN to the first pure ACK after it.
    if ((flags & (SYN | ACK)) === SYN) {
      this.synSec = sec;
      this.synNsec = nsec;
    } else if ((flags & (SYN | ACK)) === ACK && this.synSec >= 0 && this.firstRttNs === 0) {
      this.firstRttNs = nanos(sec, nsec, this.synSec, this.synNsec);
    }
    return ta;
  }

  /** The retransmission family: which kind of repeat (or reordering) a data, SYN or FIN segment is. */
  private retransmission(fwd: TcpAnalysisSide, rev: TcpAnalysisSide, seq: number, seglen: number, flags: number, sec: number, nsec: number): number {
    let notAdvanced = fwd.nextseq !== 0 && lt(seq, fwd.nextseq);
    // One byte before the next expected one, with more than one byte: new data after a window probe.
    if (seglen > 1 && ((fwd.nextseq - 1) >>> 0) === seq) notAdvanced = false;
    // Data the peer already acknowledged is spurious, whatever else it looks like (checked first, as tshark).
    if (seglen > 0 && rev.lastack !== 0 && le((seq + seglen) >>> 0, rev.lastack)) return TA_SPURIOUS_RETRANSMISSION;
    if (notAdvanced && rev.dupacks >= 2 && rev.lastack === seq && nanos(sec, nsec, rev.lastackSec, rev.lastackNsec) < 20_000_000) return TA_FAST_RETRANSMISSION;
    const threshold = this.firstRttNs === 0 ? 3_000_000 : this.firstRttNs;
    const ends = (seq + seglen + ((flags & (SYN | FIN)) !== 0 ? 1 : 0)) >>> 0;
    if (notAdvanced && nanos(sec, nsec, fwd.nextseqSec, fwd.nextseqNsec) < threshold && fwd.nextseq !== ends) return TA_OUT_OF_ORDER;
    return notAdvanced ? TA_RETRANSMISSION : 0;
  }

  /** The same analysis seen from the other side (a conversation re-made with its roles swapped). */
  mirrored(): TcpAnalysis {
    const m = new TcpAnalysis();
    m.sides = [this.sides[1], this.sides[0]];
    m.synSec = this.synSec;
    m.synNsec = this.synNsec;
    m.firstRttNs = this.firstRttNs;
    return m;
  }

  /** A SYN's window scale option (undefined: none), as tshark learns each direction's shift. */
  synOptions(dir: 0 | 1, isSynAck: boolean, shift: number | undefined): void {
    const fwd = this.sides[dir];
    const rev = this.sides[dir === 0 ? 1 : 0];
    if (shift !== undefined) fwd.winScale = Math.min(shift, 14);
    if (fwd.winScale === WSCALE_UNKNOWN) {
      // This SYN has no option, or it is the SYN/ACK and lacks it: no scaling either way.
      fwd.winScale = WSCALE_NONE;
      rev.winScale = WSCALE_NONE;
    } else if (isSynAck && rev.winScale === WSCALE_NONE) {
      fwd.winScale = WSCALE_NONE;
    }
  }

  /** The window a segment of `dir` advertises, scaled as tshark scales it (SYNs never are). */
  scaledWindow(dir: 0 | 1, window: number, flags: number): number {
    const shift = this.sides[dir].winScale;
    return (flags & SYN) === 0 && shift >= 0 ? window * 2 ** shift : window;
  }
}

/** Nanoseconds from (s0, n0) to (s1, n1). */
function nanos(s1: number, n1: number, s0: number, n0: number): number {
  return (s1 - s0) * 1e9 + (n1 - n0);
}

/** 32-bit sequence comparisons (RFC 1982 serial arithmetic, as tshark's GT_SEQ/LT_SEQ/LE_SEQ). */
function gt(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

function lt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

function le(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
