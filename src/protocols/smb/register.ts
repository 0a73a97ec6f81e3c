// SMB1's makers for the engine: a NetBIOS session dialect (0xFF 'SMB'), with the engine's
// named-pipe consumers, and the protocol inside NetBIOS datagrams (mailslot writes).
import type { PipeSeam } from '../../engine/protocols.js';
import type { DatagramPayloadFactory, SessionPayloadFactory } from '../../engine/seams.js';
import { dissectSmbDatagram } from './datagram.js';
import { isSmb1 } from './parse.js';
import { Smb1Session } from './session.js';

export function smbSessions(seams: PipeSeam): SessionPayloadFactory {
  return {
    name: 'smb',
    match: (bytes) => isSmb1(bytes),
    create: (route, ctx) => new Smb1Session(route, ctx, seams.pipeConsumers),
  };
}

export function smbDatagrams(): DatagramPayloadFactory {
  return { name: 'smb', match: (bytes) => isSmb1(bytes), dissect: (ctx, payload) => dissectSmbDatagram(ctx, payload) };
}
