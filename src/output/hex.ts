// Hex and ASCII dump in tshark's -x layout: offset, 16 bytes in two groups of 8, printable ASCII.

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function hexDump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let off = 0; off < bytes.length; off += 16) {
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (i === 8) hex += ' ';
      if (off + i < bytes.length) {
        const b = bytes[off + i]!;
        hex += `${HEX2[b]} `;
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hex += '   ';
      }
    }
    lines.push(`${off.toString(16).padStart(4, '0')}  ${hex} ${ascii}`);
  }
  return lines.join('\n');
}
