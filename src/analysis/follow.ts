// `-z follow,tcp|udp|msnp,ascii|hex,N` (stats): one conversation's bytes, as tshark's
// "Follow TCP/UDP stream" collects them, or one MSNP connection's commands.
//
// TCP follows tshark 4.0's follow tap (epan/dissectors/packet-tcp.c, follow_tcp_tap_listener and
// check_follow_fragments): node 0 is the source of the stream's first segment; each segment's
// new bytes are one chunk, in sequence order per direction; a retransmission adds only the bytes
// not seen yet; a segment beyond a gap waits until the gap is filled, or until the other side
// acknowledges past it (the bytes were sent but not captured), when a
// "[N bytes missing in capture file]" chunk stands for them. Segments still waiting at the end
// are not shown, as in tshark. UDP: every datagram of the stream is one chunk. MSNP: every MSNP
// command of the TCP stream, its bytes as the dissector framed them (line and payload).
//
// An analysis usually never sees bytes; this one copies the payloads of one stream only, up to
// FOLLOW_LIMIT bytes (then it stops collecting and says so).
import type { Layer, Packet } from '../model/packet.js';
import type { FieldNode } from '../model/fields.js';
import type { Analysis, FileInfo } from '../runner/analysis.js';
import { copyBytes } from '../util/bytes.js';

export type FollowProtocol = 'tcp' | 'udp' | 'msnp';
export type FollowMode = 'ascii' | 'hex';

export interface FollowRequest {
  readonly protocol: FollowProtocol;
  readonly mode: FollowMode;
  /** tcp.stream (tcp, msnp) or udp.stream index. */
  readonly stream: number;
}

export interface FollowChunk {
  /** 0: the stream's first sender; 1: the other side. */
  readonly node: 0 | 1;
  readonly frame: number;
  readonly bytes: Uint8Array;
}

export interface FollowResult {
  readonly request: FollowRequest;
  /** `ip:port` (`[v6]:port`) of node 0 and node 1; undefined when the stream was not seen. */
  nodes: [string, string] | undefined;
  readonly chunks: FollowChunk[];
  /** True when collecting stopped at FOLLOW_LIMIT bytes. */
  truncated: boolean;
}

/** Bytes kept per followed stream (chunks and waiting segments together). */
export const FOLLOW_LIMIT = 64 * 1024 * 1024;
/** Out-of-order segments kept waiting per direction; later ones are dropped like uncaptured ones. */
const MAX_WAITING = 4096;

interface Waiting {
  seq: number;
  frame: number;
  bytes: Uint8Array;
}

/** Sequence-space comparisons modulo 2^32 (RFC 9293 §3.4). */
const lt = (a: number, b: number): boolean => ((a - b) | 0) < 0;
const gt = (a: number, b: number): boolean => ((a - b) | 0) > 0;

function field(nodes: readonly FieldNode[], name: string): FieldNode['value'] | undefined {
  for (const n of nodes) if (n.def.name === name) return n.value;
  return undefined;
}

/** Collects one stream; `packet` is fed every frame of the capture. */
class Follower {
  readonly result: FollowResult;
  private node0: string | undefined;
  private readonly next: [number, number] = [0, 0];
  private readonly started: [boolean, boolean] = [false, false];
  private readonly waiting: [Waiting[], Waiting[]] = [[], []];
  /** Bytes held in chunks and waiting segments (a moved waiting segment stays counted). */
  private kept = 0;

  constructor(readonly request: FollowRequest) {
    this.result = { request, nodes: undefined, chunks: [], truncated: false };
  }

  packet(packet: Packet): void {
    const want = this.request.protocol === 'udp' ? 'udp' : 'tcp';
    const layers = packet.layers;
    for (let i = 0; i < layers.length; i++) {
      const layer = layers[i]!;
      if (layer.name !== want || layer.quoted === true) continue;
      const tree = layer.tree();
      if (field(tree, `${want}.stream`) !== this.request.stream) return;
      const sp = field(tree, `${want}.srcport`);
      const dp = field(tree, `${want}.dstport`);
      const src = endpoint(packet.src, Number(sp));
      if (this.result.nodes === undefined) {
        this.node0 = src;
        this.result.nodes = [src, endpoint(packet.dst, Number(dp))];
      }
      const node: 0 | 1 = src === this.node0 ? 0 : 1;
      if (this.request.protocol === 'udp') this.add(node, packet.frame.number, layer.bytes.subarray(layer.offset + 8, layer.offset + Math.min(layer.bytes.length - layer.offset, Math.max(8, Number(field(tree, 'udp.length'))))));
      else if (this.request.protocol === 'tcp') this.segment(node, packet.frame.number, layer, tree);
      else this.msnp(node, packet.frame.number, layers.slice(i + 1));
      return;
    }
  }

