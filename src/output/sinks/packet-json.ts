// Frames as JSON: one array of objects (json) or one object per line (ndjson). Schema:
// docs/schema.md.
import { displayName } from '../../capture/display-name.js';
import type { Packet } from '../../model/packet.js';
import type { FileInfo } from '../../runner/analysis.js';
import { packetJsonText } from '../packet-view.js';
import type { Output } from '../writer.js';
import type { FrameTextSink } from './types.js';
import { jsonSafe } from '../escape.js';

export interface PacketJsonOptions {
  /** One object per line instead of one array. */
  readonly lines: boolean;
  /** Add the detail tree (-V) and the hex bytes (-x). */
  readonly tree: boolean;
  readonly hex: boolean;
}

export class PacketJsonSink implements FrameTextSink {
  private count = 0;

  constructor(private readonly out: Output, private readonly options: PacketJsonOptions) {}

  begin(): void {
    if (!this.options.lines) this.out.line('[');
  }

  packet(packet: Packet, file: FileInfo): void {
    const text = this.frameText(packet, file);
    this.out.line(this.comma() ? `,${text}` : text);
  }

  /** The frame's object (the array's commas are added as it is written). */
  frameText(packet: Packet, file: FileInfo): string {
    return jsonSafe(packetJsonText(packet, file.start ?? packet.frame, this.options, file.multi ? displayName(file.path) : undefined));
  }

  writeFrameBytes(bytes: Uint8Array): void {
    this.out.lineBytes(bytes, this.comma() ? ',' : '');
  }

  /** Whether the next object needs a comma before it (in an array, all but the first). */
  private comma(): boolean {
    return !this.options.lines && this.count++ > 0;
  }

  end(): void {
    if (!this.options.lines) this.out.line(']');
  }
}
