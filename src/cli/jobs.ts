// --jobs for the listing commands: what a command's run is made of (analysis, filter, runner
// options), built the same way on the main thread and in each worker, and the choice between
// reading the captures in turn and reading them on workers.
import { PacketListing } from '../analysis/listing.js';
import { Timeline } from '../analysis/timeline.js';
import { isStdin } from '../capture/open.js';
import { EVENT_SINKS, PACKET_SINKS } from '../output/sinks/index.js';
import type { Analysis } from '../runner/analysis.js';
import { EventForwarder, EventRecordSink } from '../runner/parallel/events.js';
import { runFilesInParallel, type ChunkSink } from '../runner/parallel/pool.js';
import { runCaptureSplit, type SplitCapture } from '../runner/parallel/split.js';
import { EventMerge } from '../runner/parallel/merge-events.js';
import { RowMerge } from '../runner/parallel/merge-rows.js';
import { StreamCounts } from '../runner/parallel/stream-numbers.js';
import type { EventPart, RowPart, TextPart } from '../runner/parallel/protocol.js';
import { PacketTextSink } from '../output/sinks/packet-text.js';
import { FrameTextRowSink, SummaryRowSink, rowHex, rowSeverity, rowSummary, rowBytes } from '../output/sinks/summary-rows.js';
import { PacketJsonSink } from '../output/sinks/packet-json.js';
import { PacketFieldsSink } from '../output/sinks/packet-fields.js';
import type { FrameTextSink, PacketSink } from '../output/sinks/types.js';
import { Output } from '../output/writer.js';
import { Writable } from 'node:stream';
import type { PacketFilter } from '../filter/index.js';
import { fileSource } from '../runner/sources.js';
import { wantProgress } from '../output/progress.js';
import type { EngineOptions } from '../engine/context.js';
import { EventLaneWork, type LaneContext, type LaneWork } from '../runner/parallel/lane.js';
import { NO_REORDER } from '../runner/reorder.js';
import type { Runner, RunnerOptions } from '../runner/runner.js';
import { engineOptions, eventFilter, fileSources, jobCount, makeRunner, packetFilter, sinkSettings, warn, type TerminalView } from './common.js';
import type { AuditCommandArgs } from './audit.js';
import type { ReadArgs } from './read.js';
import type { TimelineArgs } from './timeline.js';

/** A listing command's run, as plain data (a worker gets a clone). */
export type ListingJob =
  | { readonly command: 'read'; readonly args: ReadArgs; readonly view: TerminalView }
  | { readonly command: 'timeline'; readonly args: TimelineArgs; readonly view: TerminalView };

/** A report command whose analysis takes events only: its workers forward the events it wants. */
export interface EventReportJob {
  readonly command: 'audit';
  readonly args: AuditCommandArgs;
}

/** Whatever a --jobs worker can be given. */
export type WorkerJob = ListingJob | EventReportJob;

/** The module a --jobs worker thread runs (job-worker.ts). */
const WORKER_ENTRY = new URL('./job-worker.js', import.meta.url);

/** The audit looks at message events only: the others need not cross threads. */
const auditWants = (event: { readonly kind: string }): boolean => event.kind === 'message';

/** The analysis of the job writing to `out`, and the runner options it needs; for `read`, its sink. */
async function listingParts(job: ListingJob, out: Output): Promise<{ analysis: Analysis; options: Partial<RunnerOptions>; sink?: PacketSink }> {
  if (job.command === 'read') {
    const args = job.args;
    const sink = PACKET_SINKS[args.format](sinkSettings(out, args, job.view));
    // Progress only when the lines go to a file or a pipe: on a terminal they show progress themselves.
    return { analysis: new PacketListing([sink]), options: { frameFilter: await packetFilter(args), frameLimit: args.count, progress: process.stdout.isTTY !== true }, sink };
  }
  const sink = EVENT_SINKS[job.args.format](sinkSettings(out, job.args, job.view));
  return { analysis: new Timeline([sink]), options: { eventFilter: await eventFilter(job.args) } };
}

/**
 * How `read`'s output is split by flow (see laneWork): summary lines as rows of columns, which
 * the main thread lays out in frame order (their widths are the capture's), or frames whose
 * output stands alone (-V, JSON) as their whole text, which it writes in frame order.
 */
