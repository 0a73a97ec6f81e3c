// SMB2/SMB3 findings: as far as msgscope follows SMB2, to named pipes (MS-SMB2).
import { declareFindings } from '../../model/findings.js';

export const SMB2_FINDINGS = declareFindings({ protocol: 'smb2', transports: ['tcp/nbss/smb2'] }, {
  malformed: {
    id: 'smb2.malformed', severity: 'error', spec: 'MS-SMB2 2.2', specPerSite: 'the transform header 2.2.41, the SMB2 header 2.2.1, or the command\'s body 2.2', scope: 'frame',
    summary: 'a transform header, SMB2 header or command body cannot be read',
    requirement: 'Every SMB2 message MUST hold its whole header and the fixed part of its command\'s structure.',
  },
  compound: {
    id: 'smb2.compound', severity: 'error', spec: 'MS-SMB2 3.2.4.1.4', scope: 'frame',
    summary: 'a compounded message\'s NextCommand offsets are inconsistent',
    requirement: 'NextCommand MUST give the 8-byte aligned offset of the next header within the message, or 0 in the last one.',
  },
  headerSize: {
    id: 'smb2.header-size', severity: 'warning', spec: 'MS-SMB2 2.2.1', scope: 'frame',
    summary: 'the header\'s StructureSize is not 64',
    requirement: 'The SMB2 header\'s StructureSize MUST be 64.',
  },
  pendingLimit: {
    id: 'smb2.pending-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many SMB2 requests without a response: the oldest is forgotten',
    requirement: 'At most 4096 SMB2 requests wait for their responses per conversation.',
  },
  unknownFile: {
    id: 'smb2.unknown-file', severity: 'note', spec: 'anomaly', scope: 'conversation',
    summary: 'a WRITE to a FileId whose CREATE is not in the capture: its data is not followed',
    requirement: 'No rule is broken when the CREATE precedes the capture: a FileId names a file opened earlier on the session.',
  },
});
