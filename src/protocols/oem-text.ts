// OEM code page text, the one decoder shared by NetBIOS names, SMB, mailslot and MS-MSRP
// strings (`--oem-codepage`, default cp437). Messenger text (MS-MSRP 3.2.4.4) is OEM text in
// which 0x14 stands for a line break (MS-MSRP 2.2.3.1.1), shown as "\n"; a trailing NUL
// terminator is not part of it.
import iconv from 'iconv-lite';

/** OEM bytes to text: ASCII fast path, iconv-lite for the rest; control bytes stay as they are. */
export function oemString(bytes: Uint8Array, codepage: string): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return asciiString(bytes);
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), codepage);
}

/** Code units per String.fromCharCode call (far below any engine's argument limit). */
const CHARS_PER_CALL = 4096;

/**
 * Bytes below 0x80 as text, made in one piece: a string grown a character at a time is a chain
 * of concatenations (one heap object per character) until something flattens it.
 */
export function asciiString(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n <= CHARS_PER_CALL) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let s = '';
  for (let i = 0; i < n; i += CHARS_PER_CALL) s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(n, i + CHARS_PER_CALL)) as unknown as number[]);
  return s;
}

/** Messenger text: OEM text without its NUL terminator, 0x14 shown as a line break. */
export function messengerText(bytes: Uint8Array, codepage: string): string {
  let n = bytes.length;
  while (n > 0 && bytes[n - 1] === 0) n--;
  const text = oemString(bytes.subarray(0, n), codepage);
  return text.includes('\x14') ? text.replace(/\x14/g, '\n') : text;
}

/** Whether the bytes contain CR or LF, which senders MUST convert to 0x14 (MS-MSRP 2.2.3.1.1). */
export function hasRawLineBreaks(bytes: Uint8Array): boolean {
  return bytes.includes(0x0d) || bytes.includes(0x0a);
}