type ReadSplit = { readonly kind: 'rows'; readonly sink: PacketTextSink } | { readonly kind: 'text'; readonly sink: FrameTextSink };

/**
 * How `read`'s sink can be split by flow, or undefined: not with a frame limit (-c), or a
 * filter on a capture-wide field (tcp.stream, relative times: a lane cannot know them for every
 * frame it tests), or fields timed across frames (`-e frame.time_delta`).
 */
function readSplit(args: ReadArgs, sink: PacketSink | undefined, filter: PacketFilter | undefined): ReadSplit | undefined {
  if (args.count !== undefined || filter?.readsCaptureWide === true) return undefined;
  if (sink instanceof PacketTextSink) return args.verbose ? { kind: 'text', sink } : { kind: 'rows', sink };
  if (sink instanceof PacketJsonSink) return { kind: 'text', sink };
  if (sink instanceof PacketFieldsSink && sink.framesStandAlone) return { kind: 'text', sink };
  return undefined;
}

/** Where a lane's own copy of read's sink would write: nowhere (the lane only asks it for frames' texts). */
const NO_OUTPUT = new Writable({ write: (_chunk, _encoding, done) => done() });

/**
 * A worker's runner: the job's analysis without its start and finish (the main thread's sink
 * begins and ends the output); for a report, a forwarder of the events its analysis wants.
 */
export async function workerRunner(job: WorkerJob, out: Output, onWarning: (message: string) => void): Promise<Runner> {
  if (job.command === 'audit') {
    return makeRunner([new EventForwarder(out, auditWants)], job.args, { eventFilter: await eventFilter(job.args), progress: false, onWarning });
  }
  const { analysis, options } = await listingParts(job, out);
  const part: Analysis = {
    beginFile: analysis.beginFile?.bind(analysis),
    packet: analysis.packet?.bind(analysis),
    event: analysis.event?.bind(analysis),
    endFile: analysis.endFile?.bind(analysis),
  };
  return makeRunner([part], job.args, { ...options, progress: false, onWarning });
}

/**
 * The engine's options for a lane with `fraction` of the work: it gets that share of the
 * bounds, so the lanes together hold what one engine would.
 */
function laneEngine(args: WorkerJob['args'], fraction: number): EngineOptions {
  const whole = engineOptions(args);
  const share = (bound: number): number => Math.max(1, Math.ceil(bound * fraction));
  return {
    ...whole,
    bufferedBytes: share(whole.bufferedBytes),
    reassemblyBytes: share(whole.reassemblyBytes),
    historyBytes: share(whole.historyBytes),
    conversationLimit: share(whole.conversationLimit),
    halfOpenLimit: share(whole.halfOpenLimit),
    stalledLimit: share(whole.stalledLimit),
    appLimit: share(whole.appLimit),
  };
}

/**
 * A lane's work, for a capture split by flow. `read`: a row for each frame its filter selects
 * (its summary columns, or its whole text). The event commands: every event as it completes (no
 * reordering, no filter: the main thread's window and filter take them, and the window must see
 * every event to release them as one engine's would).
 */
export async function laneWork(job: WorkerJob, lane: LaneContext): Promise<LaneWork<EventPart | RowPart | TextPart>> {
  const engine = laneEngine(job.args, lane.share);
  const common = { engine, reorder: NO_REORDER, progress: false, onWarning: lane.warn, streams: lane.streams };
  if (job.command === 'read') {
    const options = { ...common, frameFilter: await packetFilter(job.args) };
    const split = readSplit(job.args, PACKET_SINKS[job.args.format](sinkSettings(new Output(NO_OUTPUT), job.args, job.view)), options.frameFilter);
    if (split?.kind === 'text') return readLane(new FrameTextRowSink(split.sink, lane.lane, lane.marks), job.args, options, FrameTextRowSink.transferable);
    return readLane(new SummaryRowSink(job.args.hex), job.args, options);
  }
  return new EventLaneWork((forward) => makeRunner([{ event: forward }], job.args, common));
}

