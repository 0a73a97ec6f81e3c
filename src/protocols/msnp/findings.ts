// MSNP findings (draft-movva-msn-messenger-protocol-00 and the notes for later versions) and
// findings of the MSNP HTTP gateway.
import { declareFindings } from '../../model/findings.js';

const DRAFT = 'draft-movva-msn-messenger-protocol-00';
const NOTES = 'msnp-notes.md';
const PER_COMMAND = 'the command\'s own section from the command table (the draft\'s 7.x / 8.x, or msnp-notes.md Payload-command table)';

// The frames `verify` judges each rule on (a RuleCheck's display filter).
const FROM_CLIENT = 'msnp.direction matches "^client"';

export const MSNP_FINDINGS = declareFindings({ protocol: 'msnp', transports: ['tcp/msnp', 'tcp/http/msnp'] }, {
  bufferLimit: {
    id: 'msnp.buffer-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'more bytes without a complete command than the buffer holds: dropped, resynchronising',
    requirement: 'At most 4 MiB (4,194,304 bytes) of one direction are buffered without a complete command.',
  },
  pendingLimit: {
    id: 'msnp.pending-limit', severity: 'warning', spec: 'bound', scope: 'conversation', role: 'client',
    summary: 'too many requests await answers: the oldest are no longer tracked',
    requirement: 'At most 4096 requests await answers per connection.',
  },
  payloadTruncated: {
    id: 'msnp.payload-truncated', severity: 'error', spec: `${DRAFT} 5.2`, scope: 'conversation',
    check: { frames: 'msnp.length' },
    summary: 'a payload command declares more bytes than the stream holds before it ends',
    requirement: 'A command that sends data MUST transmit its length in the command and the data, that many bytes, right after the command\'s CRLF.',
  },
  truncatedLine: {
    id: 'msnp.truncated-line', severity: 'warning', spec: `${DRAFT} 5.2`, scope: 'conversation',
    summary: 'bytes at the end of the stream that are not a complete command line',
    requirement: 'A command MUST be one line terminated by CRLF.',
  },
  payloadLengthMismatch: {
    id: 'msnp.payload-length-mismatch', severity: 'warning', spec: `${DRAFT} 5.2`, scope: 'conversation',
    check: { frames: 'msnp.length' },
    summary: 'the bytes after a payload do not start a command: the declared payload length disagrees with the bytes present',
    requirement: 'The length a payload command transmits MUST be the exact number of data bytes that follow its CRLF.',
  },
  midstream: {
    id: 'msnp.midstream', severity: 'note', spec: 'anomaly', scope: 'conversation',
    summary: 'the capture starts inside the stream: bytes up to the first command line were skipped',
    requirement: 'No protocol rule: the capture began after the connection did.',
  },
  garbage: {
    id: 'msnp.garbage', severity: 'warning', spec: `${DRAFT} 5.2`, scope: 'conversation',
    summary: 'bytes that are not an MSNP command were skipped to the next command line',
    requirement: 'Every command MUST begin with a three-letter command type (or a three-digit error code) and its parameters, on one CRLF-terminated line.',
  },
  bareLf: {
    id: 'msnp.bare-lf', severity: 'note', spec: `${DRAFT} 5.2`, scope: 'conversation',
    summary: 'a command line ends in a bare LF, not CRLF (accepted; reported once per direction)',
    requirement: 'A command MUST be terminated by CRLF (servers also accept a bare LF).',
  },
  malformed: {
    id: 'msnp.malformed', severity: 'error', spec: `${DRAFT} 5.2`, scope: 'frame',
    summary: 'a payload command\'s length parameter is not a number',
    requirement: 'A command that sends data MUST transmit the data\'s length, a decimal number, as its last parameter.',
  },
  unknownCommand: {
    id: 'msnp.unknown-command', severity: 'warning', spec: `${DRAFT} 5.2`, scope: 'frame',
    summary: 'a command that no MSNP version defines',
    requirement: 'A command MUST begin with a command type the protocol defines (the draft\'s section 6 and later versions\' additions).',
  },
  invalidDirection: {
    id: 'msnp.invalid-direction', severity: 'warning', spec: `${DRAFT} 6`, specPerSite: `${PER_COMMAND}; error codes cite ${DRAFT} 7.11`, scope: 'frame',
    summary: 'a command sent by the side that never sends it (an error code from the client, a server-only command from the client, ...)',
    requirement: 'Each command MUST be sent only by the side(s) its definition gives; error codes MUST come from the server.',
  },
  invalidForVersion: {
    id: 'msnp.invalid-for-version', severity: 'warning', spec: `${NOTES} Version grid`, scope: 'frame',
    summary: 'a command outside the negotiated protocol version',
    requirement: 'After VER both sides MUST use only the commands of the negotiated version (which version has which command is the notes\' version grid).',
  },
  invalidForRole: {
    id: 'msnp.invalid-for-role', severity: 'warning', spec: `${DRAFT} 4`, specPerSite: PER_COMMAND, scope: 'frame',
    summary: 'a command that does not belong to the connection\'s role (dispatch, notification or switchboard)',
    requirement: 'Each server (DS, NS, switchboard) MUST be sent only the commands of its role.',
  },
  trIdUnanswered: {
    id: 'msnp.trid-unanswered', severity: 'warning', spec: `${DRAFT} 5.3`, scope: 'conversation', role: 'server',
    check: { frames: `${FROM_CLIENT} && msnp.trid`, bothSides: true },
    summary: 'a request was never answered although the server kept sending',
    requirement: 'The server MUST deliver a response or an error for each request it receives.',
  },
  trIdReused: {
    id: 'msnp.trid-reused', severity: 'warning', spec: `${DRAFT} 5.6`, scope: 'conversation', role: 'client',
    check: { frames: `${FROM_CLIENT} && msnp.command == "MSG" && msnp.ack_mode in {"A" "N" "D"}` },
    summary: 'a client MSG reuses the TrID of an earlier message still awaiting its ACK/NAK: the earlier one is emitted as it stands',
    requirement: 'The client MUST keep Transaction IDs unique, so that each response can be matched to its command.',
  },
  verNotOffered: {
    id: 'msnp.ver-not-offered', severity: 'error', spec: `${DRAFT} 7.1`, scope: 'conversation', role: 'server',
    check: { frames: `${FROM_CLIENT} && msnp.command == "VER"`, bothSides: true },
    summary: 'the server answered VER with a dialect the client did not offer',
    requirement: 'The server MUST answer VER with one of the dialects the client offered (the version it designates for the connection), or 0 when it supports none.',
  },
  beforeAuth: {
    id: 'msnp.before-auth', severity: 'error', spec: `${DRAFT} 7.3`, specPerSite: 'DS and NS 7.3, switchboard 8.2 (USR) and 8.4 (ANS)', scope: 'conversation', role: 'client',
    check: { frames: FROM_CLIENT, fromStart: true },
    summary: 'the client sent a command other than the version handshake and authentication before its login succeeded',
    requirement: 'The client MUST authenticate (USR, or ANS on a switchboard it was invited to) after the version handshake and before it sends other commands.',
  },
  afterReferral: {
    id: 'msnp.after-referral', severity: 'error', spec: `${DRAFT} 7.4`, scope: 'conversation', role: 'client',
    check: { frames: 'msnp.command == "XFR" && msnp.referral_type == "NS" && msnp.direction matches "^server"' },
    summary: 'the client kept sending commands to a server after it was referred to another NS (XFR NS)',
    requirement: 'After an NS referral the client MUST NOT send any commands to the old server.',
  },
  challengeUnanswered: {
    id: 'msnp.challenge.unanswered', severity: 'error', spec: `${NOTES} Challenge`, scope: 'conversation', role: 'client',
    check: { frames: 'msnp.command == "CHL" && msnp.direction matches "^server"', bothSides: true },
    summary: 'the client never answered a CHL with QRY, although it kept sending commands',
    requirement: 'The client MUST answer CHL with QRY (a server disconnects a client that does not).',
  },
  ackMode: {
    id: 'msnp.ack-mode', severity: 'error', spec: `${DRAFT} 8.7`, scope: 'frame', role: 'client',
    check: { frames: `${FROM_CLIENT} && msnp.command == "MSG"` },
    summary: 'a client MSG with an acknowledgement mode other than U, N, A or D',
    requirement: 'A client MSG MUST give its acknowledgement mode as U, N or A (D from MSNP9 on).',
  },
  calStatus: {
    id: 'msnp.cal-status', severity: 'error', spec: `${DRAFT} 8.3`, scope: 'frame', role: 'server',
    check: { frames: `${FROM_CLIENT} && msnp.command == "CAL"`, bothSides: true },
    summary: 'the switchboard answered CAL with a status other than RINGING',
    requirement: 'The CAL echo\'s Status MUST be "RINGING".',
  },
  authMd5: {
    id: 'msnp.auth.md5', severity: 'warning', spec: `${DRAFT} 7.3`, scope: 'endpoint', role: 'client',
    check: { frames: `${FROM_CLIENT} && msnp.command == "USR" && msnp.auth_stage == "S"` },
    summary: 'MD5 login: the response is MD5(challenge + password) in clear, so the password can be recovered offline',
    requirement: 'With the MD5 security package the client MUST send the MD5 hash of the challenge and its password as hex.',
  },
  challengeWrong: {
    id: 'msnp.challenge.wrong', severity: 'error', spec: `${NOTES} Challenge`, scope: 'conversation', role: 'client',
    check: { frames: 'msnp.challenge_ok' },
    summary: 'a QRY answer is wrong for the challenge and client ID',
    requirement: 'The client MUST answer CHL with QRY carrying the hash of the challenge and its client key (MD5 up to MSNP10, the MSNP11 algorithm after).',
  },
  challengeRejected: {
    id: 'msnp.challenge.rejected', severity: 'warning', spec: `${NOTES} Challenge`, scope: 'conversation', role: 'server',
    observation: true,
    summary: 'the server rejected the challenge answer (540)',
    requirement: 'A server MUST answer a wrong QRY with error 540 and disconnect.',
  },
  versionInferred: {
    id: 'msnp.version-inferred', severity: 'note', spec: `${DRAFT} 7.1`, scope: 'endpoint',
    // The VER exchange is a request and its answer: with one direction missing, its absence proves nothing.
    check: { frames: 'msnp.role in {"DS" "NS"}', fromStart: true, bothSides: true },
    summary: 'no VER exchange on this connection: the version was inferred from the commands (evidence listed)',
    requirement: 'Client and server MUST agree on a protocol version with VER before they proceed.',
  },
});

export const MSNPGW_FINDINGS = declareFindings({ protocol: 'msnpgw', transports: ['tcp/http'] }, {
  malformed: {
    id: 'msnpgw.malformed', severity: 'warning', spec: 'RFC 2616 4.1', scope: 'conversation',
    summary: 'not an HTTP message: this direction is no longer decoded',
    requirement: 'An HTTP message MUST be a start line, header fields and an empty line, then the body.',
  },
  chunked: {
    id: 'msnpgw.chunked', severity: 'warning', spec: 'anomaly', scope: 'conversation',
    summary: 'chunked transfer encoding on the gateway is not decoded: this direction is no longer decoded',
    requirement: 'No protocol rule: HTTP/1.1 MAY send chunked bodies; gateway clients send Content-Length and msgscope decodes only those.',
  },
  limit: {
    id: 'msnpgw.limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'a gateway bound was hit: this direction, or the request\'s answer, is no longer decoded',
    requirement: 'At most 1 MiB (1,048,576 bytes) of body per HTTP message, 4 MiB buffered per direction and 256 requests awaiting responses per connection.',
  },
});
