// OEM code page text, the one decoder shared by NetBIOS names, SMB, mailslot and MS-MSRP
// strings (`--oem-codepage`, default cp437). Messenger text (MS-MSRP 3.2.4.4) is OEM text in
// which 0x14 stands for a line break (MS-MSRP 2.2.3.1.1), shown as "\n"; a trailing NUL
// terminator is not part of it.
import iconv from 'iconv-lite';
import { latin1 } from '../util/latin1.js';

/** OEM bytes to text: ASCII fast path, iconv-lite for the rest; control bytes stay as they are. */
export function oemString(bytes: Uint8Array, codepage: string): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return latin1(bytes);
  return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), codepage);
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
