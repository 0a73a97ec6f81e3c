// The `read` views of one dissected frame: tshark-like summary line, detail tree, hex, JSON.
import { displayNode, jsonValue, lookupProtocol, type FieldDef, type FieldNode } from '../model/fields.js';
import type { Packet } from '../model/packet.js';
import { infoColumn, protocolColumn } from './columns.js';
import { displayWidth, escapeText, fitWidth } from './escape.js';
import type { Severity } from '../model/findings.js';
import { hexDump } from './hex.js';
import { isoTime, relativeSeconds } from './time.js';
import { makeStyle, type Style } from './style.js';
import { decimalDigits, type Output } from './writer.js';

export interface SummaryColumns {
  readonly no: number;
  readonly time: string;
  readonly src: string;
  readonly dst: string;
  readonly protocol: string;
  readonly length: number;
  readonly info: string;
}

/**
 * What a summary line shows of a frame before its columns are laid out: where the frame was
 * dissected (a lane of a capture split by flow) it travels as this, and is laid out in order.
 */
export interface FrameSummary {
  readonly number: number;
  readonly tsSec: number;
  readonly tsNsec: number;
  /** Length on the wire. */
  readonly len: number;
  readonly src: string;
  readonly dst: string;
  readonly protocol: string;
  readonly info: string;
}

/** A packet's summary, written into `into` (one object reused frame after frame: nothing to collect). */
export function frameSummary(packet: Packet, into: { -readonly [K in keyof FrameSummary]: FrameSummary[K] }): FrameSummary {
  const frame = packet.frame;
  into.number = frame.number;
  into.tsSec = frame.tsSec;
  into.tsNsec = frame.tsNsec;
  into.len = frame.len;
  into.src = packet.src;
  into.dst = packet.dst;
  into.protocol = protocolColumn(packet);
  into.info = infoColumn(packet);
  return into;
}

/** `time`: the time column's text when it is not the default (seconds since `first`). */
export function summaryColumns(packet: Packet, first: { tsSec: number; tsNsec: number }, time?: string): SummaryColumns {
  const frame = packet.frame;
  return {
    no: frame.number,
    time: time ?? relativeSeconds(frame.tsSec, frame.tsNsec, first.tsSec, first.tsNsec),
    src: packet.src,
    dst: packet.dst,
    protocol: protocolColumn(packet),
    length: frame.len,
    info: infoColumn(packet),
  };
}

/** `summaryColumns` of a frame's summary. */
export function summaryColumnsOf(s: FrameSummary, first: { tsSec: number; tsNsec: number }, time?: string): SummaryColumns {
  return {
    no: s.number,
    time: time ?? relativeSeconds(s.tsSec, s.tsNsec, first.tsSec, first.tsNsec),
    src: s.src,
    dst: s.dst,
    protocol: s.protocol,
    length: s.len,
    info: s.info,
  };
}

/**
 * Widths of the columns of aligned text lines (read's summary, the timeline). They only grow:
 * a 6- or 7-digit frame number, a long time (-t r after 27 hours, -t ad) or a protocol name
 * longer than 8 (`SMB Mailslot`) widens its column for that line and every later one, so a
 * listing never jumps back. `expectFrames` sets the number column before the first line when
 * the frame count is bounded (a file's size), so a long capture is aligned from its first line.
 */
export class ColumnWidths {
  no = 5;
  time = 11;
  protocol = 8;
  length = 5;
  kind = 8;

  /** Makes room for frame numbers up to `frames`. */
  expectFrames(frames: number): void {
    this.no = Math.max(this.no, String(Math.max(0, Math.floor(frames))).length);
  }

  /** `text` padded to the column, which grows to hold it. */
  fit(column: 'no' | 'time' | 'protocol' | 'length' | 'kind', text: string, right: boolean): string {
    const pad = this.pad(column, text);
    return pad === 0 ? text : right ? spaces(pad) + text : text + spaces(pad);
  }

  /** The spaces `text` needs to fill the column, which grows to hold it. */
  pad(column: 'no' | 'time' | 'protocol' | 'length' | 'kind', text: string): number {
    return this.padTo(column, displayWidth(text));
  }

  /** The spaces a text `width` columns wide needs to fill the column, which grows to hold it. */
  padTo(column: 'no' | 'time' | 'protocol' | 'length' | 'kind', width: number): number {
    if (width > this[column]) this[column] = width;
    return this[column] - width;
  }
}

