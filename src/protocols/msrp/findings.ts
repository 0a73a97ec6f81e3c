// MS-MSRP findings: the msgsvcsend (NetrSendMessage) and msgsvc (NetrMessageName*) calls and
// their NDR stubs.
import { declareFindings } from '../../model/findings.js';

const TRANSPORTS = ['udp/dcerpc', 'tcp/dcerpc', 'tcp/nbss/smb/pipe/dcerpc', 'tcp/nbss/smb2/pipe/dcerpc'];
/** The methods' own sections, which each emission of a per-method rule cites. */
const METHODS = 'MS-MSRP 3.1.4.1–3.1.4.4, 3.2.4.1';
/** Requests of either interface (DCE/RPC PTYPE 0, connectionless or connection-oriented), which `verify` judges server rules by. */
const REQUESTS = 'msrp && dcerpc.pkt_type == 0';
/** Responses that return MSG_INFO_1 entries: NetrMessageNameEnum and NetrMessageNameGetInfo. */
const INFO_REQUESTS = 'msrp.interface == "msgsvc" && msrp.opnum in {1 2} && dcerpc.pkt_type == 0';
const PER_METHOD = 'the method\'s section: NetrSendMessage 3.2.4.1, NetrMessageNameAdd 3.1.4.1, Enum 3.1.4.2, GetInfo 3.1.4.3, Del 3.1.4.4';

