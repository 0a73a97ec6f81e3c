// Registers SMB1 (0xFF 'SMB') as a NetBIOS session dialect. Each engine gets its own
// factory, and with it its own set of named-pipe consumers.
import { makePipeConsumers, registerSessionPayload } from '../../engine/seams.js';
import { isSmb1 } from './parse.js';
import { Smb1Session } from './session.js';

registerSessionPayload(() => {
  const consumers = makePipeConsumers();
  return {
    name: 'smb',
    match: (bytes) => isSmb1(bytes),
    create: (route, ctx) => new Smb1Session(route, ctx, consumers),
  };
});
