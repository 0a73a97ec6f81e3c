// Findings of the link, network and transport layers (src/net and the engine's IP, ICMP, UDP
// and TCP handling).
import { declareFindings } from '../model/findings.js';

/**
 * A frame shorter than a pseudo-header the capturing host wrote (Linux cooked, BSD loopback)
 * breaks no wire protocol: the capture record itself is short.
 */
const SHORT_RECORD = 'No wire protocol: a capture record shorter than the capturing host\'s own pseudo-header is damaged or crafted.';

export const ETH_FINDINGS = declareFindings({ protocol: 'eth' }, {
  truncated: {
    id: 'eth.truncated', severity: 'error', spec: 'IEEE 802.3 3.1.1', scope: 'frame',
    summary: 'the frame is shorter than the 14-byte Ethernet header',
    requirement: 'An Ethernet frame MUST start with the destination address, source address and Length/Type fields (14 bytes).',
  },
});

export const VLAN_FINDINGS = declareFindings({ protocol: 'vlan' }, {
  truncated: {
    id: 'vlan.truncated', severity: 'error', spec: 'IEEE 802.1Q 9.3', scope: 'frame',
    summary: 'the frame ends inside an 802.1Q tag',
    requirement: 'An 802.1Q tag MUST hold its tag control information and the encapsulated Length/Type (4 bytes).',
  },
});

export const LLC_FINDINGS = declareFindings({ protocol: 'llc' }, {
  truncated: {
    id: 'llc.truncated', severity: 'error', spec: 'IEEE 802.2 3', scope: 'frame',
    summary: 'the frame ends inside the LLC header',
    requirement: 'An LLC PDU MUST start with its DSAP, SSAP and control fields.',
  },
});

export const SLL_FINDINGS = declareFindings({ protocol: 'sll' }, {
  truncated: {
    id: 'sll.truncated', severity: 'error', spec: 'anomaly', scope: 'frame',
    summary: 'the record is shorter than the Linux cooked-capture header (16 bytes, 20 for SLL2)',
    requirement: SHORT_RECORD,
  },
});

export const NULL_FINDINGS = declareFindings({ protocol: 'null' }, {
  truncated: {
    id: 'null.truncated', severity: 'error', spec: 'anomaly', scope: 'frame',
    summary: 'the record is shorter than the 4-byte BSD loopback header',
    requirement: SHORT_RECORD,
  },
});

export const PPP_FINDINGS = declareFindings({ protocol: 'ppp' }, {
  truncated: {
    id: 'ppp.truncated', severity: 'error', spec: 'RFC 1661 2', scope: 'frame',
    summary: 'the frame ends inside the PPP header',
    requirement: 'A PPP frame MUST start with its Protocol field.',
  },
});

export const PPPOES_FINDINGS = declareFindings({ protocol: 'pppoes' }, {
  truncated: {
    id: 'pppoes.truncated', severity: 'error', spec: 'RFC 2516 4', scope: 'frame',
    summary: 'the frame ends inside the 6-byte PPPoE session header',
    requirement: 'A PPPoE packet MUST start with VER, TYPE, CODE, SESSION_ID and LENGTH (6 bytes).',
  },
});

export const IPX_FINDINGS = declareFindings({ protocol: 'ipx' }, {
  truncated: {
    id: 'ipx.truncated', severity: 'error', spec: 'anomaly', scope: 'frame',
    summary: 'the frame is shorter than the 30-byte IPX header',
    requirement: 'No clause to cite (Novell\'s IPX specification is not an open document): an IPX packet has a 30-byte header.',
  },
  badLength: {
    id: 'ipx.bad-length', severity: 'warning', spec: 'anomaly', scope: 'frame',
    summary: 'the IPX length field is below the header size or beyond the bytes present',
    requirement: 'No clause to cite (Novell\'s IPX specification is not an open document): the length field counts the header and data.',
  },
});

