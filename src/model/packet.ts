// A dissected frame: its layers (outermost first), its addresses and its findings. The
// summary columns are derived from the layers in src/output/columns.ts.
import type { Frame } from '../capture/frame.js';
import type { FieldDef, FieldNode, FieldValue } from './fields.js';
import type { Finding } from './findings.js';

export interface Layer {
  /** Lower-case protocol name, tshark's where one exists (`eth`, `ip`, `tcp`, `smb`). */
  readonly name: string;
  /** The bytes that `offset`/`length` and the tree's offsets refer to: the frame's, or a reassembled buffer. */
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;
  /** Builds the detail tree on demand: only the detail view, JSON and filters need it. */
  readonly tree: () => FieldNode[];
  /** This layer's part of the Info column. */
  readonly info?: string;
  /** Protocol column text when this is the topmost layer (default: the name upper-cased). */
  readonly column?: string;
  /** True for a layer decoded from bytes quoted inside an ICMP error. */
  readonly quoted?: boolean;
  /** ip, ipv6: the addresses as the `src`/`dst` fields hold them (conversation tables read them without a tree). */
  readonly srcAddress?: string;
  readonly dstAddress?: string;
  /** ip: the same addresses as numbers (unsigned 32-bit), for tables keyed without text. */
  readonly srcAddress4?: number;
  readonly dstAddress4?: number;
  /** tcp, udp: the ports, likewise. */
  readonly srcPort?: number;
  readonly dstPort?: number;
  /**
   * A field's value without building the tree: the value of the first node of `def` in
   * `tree()` (depth first, in order), undefined when the tree has none, or NEEDS_TREE for a
   * field this layer does not give this way. For the few fields read from every PDU (the
   * command table of `stats`: commands, request/response links, call keys); the layers of the
   * protocols with a command field give those. test/field-value.test.ts holds every answer
   * other than NEEDS_TREE to the tree, over every capture.
   */
  fieldValue?(def: FieldDef): PeekedValue;
}

/** `Layer.fieldValue`'s answer for a field it does not give without the tree. */
export const NEEDS_TREE: unique symbol = Symbol('needs tree');
export type PeekedValue = FieldValue | undefined | typeof NEEDS_TREE;

export interface Packet {
  readonly frame: Frame;
  readonly layers: Layer[];
  /** Network-layer addresses for the Source/Destination columns (link-layer ones when there is no IP). */
  src: string;
  dst: string;
  findings: Finding[];
}

/**
 * The packet the engine makes for each frame. The link layer's addresses (Ethernet, SLL) are
 * only noted here: nearly every frame has an IP layer that replaces them, so their text is made
 * (src/net/link.ts, `settleLinkAddresses`) only for frames where none did.
 */
export class FramePacket implements Packet {
  readonly layers: Layer[] = [];
  src = '';
  dst = '';
  findings: Finding[] = [];
  /** The bytes holding the link-layer addresses not yet made text, and their offsets (-1: none). */
  linkBytes: Uint8Array | undefined = undefined;
  linkSrcAt = -1;
  linkDstAt = -1;

  constructor(readonly frame: Frame) {}
}