export const MSRP_FINDINGS = declareFindings({ protocol: 'msrp', transports: TRANSPORTS, appliesTo: ['msrp', 'msgsvc', 'msgsvcsend'] }, {
  truncatedStub: {
    id: 'msrp.truncated-stub', severity: 'error', spec: METHODS, specPerSite: PER_METHOD, scope: 'frame',
    summary: 'an argument cannot be decoded: the stub ends first or a count exceeds the bytes present',
    requirement: 'Each method\'s arguments MUST be in the stub, NDR-encoded as the method\'s IDL declares them.',
  },
  stringNoNul: {
    id: 'msrp.string-no-nul', severity: 'warning', spec: METHODS, specPerSite: PER_METHOD, scope: 'frame',
    summary: 'a [string] argument lacks its terminating NUL',
    requirement: 'From, To, Text, MsgName and the other string arguments MUST be null-terminated strings.',
  },
  embeddedNul: {
    id: 'msrp.embedded-nul', severity: 'note', spec: METHODS, specPerSite: PER_METHOD, scope: 'frame',
    summary: 'a NUL comes before the end of a counted string (spam tools send fixed 16-byte name buffers)',
    requirement: 'A string argument MUST be null-terminated; a NUL before the counted end leaves the characters after it outside the string.',
  },
  trailingBytes: {
    id: 'msrp.trailing-bytes', severity: 'note', spec: METHODS, specPerSite: PER_METHOD, scope: 'frame',
    summary: 'more than alignment padding follows the last argument',
    requirement: 'The stub MUST hold the method\'s arguments as its IDL declares them and nothing after the last one but alignment padding (under 8 bytes).',
  },
  nullRef: {
    id: 'msrp.null-ref', severity: 'error', spec: 'C706 14.3.10', scope: 'frame',
    summary: 'an embedded [ref] pointer is null',
    requirement: 'A reference pointer MUST NOT be null.',
  },
  countMismatch: {
    id: 'msrp.count-mismatch', severity: 'warning', spec: 'C706 14.3.4', scope: 'frame',
    summary: 'string or array counts disagree (offset not 0, actual_count over max_count, EntriesRead not max_count, union discriminant not Level)',
    requirement: 'A conformant varying string\'s offset MUST be 0 and its actual_count MUST NOT exceed max_count; counts that describe the same data MUST agree.',
  },
  unknownOpnum: {
    id: 'msrp.unknown-opnum', severity: 'error', spec: 'MS-MSRP 3.1.4, 3.2.4', specPerSite: 'the interface\'s method table: msgsvcsend 3.2.4, msgsvc 3.1.4', scope: 'frame', role: 'client',
    check: { frames: REQUESTS },
    summary: 'a call names an operation number the interface does not have',
    requirement: 'A call MUST use an operation the interface defines: opnum 0 on msgsvcsend, 0–3 on msgsvc.',
  },
  statusUnlisted: {
    id: 'msrp.status-unlisted', severity: 'note', spec: METHODS, specPerSite: PER_METHOD, scope: 'conversation', role: 'server',
    check: { frames: REQUESTS, bothSides: true },
    summary: 'a return value that the method\'s Return Values table does not list',
    requirement: 'A server SHOULD return one of the values the method\'s Return Values table lists (others are NET_API_STATUS / error_status_t codes the spec does not give for the method).',
  },
  textTooLong: {
    id: 'msrp.text-too-long', severity: 'warning', spec: 'MS-MSRP 3.2.4.4', scope: 'frame', role: 'client',
    check: { frames: 'msrp.interface == "msgsvcsend" && msrp.opnum == 0 && dcerpc.pkt_type == 0' },
    summary: 'NetrSendMessage Text is longer than 652 bytes',
    requirement: 'Text MUST be represented in the OEM character set and MUST be 652 bytes or less.',
  },
  ebcdic: {
    id: 'msrp.ebcdic', severity: 'note', spec: 'C706 14.2.1', scope: 'frame',
    observation: true,
    summary: 'the data representation says EBCDIC: strings are shown as Latin-1',
    requirement: 'A sender MAY label its data EBCDIC in the data representation format label; the receiver converts.',
  },
  badLevel: {
    id: 'msrp.bad-level', severity: 'warning', spec: 'MS-MSRP 3.1.4.3', specPerSite: 'NetrMessageNameGetInfo 3.1.4.3, or MSG_ENUM_STRUCT 2.2.2.5 for NetrMessageNameEnum', scope: 'frame',
    check: { frames: 'msrp.interface == "msgsvc" && msrp.opnum in {1 2}' },
    summary: 'Level is neither 0 nor 1',
    requirement: 'Level MUST be either 0 or 1.',
  },
  forwardFlag: {
    id: 'msrp.forward-flag', severity: 'warning', spec: 'MS-MSRP 2.2.2.2', scope: 'frame', role: 'server',
    check: { frames: INFO_REQUESTS, bothSides: true },
    summary: 'msgi1_forward_flag is not zero',
    requirement: 'msgi1_forward_flag MUST be set to zero when sent.',
  },
  forwardNotNull: {
    id: 'msrp.forward-not-null', severity: 'warning', spec: 'MS-MSRP 2.2.2.2', scope: 'frame', role: 'server',
    check: { frames: INFO_REQUESTS, bothSides: true },
    summary: 'msgi1_forward is not NULL',
    requirement: 'msgi1_forward MUST be NULL.',
  },
  msgnameTooLong: {
    id: 'msrp.msgname-too-long', severity: 'warning', spec: 'MS-MSRP 3.1.4.4', specPerSite: 'NetrMessageNameDel 3.1.4.4; Add and GetInfo cite their sending sections 3.1.4.5, 3.1.4.9', scope: 'frame', role: 'client',
    check: { frames: 'msrp.interface == "msgsvc" && msrp.opnum in {0 2 3} && dcerpc.pkt_type == 0' },
    summary: 'MsgName is longer than 16 characters with its NUL',
    requirement: 'MsgName MUST denote a recipient name, limited in length to 16 characters.',
  },
  transport: {
    id: 'msrp.transport', severity: 'error', spec: 'MS-MSRP 2.1.1', specPerSite: 'NetrSendMessage 3.2.4.2 (RPC over UDP), the name management methods 2.1.1 (RPC over named pipes)', scope: 'conversation', role: 'client',
    check: { frames: REQUESTS },
    summary: 'a call over a transport its interface does not use: msgsvcsend not over RPC over UDP, or msgsvc not over a named pipe',
    requirement: 'NetrSendMessage MUST be called over RPC over UDP (NCADG_IP_UDP) and the name management methods over RPC over named pipes (NCACN_NP, \\PIPE\\MSGSVC).',
  },
  totalEntries: {
    id: 'msrp.total-entries', severity: 'note', spec: 'MS-MSRP 3.1.4.8', scope: 'frame', role: 'server',
    check: { frames: 'msrp.interface == "msgsvc" && msrp.opnum == 1 && dcerpc.pkt_type == 0', bothSides: true },
    summary: 'NetrMessageNameEnum TotalEntries differs from the entries returned',
    requirement: 'The server MUST set TotalEntries to the number of names in the returned buffer.',
  },
});
