// Where frames come from: capture files (or standard input) and live interfaces, behind one
// interface so the runner drives both the same way.
import { statSync } from 'node:fs';
import type { CaptureSink, Frame } from '../capture/frame.js';
import { isStdin, readCapture } from '../capture/open.js';
import { displayName } from '../capture/display-name.js';
import type { PcapngWriter } from '../capture/pcapng-writer.js';
import type { Timestamp } from './analysis.js';

export interface FrameSource {
  /** The path as given, or the interface name. */
  readonly path: string;
  /** How to name it to a person. */
  readonly label: string;
  /** Total bytes when known (a regular file), for the progress bar. */
  readonly size: number | undefined;
  /** Whether a progress bar makes sense (files, not live capture). */
  readonly progress: boolean;
  /**
   * The time of the capture's first frame when the source knows it better than its own first
   * frame does (a lane of a capture split by flow gets some of the frames); read at the first frame.
   */
  readonly start?: Timestamp | undefined;
  /**
   * Pushes every frame into `sink` until the input ends. An exception thrown by `sink.frame`
   * stops the source and is rethrown from here.
   */
  read(sink: CaptureSink, onProgress?: (bytes: number) => void): Promise<void>;
}

export function fileSource(path: string): FrameSource {
  return {
    path,
    label: isStdin(path) ? 'standard input' : displayName(path),
    size: fileSize(path),
    progress: true,
    read: async (sink, onProgress) => {
      await readCapture(path, sink, onProgress);
    },
  };
}

function fileSize(path: string): number | undefined {
  if (isStdin(path)) return undefined;
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

export interface LiveOptions {
  readonly iface: string;
  /** BPF capture filter ('' for none). */
  readonly filter: string;
  /** Stop after this many captured frames. */
  readonly count?: number;
  /** Stop after this many seconds. */
  readonly seconds?: number;
  /** Also save every captured frame to this pcapng file. */
  readonly write?: string;
  /** Called once the interface is open and frames are flowing in. */
  readonly onReady?: (linkType: number) => void;
}

/** Live capture until -c frames, -a seconds, SIGINT or SIGTERM. */
export function liveSource(options: LiveOptions): FrameSource & { readonly captured: () => number } {
  let captured = 0;
  return {
    path: options.iface,
    label: `interface ${options.iface}`,
    size: undefined,
    progress: false,
    captured: () => captured,
    read: async (sink) => {
      // The capture library and the pcapng writer load only for live capture.
      const [{ startLive }, { PcapngWriter: Writer }] = await Promise.all([import('../capture/live.js'), import('../capture/pcapng-writer.js')]);
      return new Promise<void>((resolve, reject) => {
        let stopped = false;
        let writer: { file: PcapngWriter; iface: number } | undefined;
        let timer: NodeJS.Timeout | undefined;
        const stop = (err?: unknown): void => {
          if (stopped) return;
          stopped = true;
          if (timer !== undefined) clearTimeout(timer);
          session.stop();
          writer?.file.close();
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          if (err === undefined) resolve();
          else reject(err);
        };
        const onSignal = (): void => stop();
        const session = startLive(options.iface, options.filter, (frame: Frame) => {
          if (stopped) return;
          captured++;
          writer?.file.packet(writer.iface, frame);
          try {
            sink.frame(frame);
          } catch (err) {
            stop(err);
            return;
          }
          if (options.count !== undefined && captured >= options.count) stop();
        });
        if (options.write !== undefined) {
          const file = new Writer(options.write, true);
          writer = { file, iface: file.interfaceFor(session.linkType, options.iface) };
        }
        if (options.seconds !== undefined) timer = setTimeout(() => stop(), options.seconds * 1000);
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        options.onReady?.(session.linkType);
      });
    },
  };
}
