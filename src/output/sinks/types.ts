// Sinks: where records go. One small interface per record kind — frames (packets), timeline
// events, reports — and one file per format implementing it (registered in ./index.ts).
import type { Packet } from '../../model/packet.js';
import type { TimelineEvent } from '../../model/events.js';
import type { FileInfo } from '../../runner/analysis.js';
import type { Report } from '../report.js';

export interface PacketSink {
  /** Before the first record (e.g. a JSON array's opening bracket). */
  begin(): void;
  /** One dissected frame; valid during the call only. */
  packet(packet: Packet, file: FileInfo): void;
  end(): void | Promise<void>;
}

export interface EventSink {
  begin(): void;
  event(event: TimelineEvent, file: FileInfo): void;
  end(): void | Promise<void>;
}

/**
 * A packet sink whose output for a frame stands alone (no state across frames but what
 * `writeFrameText` adds): a lane of a capture split by flow makes the text, the main thread
 * writes it in frame order.
 */
export interface FrameTextSink extends PacketSink {
  /** What `packet` writes for the frame, as text. */
  frameText(packet: Packet, file: FileInfo): string;
  /** Writes a frame's text made by `frameText` (by a copy of this sink in a lane), as UTF-8. */
  writeFrameBytes(bytes: Uint8Array): void;
}

/** `J`: the report's JSON contract type; sinks that render any report take `unknown`. */
export interface ReportSink<J = unknown> {
  write(report: Report<J>): void | Promise<void>;
}
