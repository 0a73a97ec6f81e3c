// Capture hashes: the SHA-256 that names a capture file in the audit history and in the
// ClickHouse rows, and the one-off name of a live capture or standard input.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CaptureFormatError } from '../capture/frame.js';

/** Hex SHA-256 of a capture file (how the history recognises a capture audited before). */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CaptureFormatError(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(err)})`);
  }
  return hash.digest('hex');
}

/** A live capture's name in the history: it is never the same capture twice. */
export function liveCaptureHash(iface: string): string {
  return createHash('sha256').update(`live ${iface} ${new Date().toISOString()} ${process.pid}`).digest('hex');
}
