// DCE/RPC findings: connection-oriented (C706 chapter 12.6) and connectionless (C706 12.5,
// chapter 10) PDUs, fragments and call matching.
import { declareFindings } from '../../model/findings.js';

const CO_TRANSPORTS = ['tcp/dcerpc', 'tcp/nbss/smb/pipe/dcerpc', 'tcp/nbss/smb2/pipe/dcerpc'];

// The frames `verify` judges each rule on (a RuleCheck's display filter).
/** Connection-oriented fragments of a fragmented request or response. */
const CO_FRAGMENTS = 'dcerpc.pkt_type in {0 2} && !(dcerpc.cn_flags.first_frag == 1 && dcerpc.cn_flags.last_frag == 1)';
/** Connectionless fragments. */
const CL_FRAGMENTS = 'dcerpc.dg_flags1_frag == 1';

export const DCERPC_CO_FINDINGS = declareFindings({ protocol: 'dcerpc', transports: CO_TRANSPORTS }, {
  bufferLimit: {
    id: 'dcerpc.co.buffer-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'more bytes of one direction than the buffer holds wait for the end of a PDU: dropped',
    requirement: 'At most 4 MiB (4,194,304 bytes) of one direction are buffered while a PDU is incomplete.',
  },
  truncatedPdu: {
    id: 'dcerpc.co.truncated-pdu', severity: 'warning', spec: 'C706 12.6.3', scope: 'conversation',
    summary: 'the connection ended inside a PDU',
    requirement: 'A PDU MUST carry frag_length bytes in all, header included.',
  },
  fragmentsIncomplete: {
    id: 'dcerpc.co.fragments-incomplete', severity: 'warning', spec: 'C706 12.6.3.1', scope: 'conversation',
    check: { frames: CO_FRAGMENTS },
    summary: 'a fragmented request or response never got its last fragment before the connection ended',
    requirement: 'A fragmented call MUST end with a fragment that has PFC_LAST_FRAG set.',
  },
  badHeader: {
    id: 'dcerpc.co.bad-header', severity: 'error', spec: 'C706 12.6.3', scope: 'conversation',
    summary: 'bytes that do not start a DCE/RPC v5 PDU were skipped to the next plausible header',
    requirement: 'Every connection-oriented PDU MUST start with the common header: version 5, a known PTYPE, frag_length covering the header.',
  },
  badAuth: {
    id: 'dcerpc.co.bad-auth', severity: 'error', spec: 'C706 13.2.6.1', scope: 'frame',
    check: { frames: 'dcerpc.cn_auth_len > 0' },
    summary: 'auth_length does not fit the PDU: the authentication trailer cannot be read',
    requirement: 'The authentication verifier MUST be auth_length bytes at the end of the PDU, after its 8-byte sec_trailer.',
  },
  version: {
    id: 'dcerpc.co.version', severity: 'warning', spec: 'C706 12.6.3', scope: 'frame',
    summary: 'the PDU declares a minor version above 1',
    requirement: 'rpc_vers_minor MUST be 0 or 1 for version 5.',
  },
  malformed: {
    id: 'dcerpc.co.malformed', severity: 'error', spec: 'C706 12.6.4', specPerSite: 'the PDU type\'s section: bind 12.6.4.3, bind_ack 12.6.4.4, bind_nak 12.6.4.5, fault 12.6.4.7, request 12.6.4.9, response 12.6.4.10', scope: 'frame',
    summary: 'a PDU body is shorter than its type\'s fixed fields or its context list',
    requirement: 'Each PDU type MUST carry the fields its definition lists within frag_length.',
  },
  bindResults: {
    id: 'dcerpc.co.bind-results', severity: 'warning', spec: 'C706 12.6.4.4', scope: 'conversation', role: 'server',
    check: { frames: 'dcerpc.pkt_type in {11 14}', bothSides: true },
    summary: 'a bind_ack has a different number of results than the bind proposed contexts',
    requirement: 'The bind_ack result list MUST hold one result per presentation context the bind proposed, in order.',
  },
  contextRejected: {
    id: 'dcerpc.co.context-rejected', severity: 'note', spec: 'C706 12.6.4.4', scope: 'conversation', role: 'server',
    observation: true,
    summary: 'the server rejected a proposed presentation context (reason given)',
    requirement: 'The server MAY reject a proposed context, giving a reason in the result list.',
  },
  bindNak: {
    id: 'dcerpc.co.bind-nak', severity: 'note', spec: 'C706 12.6.4.5', scope: 'conversation', role: 'server',
    observation: true,
    summary: 'the server refused the association (bind_nak, reason given)',
    requirement: 'A server that refuses an association MUST answer the bind with bind_nak and a rejection reason.',
  },
  orphaned: {
    id: 'dcerpc.co.orphaned', severity: 'note', spec: 'C706 12.6.4.8', scope: 'conversation', role: 'client',
    observation: true,
    summary: 'the client abandoned a call in progress (orphaned PDU)',
    requirement: 'A client MAY abandon a call by sending orphaned with its call_id; no response follows.',
  },
  fragmentRestart: {
    id: 'dcerpc.co.fragment-restart', severity: 'warning', spec: 'C706 12.6.3.1', scope: 'conversation',
    check: { frames: CO_FRAGMENTS },
    summary: 'a first fragment arrived while the same call_id still waited for its last fragment',
    requirement: 'The fragments of a call MUST be sent in order, from the one with PFC_FIRST_FRAG to the one with PFC_LAST_FRAG.',
  },
  fragmentLimit: {
    id: 'dcerpc.co.fragment-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'a fragmented call passed a bound and was dropped',
    requirement: 'At most 4096 fragmented calls wait per direction, each with at most 4096 fragments and 16 MiB of stub.',
  },
  fragmentOrphan: {
    id: 'dcerpc.co.fragment-orphan', severity: 'note', spec: 'C706 12.6.3.1', scope: 'conversation',
    check: { frames: CO_FRAGMENTS, fromStart: true },
    summary: 'a fragment whose first fragment is not in the capture',
    requirement: 'A call\'s first fragment MUST have PFC_FIRST_FRAG set; later ones follow it on the connection.',
  },
  unknownContext: {
    id: 'dcerpc.co.unknown-context', severity: 'note', spec: 'anomaly', scope: 'conversation',
    summary: 'a request names a context id whose bind is not in the capture: its interface is unknown',
    requirement: 'No rule is broken when the bind precedes the capture: a request\'s p_cont_id names a context negotiated earlier on the connection.',
  },
  callIdReused: {
    id: 'dcerpc.co.call-id-reused', severity: 'warning', spec: 'C706 12.6.3.1', scope: 'conversation', role: 'client',
    check: { frames: 'dcerpc.pkt_type == 0', bothSides: true },
    summary: 'a new request reused the call_id of a call still waiting for its response',
    requirement: 'A call_id MUST identify one call on the association until the call completes.',
  },
  unmatchedResponse: {
    id: 'dcerpc.co.unmatched-response', severity: 'note', spec: 'anomaly', scope: 'conversation',
    summary: 'a response whose request is not in the capture',
    requirement: 'No rule is broken when the request precedes the capture: every response answers a request with the same call_id.',
  },
});

