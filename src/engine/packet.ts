// A dissected frame: its layers (outermost first), the summary columns, and its findings.
import type { Frame } from '../capture/frame.js';
import type { FieldNode } from '../model/fields.js';
import type { Finding } from '../model/findings.js';

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
}

export interface Packet {
  readonly frame: Frame;
  readonly layers: Layer[];
  /** Network-layer addresses for the Source/Destination columns (link-layer ones when there is no IP). */
  src: string;
  dst: string;
  findings: Finding[];
}

export function addLayer(packet: Packet, layer: Layer): void {
  packet.layers.push(layer);
}

/** Protocol column: the topmost layer that is not quoted, as tshark shows it. */
export function protocolColumn(packet: Packet): string {
  for (let i = packet.layers.length - 1; i >= 0; i--) {
    const layer = packet.layers[i]!;
    if (layer.quoted === true) continue;
    return layer.column ?? layer.name.toUpperCase();
  }
  return 'Frame';
}

/**
 * Info column: the topmost layer's info; when several application PDUs share the frame,
 * their infos are joined in order.
 */
export function infoColumn(packet: Packet): string {
  const layers = packet.layers;
  let top = layers.length - 1;
  while (top >= 0 && (layers[top]!.info === undefined || layers[top]!.quoted === true)) top--;
  if (top < 0) return '';
  const name = layers[top]!.name;
  const parts: string[] = [];
  // Collect sibling PDUs of the same protocol after the last lower layer.
  for (let i = top; i >= 0; i--) {
    const layer = layers[i]!;
    if (layer.name !== name) break;
    if (layer.info !== undefined && layer.quoted !== true) parts.unshift(layer.info);
  }
  return parts.join(' ; ');
}
