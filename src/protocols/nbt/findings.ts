// NetBIOS over TCP/IP findings: the session service (RFC 1002 4.3), the datagram service
// (RFC 1002 4.4) and the name service (RFC 1002 4.2).
import { declareFindings } from '../../model/findings.js';

export const NBSS_FINDINGS = declareFindings({ protocol: 'nbss', transports: ['tcp/nbss'] }, {
  bufferLimit: {
    id: 'nbss.buffer-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'an NBSS message larger than the buffer bound: dropped, looking for the next message',
    requirement: 'At most 16 MiB + 64 KiB + 3 bytes (16,842,755; the largest 24-bit length and header, and a margin) of one message are buffered.',
  },
  incomplete: {
    id: 'nbss.incomplete', severity: 'warning', spec: 'RFC 1002 4.3.1', scope: 'conversation',
    summary: 'a message cut by missing TCP data or by the end of the connection',
    requirement: 'A session packet MUST carry LENGTH bytes of trailer after its 4-byte header.',
  },
  badHeader: {
    id: 'nbss.bad-header', severity: 'error', spec: 'RFC 1002 4.3.1', scope: 'conversation',
    summary: 'an unknown message type or reserved flag bits set: the stream resynchronises at the next plausible message',
    requirement: 'A session packet\'s TYPE MUST be one RFC 1002 defines and its reserved FLAGS bits MUST be zero.',
  },
  badLength: {
    id: 'nbss.bad-length', severity: 'warning', spec: 'RFC 1002 4.3', scope: 'frame',
    check: { frames: 'nbss.type in {0x82 0x83 0x84 0x85}' },
    summary: 'a fixed-size message (a session response or keep-alive) with another length',
    requirement: 'Positive and negative session responses, retarget responses and keep-alives MUST have the fixed LENGTH their format gives.',
  },
  badSessionRequest: {
    id: 'nbss.bad-session-request', severity: 'error', spec: 'RFC 1002 4.3.2', scope: 'frame', role: 'client',
    check: { frames: 'nbss.type == 0x81' },
    summary: 'the names of a session request cannot be decoded',
    requirement: 'A session request MUST carry the called name and then the calling name, each an encoded NetBIOS name.',
  },
  badName: {
    id: 'nbss.bad-name', severity: 'warning', spec: 'RFC 1001 14.1', scope: 'frame', role: 'client',
    check: { frames: 'nbss.type == 0x81' },
    summary: 'a session request name is not a valid first-level encoding (letters A–P)',
    requirement: 'Each half-byte of a NetBIOS name MUST be encoded as one of the letters A to P.',
  },
  noSessionRequest: {
    id: 'nbss.no-session-request', severity: 'error', spec: 'RFC 1001 16.1.1', scope: 'conversation', role: 'client',
    check: { frames: 'nbss && !(tcp.port == 445)', fromStart: true },
    summary: 'the calling side\'s first NetBIOS session packet on TCP 139 is not a SESSION REQUEST',
    requirement: 'A session MUST be established before data is sent: the calling end first sends a SESSION REQUEST naming the called and calling names, and sends SESSION MESSAGEs only after a POSITIVE SESSION RESPONSE.',
  },
  responseFromClient: {
    id: 'nbss.response-from-client', severity: 'warning', spec: 'RFC 1002 4.3', scope: 'conversation', role: 'client',
    check: { frames: 'nbss.type in {0x82 0x83 0x84}' },
    summary: 'a session response sent by the calling side',
    requirement: 'Session responses (positive, negative, retarget) MUST come from the called end, in answer to its session request.',
  },
});

/** Datagram fragments: more follow, or not the first (RFC 1002 4.4.1 FLAGS), which `verify` judges the fragment rules on. */
const NBDGM_FRAGMENTS = 'nbdgm.next == 1 || nbdgm.first == 0';

export const NBDGM_FINDINGS = declareFindings({ protocol: 'nbdgm', transports: ['udp/nbdgm'] }, {
  malformed: {
    id: 'nbdgm.malformed', severity: 'error', spec: 'RFC 1002 4.4', scope: 'frame',
    summary: 'the datagram header or its names cannot be read',
    requirement: 'A NetBIOS datagram MUST carry the header fields and the encoded names its type defines.',
  },
  badLength: {
    id: 'nbdgm.bad-length', severity: 'warning', spec: 'RFC 1002 4.4.2', scope: 'frame',
    summary: 'DGM_LENGTH disagrees with the bytes that follow the header',
    requirement: 'DGM_LENGTH MUST be the number of bytes that follow the datagram header (names and user data).',
  },
  fragmentOverrun: {
    id: 'nbdgm.fragment-overrun', severity: 'warning', spec: 'RFC 1002 4.4.2', scope: 'conversation',
    check: { frames: NBDGM_FRAGMENTS },
    summary: 'fragments extend past the end the last fragment gives',
    requirement: 'The fragments of a datagram MUST cover its user data exactly, from offset 0 to the end of the fragment without the MORE flag.',
  },
  fragmentsIncomplete: {
    id: 'nbdgm.fragments-incomplete', severity: 'warning', spec: 'RFC 1002 4.4.2', scope: 'conversation',
    check: { frames: NBDGM_FRAGMENTS },
    summary: 'fragments never completed (a new FIRST fragment, 60 s, 256 datagrams / 256 fragments each / 4 MiB in progress, or end of capture)',
    requirement: 'A fragmented datagram MUST be sent as a FIRST fragment and further fragments up to one without the MORE flag.',
  },
});

export const NBNS_FINDINGS = declareFindings({ protocol: 'nbns', transports: ['udp/nbns'] }, {
  malformed: {
    id: 'nbns.malformed', severity: 'error', severities: ['error', 'warning'], spec: 'RFC 1002 4.2', scope: 'frame',
    summary: 'the header (error), or a question or resource record (warning), cannot be read; compression loops are bounded',
    requirement: 'A name service packet MUST carry the header and the question and resource records its counts announce, each within the packet.',
  },
});
