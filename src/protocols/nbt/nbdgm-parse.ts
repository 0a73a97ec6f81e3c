// NetBIOS datagram service packets (RFC 1002 §4.4). Pure parsing.
import { decodeName, type NetbiosName } from './names.js';
import { ipv4String } from '../../net/addr.js';

export const FLAG_MORE = 0x01;
export const FLAG_FIRST = 0x02;

export interface NbdgmPacket {
  readonly type: number;
  readonly flags: number;
  readonly id: number;
  readonly srcIp: string;
  readonly srcPort: number;
  /** Direct/broadcast datagrams only. */
  readonly dgmLength?: number;
  readonly packetOffset?: number;
  readonly source?: NetbiosName;
  readonly sourceOffset?: number;
  readonly destination?: NetbiosName;
  readonly destinationOffset?: number;
  readonly userDataOffset?: number;
  readonly errorCode?: number;
  readonly problems: string[];
}

export function parseNbdgm(b: Uint8Array): NbdgmPacket | string {
  if (b.length < 10) return `NBDGM header truncated: ${b.length} of 10 bytes`;
  const type = b[0]!;
  const flags = b[1]!;
  const id = (b[2]! << 8) | b[3]!;
  const srcIp = ipv4String(b, 4);
  const srcPort = (b[8]! << 8) | b[9]!;
  // Each kind's object written out whole (no spread of a common part: one shape, no copy).
  switch (type) {
    case 0x10:
    case 0x11:
    case 0x12: {
      if (b.length < 14) return 'NBDGM datagram header truncated';
      const dgmLength = (b[10]! << 8) | b[11]!;
      const packetOffset = (b[12]! << 8) | b[13]!;
      const source = decodeName(b, 14, false);
      if (typeof source === 'string') return `source name: ${source}`;
      const destination = decodeName(b, source.end, false);
      if (typeof destination === 'string') return `destination name: ${destination}`;
      const problems: string[] = [];
      if (14 + dgmLength !== b.length) problems.push(`DGM_LENGTH ${dgmLength} but ${b.length - 14} bytes follow the header`);
      return { type, flags, id, srcIp, srcPort, problems, dgmLength, packetOffset, source, sourceOffset: 14, destination, destinationOffset: source.end, userDataOffset: destination.end };
    }
    case 0x13:
      if (b.length < 11) return 'NBDGM error code missing';
      return { type, flags, id, srcIp, srcPort, problems: [], errorCode: b[10]! };
    case 0x14:
    case 0x15:
    case 0x16: {
      const destination = decodeName(b, 10, false);
      if (typeof destination === 'string') return `destination name: ${destination}`;
      return { type, flags, id, srcIp, srcPort, problems: [], destination, destinationOffset: 10 };
    }
    default:
      return `unknown NBDGM message type 0x${type.toString(16).padStart(2, '0')}`;
  }
}
