// `--log-dir DIR`: one NDJSON file per event kind — message.log, session.log, name.log,
// presence.log, call.log, notice.log, finding.log — like Zeek's log streams. Each line is the
// event as `--format ndjson` prints it (or as `--format eve` does). A file is made when its kind
// first occurs; files from an earlier run in the same directory are replaced.
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { TimelineEvent } from '../../model/events.js';
import type { FileInfo } from '../../runner/analysis.js';
import { prepareDirectory } from '../files.js';
import { Output } from '../writer.js';
import type { EventSink } from './types.js';

/** Every kind of src/model/events.ts: the names of the files this sink may write. */
export const LOG_KINDS: readonly TimelineEvent['kind'][] = ['message', 'session', 'presence', 'name', 'call', 'notice', 'finding'];

export class EventLogDirSink implements EventSink {
  private readonly logs = new Map<string, { stream: WriteStream; out: Output }>();

  /** @param line the text of one record (one line, no newline) */
  constructor(private readonly dir: string, private readonly line: (event: TimelineEvent, file: FileInfo) => string) {
    prepareDirectory(dir);
  }

  begin(): void {
    // A kind absent from this run must not keep an earlier run's file.
    for (const kind of LOG_KINDS) rmSync(join(this.dir, `${kind}.log`), { force: true });
  }

  event(event: TimelineEvent, file: FileInfo): void {
    let log = this.logs.get(event.kind);
    if (log === undefined) {
      // The kind comes from our typed model, never from the wire: a fixed set of file names.
      const stream = createWriteStream(join(this.dir, `${event.kind}.log`), { flags: 'w', mode: 0o644 });
      log = { stream, out: new Output(stream) };
      this.logs.set(event.kind, log);
    }
    log.out.line(this.line(event, file));
  }

  async end(): Promise<void> {
    for (const { stream, out } of this.logs.values()) {
      await out.close();
      await new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      });
    }
  }
}
