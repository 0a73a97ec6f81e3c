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
 * Info column. Above the transport, a segment may carry several application PDUs (layers
 * nbss, smb, nbss, smb): each PDU contributes the info of its topmost layer, joined in order.
 * Otherwise it is the topmost layer's info; quoted layers (inside ICMP errors) never count.
 */
export function infoColumn(packet: Packet): string {
  const layers = packet.layers;
  let transport = -1;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (layer.quoted !== true && (layer.name === 'tcp' || layer.name === 'udp')) {
      transport = i;
      break;
    }
  }
  if (transport >= 0 && transport < layers.length - 1) {
    const parts: string[] = [];
    const groupStart = layers[transport + 1]!.name;
    let pending: string | undefined;
    for (let i = transport + 1; i < layers.length; i++) {
      const layer = layers[i]!;
      if (layer.name === groupStart && i > transport + 1 && pending !== undefined) {
        parts.push(pending);
        pending = undefined;
      }
      if (layer.info !== undefined && layer.quoted !== true) pending = layer.info;
    }
    if (pending !== undefined) parts.push(pending);
    if (parts.length > 0) return parts.join(' ; ');
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (layer.info !== undefined && layer.quoted !== true) return layer.info;
  }
  return '';
}