// Padding of the usual widths is shared, not made for every line.
const SPACES: readonly string[] = Array.from({ length: 32 }, (_, i) => ' '.repeat(i));

function spaces(n: number): string {
  return n < SPACES.length ? SPACES[n]! : ' '.repeat(n);
}

/** `text.padStart(width)` and `text.padEnd(width)` with the shared padding. */
function padStart(text: string, width: number): string {
  return text.length >= width ? text : spaces(width - text.length) + text;
}

function padEnd(text: string, width: number): string {
  return text.length >= width ? text : text + spaces(width - text.length);
}

/**
 * One aligned summary line. With a width (a terminal, no --wide) the line is cut to fit,
 * measured in terminal columns and before colouring, so no escape sequence is ever cut.
 * `widths` carries the column widths from line to line (a fresh set when not given).
 */
export function summaryLine(c: SummaryColumns, style: Style, width: number | undefined, severity?: Severity, widths: ColumnWidths = new ColumnWidths()): string {
  const arrow = c.src !== '' || c.dst !== '' ? ' → ' : '   ';
  const head = `${widths.fit('no', String(c.no), true)} ${widths.fit('time', c.time, true)} ${padStart(escapeText(c.src), 15)}${arrow}${padEnd(escapeText(c.dst), 15)} `;
  const protocol = widths.fit('protocol', escapeText(c.protocol), false);
  const middle = ` ${widths.fit('length', String(c.length), true)} `;
  let info = escapeText(c.info);
  if (width !== undefined && width > 0) {
    const room = width - displayWidth(head) - displayWidth(protocol) - displayWidth(middle);
    info = room <= 1 ? '' : fitWidth(info, room);
  }
  return `${head}${style.protocol(protocol, c.protocol)}${middle}${style.tint(info, severity)}`;
}

const PLAIN = makeStyle(false);

/**
 * `summaryLine` without colour or a width to cut to, written straight into the output's buffer
 * in pieces: the same bytes without the line's string (its concatenations and their
 * flattening). The widths grow as `summaryLine`'s do.
 */
export function writeSummaryLine(out: Output, c: SummaryColumns, widths: ColumnWidths): void {
  const no = String(c.no);
  const noPad = widths.pad('no', no);
  const timePad = widths.pad('time', c.time);
  const src = escapeText(c.src);
  const dst = escapeText(c.dst);
  const arrow = c.src !== '' || c.dst !== '' ? ' → ' : '   ';
  const protocol = escapeText(c.protocol);
  const protocolPad = widths.pad('protocol', protocol);
  const length = String(c.length);
  const lengthPad = widths.pad('length', length);
  const info = escapeText(c.info);
  const srcPad = Math.max(0, 15 - src.length);
  const dstPad = Math.max(0, 15 - dst.length);
  const chars = noPad + no.length + 1 + timePad + c.time.length + 1 + srcPad + src.length + 3 + dst.length + dstPad + 1
    + protocol.length + protocolPad + 1 + lengthPad + length.length + 1 + info.length;
  if (!out.beginLine(chars)) {
    // Longer than the output's buffer: the line as a string (the widths have grown already).
    out.line(summaryLine(c, PLAIN, undefined, undefined, widths));
    return;
  }
  out.spaces(noPad);
  out.piece(no);
  out.spaces(1 + timePad);
  out.piece(c.time);
  out.spaces(1 + srcPad);
  out.piece(src);
  out.piece(arrow);
  out.piece(dst);
  out.spaces(dstPad + 1);
  out.piece(protocol);
  out.spaces(protocolPad + 1 + lengthPad);
  out.piece(length);
  out.spaces(1);
  out.piece(info);
  out.endLine();
}

const ARROW = Buffer.from(' → ', 'utf8');
const NO_ARROW = Buffer.from('   ', 'utf8');

/**
 * `writeSummaryLine(out, summaryColumnsOf(frame, first), widths)` without the columns: the frame
 * number, time (seconds since `first`) and length are written as digits and the texts copied as
 * they are checked, so a line makes no string. Text that needs escaping (or a protocol name
 * beyond ASCII), a time before `first`, or a line longer than the output's buffer goes the way of
 * writeSummaryLine (the widths grown here are ones it grows too).
 */
