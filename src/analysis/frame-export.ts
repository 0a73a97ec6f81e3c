// `-w FILE`: the selected frames saved as pcapng, with a packet comment per finding.
//
// Frames (`read -w`): FrameExport writes each frame that passed -Y as it goes by.
// Events (`timeline -w`): an event's frames are known only when the event completes, long after
// the frames went by, so EventFrames keeps only their numbers (and the findings' comments) per
// capture, and writeEventFrames reads each capture a second time, without dissecting, copying the
// frames whose numbers were kept. Memory is one number per selected frame, never frame bytes;
// the price is reading the file twice, which standard input cannot do (usage error).
// Any analysis that sees events (audit, verify) plugs in the same way: add an EventFrames to the
// runner's analyses, then call writeEventFrames after the run.
import type { Frame } from '../capture/frame.js';
import { readCapture } from '../capture/open.js';
import { PcapngWriter } from '../capture/pcapng-writer.js';
import type { TimelineEvent } from '../model/events.js';
import type { Finding } from '../model/findings.js';
import type { Packet } from '../model/packet.js';
import type { Analysis, FileInfo } from '../runner/analysis.js';

/** The packet comment that records a finding: what Wireshark users read as expert info. */
export function findingComment(f: Finding): string {
  return `msgscope ${f.severity}: ${f.summary} [${f.id}; ${f.spec}]`;
}

function commentsOf(frame: Frame, findings: readonly Finding[]): string[] {
  return [...(frame.comments ?? []), ...findings.map(findingComment)];
}

/** Writes every frame it is given (those that passed the frame filter), then closes the file. */
export class FrameExport implements Analysis {
  constructor(private readonly writer: PcapngWriter) {}

  packet(packet: Packet): void {
    const frame = packet.frame;
    const own = packet.findings.filter((f) => f.frame === frame.number || f.frame === 0);
    this.writer.packet(this.writer.interfaceFor(frame.linkType, ''), frame, commentsOf(frame, own));
  }

  finish(): void {
    this.writer.close();
  }
}

/** Per capture: the frame numbers of the selected events, and their findings' comments by frame. */
interface Selection {
  readonly path: string;
  readonly frames: Set<number>;
  readonly comments: Map<number, string[]>;
}

/** Collects the frames of the events that passed the event filter (first pass of `timeline -w`). */
export class EventFrames implements Analysis {
  readonly selections: Selection[] = [];

  beginFile(file: FileInfo): void {
    this.selections[file.index] = { path: file.path, frames: new Set(), comments: new Map() };
  }

  event(event: TimelineEvent, file: FileInfo): void {
    const selection = this.selections[file.index];
    if (selection === undefined) return;
    for (const n of event.frames) selection.frames.add(n);
    for (const f of event.findings) {
      if (!selection.frames.has(f.frame)) continue;
      const list = selection.comments.get(f.frame) ?? [];
      const text = findingComment(f);
      if (!list.includes(text)) list.push(text);
      selection.comments.set(f.frame, list);
    }
  }
}

/** The second pass: copies the collected frames of each capture, in file order; returns how many. */
export async function writeEventFrames(collected: EventFrames, writer: PcapngWriter): Promise<number> {
  try {
    for (const selection of collected.selections) {
      if (selection === undefined || selection.frames.size === 0) continue;
      let left = selection.frames.size;
      await readCapture(selection.path, {
        frame: (frame) => {
          if (left === 0 || !selection.frames.has(frame.number)) return;
          left--;
          writer.packet(writer.interfaceFor(frame.linkType, ''), frame, commentsOf(frame, []).concat(selection.comments.get(frame.number) ?? []));
        },
        warning: () => {},
      });
    }
  } finally {
    writer.close();
  }
  return writer.count;
}
