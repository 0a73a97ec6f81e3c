// SMB1 findings (MS-CIFS message structure and transactions; the messenger commands of
// MS-MSRP 2.2.3 and 3.2.4.4–3.2.4.5) and \MAILSLOT\MESSNGR findings.
import { declareFindings } from '../../model/findings.js';

/** Messenger rules stated once per command: each emission cites the command's own section. */
const PER_COMMAND = 'the command\'s request or response section: MS-MSRP 2.2.3.1.1–2.2.3.4.2 (0xD0, 0xD5, 0xD7, 0xD6), MS-CIFS 2.2.4.62–2.2.4.65 (0xD1–0xD4)';
const MESSENGER = ['tcp/nbss/smb', 'udp/nbdgm/smb'];

// The frames `verify` judges each rule on (a RuleCheck's display filter).
const REQUEST = 'smb.flags.response == 0';
/** The messenger PDUs MS-MSRP 2.2.3 defines, requests and responses. */
const MESSENGER_PDUS = 'smb.cmd in {0xd0 0xd5 0xd6 0xd7}';
/** Every messenger command, 0xD0–0xD7 (MS-CIFS adds 0xD1–0xD4). */
const MESSENGER_COMMANDS = 'smb.cmd in {0xd0..0xd7}';
/** Requests that carry names: SEND_MESSAGE, SEND_BROADCAST_MESSAGE, SEND_START_MB. */
const NAMED_REQUESTS = `smb.cmd in {0xd0 0xd1 0xd5} && ${REQUEST}`;
/** Requests that carry a block of text: SEND_MESSAGE, SEND_BROADCAST_MESSAGE, SEND_TEXT_MB. */
const TEXT_REQUESTS = `smb.cmd in {0xd0 0xd1 0xd7} && ${REQUEST}`;
/** Multi-part transactions: a secondary request, or a primary request carrying less than its totals. */
const MULTIPART = `(smb.cmd == 0x26 || (smb.cmd == 0x25 && (smb.pc < smb.tpc || smb.dc < smb.tdc))) && ${REQUEST}`;

