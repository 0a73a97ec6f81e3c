// Messenger text: OEM code page bytes (MS-MSRP 3.2.4.4), where 0x14 stands for a line break
// (MS-MSRP 2.2.3.1.1) and is shown as "\n". A trailing NUL terminator is not part of the text.
import { oemString } from '../nbt/names.js';

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