export function writeFrameSummary(out: Output, frame: FrameSummary, first: { tsSec: number; tsNsec: number }, widths: ColumnWidths): void {
  let sec = frame.tsSec - first.tsSec;
  let nsec = frame.tsNsec - first.tsNsec;
  if (nsec < 0) {
    nsec += 1e9;
    sec -= 1;
  }
  const usec = Math.floor(nsec / 1000);
  const { src, dst, protocol, info } = frame;
  if (sec >= 0 && Number.isSafeInteger(sec) && Number.isSafeInteger(usec) && usec >= 0) {
    const noDigits = decimalDigits(frame.number);
    const secDigits = decimalDigits(sec);
    const usecDigits = Math.max(6, decimalDigits(usec));
    const lengthDigits = decimalDigits(frame.len);
    const noPad = widths.padTo('no', noDigits);
    const timePad = widths.padTo('time', secDigits + 1 + usecDigits);
    const srcPad = Math.max(0, 15 - src.length);
    const dstPad = Math.max(0, 15 - dst.length);
    // The protocol's own width is known once it proved plain; room for the widest it may pad to.
    const chars = noPad + noDigits + 1 + timePad + secDigits + 1 + usecDigits + 1 + srcPad + src.length + 3 + dst.length + dstPad + 1
      + Math.max(protocol.length, widths.protocol) + 1 + widths.length + lengthDigits + 1 + info.length;
    if (out.beginLine(chars)) {
      out.spaces(noPad);
      out.decimal(frame.number, noDigits);
      out.spaces(1 + timePad);
      out.decimal(sec, secDigits);
      out.piece('.');
      out.decimal(usec, usecDigits);
      out.spaces(1 + srcPad);
      // src and dst are padded by their length, the protocol by its width (its length when plain ASCII).
      if (out.unescapedPiece(src)) {
        out.encoded(src !== '' || dst !== '' ? ARROW : NO_ARROW);
        if (out.unescapedPiece(dst)) {
          out.spaces(dstPad + 1);
          if (out.plainPiece(protocol)) {
            out.spaces(widths.padTo('protocol', protocol.length) + 1 + widths.padTo('length', lengthDigits));
            out.decimal(frame.len, lengthDigits);
            out.spaces(1);
            if (out.unescapedPiece(info)) {
              out.endLine();
              return;
            }
          }
        }
      }
      out.abandonLine();
    }
  }
  writeSummaryLine(out, summaryColumnsOf(frame, first), widths);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The most severe finding of a frame, for colouring its line. */
export function worstSeverity(packet: Packet): Severity | undefined {
  let worst: Severity | undefined;
  for (const item of packet.findings) {
    if (item.severity === 'error') return 'error';
    if (item.severity === 'warning') worst = 'warning';
    else worst ??= 'note';
  }
  return worst;
}

/**
 * Whether a node's line may hold text from the wire: its own display text, or a string value.
 * Labels and value names are declared (defineProtocol), numbers, booleans and bytes are written
 * by formatValue: such a line holds nothing escapeText would change, and most lines are such.
 */
function mayHoldWireText(node: FieldNode): boolean {
  return node.display !== undefined || typeof node.value === 'string';
}

export function detailTree(packet: Packet, style: Style): string {
  const frame = packet.frame;
  const out: string[] = [];
  out.push(`Frame ${frame.number}: ${frame.len} bytes on wire, ${frame.caplen} bytes captured`);
  out.push(`    Arrival Time: ${isoTime(frame.tsSec, frame.tsNsec)}`);
  out.push(`    Frame Number: ${frame.number}`);
  out.push(`    Protocols in frame: ${packet.layers.map((l) => l.name).join(':')}`);
  for (const comment of frame.comments ?? []) out.push(`    Comment: ${escapeText(comment)}`);
  for (const layer of packet.layers) {
    const title = lookupProtocol(layer.name)?.title ?? layer.name;
    out.push(style.heading(`${title}${layer.quoted === true ? ' (quoted in ICMP error)' : ''}${layer.info !== undefined ? `, ${escapeText(layer.info)}` : ''}`));
    renderNodes(layer.tree(), '    ', out);
  }
  if (packet.findings.length > 0) {
    out.push(style.heading('Findings'));
    for (const item of packet.findings) {
      out.push(`    ${style.severity(item.severity)} ${escapeText(item.summary)}${item.spec !== '' ? ` [${escapeText(item.spec)}]` : ''} (${escapeText(item.id)})`);
    }
  }
  return out.join('\n');
}

function renderNodes(nodes: FieldNode[], indent: string, out: string[]): void {
  for (const node of nodes) {
    const text = displayNode(node);
    out.push(`${indent}${mayHoldWireText(node) ? escapeText(text) : text}`);
    if (node.children !== undefined) renderNodes(node.children, `${indent}    `, out);
  }
}

/** Hex dump of the frame, then of every reassembled buffer a layer was decoded from. */
export function hexView(packet: Packet): string {
  const parts = [hexDump(packet.frame.data)];
  // A layer's bytes are shown when they are not a run of bytes shown already (the frame's, or
  // an outer reassembled layer's), as tshark shows reassembled data only. By content, not by
  // memory: a dissector may hold a copy of bytes that all came in this frame.
  const shown: Buffer[] = [asBuffer(packet.frame.data)];
  for (const layer of packet.layers) {
    const bytes = layer.bytes;
    if (bytes.length === 0 || shown.some((outer) => outer.indexOf(bytes) >= 0)) continue;
    shown.push(asBuffer(bytes));
    parts.push(`Reassembled ${layer.name} (${bytes.length} bytes):\n${hexDump(bytes)}`);
  }
  return parts.join('\n\n');
}

export type JsonScalar = string | number | boolean | null;

export interface JsonField {
  name: string;
  value: JsonScalar;
  show: string;
  children?: JsonField[];
}

/** Calls `visit` for every valued field of every layer, depth first, in tree order. */
function eachField(packet: Packet, visit: (name: string, value: JsonScalar, def: FieldDef) => void): void {
  const walk = (nodes: FieldNode[]): void => {
    for (const node of nodes) {
      if (node.def.type !== 'label' || node.value !== null) visit(node.def.name, jsonValue(node.value), node.def);
      if (node.children !== undefined) walk(node.children);
    }
  };
  for (const layer of packet.layers) walk(layer.tree());
}

/** Flattens every field of every layer into `name → [values…]` (arrays: a field may repeat). */
export function flatFields(packet: Packet): Record<string, JsonScalar[]> {
  // A Map while collecting (field names are many and dynamic), a plain object at the end.
  const map = new Map<string, JsonScalar[]>();
  eachField(packet, (name, value) => {
    const list = map.get(name);
    if (list === undefined) map.set(name, [value]);
    else list.push(value);
  });
  return Object.fromEntries(map);
}

function scalarJson(value: JsonScalar): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (value === null) return 'null';
  return value ? 'true' : 'false';
}

