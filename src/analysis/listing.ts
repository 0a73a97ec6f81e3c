// The frame listing (`read`, `live`): every frame the filter selects, handed to the sinks.
import type { Packet } from '../model/packet.js';
import type { PacketSink } from '../output/sinks/index.js';
import type { Analysis, FileInfo } from '../runner/analysis.js';

export class PacketListing implements Analysis {
  constructor(private readonly sinks: readonly PacketSink[]) {}

  start(): void {
    for (const sink of this.sinks) sink.begin();
  }

  packet(packet: Packet, file: FileInfo): void {
    for (const sink of this.sinks) sink.packet(packet, file);
  }

  async finish(): Promise<void> {
    for (const sink of this.sinks) await sink.end();
  }
}
