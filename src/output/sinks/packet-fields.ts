// Frames as tshark's `-T fields`: one line per frame with the `-e` fields' values.
import { PacketFieldReader } from '../../filter/packet-fields.js';
import type { Packet } from '../../model/packet.js';
import type { FileInfo } from '../../runner/analysis.js';
import { fieldsLine, fieldsPreamble, fieldText, type FieldsSelection } from '../fields-text.js';
import type { Output } from '../writer.js';
import type { FrameTextSink } from './types.js';

export class PacketFieldsSink implements FrameTextSink {
  private readonly reader: PacketFieldReader;
  private file = -1;

  constructor(private readonly out: Output, private readonly selection: FieldsSelection) {
    this.reader = new PacketFieldReader(selection.names);
  }

  begin(): void {
    const first = fieldsPreamble(this.selection);
    if (first !== undefined) this.out.line(first);
  }

  /** Whether a frame's line stands alone: not when a field is timed across frames. */
  get framesStandAlone(): boolean {
    return !this.reader.readsFrameTimes;
  }

  packet(packet: Packet, file: FileInfo): void {
    this.out.line(this.frameText(packet, file));
  }

  frameText(packet: Packet, file: FileInfo): string {
    if (file.index !== this.file) {
      this.file = file.index;
      this.reader.reset();
    }
    const cells = this.reader.read(packet).map((f) => f.values.map((v) => fieldText(f.def, v)));
    return fieldsLine(cells, this.selection.options);
  }

  writeFrameBytes(bytes: Uint8Array): void {
    this.out.lineBytes(bytes);
  }

  end(): void {}
}