export const SMB_FINDINGS = declareFindings({ protocol: 'smb', transports: MESSENGER }, {
  malformed: {
    id: 'smb.malformed', severity: 'error', severities: ['error', 'warning'], spec: 'MS-CIFS 2.2.3',
    specPerSite: 'the header 2.2.3.1 (error), an AndX chain 2.2.3.4 (error), a command\'s parameter or data block 2.2.3 (warning)', scope: 'frame',
    summary: 'the SMB header or a parameter/data block is inconsistent (truncated, ByteCount past the end, AndX offset not forward, offsets outside the message)',
    requirement: 'An SMB message MUST hold its whole 32-byte header, and its WordCount, ByteCount and AndX offsets MUST stay within the message.',
  },
  pendingLimit: {
    id: 'smb.pending-limit', severity: 'warning', spec: 'bound', scope: 'conversation', transports: ['tcp/nbss/smb'],
    summary: 'too many SMB requests wait for a response: the oldest are forgotten',
    requirement: 'At most 4096 SMB requests wait for their responses per conversation.',
  },
  fidLimit: {
    id: 'smb.fid-limit', severity: 'warning', spec: 'bound', scope: 'conversation', transports: ['tcp/nbss/smb'],
    summary: 'too many open files or trees on one conversation: the oldest is forgotten',
    requirement: 'At most 1024 open files (FIDs) and 1024 trees are remembered per conversation.',
  },
  transBadTotals: {
    id: 'smb.trans.bad-totals', severity: 'warning', spec: 'MS-CIFS 2.2.4.33.1', scope: 'frame', role: 'client',
    check: { frames: `smb.cmd in {0x25 0x32 0xa0} && ${REQUEST}` },
    summary: 'a transaction request carries more parameter or data bytes than its totals',
    requirement: 'ParameterCount and DataCount MUST NOT exceed TotalParameterCount and TotalDataCount.',
  },
  transInconsistentTotal: {
    id: 'smb.trans.inconsistent-total', severity: 'warning', spec: 'MS-CIFS 2.2.4.34.1', scope: 'conversation', role: 'client',
    check: { frames: MULTIPART },
    summary: 'a secondary request\'s totals exceed the transaction\'s (they may only shrink)',
    requirement: 'The totals of a secondary request MAY be lower than the transaction\'s but MUST NOT be higher.',
  },
  transBadDisplacement: {
    id: 'smb.trans.bad-displacement', severity: 'warning', spec: 'MS-CIFS 2.2.4.34.1', scope: 'conversation', role: 'client',
    check: { frames: MULTIPART },
    summary: 'a part\'s bytes at their displacement pass the total: the part is dropped',
    requirement: 'A part\'s bytes at ParameterDisplacement / DataDisplacement MUST lie within TotalParameterCount / TotalDataCount.',
  },
  transOverlap: {
    id: 'smb.trans.overlap', severity: 'warning', spec: 'MS-CIFS 2.2.4.34.1', scope: 'conversation', role: 'client',
    check: { frames: MULTIPART },
    summary: 'a part overlaps bytes already received; the later bytes are kept',
    requirement: 'Each part MUST place its bytes at its displacement; parts that cover the same bytes leave the transaction ambiguous.',
  },
  transSecondaryUnmatched: {
    id: 'smb.trans.secondary-unmatched', severity: 'note', spec: 'MS-CIFS 2.2.4.34.1', scope: 'conversation', role: 'client',
    check: { frames: `smb.cmd == 0x26 && ${REQUEST}`, fromStart: true },
    summary: 'a secondary request for a transaction that is not in the capture',
    requirement: 'A secondary request MUST follow the primary request of its transaction (same MID, PID, TID and UID).',
  },
  transIncomplete: {
    id: 'smb.trans.incomplete', severity: 'warning', spec: 'MS-CIFS 2.2.4.34', scope: 'conversation', role: 'client',
    check: { frames: MULTIPART },
    summary: 'a multi-part transaction never completed (64 in progress, 256 parts, MID reused, or end of connection)',
    requirement: 'The client MUST send secondary requests until every parameter and data byte up to the totals has been sent.',
  },
  transJoinedMailslot: {
    id: 'smb.trans.joined-mailslot', severity: 'note', spec: 'MS-MAIL 2.2.1', scope: 'conversation',
    observation: true,
    summary: 'a mailslot write whose bytes came in several transaction parts is joined but not decoded',
    requirement: 'A mailslot write MUST be an SMB_COM_TRANSACTION request naming the mailslot; msgscope decodes one carried whole by a single request.',
  },
  // ---- messenger commands (0xD0–0xD7) ----
  msgTableFull: {
    id: 'smb.msg.table-full', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many messages in progress on one conversation: the oldest is reported as it stands',
    requirement: 'At most 256 messenger messages are in progress per conversation.',
  },
  msgGroupLimit: {
    id: 'smb.msg.group-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'one message passed the text or PDU bound: the rest of the text is not kept, or the rest starts a new message',
    requirement: 'At most 64 KiB (65,536 bytes) of text and 1024 PDUs are kept per messenger message.',
  },
  msgHeaderNotZero: {
    id: 'smb.msg.header-not-zero', severity: 'note', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'conversation',
    check: { frames: MESSENGER_PDUS },
    summary: 'header fields other than Command (and Status in responses) are not zero; one finding per message and side, listing them',
    requirement: 'In a messenger PDU\'s SMB header every field but Command (and a response\'s Status) MUST be set to 0x00.',
  },
  msgBadWordcount: {
    id: 'smb.msg.bad-wordcount', severity: 'error', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame',
    check: { frames: MESSENGER_COMMANDS },
    summary: 'a messenger PDU has the wrong WordCount',
    requirement: 'WordCount MUST be 0 in SEND_MESSAGE and SEND_START_MB requests and in every response but SEND_START_MB\'s, and 1 in SEND_TEXT_MB and SEND_END_MB requests.',
  },
  msgBadBytecount: {
    id: 'smb.msg.bad-bytecount', severity: 'error', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame',
    check: { frames: MESSENGER_PDUS },
    summary: 'ByteCount differs from the size of the fields that follow',
    requirement: 'ByteCount MUST be the size of the fields that follow it, and 0 in responses and SEND_END_MB requests.',
  },
  msgBadBufferFormat: {
    id: 'smb.msg.bad-buffer-format', severity: 'error', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame', role: 'client',
    check: { frames: `smb.cmd in {0xd0 0xd1 0xd2 0xd3 0xd5 0xd7} && ${REQUEST}` },
    summary: 'a BufferFormat byte is not 0x04 before a name or 0x01 before the data',
    requirement: 'BufferFormat MUST be 0x04 before a null-terminated name and 0x01 before the length-prefixed data block.',
  },
  msgNameTooLong: {
    id: 'smb.msg.name-too-long', severity: 'warning', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame', role: 'client',
    check: { frames: NAMED_REQUESTS },
    summary: 'OriginatorName or DestinationName is longer than 15 bytes',
    requirement: 'OriginatorName and DestinationName MUST NOT be more than 15 bytes long, without the trailing NUL.',
  },
  msgNameUnterminated: {
    id: 'smb.msg.name-unterminated', severity: 'error', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame', role: 'client',
    check: { frames: NAMED_REQUESTS },
    summary: 'a name without its terminating NUL',
    requirement: 'OriginatorName and DestinationName MUST be null-terminated ASCII strings.',
  },
  msgDataTooLong: {
    id: 'smb.msg.data-too-long', severity: 'warning', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame', role: 'client',
    check: { frames: TEXT_REQUESTS },
    summary: 'DataLength is greater than 128',
    requirement: 'DataLength MUST NOT be greater than 128 (0x0080).',
  },
  msgDatalengthMismatch: {
    id: 'smb.msg.datalength-mismatch', severity: 'error', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame', role: 'client',
    check: { frames: TEXT_REQUESTS },
    summary: 'DataLength differs from the data bytes present (the bytes present are used)',
    requirement: 'DataLength MUST specify the length of the Data buffer.',
  },
  msgRawLineBreak: {
    id: 'smb.msg.raw-line-break', severity: 'warning', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame', role: 'client',
    check: { frames: TEXT_REQUESTS },
    summary: 'the text holds CR or LF bytes',
    requirement: 'Before the message is sent, CR (0x0D) and LF (0x0A) MUST be converted to 0x14.',
  },
  msgMalformed: {
    id: 'smb.msg.malformed', severity: 'error', spec: 'MS-MSRP 2.2.3', specPerSite: PER_COMMAND, scope: 'frame', role: 'client',
    check: { frames: `${MESSENGER_COMMANDS} && ${REQUEST}` },
    summary: 'a messenger field is missing or cut',
    requirement: 'A messenger request MUST carry every field its section lists, within ByteCount.',
  },
  msgResponseCommand: {
    id: 'smb.msg.response-command', severity: 'error', spec: 'MS-MSRP 2.2.3', specPerSite: 'the response section of the request\'s command: MS-MSRP 2.2.3.1.2, 2.2.3.2.2, 2.2.3.3.2, 2.2.3.4.2', scope: 'conversation', role: 'server',
    check: { frames: `${MESSENGER_PDUS} && ${REQUEST}`, bothSides: true },
    summary: 'a response\'s command differs from its request\'s',
    requirement: 'On processing a messenger request the server MUST send the corresponding response, with the same Command.',
  },
  msgToAsterisk: {
    id: 'smb.msg.to-asterisk', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    check: { frames: NAMED_REQUESTS },
    summary: 'the recipient name begins with an asterisk',
    requirement: 'To MUST NOT begin with an asterisk character.',
  },
  msgToNotMessengerName: {
    id: 'smb.msg.to-not-messenger-name', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'conversation', role: 'client', transports: ['tcp/nbss/smb'],
    check: { events: 'message && protocol == "smb" && message.details.calledName' },
    summary: 'the NetBIOS session was called to a name whose suffix is not 0x03',
    requirement: 'To MUST be a valid NetBIOS name of type 0x03, and SMB messages MUST be sent to the recipient\'s NetBIOS name.',
  },
  msgTextTooLong: {
    id: 'smb.msg.text-too-long', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'conversation', role: 'client',
    check: { events: 'message && protocol == "smb"' },
    summary: 'the message text is longer than 652 bytes',
    requirement: 'Text MUST be 652 bytes or less in length.',
  },
  startMbNoGroupId: {
    id: 'smb.startmb.no-group-id', severity: 'warning', spec: 'MS-MSRP 2.2.3.2.2', scope: 'frame', role: 'server',
    check: { frames: `smb.cmd == 0xd5 && ${REQUEST}`, bothSides: true },
    summary: 'a SEND_START_MB response without MessageGroupId (Samba\'s smbd sends WordCount 0)',
    requirement: 'The SEND_START_MB response\'s WordCount MUST be 1, carrying the MessageGroupId.',
  },
  mbGroupIdMismatch: {
    id: 'smb.mb.group-id-mismatch', severity: 'warning', spec: 'MS-MSRP 2.2.3.3.1', scope: 'conversation', role: 'client',
    check: { frames: `smb.cmd in {0xd6 0xd7} && ${REQUEST}`, bothSides: true },
    summary: 'a SEND_TEXT_MB or SEND_END_MB MessageGroupId differs from the one the SEND_START_MB response gave',
    requirement: 'The MessageGroupId of SEND_TEXT_MB and SEND_END_MB MUST equal the one the server returned for SEND_START_MB.',
  },
  textMbNoStart: {
    id: 'smb.textmb.no-start', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'conversation', role: 'client',
    check: { frames: `smb.cmd == 0xd7 && ${REQUEST}`, fromStart: true },
    summary: 'a SEND_TEXT_MB without a preceding SEND_START_MB on the conversation (the capture may have started mid-message)',
    requirement: 'A multi-block message MUST begin with SEND_START_MB; its text follows in SEND_TEXT_MB requests.',
  },
  endMbNoStart: {
    id: 'smb.endmb.no-start', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'conversation', role: 'client',
    check: { frames: `smb.cmd == 0xd6 && ${REQUEST}`, fromStart: true },
    summary: 'a SEND_END_MB without a preceding SEND_START_MB on the conversation (the capture may have started mid-message)',
    requirement: 'A multi-block message MUST begin with SEND_START_MB; SEND_END_MB ends that group.',
  },
  mbIncomplete: {
    id: 'smb.mb.incomplete', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'conversation', role: 'client',
    check: { frames: `smb.cmd == 0xd5 && ${REQUEST}` },
    summary: 'a message group never ended with SEND_END_MB (or a new SEND_START_MB began first)',
    requirement: 'After the last segment of Text the sender MUST send SEND_END_MB.',
  },
  mbShortMessage: {
    id: 'smb.mb.short-message', severity: 'note', spec: 'MS-MSRP 3.2.4.4', scope: 'conversation', role: 'client',
    check: { frames: `smb.cmd == 0xd5 && ${REQUEST}` },
    summary: 'a text of 128 bytes or less was sent as a multi-block group (Samba always uses groups)',
    requirement: 'A message text of 128 bytes or less SHOULD be sent as one SMB_COM_SEND_MESSAGE.',
  },
  msgNoFrom: {
    id: 'smb.msg.no-from', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    check: { frames: NAMED_REQUESTS },
    summary: 'OriginatorName is empty: the message names no sender',
    requirement: 'The sender SHOULD provide a From name, and the NetBIOS name of the local computer when no sender name is available.',
  },
  msgTransport: {
    id: 'smb.msg.transport', severity: 'error', spec: 'MS-MSRP 2.1.3', scope: 'conversation', role: 'client', transports: ['tcp/nbss/smb'],
    check: { frames: `${MESSENGER_PDUS} && ${REQUEST}` },
    summary: 'a messenger PDU on direct-hosted SMB (TCP 445), where no NetBIOS session names the recipient',
    requirement: 'SMB messages MUST always be sent to the NetBIOS name of the intended recipient of the message (a NetBIOS session called to that name).',
  },
  mbNoWait: {
    id: 'smb.mb.no-wait', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'conversation', role: 'client',
    check: { frames: `smb.cmd in {0xd6 0xd7} && ${REQUEST}`, bothSides: true },
    summary: 'a SEND_TEXT_MB or SEND_END_MB sent before the response to the group\'s previous request',
    requirement: 'The sender SHOULD wait for the SEND_START_MB response before proceeding, and SHOULD NOT send another segment until the previous one is acknowledged.',
  },
  mbBlockSize: {
    id: 'smb.mb.block-size', severity: 'note', spec: 'MS-MSRP 3.2.4.4', scope: 'conversation', role: 'client',
    check: { frames: `smb.cmd == 0xd5 && ${REQUEST}` },
    summary: 'a text block other than the last is not 128 bytes (Samba cuts at 127)',
    requirement: 'Every segment of Text except the last SHOULD be exactly 128 bytes long.',
  },
});

