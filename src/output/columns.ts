// The Protocol and Info columns of a frame's summary line, derived from its layers as tshark
// derives them.
import type { Packet } from '../model/packet.js';

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
    // Most frames carry one PDU: its text is the column, without a list to join.
    let first: string | undefined;
    let parts: string[] | undefined;
    const groupStart = layers[transport + 1]!.name;
    let pending: string | undefined;
    for (let i = transport + 1; i < layers.length; i++) {
      const layer = layers[i]!;
      if (layer.name === groupStart && i > transport + 1 && pending !== undefined) {
        if (first === undefined) first = pending;
        else (parts ??= [first]).push(pending);
        pending = undefined;
      }
      if (layer.info !== undefined && layer.quoted !== true) pending = layer.info;
    }
    if (pending !== undefined) {
      if (first === undefined) first = pending;
      else (parts ??= [first]).push(pending);
    }
    if (parts !== undefined) return parts.join(' ; ');
    if (first !== undefined) return first;
  }
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    if (layer.info !== undefined && layer.quoted !== true) return layer.info;
  }
  return '';
}