/** read's lane: `rows` packs the frames its filter selects; a part also carries the error findings on them. */
function readLane<P>(rows: PacketSink & { take(errors: number): P }, args: ReadArgs, options: Partial<RunnerOptions>, transfer?: (part: P) => ArrayBuffer[]): LaneWork<P> {
  const runner = makeRunner([new PacketListing([rows])], args, options);
  let counted = 0;
  return {
    runner,
    take: () => {
      const errors = runner.errors - counted;
      counted = runner.errors;
      return rows.take(errors);
    },
    transfer,
  };
}

/**
 * Why these captures are read in turn even with --jobs N, or undefined when workers can read
 * them: one capture of `read` whose output cannot be split by flow (`lines` undefined, see
 * readSplit), standard input, a frame limit across the files (-c), or a JSON array (its commas
 * run across files).
 */
function sequentialReason(job: WorkerJob, paths: readonly string[], lines: ReadSplit | undefined): string | undefined {
  if (paths.length < 2) return job.command === 'read' && lines === undefined ? 'one capture' : undefined;
  if (paths.some(isStdin)) return 'standard input';
  if (job.command === 'audit') return undefined;
  if (job.command === 'read' && job.args.count !== undefined) return '-c';
  if (job.args.format === 'json') return '--format json';
  return undefined;
}

/**
 * Runs `analysis` over the captures: in turn with `runner`, or with --jobs on workers whose
 * chunks (formatted output, or forwarded events) go to `sink` in file order, or for one capture
 * split by flow across them (`lines`: how read's output is split, when it can be).
 */
async function runJob(job: WorkerJob, paths: readonly string[], analysis: Analysis, runner: Runner, sink: ChunkSink, lines?: ReadSplit): Promise<void> {
  const jobs = jobCount(job.args);
  if (jobs === 1 || sequentialReason(job, paths, lines) !== undefined) {
    await runner.run(fileSources(paths));
    return;
  }
  analysis.start?.();
  if (paths.length === 1) {
    // One capture: split by flow across the workers.
    const split: SplitCapture<WorkerJob> = {
      entry: WORKER_ENTRY,
      job,
      lanes: jobs,
      source: fileSource(paths[0]!),
      analysis,
      warn: (message) => warn(job.args, message),
      // read's lines on a terminal show progress themselves.
      progress: wantProgress(job.args.quiet) && (job.command !== 'read' || process.stdout.isTTY !== true),
    };
    if (lines?.kind === 'rows') {
      const scratch = { number: 0, tsSec: 0, tsNsec: 0, len: 0, src: '', dst: '', protocol: '', info: '' };
      const text = lines.sink;
      runner.errors += await runCaptureSplit(split, (file) => new RowMerge<RowPart>(jobs, (part, row) => text.row(rowSummary(part, row, scratch), rowSeverity(part, row), rowHex(part, row), file)));
    } else if (lines?.kind === 'text') {
      const text = lines.sink;
      runner.errors += await runCaptureSplit(split, (_file, streams) => {
        const numbers = new StreamCounts(streams, split.warn);
        return new RowMerge<TextPart>(jobs, (part, row) => text.writeFrameBytes(rowBytes(part, row, numbers)));
      });
    } else {
      const filter = await eventFilter(job.args);
      runner.errors += await runCaptureSplit(split, (file) => new EventMerge(jobs, analysis, filter, file));
    }
    await analysis.finish?.();
    return;
  }
  runner.errors += await runFilesInParallel({
    entry: WORKER_ENTRY,
    job,
    jobs,
    paths,
    sink,
    warn: (message) => warn(job.args, message),
  });
  await analysis.finish?.();
}

/** Runs an event report's analysis over its captures; with --jobs its workers forward the events to it. */
export function runEventReport(job: EventReportJob, paths: readonly string[], analysis: Analysis, runner: Runner): Promise<void> {
  return runJob(job, paths, analysis, runner, new EventRecordSink(analysis));
}

/** Runs a listing command over its captures, on workers when --jobs and the captures allow it. */
export async function runListing(job: ListingJob, paths: readonly string[], out: Output): Promise<Runner> {
  const { analysis, options, sink } = await listingParts(job, out);
  const runner = makeRunner([analysis], job.args, options);
  const lines = job.command === 'read' ? readSplit(job.args, sink, options.frameFilter) : undefined;
  await runJob(job, paths, analysis, runner, { write: (data, done) => out.bytes(data, done) }, lines);
  return runner;
}