export const IP_FINDINGS = declareFindings({ protocol: 'ip' }, {
  malformed: {
    id: 'ip.malformed', severity: 'error', spec: 'RFC 791 3.1', scope: 'frame',
    summary: 'the IPv4 header cannot be read: truncated, version not 4, or IHL below 5',
    requirement: 'An IPv4 header MUST carry Version 4 and be at least five 32-bit words (IHL >= 5), present in full.',
  },
  badLength: {
    id: 'ip.bad-length', severity: 'error', spec: 'RFC 791 3.1', scope: 'frame',
    summary: 'the IPv4 Total Length is less than the header length',
    requirement: 'Total Length MUST count the whole datagram, header and data, in octets.',
  },
  defragOverlap: {
    id: 'ip.defrag.overlap', severity: 'warning', spec: 'anomaly', scope: 'frame',
    summary: 'IPv4 fragments of one datagram overlap, with the same bytes',
    requirement: 'No written rule: RFC 791 reassembles overlapping IPv4 fragments without comment; overlaps are reported because filters and receivers may disagree on them.',
  },
  defragConflict: {
    id: 'ip.defrag.conflict', severity: 'error', spec: 'anomaly', scope: 'frame',
    summary: 'IPv4 fragments overlap with different bytes; the first copy was kept',
    requirement: 'No written rule for IPv4: differing overlaps are the overlapping-fragment evasion of RFC 1858, where receivers may keep different copies.',
  },
  defragLimit: {
    id: 'ip.defrag.limit', severity: 'warning', spec: 'bound', scope: 'frame',
    summary: 'a fragment was not reassembled: it ends past 65,535 bytes, or it alone would pass the bytes waiting across datagrams',
    requirement: 'A reassembled datagram ends by byte 65,535, and at most 64 MiB of fragments wait across datagrams (older datagrams are given up first, see ip.defrag.incomplete).',
  },
  defragIncomplete: {
    id: 'ip.defrag.incomplete', severity: 'warning', spec: 'RFC 1122 3.3.2', scope: 'frame', appliesTo: ['ip', 'ipv6'],
    summary: 'an IPv4 or IPv6 datagram never completed: its fragments were not reassembled (60 s, end of capture, or given up as the oldest when 4096 datagrams or 64 MiB were in reassembly); one finding per datagram',
    requirement: 'A partly reassembled datagram whose reassembly timeout expires MUST be discarded, so its fragments never reach the upper layer.',
  },
  tunnelDepth: {
    id: 'ip.tunnel-depth', severity: 'warning', spec: 'bound', scope: 'frame', appliesTo: ['ip', 'ipv6'],
    summary: 'more nested IP-in-IP headers than decoded; the inner ones are skipped',
    requirement: 'At most 4 nested IPv4/IPv6 headers are decoded in one frame.',
  },
});

export const IPV6_FINDINGS = declareFindings({ protocol: 'ipv6' }, {
  malformed: {
    id: 'ipv6.malformed', severity: 'error', spec: 'RFC 8200 3', scope: 'frame',
    summary: 'the IPv6 header or an extension header cannot be read (truncated, version not 6, more than 16 extension headers)',
    requirement: 'An IPv6 packet MUST start with the 40-byte fixed header carrying Version 6, followed by whole extension headers.',
  },
  defragOverlap: {
    id: 'ipv6.defrag.overlap', severity: 'error', spec: 'RFC 8200 4.5', scope: 'frame',
    summary: 'IPv6 fragments of one packet overlap (they are reassembled anyway, the first copy kept)',
    requirement: 'A reassembled packet whose fragments overlap MUST be silently discarded by the receiver.',
  },
  defragLimit: {
    id: 'ipv6.defrag.limit', severity: 'warning', spec: 'bound', scope: 'frame',
    summary: 'a fragment was not reassembled: it ends past 65,535 bytes, or it alone would pass the bytes waiting across packets',
    requirement: 'A reassembled packet ends by byte 65,535, and at most 64 MiB of fragments wait across packets (older packets are given up first, see ip.defrag.incomplete).',
  },
});

export const ICMP_FINDINGS = declareFindings({ protocol: 'icmp' }, {
  truncated: {
    id: 'icmp.truncated', severity: 'error', spec: 'RFC 792 Message Formats', scope: 'frame',
    summary: 'the ICMP message is shorter than its 4-byte type, code and checksum',
    requirement: 'Every ICMP message MUST start with Type, Code and Checksum.',
  },
});

export const ICMPV6_FINDINGS = declareFindings({ protocol: 'icmpv6' }, {
  truncated: {
    id: 'icmpv6.truncated', severity: 'error', spec: 'RFC 4443 2.1', scope: 'frame',
    summary: 'the ICMPv6 message is shorter than its 4-byte type, code and checksum',
    requirement: 'Every ICMPv6 message MUST start with Type, Code and Checksum.',
  },
});

export const UDP_FINDINGS = declareFindings({ protocol: 'udp' }, {
  truncated: {
    id: 'udp.truncated', severity: 'error', spec: 'RFC 768 Format', scope: 'frame',
    summary: 'the datagram is shorter than the 8-byte UDP header',
    requirement: 'A UDP datagram MUST start with the 8-byte header (ports, Length, Checksum).',
  },
  badLength: {
    id: 'udp.bad-length', severity: 'warning', spec: 'RFC 768 Fields', scope: 'frame',
    summary: 'the UDP Length field disagrees with the bytes IP delivered',
    requirement: 'Length MUST be the length in octets of the datagram, header and data.',
  },
  tableFull: {
    id: 'udp.table-full', severity: 'note', spec: 'bound', scope: 'conversation',
    summary: 'too many UDP flows tracked: the oldest were retired early (they keep their udp.stream)',
    requirement: 'At most 262,144 UDP flows (by default; -o flows.limit) are tracked at once; past it the oldest sixteenth is retired, keeping only its stream number.',
  },
  numberingLimit: {
    id: 'udp.numbering-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many idle UDP flows remembered: their stream numbers were forgotten, so a later datagram of one starts a new udp.stream',
    requirement: 'The stream numbers of at most 2,097,152 retired UDP flows (idle 120 s, or set aside by a full table) are kept; past it all of them are forgotten at once.',
  },
});

