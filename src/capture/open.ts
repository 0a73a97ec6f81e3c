// Opens a capture argument (a path, or `-` for standard input), recognises its format by its
// magic number, unwraps gzip, and streams it through the right parser in large chunks.
import { displayName } from './display-name.js';
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { CaptureFormatError, type CaptureParser, type CaptureSink } from './frame.js';
import { isPcap, PcapParser } from './pcap.js';
import { isPcapng, PcapngParser } from './pcapng.js';
import { isSnoop, SnoopParser } from './snoop.js';
import { isNetmon, NetmonParser } from './netmon.js';

// A chunk is freed only when the collector finds its Buffer dead, usually after it was promoted
// (a major GC): 1 MiB chunks kept 30-40 MB less waiting than 4 MiB ones (peak RSS of read and
// timeline on spam-1m), for the same CPU (docs/performance.md, stop 24).
const CHUNK = 1024 * 1024;

export interface CaptureInfo {
  format: string;
  compressed: boolean;
  /** Bytes read from the file (before decompression). */
  fileBytes: number;
}

export function parserFor(magic: Uint8Array, sink: CaptureSink): CaptureParser | undefined {
  if (isPcap(magic)) return new PcapParser(sink);
  if (isPcapng(magic)) return new PcapngParser(sink);
  if (isSnoop(magic)) return new SnoopParser(sink);
  if (isNetmon(magic)) return new NetmonParser(sink);
  return undefined;
}

function isGzip(magic: Uint8Array): boolean {
  return magic.length >= 2 && magic[0] === 0x1f && magic[1] === 0x8b;
}

/**
 * How the CLI passes `-` through yargs, which drops a lone `-` positional: both names mean
 * standard input here.
 */
export const STDIN_PATH = '/dev/stdin';

export function isStdin(path: string): boolean {
  return path === '-' || path === STDIN_PATH;
}

function openStream(path: string): Readable {
  if (isStdin(path)) return process.stdin;
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CaptureFormatError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot open (${code ?? String(err)})`);
  }
  if (!isFile) throw new CaptureFormatError(`${path}: not a regular file`);
  return createReadStream(path, { highWaterMark: CHUNK });
}

/** Collects at least `n` bytes (or all there is) and returns them with the rest of the stream. */
async function peek(source: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Uint8Array; rest: AsyncIterator<Uint8Array> }> {
  const rest = source[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  while (head.length < n) {
    const next = await rest.next();
    if (next.done === true) break;
    head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
  }
  return { head, rest };
}

async function* counted(source: AsyncIterable<Uint8Array>, info: CaptureInfo, onProgress?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    info.fileBytes += chunk.length;
    onProgress?.(info.fileBytes);
    yield chunk;
  }
}

async function* prepend(head: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  if (head.length > 0) yield head;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    yield next.value;
  }
}

function isZlibError(err: unknown): boolean {
  return err instanceof Error && 'code' in err && (err.code === 'Z_BUF_ERROR' || err.code === 'Z_DATA_ERROR');
}

/**
 * Streams one capture through `sink`. Throws CaptureFormatError (one-line message) for a file
 * that is missing or is not a capture; problems inside a capture go to `sink.warning`.
 */
export async function readCapture(path: string, sink: CaptureSink, onProgress?: (bytes: number) => void): Promise<CaptureInfo> {
  const label = isStdin(path) ? 'standard input' : displayName(path);
  const info: CaptureInfo = { format: '', compressed: false, fileBytes: 0 };
  const raw = openStream(path);
  try {
    let { head, rest } = await peek(counted(raw, info, onProgress), 8);
    if (isGzip(head)) {
      info.compressed = true;
      const gunzip = createGunzip({ chunkSize: 256 * 1024 });
      Readable.from(prepend(head, rest)).pipe(gunzip);
      ({ head, rest } = await peek(gunzip, 8));
    }
    if (head.length === 0) throw new CaptureFormatError('empty file');
    const parser = parserFor(head, sink);
    if (parser === undefined) throw new CaptureFormatError('not a capture file (pcap, pcapng, snoop, NetMon, or one of them gzipped)');
    try {
      for await (const chunk of prepend(head, rest)) {
        parser.push(chunk);
        const wait = sink.ready?.();
        if (wait !== undefined) await wait;
      }
    } catch (err) {
      if (!isZlibError(err)) throw err;
      sink.warning('gzip stream is truncated or corrupt; the frames before that point were read');
    }
    parser.end();
    info.format = info.compressed ? `${parser.format}+gzip` : parser.format;
    return info;
  } catch (err) {
    raw.destroy();
    if (err instanceof CaptureFormatError) throw new CaptureFormatError(`${label}: ${err.message}`);
    if (isZlibError(err)) throw new CaptureFormatError(`${label}: corrupt gzip data`);
    throw err;
  }
}
