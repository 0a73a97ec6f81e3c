// SMB2/3 as an NBSS dialect (0xFE 'SMB', and the 0xFD/0xFC transform headers of SMB3).
import { makePipeConsumers, registerSessionPayload } from '../../engine/seams.js';
import { Smb2Session } from './session.js';

registerSessionPayload(() => {
  const consumers = makePipeConsumers();
  return {
    name: 'smb2',
    match: (b) => b.length >= 4 && (b[0] === 0xfe || b[0] === 0xfd || b[0] === 0xfc) && b[1] === 0x53 && b[2] === 0x4d && b[3] === 0x42,
    create: (route, ctx) => new Smb2Session(route, ctx, consumers),
  };
});