/**
 * Per field name, where its values went in the frame being serialised: `stamp` says which
 * frame, so the table is reused across frames (no Map per frame), and `key` is `"name":`
 * escaped once.
 */
interface Slot {
  stamp: number;
  index: number;
  readonly key: string;
}

const MAX_SLOTS = 100_000;
const slots = new Map<string, Slot>();
/** Names beyond MAX_SLOTS (hostile or odd dynamic names): a table per frame. */
let overflow: Map<string, Slot> | undefined;
let stamp = 0;
const slotKeys: string[] = [];
const slotTexts: string[] = [];
let slotCount = 0;

function fieldText(node: FieldNode): string {
  const value = node.value;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'string') {
    // Address texts are built from hex digits, dots and colons: nothing to escape.
    const type = node.def.type;
    return type === 'ipv4' || type === 'ipv6' || type === 'ether' ? `"${value}"` : JSON.stringify(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return scalarJson(jsonValue(value));
}

/** Depth first, in tree order, as eachField: every valued field into its name's slot. */
function collectFields(nodes: FieldNode[]): void {
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    const def = node.def;
    if (def.type !== 'label' || node.value !== null) {
      const text = fieldText(node);
      const name = def.name;
      let slot = slots.get(name) ?? overflow?.get(name);
      if (slot === undefined) {
        slot = { stamp: -1, index: 0, key: `${JSON.stringify(name)}:` };
        if (slots.size < MAX_SLOTS) slots.set(name, slot);
        else (overflow ??= new Map()).set(name, slot);
      }
      if (slot.stamp === stamp) slotTexts[slot.index] += `,${text}`;
      else {
        slot.stamp = stamp;
        slot.index = slotCount;
        slotKeys[slotCount] = slot.key;
        slotTexts[slotCount] = text;
        slotCount++;
      }
    }
    if (node.children !== undefined) collectFields(node.children);
  }
}

