// Arguments that are not valid UTF-8 (a capture named with byte 0xFF, from a shell's $'\xff'):
// Node decodes argv as UTF-8 and puts U+FFFD in place of such bytes, so the file cannot be
// opened by that string. On Linux /proc/self/cmdline holds the raw bytes: such an argument is
// opened by its bytes and replaced by /dev/fd/N, shown as its name with the bad bytes escaped
// (\xFF); when it does not open, it is replaced by that escaped name, so the error names it.
import { openSync, readFileSync } from 'node:fs';
import { setDisplayName } from '../capture/display-name.js';

/** The raw bytes of the last `count` command-line arguments, or undefined when they cannot be read. */
function rawArguments(count: number): Buffer[] | undefined {
  try {
    const all = readFileSync('/proc/self/cmdline');
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < all.length; i++) {
      if (all[i] === 0) {
        parts.push(all.subarray(start, i));
        start = i + 1;
      }
    }
    return parts.length >= count ? parts.slice(parts.length - count) : undefined;
  } catch {
    return undefined;
  }
}

/** The bytes as text, invalid UTF-8 bytes and control characters as \xHH. */
export function escapedName(bytes: Uint8Array): string {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    let text: string | undefined;
    if (n > 0 && i + n <= bytes.length) {
      try {
        text = decoder.decode(bytes.subarray(i, i + n));
      } catch {
        text = undefined;
      }
    }
    if (text === undefined || (n === 1 && (b < 0x20 || b === 0x7f))) {
      out += `\\x${b.toString(16).toUpperCase().padStart(2, '0')}`;
      i++;
    } else {
      out += text;
      i += n;
    }
  }
  return out;
}

/** `args` (process.argv after the script) with every argument that lost bytes in decoding recovered as above. */
export function recoverRawArguments(args: readonly string[]): string[] {
  if (!args.some((a) => a.includes('\uFFFD'))) return [...args];
  const raw = rawArguments(args.length);
  if (raw === undefined) return [...args];
  return args.map((arg, i) => {
    const bytes = raw[i]!;
    if (!arg.includes('\uFFFD') || Buffer.from(arg, 'utf8').equals(bytes)) return arg;
    const name = escapedName(bytes);
    try {
      const fd = openSync(bytes, 'r');
      const path = `/dev/fd/${fd}`;
      setDisplayName(path, name);
      return path;
    } catch {
      return name;
    }
  });
}
