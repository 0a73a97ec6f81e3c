// Timeline events as Suricata eve records (`--format eve`): one JSON object per line with eve's
// common keys — timestamp, flow_id, pcap_cnt, event_type, src_ip, src_port, dest_ip, dest_port,
// proto, app_proto, community_id — and our event under the key its event_type names, as
// Suricata puts an smb or dns record under `smb` or `dns`. Schema: docs/schema.md.
import { displayName } from '../../capture/display-name.js';
import type { TimelineEvent } from '../../model/events.js';
import type { FileInfo } from '../../runner/analysis.js';
import { endpointParts, flowIdOf, transportProtocol } from '../../runner/flow-ids.js';
import { IPPROTO_TCP } from '../../net/community-id.js';
import { eventJson } from '../event-view.js';
import { jsonText } from '../escape.js';
import { isoTime } from '../time.js';
import type { Output } from '../writer.js';
import type { EventSink } from './types.js';

/** One eve record. A `finding` event is an `anomaly` record, as Suricata logs protocol anomalies. */
export function eveRecord(event: TimelineEvent, file: FileInfo): Record<string, unknown> {
  const { time, src, dst, protocol, community_id: communityId, ...ours } = eventJson(event);
  void time;
  const eventType = event.kind === 'finding' ? 'anomaly' : event.protocol;
  const record: Record<string, unknown> = {
    // Suricata's form: an ISO-8601 local time with a numeric offset, here always UTC.
    timestamp: isoTime(event.tsSec, event.tsNsec).replace(/Z$/, '+0000'),
  };
  if (event.uid !== undefined) record.flow_id = flowIdOf(event.uid);
  if (file.multi) record.pcap_filename = displayName(file.path);
  if (event.frames.length > 0) record.pcap_cnt = event.frames[0];
  record.event_type = eventType;
  const from = endpointParts(String(src));
  const to = endpointParts(String(dst));
  if (from !== undefined && to !== undefined) {
    record.src_ip = from.ip;
    record.src_port = from.port;
    record.dest_ip = to.ip;
    record.dest_port = to.port;
  }
  const proto = transportProtocol(event.transport);
  if (proto !== undefined) record.proto = proto === IPPROTO_TCP ? 'TCP' : 'UDP';
  record.app_proto = protocol;
  if (communityId !== undefined) record.community_id = communityId;
  record[eventType] = event.kind === 'finding' ? { event: event.findings[0]?.id, layer: protocol, ...ours } : ours;
  return record;
}

export class EventEveSink implements EventSink {
  constructor(private readonly out: Output) {}

  begin(): void {}

  event(event: TimelineEvent, file: FileInfo): void {
    this.out.line(jsonText(eveRecord(event, file)));
  }

  end(): void {}
}
