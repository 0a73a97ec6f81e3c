// The one runner: takes frame sources (files, standard input, a live interface), drives a
// fresh engine per source, and fans packets and events out to any number of analyses. It owns
// what every command shares: the progress bar, the frame and event filters (-Y), the frame
// limit (-c), the reorder window that puts events in frame order, warnings about the input,
// and the tally of error findings behind --fail-on-error's exit status.
import type { Frame } from '../capture/frame.js';
import { Engine } from '../engine/engine.js';
import type { EngineOptions, LaneStreams } from '../engine/context.js';
import type { ProtocolSet } from '../engine/protocols.js';
import type { Packet } from '../model/packet.js';
import type { TimelineEvent } from '../model/events.js';
import type { Finding } from '../model/findings.js';
import type { EventFilter, PacketFilter } from '../filter/index.js';
import { Progress, wantProgress } from '../output/progress.js';
import { CarrierFindings } from './carriers.js';
import type { Analysis, FileInfo, Timestamp } from './analysis.js';
import { DEFAULT_REORDER, ReorderWindow, type ReorderLimits } from './reorder.js';
import type { FrameSource } from './sources.js';
import { withFlowIds } from './flow-ids.js';

/** Thrown inside a run to stop reading early (the frame limit); not an error. */
class StopReading extends Error {}

export interface RunnerOptions {
  readonly engine: EngineOptions;
  /** The protocols each engine dissects (a fresh set per capture: no state shared between files). */
  readonly protocols: () => ProtocolSet;
  /** Frames an analysis sees (-Y on frames); all when undefined. */
  readonly frameFilter?: PacketFilter;
  /** Events an analysis sees (-Y on events); all when undefined. */
  readonly eventFilter?: EventFilter;
  /** Stop after this many frames passed the frame filter (-c). */
  readonly frameLimit?: number;
  /** Show a progress bar for slow files (it still needs stderr to be a terminal and no --quiet). */
  readonly progress: boolean;
  readonly quiet: boolean;
  readonly reorder?: ReorderLimits;
  /** Where warnings about the input go (default: stderr unless quiet); a worker sends them to the main thread. */
  readonly onWarning?: (message: string) => void;
  /** The capture-wide tcp.stream and udp.stream numbers, for a lane of a capture split by flow. */
  readonly streams?: LaneStreams;
}

class RunFile implements FileInfo {
  start: Timestamp | undefined;
  constructor(readonly path: string, readonly label: string, readonly index: number, readonly multi: boolean, readonly size: number | undefined) {}
}

export class Runner {
  /** Error-severity findings on the frames and events handed to analyses. */
  errors = 0;
  private readonly packetAnalyses: Analysis[];
  private readonly eventAnalyses: Analysis[];
  private shown = 0;
  private readonly carriers = new CarrierFindings();
  /** The engine of the capture being read. */
  private engine: Engine | undefined;
  /** Whether an analysis or the event filter may read the events' flow ids. */
  private readonly flowIds: boolean;

  constructor(private readonly analyses: readonly Analysis[], private readonly options: RunnerOptions) {
    this.packetAnalyses = analyses.filter((a) => a.packet !== undefined);
    this.eventAnalyses = analyses.filter((a) => a.event !== undefined);
    this.flowIds = options.eventFilter !== undefined || this.eventAnalyses.some((a) => a.flowIds !== false);
  }

  /** Reads every source in turn (frame numbers restart at 1 in each), then finishes the analyses. */
  async run(sources: readonly FrameSource[]): Promise<void> {
    for (const analysis of this.analyses) analysis.start?.();
    for (const [index, source] of sources.entries()) {
      const stopped = await this.runPart(source, index, sources.length > 1);
      if (stopped) break;
    }
    for (const analysis of this.analyses) await analysis.finish?.();
  }

  /**
   * Reads one capture of a run (the `index`-th of several when `multi`), without starting or
   * finishing the analyses: what a worker of `--jobs` does for the file it was given. Returns
   * whether the frame limit stopped it.
   */
  runPart(source: FrameSource, index: number, multi: boolean): Promise<boolean> {
    return this.runOne(source, new RunFile(source.path, source.label, index, multi, source.size));
  }

  /**
   * No event handed to the analyses from now on has a first frame below this, save the frames
   * still to come (see Engine.heldFrom): a lane of a split capture reports it with its events.
   */
  get heldFrom(): number {
    return this.engine?.heldFrom ?? Infinity;
  }