  private msnp(node: 0 | 1, frame: number, above: readonly Layer[]): void {
    for (const layer of above) {
      if (layer.name !== 'msnp' || layer.quoted === true) continue;
      // A segment that completes no command carries a continuation layer: not a command.
      if (layer.tree()[0]?.def.name === 'msnp.continuation') continue;
      this.add(node, frame, layer.bytes.subarray(layer.offset, layer.offset + layer.length));
    }
  }

  private segment(node: 0 | 1, frame: number, layer: Layer, tree: readonly FieldNode[]): void {
    const flags = Number(field(tree, 'tcp.flags'));
    const headerLength = Number(field(tree, 'tcp.hdr_len'));
    const segLength = Number(field(tree, 'tcp.len'));
    const start = layer.offset + headerLength;
    const data = layer.bytes.subarray(start, Math.min(layer.bytes.length, start + segLength));
    let seq = Number(field(tree, 'tcp.seq_raw'));
    if ((flags & 0x02) !== 0) seq = (seq + 1) >>> 0;
    const other: 0 | 1 = node === 0 ? 1 : 0;
    // This frame may acknowledge bytes of the other direction that the capture lacks.
    if ((flags & 0x10) !== 0 && this.waiting[other].length > 0) {
      const ack = Number(field(tree, 'tcp.ack_raw'));
      while (this.flushWaiting(other, ack, frame, true));
    }
    if (!this.started[node]) {
      this.started[node] = true;
      this.next[node] = seq;
    }
    let offset = 0;
    let length = segLength;
    const expected = this.next[node];
    if (lt(seq, expected)) {
      const end = (seq + segLength) >>> 0;
      if (!gt(end, expected)) return; // nothing new: a retransmission or a pure ACK
      offset = (expected - seq) >>> 0;
      length = (end - expected) >>> 0;
      seq = expected;
    }
    const bytes = data.subarray(offset);
    if (bytes.length === 0) return;
    if (seq === expected) {
      this.next[node] = (expected + length) >>> 0;
      this.add(node, frame, bytes);
      while (this.flushWaiting(node, 0, frame, false));
    } else if (this.waiting[node].length < MAX_WAITING && this.reserve(bytes.length)) {
      this.waiting[node].push({ seq, frame, bytes: copyBytes(bytes) });
    }
  }

  /** tshark's check_follow_fragments: moves one waiting segment (or a missing-bytes marker) into the chunks. */
  private flushWaiting(node: 0 | 1, acknowledged: number, frame: number, useAck: boolean): boolean {
    const list = this.waiting[node];
    if (list.length === 0) return false;
    let lowest = list[0]!.seq;
    for (let i = 0; i < list.length; i++) {
      const w = list[i]!;
      if (gt(lowest, w.seq)) lowest = w.seq;
      const expected = this.next[node];
      if (lt(w.seq, expected)) {
        const end = (w.seq + w.bytes.length) >>> 0;
        if (gt(end, expected)) {
          this.add(node, w.frame, w.bytes.subarray((expected - w.seq) >>> 0), false);
          this.next[node] = end;
        } else {
          this.kept -= w.bytes.length;
        }
        list.splice(i, 1);
        return true;
      }
      if (w.seq === expected) {
        this.add(node, w.frame, w.bytes, false);
        this.next[node] = (expected + w.bytes.length) >>> 0;
        list.splice(i, 1);
        return true;
      }
    }
    if (useAck && gt(acknowledged, lowest)) {
      // As tshark: the marker text with its terminating NUL byte.
      const text = `[${(lowest - this.next[node]) | 0} bytes missing in capture file]\0`;
      this.add(node, frame, new TextEncoder().encode(text));
      this.next[node] = lowest;
      return true;
    }
    return false;
  }

  private reserve(n: number): boolean {
    if (this.kept + n > FOLLOW_LIMIT) {
      this.result.truncated = true;
      return false;
    }
    this.kept += n;
    return true;
  }

  private add(node: 0 | 1, frame: number, bytes: Uint8Array, copy = true): void {
    if (bytes.length === 0) return;
    if (copy && !this.reserve(bytes.length)) return;
    this.result.chunks.push({ node, frame, bytes: copy ? copyBytes(bytes) : bytes });
  }
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Follows the requested streams of every capture; the results are handed over at the end of each file. */
export class FollowAnalysis implements Analysis {
  private followers: Follower[] = [];

  constructor(private readonly requests: readonly FollowRequest[], private readonly done: (results: FollowResult[], file: FileInfo) => void | Promise<void>) {}

  beginFile(): void {
    this.followers = this.requests.map((r) => new Follower(r));
  }

  packet(packet: Packet): void {
    for (const f of this.followers) f.packet(packet);
  }

  endFile(file: FileInfo): void {
    void this.done(this.followers.map((f) => f.result), file);
  }
}