export const DCERPC_CL_FINDINGS = declareFindings({ protocol: 'dcerpc', transports: ['udp/dcerpc'] }, {
  malformed: {
    id: 'dcerpc.cl.malformed', severity: 'error', spec: 'C706 12.5.1', scope: 'frame',
    summary: 'the datagram is shorter than the 80-byte connectionless header',
    requirement: 'Every connectionless PDU MUST start with the 80-byte header (version 4).',
  },
  truncated: {
    id: 'dcerpc.cl.truncated', severity: 'error', spec: 'C706 12.5.1', scope: 'frame',
    summary: 'the header\'s fragment length is larger than the body bytes present',
    requirement: 'The header\'s len MUST be the length of the PDU body that follows the header.',
  },
  version: {
    id: 'dcerpc.cl.version', severity: 'warning', spec: 'C706 12.5.1', scope: 'frame',
    summary: 'the connectionless header\'s version is not 4',
    requirement: 'rpc_vers MUST be 4 in connectionless PDUs.',
  },
  flags2Mbz: {
    id: 'dcerpc.cl.flags2-mbz', severity: 'warning', spec: 'C706 12.5.1', scope: 'frame',
    summary: 'flags2 sets bits that are reserved',
    requirement: 'The reserved bits of flags2 MUST be zero.',
  },
  unexpectedBody: {
    id: 'dcerpc.cl.unexpected-body', severity: 'warning', spec: 'C706 12.5.1', scope: 'frame',
    check: { frames: 'dcerpc.pkt_type in {1 4 5}' },
    summary: 'a ping, working or nocall PDU declares a body',
    requirement: 'PDU types without a body (ping, working, nocall) MUST have len 0.',
  },
  fragnum: {
    id: 'dcerpc.cl.fragnum', severity: 'note', spec: 'C706 12.5.1', scope: 'frame',
    check: { frames: 'dcerpc.dg_flags1_frag == 0' },
    summary: 'an unfragmented PDU carries a fragment number other than 0',
    requirement: 'fragnum MUST be 0 in a PDU that is not a fragment.',
  },
  retransmission: {
    id: 'dcerpc.cl.retransmission', severity: 'note', spec: 'C706 10.2', scope: 'conversation', role: 'client',
    observation: true,
    summary: 'a request with the same activity and sequence number was sent again',
    requirement: 'A client MAY retransmit a request that has not been answered; the copy keeps its activity id and sequence number.',
  },
  duplicateFragment: {
    id: 'dcerpc.cl.duplicate-fragment', severity: 'note', spec: 'C706 10.2', scope: 'conversation',
    observation: true,
    summary: 'a fragment received again with the same bytes',
    requirement: 'A sender MAY retransmit a fragment that was not acknowledged; the copy carries the same bytes.',
  },
  fragmentConflict: {
    id: 'dcerpc.cl.fragment-conflict', severity: 'error', spec: 'C706 10.2.2', scope: 'conversation',
    check: { frames: CL_FRAGMENTS },
    summary: 'a fragment received again with different bytes; the first copy was kept',
    requirement: 'Every copy of a fragment (same activity, sequence and fragment number) MUST carry the same bytes.',
  },
  bouncedFragment: {
    id: 'dcerpc.cl.bounced-fragment', severity: 'warning', spec: 'anomaly', scope: 'conversation',
    summary: 'an ICMP error came back for a fragment of a request still being joined: the request never arrives whole',
    requirement: 'No protocol rule: the network refused to deliver a fragment (ICMP error quoting it).',
  },
  bounceUnmatched: {
    id: 'dcerpc.cl.bounce-unmatched', severity: 'note', spec: 'anomaly', scope: 'conversation',
    summary: 'an ICMP error quotes a request that is not in the capture',
    requirement: 'No protocol rule: the request left before the capture started, or another host sent it.',
  },
  unmatchedResponse: {
    id: 'dcerpc.cl.unmatched-response', severity: 'note', spec: 'anomaly', scope: 'conversation',
    summary: 'a response whose request is not in the capture',
    requirement: 'No rule is broken when the request precedes the capture: every response answers a request with the same activity and sequence number.',
  },
  shortStatus: {
    id: 'dcerpc.cl.short-status', severity: 'error', spec: 'C706 12.5.3', specPerSite: 'the PDU type\'s section: fault 12.5.3.5, reject 12.5.3.9', scope: 'frame', role: 'server',
    check: { frames: 'dcerpc.pkt_type in {3 6}' },
    summary: 'a fault or reject PDU body is too short to hold its 4-byte status',
    requirement: 'A fault or reject PDU MUST carry a 32-bit status code in its body.',
  },
  pendingLimit: {
    id: 'dcerpc.cl.pending-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many unanswered calls: the oldest is reported without waiting for its answer',
    requirement: 'At most 65,536 connectionless calls wait for their answers at once.',
  },
  fragmentLimit: {
    id: 'dcerpc.cl.fragment-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'a call passed the fragment bound: the fragment was dropped',
    requirement: 'At most 4096 fragments and 8 MiB (8,388,608 bytes) of stub are joined per call.',
  },
  twoLastFragments: {
    id: 'dcerpc.cl.two-last-fragments', severity: 'error', spec: 'C706 12.5.3.1', scope: 'conversation',
    check: { frames: CL_FRAGMENTS },
    summary: 'two different fragments of one call are both marked last',
    requirement: 'Only the final fragment of a call MUST have the lastfrag flag set.',
  },
  fragmentsIncomplete: {
    id: 'dcerpc.cl.fragments-incomplete', severity: 'warning', spec: 'C706 10.2.2', scope: 'conversation',
    check: { frames: CL_FRAGMENTS },
    summary: 'a fragmented call never completed (missing fragment numbers listed; 300 s, 4096 calls in progress, or end of capture)',
    requirement: 'A receiver MUST hold every fragment from 0 to the one marked last before the call\'s PDU is complete.',
  },
});