/** Mailslot writes to \\MAILSLOT\\MESSNGR (MS-MSRP 2.1.2), whatever the case of the name. */
const MESSNGR = 'upper(mailslot.name) contains "MESSNGR"';

export const MAILSLOT_FINDINGS = declareFindings({ protocol: 'mailslot', transports: ['udp/nbdgm/smb/mailslot', 'tcp/nbss/smb/mailslot'] }, {
  badSetupCount: {
    id: 'mailslot.bad-setup-count', severity: 'warning', spec: 'MS-MAIL 2.2.1', scope: 'frame',
    summary: 'a mailslot write does not have 3 setup words',
    requirement: 'A mailslot write MUST carry 3 setup words (opcode, priority, class).',
  },
  badOpcode: {
    id: 'mailslot.bad-opcode', severity: 'warning', spec: 'MS-MAIL 2.2.1', scope: 'frame',
    summary: 'a mailslot write\'s opcode is not 1 (write)',
    requirement: 'The first setup word of a mailslot write MUST be 1 (write mailslot).',
  },
  messngrMalformed: {
    id: 'mailslot.messngr.malformed', severity: 'error', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    check: { frames: MESSNGR },
    summary: 'the MESSNGR body has fewer than two NUL separators (From NUL To NUL Text NUL)',
    requirement: 'A messenger mailslot message MUST carry the recipient name To; senders write From NUL To NUL Text NUL.',
  },
  messngrTextUnterminated: {
    id: 'mailslot.messngr.text-unterminated', severity: 'note', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    observation: true,
    summary: 'the MESSNGR text lacks its terminating NUL',
    requirement: 'MS-MSRP names the fields, not their layout: senders end Text with NUL too, and one that does not MAY have been cut.',
  },
  messngrNameTooLong: {
    id: 'mailslot.messngr.name-too-long', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    check: { frames: MESSNGR },
    summary: 'From or To is longer than a NetBIOS name\'s 15 bytes',
    requirement: 'To MUST be a valid NetBIOS name (15 bytes and a suffix), and From SHOULD be one.',
  },
  messngrToAsterisk: {
    id: 'mailslot.messngr.to-asterisk', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    check: { frames: MESSNGR },
    summary: 'the recipient name begins with an asterisk',
    requirement: 'To MUST NOT begin with an asterisk character.',
  },
  messngrNoFrom: {
    id: 'mailslot.messngr.no-from', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    check: { frames: MESSNGR },
    summary: 'the MESSNGR body\'s From is empty: the message names no sender',
    requirement: 'The sender SHOULD provide a From name, and the NetBIOS name of the local computer when no sender name is available.',
  },
  messngrTextTooLong: {
    id: 'mailslot.messngr.text-too-long', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    check: { frames: MESSNGR },
    summary: 'the message text is longer than 652 bytes',
    requirement: 'Text MUST be 652 bytes or less in length.',
  },
  messngrToNotMessengerName: {
    id: 'mailslot.messngr.to-not-messenger-name', severity: 'warning', spec: 'MS-MSRP 2.1.2', scope: 'frame', role: 'client', transports: ['udp/nbdgm/smb/mailslot'],
    check: { frames: `${MESSNGR} && nbdgm` },
    summary: 'the datagram\'s destination name suffix is not 0x03',
    requirement: 'Mailslot messages MUST be sent to \\\\recipient name\\MAILSLOT\\MESSNGR, the recipient name being its NetBIOS messenger (0x03) name.',
  },
  messngrToMismatch: {
    id: 'mailslot.messngr.to-mismatch', severity: 'note', spec: 'MS-MSRP 2.1.2', scope: 'frame', role: 'client', transports: ['udp/nbdgm/smb/mailslot'],
    check: { frames: `${MESSNGR} && nbdgm.type == 0x10` },
    summary: 'To differs from the datagram\'s unique destination name',
    requirement: 'The recipient name MUST be the NetBIOS name of the intended recipient of the message.',
  },
});
