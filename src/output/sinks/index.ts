// The sink registry: every output format of every record kind. A new format is one file
// implementing PacketSink, EventSink or ReportSink, plus its line here; the commands offer
// the formats listed (their --format choices come from these tables).
import type { Style } from '../style.js';
import type { Output } from '../writer.js';
import type { FieldsSelection } from '../fields-text.js';
import type { TimeFormat } from '../time-format.js';
import { EventCsvSink } from './event-csv.js';
import { EventEveSink, eveRecord } from './event-eve.js';
import { EventFieldsSink } from './event-fields.js';
import { EventJsonSink, eventJsonLine } from './event-json.js';
import { EventLogDirSink } from './event-log-dir.js';
import { jsonText } from '../escape.js';
import { EventTextSink } from './event-text.js';
import { PacketFieldsSink } from './packet-fields.js';
import { PacketJsonSink } from './packet-json.js';
import { PacketTextSink } from './packet-text.js';
import { ReportCsvSink } from './report-csv.js';
import { ReportJsonSink } from './report-json.js';
import { ReportTextSink } from './report-text.js';
import { VerifyJunitSink } from './verify-junit.js';
import { VerifySarifSink } from './verify-sarif.js';
import type { EventSink, PacketSink, ReportSink } from './types.js';
import type { VerifyJson } from '../../analysis/verify/result.js';

export type { EventSink, PacketSink, ReportSink } from './types.js';

/** What a sink may need: where to write, and how the user asked to see things. */
export interface SinkSettings {
  readonly out: Output;
  readonly style: Style;
  /** Terminal width for text lines, undefined for no cut. */
  readonly width: number | undefined;
  /** Detail tree (-V) and hex bytes (-x), for frames. */
  readonly verbose: boolean;
  readonly hex: boolean;
  /** tshark's -t for the text time column; undefined for each command's default. */
  readonly time: TimeFormat | undefined;
  /** The `-e` fields and `-E` options of `-T fields`. */
  readonly fields: FieldsSelection;
}

export const PACKET_SINKS = {
  text: (s: SinkSettings): PacketSink => new PacketTextSink(s.out, s),
  json: (s: SinkSettings): PacketSink => new PacketJsonSink(s.out, { lines: false, tree: s.verbose, hex: s.hex }),
  ndjson: (s: SinkSettings): PacketSink => new PacketJsonSink(s.out, { lines: true, tree: s.verbose, hex: s.hex }),
  fields: (s: SinkSettings): PacketSink => new PacketFieldsSink(s.out, s.fields),
} as const;

export const EVENT_SINKS = {
  text: (s: SinkSettings): EventSink => new EventTextSink(s.out, s.style, s.width, s.time),
  json: (s: SinkSettings): EventSink => new EventJsonSink(s.out, false),
  ndjson: (s: SinkSettings): EventSink => new EventJsonSink(s.out, true),
  csv: (s: SinkSettings): EventSink => new EventCsvSink(s.out),
  eve: (s: SinkSettings): EventSink => new EventEveSink(s.out),
  fields: (s: SinkSettings): EventSink => new EventFieldsSink(s.out, s.fields),
} as const;

/** `--log-dir DIR`: one file per event kind, each line as `ndjson` (or `eve`) prints it. */
export function eventLogDirSink(dir: string, format: 'ndjson' | 'eve'): EventSink {
  return new EventLogDirSink(dir, format === 'eve' ? (e, f) => jsonText(eveRecord(e, f)) : eventJsonLine);
}

export const REPORT_SINKS = {
  text: (s: SinkSettings): ReportSink => new ReportTextSink(s.out, s.style),
  json: (s: SinkSettings): ReportSink => new ReportJsonSink(s.out),
  csv: (s: SinkSettings): ReportSink => new ReportCsvSink(s.out),
} as const;

/** `verify`: any report format, plus JUnit XML and SARIF 2.1.0 drawn from its JSON contract. */
export const VERIFY_SINKS = {
  ...REPORT_SINKS,
  junit: (s: SinkSettings): ReportSink<VerifyJson> => new VerifyJunitSink(s.out),
  sarif: (s: SinkSettings): ReportSink<VerifyJson> => new VerifySarifSink(s.out),
} as const;

export type PacketFormat = keyof typeof PACKET_SINKS;
export type EventFormat = keyof typeof EVENT_SINKS;
export type ReportFormat = keyof typeof REPORT_SINKS;

export const PACKET_FORMATS = Object.keys(PACKET_SINKS) as PacketFormat[];
export const EVENT_FORMATS = Object.keys(EVENT_SINKS) as EventFormat[];
export const REPORT_FORMATS = Object.keys(REPORT_SINKS) as ReportFormat[];
export type VerifyFormat = keyof typeof VERIFY_SINKS;
export const VERIFY_FORMATS = Object.keys(VERIFY_SINKS) as VerifyFormat[];