/** The `fields` object of packetJson, serialised straight to text (the ndjson hot path). */
export function flatFieldsText(packet: Packet): string {
  stamp++;
  slotCount = 0;
  overflow = undefined;
  const layers = packet.layers;
  for (let i = 0; i < layers.length; i++) collectFields(layers[i]!.tree());
  let out = '{';
  for (let i = 0; i < slotCount; i++) out += `${i === 0 ? '' : ','}${slotKeys[i]!}[${slotTexts[i]!}]`;
  // Drop the texts now rather than keep them alive until a later frame overwrites them.
  slotTexts.length = 0;
  slotKeys.length = 0;
  return `${out}}`;
}

function jsonTree(nodes: FieldNode[]): JsonField[] {
  return nodes.map((node) => {
    const item: JsonField = { name: node.def.name, value: jsonValue(node.value), show: displayNode(node) };
    if (node.children !== undefined && node.children.length > 0) item.children = jsonTree(node.children);
    return item;
  });
}

export interface PacketJsonOptions {
  readonly tree: boolean;
  readonly hex: boolean;
}

/** The JSON object of one frame (schema in docs/schema.md). */
export function packetJson(packet: Packet, first: { tsSec: number; tsNsec: number }, options: PacketJsonOptions): Record<string, unknown> {
  const frame = packet.frame;
  const columns = summaryColumns(packet, first);
  const obj: Record<string, unknown> = {
    frame: frame.number,
    time: isoTime(frame.tsSec, frame.tsNsec),
    time_relative: Number(columns.time),
    caplen: frame.caplen,
    len: frame.len,
    interface: frame.interfaceId,
    layers: packet.layers.map((l) => l.name),
    src: packet.src,
    dst: packet.dst,
    protocol: columns.protocol,
    info: columns.info,
    fields: flatFields(packet),
    findings: packet.findings,
  };
  if (frame.comments !== undefined) obj.comments = frame.comments;
  if (options.tree) obj.tree = packet.layers.map((l) => ({ layer: l.name, quoted: l.quoted === true, fields: jsonTree(l.tree()) }));
  if (options.hex) obj.hex = Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('hex');
  return obj;
}

/**
 * `JSON.stringify(packetJson(…))`, character for character (with `file` first when given),
 * built as text: about twice as fast on the ndjson path as building the object and
 * stringifying it (no dictionary-mode `fields` object, field keys escaped once).
 */
export function packetJsonText(packet: Packet, first: { tsSec: number; tsNsec: number }, options: PacketJsonOptions, file?: string): string {
  const frame = packet.frame;
  const columns = summaryColumns(packet, first);
  let out = file === undefined ? '{' : `{"file":${JSON.stringify(file)},`;
  out += `"frame":${frame.number},"time":${JSON.stringify(isoTime(frame.tsSec, frame.tsNsec))},"time_relative":${scalarJson(Number(columns.time))}`;
  out += `,"caplen":${frame.caplen},"len":${frame.len},"interface":${frame.interfaceId},"layers":[`;
  for (let i = 0; i < packet.layers.length; i++) out += `${i === 0 ? '' : ','}${JSON.stringify(packet.layers[i]!.name)}`;
  out += `],"src":${JSON.stringify(packet.src)},"dst":${JSON.stringify(packet.dst)},"protocol":${JSON.stringify(columns.protocol)},"info":${JSON.stringify(columns.info)}`;
  out += `,"fields":${flatFieldsText(packet)},"findings":${packet.findings.length === 0 ? '[]' : JSON.stringify(packet.findings)}`;
  if (frame.comments !== undefined) out += `,"comments":${JSON.stringify(frame.comments)}`;
  if (options.tree) out += `,"tree":${JSON.stringify(packet.layers.map((l) => ({ layer: l.name, quoted: l.quoted === true, fields: jsonTree(l.tree()) })))}`;
  if (options.hex) out += `,"hex":"${Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength).toString('hex')}"`;
  return `${out}}`;
}
