// Captures loaded as material for the benchmark generators: the Ethernet frames of a file with
// their times relative to its first frame and where their layers are, and the same frames split
// into flows (one per 5-tuple, ICMP errors filed with the flow they quote).
import { join } from 'node:path';
import { locate, u16, u32 } from './packet-edit.mjs';

/** Gaps between frames are kept but clamped (one public file jumps six years between two frames). */
const MAX_GAP_US = 10_000_000;

/**
 * @typedef {{ rel: number, data: Uint8Array, len: number, at: ReturnType<typeof locate> }} TemplateFrame
 * @typedef {{ key: string, proto: number, init: [number, number], resp: [number, number],
 *   frames: (TemplateFrame & { fromInit: boolean, icmp: boolean })[], span: number }} Flow
 */

/**
 * The Ethernet frames of a capture (any format the project reads), in file order.
 * @param {string} root the repository (its dist/ holds the capture readers)
 * @returns {Promise<{ frames: TemplateFrame[], span: number }>}
 */
export async function loadCapture(root, path) {
  const { readCapture } = await import(join(root, 'dist', 'src', 'capture', 'open.js'));
  /** @type {TemplateFrame[]} */
  const frames = [];
  let previous;
  let rel = 0;
  await readCapture(path, {
    frame: (f) => {
      if (f.linkType !== 1) return;
      const t = f.tsSec * 1e6 + Math.floor(f.tsNsec / 1000);
      if (previous !== undefined) rel += Math.min(MAX_GAP_US, Math.max(0, t - previous));
      previous = t;
      const data = Uint8Array.from(f.data);
      frames.push({ rel, data, len: f.len, at: locate(data) });
    },
    warning: () => {},
  });
  return { frames, span: rel };
}

/** The 5-tuple of an IPv4 TCP/UDP frame, or of the datagram an ICMP error quotes. */
function tupleOf(frame) {
  const { at, data: d } = frame;
  if (at === undefined || at.kind !== 'ipv4') return undefined;
  if (at.hasPorts) return { icmp: false, proto: at.proto, src: u32(d, at.off + 12), dst: u32(d, at.off + 16), sp: u16(d, at.l4), dp: u16(d, at.l4 + 2) };
  const q = at.quote;
  if (q !== undefined && q.ports) return { icmp: true, proto: q.proto, src: u32(d, q.off + 12), dst: u32(d, q.off + 16), sp: u16(d, q.off + q.hl), dp: u16(d, q.off + q.hl + 2) };
  return undefined;
}

/**
 * Splits frames into flows. The initiator is the sender of a flow's first frame (a quoting
 * ICMP error counts for the datagram it quotes).
 * @param {TemplateFrame[]} frames
 * @returns {Flow[]} in order of first frame
 */
export function splitFlows(frames) {
  /** @type {Map<string, Flow>} */
  const flows = new Map();
  for (const frame of frames) {
    const t = tupleOf(frame);
    if (t === undefined) continue;
    const a = `${t.src}:${t.sp}`;
    const b = `${t.dst}:${t.dp}`;
    const key = `${t.proto}|${a < b ? `${a}|${b}` : `${b}|${a}`}`;
    let flow = flows.get(key);
    if (flow === undefined) {
      flow = { key, proto: t.proto, init: [t.src, t.sp], resp: [t.dst, t.dp], frames: [], span: 0 };
      flows.set(key, flow);
    }
    const fromInit = t.src === flow.init[0] && t.sp === flow.init[1];
    flow.frames.push({ ...frame, fromInit, icmp: t.icmp });
  }
  for (const flow of flows.values()) {
    const start = flow.frames[0].rel;
    flow.frames = flow.frames.map((f) => ({ ...f, rel: f.rel - start }));
    flow.span = flow.frames[flow.frames.length - 1].rel;
  }
  return [...flows.values()];
}