  /** Sets exit status 1 (with a warning) when asked to fail on errors and there were some. */
  settle(failOnError: boolean | undefined): void {
    if (failOnError === true && this.errors > 0) {
      process.exitCode = 1;
      this.warn(`${this.errors} finding(s) of error severity`);
    }
  }

  warn(message: string): void {
    if (this.options.onWarning !== undefined) this.options.onWarning(message);
    else if (!this.options.quiet) process.stderr.write(`msgscope: warning: ${message}\n`);
  }

  private async runOne(source: FrameSource, file: RunFile): Promise<boolean> {
    const { frameFilter, frameLimit } = this.options;
    for (const analysis of this.analyses) analysis.beginFile?.(file);
    frameFilter?.reset();
    const window = this.eventAnalyses.length > 0
      ? new ReorderWindow((event) => this.deliverEvent(event, file), this.options.reorder ?? DEFAULT_REORDER)
      : undefined;
    const packetAnalyses = this.packetAnalyses;
    const carriers = window !== undefined ? this.carriers : undefined;
    carriers?.clear();
    // Events wait for the end of their frame: its packet (and its carrier findings) comes first.
    const framed: TimelineEvent[] = [];
    const release = (): void => {
      // Most frames complete no event (and setting an empty array's length still costs a call).
      if (framed.length === 0) return;
      for (const event of framed) window?.push(carriers !== undefined ? carriers.attach(event) : event);
      framed.length = 0;
      window?.releaseLate();
    };
    const onPacket = packetAnalyses.length > 0 || frameLimit !== undefined || carriers !== undefined
      ? (packet: Packet): void => {
        carriers?.packet(packet);
        if (packetAnalyses.length === 0 && frameLimit === undefined) return;
        if (frameLimit !== undefined && this.shown >= frameLimit) throw new StopReading();
        if (frameFilter !== undefined && !frameFilter.match(packet)) return;
        this.shown++;
        this.tally(packet.findings);
        for (const analysis of packetAnalyses) analysis.packet!(packet, file);
      }
      : undefined;
    const engine = new Engine(
      { packet: onPacket, event: window !== undefined ? (event) => framed.push(event) : undefined, streams: this.options.streams },
      this.options.engine,
      this.options.protocols(),
    );
    this.engine = engine;
    const progress = source.progress && this.options.progress && wantProgress(this.options.quiet) ? new Progress(source.label, source.size) : undefined;
    let stopped = false;
    const settle = (tsSec: number): void => {
      if (window === undefined) return;
      // A window that holds nothing (live capture, a lane of a split capture) needs no watermark.
      if (!window.passesThrough) {
        window.releaseBelow(engine.watermark);
        window.advance(tsSec);
      }
      carriers?.forgetBelow(engine.oldestHeld);
    };
    try {
      await source.read(
        {
          frame: (frame: Frame) => {
            file.start ??= source.start ?? { tsSec: frame.tsSec, tsNsec: frame.tsNsec };
            try {
              engine.frame(frame);
            } finally {
              release();
            }
            settle(frame.tsSec);
          },
          tick: (number: number, tsSec: number) => {
            try {
              engine.tick(number, tsSec);
            } finally {
              release();
            }
            settle(tsSec);
          },
          warning: (message) => {
            progress?.done();
            this.warn(`${source.label}: ${message}`);
          },
        },
        progress !== undefined ? (bytes) => progress.update(bytes) : undefined,
      );
    } catch (err) {
      progress?.done();
      if (!(err instanceof StopReading)) throw err;
      stopped = true;
    }
    progress?.done();
    engine.finish();
    release();
    window?.flush();
    this.engine = undefined;
    for (const analysis of this.analyses) analysis.endFile?.(file);
    return stopped;
  }

  private deliverEvent(found: TimelineEvent, file: FileInfo): void {
    const event = this.flowIds ? withFlowIds(found, file.start) : found;
    if (this.options.eventFilter !== undefined && !this.options.eventFilter.match(event)) return;
    this.tally(event.findings);
    for (const analysis of this.eventAnalyses) analysis.event!(event, file);
  }

  private tally(findings: readonly Finding[]): void {
    for (const item of findings) if (item.severity === 'error') this.errors++;
  }
}
