// Text of `-z follow,…`: tshark 4.0's block (ui/cli/tap-follow.c) byte for byte for tcp and
// udp, and the same frame for msnp (its commands one per line, with frame and direction).
import type { FollowResult } from '../analysis/follow.js';
import { escapeText } from './escape.js';

const RULE = '===================================================================';

/** tshark's ascii view: printable ASCII, CR and LF as they are, every other byte a dot. */
export function followAscii(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    s += (b >= 0x20 && b < 0x7f) || b === 0x0a || b === 0x0d ? String.fromCharCode(b) : '.';
  }
  return s;
}

/** tshark's hex view of one chunk: offsets count the direction's bytes so far. */
export function followHex(bytes: Uint8Array, start: number, indent: string): string[] {
  const lines: string[] = [];
  for (let o = 0; o < bytes.length; o += 16) {
    const row = bytes.subarray(o, o + 16);
    let hex = '';
    let text = '';
    for (let i = 0; i < row.length; i++) {
      const b = row[i]!;
      hex += `${b.toString(16).padStart(2, '0')} `;
      if (i === 7) hex += ' ';
      text += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      if (i === 7) text += ' ';
    }
    // As tshark 4.0: one trailing space is dropped (the group gap after an 8-byte row, or a last byte shown as a space).
    if (text.endsWith(' ')) text = text.slice(0, -1);
    lines.push(`${indent}${(start + o).toString(16).toUpperCase().padStart(8, '0')}  ${hex.padEnd(50)}${text}`);
  }
  return lines;
}

/** The first line of an MSNP command (its payload follows the CRLF), escaped for a terminal. */
function commandLine(bytes: Uint8Array): string {
  let end = bytes.indexOf(0x0a);
  if (end < 0) end = bytes.length;
  else if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return escapeText(Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('utf8'));
}

export function followText(result: FollowResult): string[] {
  const { protocol, mode, stream } = result.request;
  const lines = ['', RULE, `Follow: ${protocol},${mode}`, `Filter: ${protocol === 'udp' ? 'udp' : 'tcp'}.stream eq ${stream}`];
  const nodes = result.nodes;
  // tshark prints the node lines with an empty address when the stream does not exist.
  lines.push(`Node 0: ${nodes?.[0] ?? ':0'}`, `Node 1: ${nodes?.[1] ?? ':0'}`);
  const position = [0, 0];
  for (const chunk of result.chunks) {
    const indent = chunk.node === 1 ? '\t' : '';
    if (protocol === 'msnp' && mode === 'ascii') {
      lines.push(`${String(chunk.frame).padStart(6)}  ${chunk.node === 0 ? '0→1' : '1→0'}  ${commandLine(chunk.bytes)}`);
    } else if (mode === 'ascii') {
      lines.push(`${indent}${chunk.bytes.length}`, followAscii(chunk.bytes));
    } else {
      lines.push(...followHex(chunk.bytes, position[chunk.node]!, indent));
    }
    position[chunk.node]! += chunk.bytes.length;
  }
  if (result.truncated) lines.push(`[msgscope: stopped collecting after ${position[0]! + position[1]!} bytes]`);
  lines.push(RULE);
  return lines;
}
