// SMB1 carried in a NetBIOS datagram (or another connectionless transport): mailslot writes
// (SMB_COM_TRANSACTION, MS-MAIL 2.2.1) and the occasional messenger command. No responses
// exist here, so there is no request/response state.
import type { EngineContext } from '../../engine/context.js';
import type { DatagramPayload } from '../../engine/seams.js';
import { SMB_FINDINGS } from './findings.js';
import { decodeSmb } from './decode.js';
import { dissectMailslot } from './mailslot.js';
import { MESSENGER_COMMANDS, MessengerTracker } from './messenger.js';
import { SmbLayer } from './tree.js';

export function dissectSmbDatagram(ctx: EngineContext, dc: DatagramPayload): void {
  const bytes = dc.bytes;
  const cp = ctx.options.oemCodepage;
  const frame = ctx.packet?.frame.number ?? dc.frames[0] ?? 0;
  const pdu = decodeSmb(bytes, cp);
  if (typeof pdu === 'string') {
    ctx.standaloneFinding(SMB_FINDINGS.malformed.at(frame, pdu, { clause: 'MS-CIFS 2.2.3.1' }), 'smb', dc.route, dc.tsSec, dc.tsNsec);
    return;
  }
  ctx.packet?.layers.push(new SmbLayer(bytes, pdu, cp, []));
  for (const p of pdu.problems) ctx.packetFinding(SMB_FINDINGS.malformed.at(frame, p, { clause: 'MS-CIFS 2.2.3.4' }));
  for (const c of pdu.commands) for (const p of c.problems) ctx.packetFinding(SMB_FINDINGS.malformed.at(frame, p, { severity: 'warning', clause: 'MS-CIFS 2.2.3' }));
  const transport = `${dc.transport}/smb`;
  let tracker: MessengerTracker | undefined;
  for (const c of pdu.commands) {
    if (c.body.kind === 'trans-req' && c.body.name.toUpperCase().startsWith('\\MAILSLOT\\')) {
      dissectMailslot(ctx, pdu, c, c.body.trans, c.body.name, {
        route: dc.route, transport: `${transport}/mailslot`, frames: dc.frames, tsSec: dc.tsSec, tsNsec: dc.tsNsec, destination: dc.destination, source: dc.source, deliver: dc.deliver,
      });
    } else if (MESSENGER_COMMANDS.has(c.command) && !pdu.header.isResponse) {
      // A messenger command in a datagram (SEND_BROADCAST_MESSAGE is meant for this).
      tracker ??= new MessengerTracker(ctx, { route: dc.route, transport, unacknowledged: true });
      const token = tracker.request(pdu, c, { frames: dc.frames, frame, tsSec: dc.tsSec, tsNsec: dc.tsNsec });
      if (token === undefined) tracker.other(pdu, c, { frames: dc.frames, frame, tsSec: dc.tsSec, tsNsec: dc.tsNsec });
    }
  }
  tracker?.end();
}