export const TCP_FINDINGS = declareFindings({ protocol: 'tcp' }, {
  malformed: {
    id: 'tcp.malformed', severity: 'error', spec: 'RFC 793 3.1', scope: 'frame',
    summary: 'the TCP header cannot be read: truncated, or Data Offset below 5 or past the segment',
    requirement: 'A TCP header MUST be at least five 32-bit words (Data Offset >= 5) and lie within the segment.',
  },
  gap: {
    id: 'tcp.gap', severity: 'warning', spec: 'anomaly', scope: 'conversation',
    summary: 'bytes of the stream were never captured; the layers above resynchronise after them',
    requirement: 'No protocol rule: the sender delivered these bytes (later ones were acknowledged or followed) but the capture does not hold them.',
  },
  overlapConflict: {
    id: 'tcp.overlap-conflict', severity: 'error', spec: 'anomaly', scope: 'conversation',
    summary: 'a retransmission carries bytes that differ from the first copy; the first copy was kept',
    requirement: 'No written MUST: a retransmission repeats the same sequence space, so differing bytes mean receivers (and analyzers) may see different streams.',
  },
  reassemblyLimit: {
    id: 'tcp.reassembly-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too much out-of-order data waits in one direction: the oldest hole is declared a gap',
    requirement: 'At most 2 MiB (2,097,152 bytes) or 4096 segments of out-of-order data wait per direction of a TCP conversation, and 64 MiB across all conversations by default (-o tcp.reassembly_limit; the largest wait is given up first).',
  },
  historyLimit: {
    id: 'tcp.history-limit', severity: 'note', spec: 'bound', scope: 'conversation',
    summary: 'the delivered bytes kept to compare retransmissions against stopped growing in one direction: the budget across conversations was reached',
    requirement: 'Each direction of a TCP conversation keeps its last delivered bytes (up to 64 KiB) to check that retransmitted bytes equal the first copy; past the first 512 bytes these histories share 32 MiB across all conversations by default (-o tcp.history_limit). One finding per direction refused.',
  },
  tableFull: {
    id: 'tcp.table-full', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many TCP conversations tracked: the oldest were ended and forgotten, so a later segment of one starts a new tcp.stream',
    requirement: 'At most 262,144 TCP conversations (by default; -o flows.limit) are tracked at once; past it the oldest sixteenth is ended and forgotten.',
  },
  numberingLimit: {
    id: 'tcp.numbering-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many TCP conversations ended idle remembered: their stream numbers were forgotten, so a later segment of one starts a new tcp.stream',
    requirement: 'The stream numbers, sequence bases and window scales of at most 262,144 TCP conversations ended by the idle timeout (15 minutes) are kept after they leave the table; past it all of them are forgotten at once.',
  },
  halfOpenLimit: {
    id: 'tcp.half-open-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many TCP conversations that carried no data yet (a SYN flood, a connect scan): the oldest were forgotten',
    requirement: 'At most 65,536 TCP conversations that carried no data yet — SYNs no one answered, handshakes with nothing after them — are tracked at once (by default; -o tcp.half_open_limit); past it the oldest sixteenth is forgotten, and a later segment of one starts a new tcp.stream.',
  },
  stalledLimit: {
    id: 'tcp.stalled-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many TCP conversations left inside a message the buffer budget gave up, sending nothing since: the oldest were ended and forgotten',
    requirement: 'At most 1,024 open TCP conversations whose unfinished application message was given up by the buffer budget (-o app.buffer_limit), and which carried no payload since, are kept (by default; -o tcp.stalled_limit); past it the sixteenth stalled longest is ended and forgotten (application state, analysis, numbers), and a later segment of one starts a new tcp.stream.',
  },
  appLimit: {
    id: 'tcp.app-limit', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many open TCP conversations holding application state: the least recently active were ended (a later segment takes its numbers up again)',
    requirement: 'At most 16,384 open TCP conversations hold application state at once (by default; -o tcp.app_limit); past it the sixteenth least recently active is ended as if idle: its application is told and released, its stream number and sequence bases are kept, and a later segment of one finds its application again from there.',
  },
  bufferBudget: {
    id: 'tcp.buffer-budget', severity: 'warning', spec: 'bound', scope: 'conversation',
    summary: 'too many bytes of unfinished application messages across all connections: the largest was dropped',
    requirement: 'At most 64 MiB (67,108,864 bytes; -o app.buffer_limit) of buffers hold partial application messages across all connections, counted by the room they take (a buffer grows by doubling, so up to twice its bytes); past it the connection whose buffer takes the most gives its bytes up, as after a gap.',
  },
});
