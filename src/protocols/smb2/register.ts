// SMB2/3 as a NetBIOS session dialect (0xFE 'SMB', and the 0xFD/0xFC transform headers of
// SMB3), with the engine's named-pipe consumers.
import type { PipeSeam } from '../../engine/protocols.js';
import type { SessionPayloadFactory } from '../../engine/seams.js';
import { Smb2Session } from './session.js';

export function smb2Sessions(seams: PipeSeam): SessionPayloadFactory {
  return {
    name: 'smb2',
    match: (b) => b.length >= 4 && (b[0] === 0xfe || b[0] === 0xfd || b[0] === 0xfc) && b[1] === 0x53 && b[2] === 0x4d && b[3] === 0x42,
    create: (route, ctx) => new Smb2Session(route, ctx, seams.pipeConsumers),
  };
}
