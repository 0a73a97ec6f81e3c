// Display filters over dissected frames. Field names come from the registry (every protocol's
// defineProtocol table), plus two pseudo-protocols declared here: `frame` (number, lengths,
// times — tshark's names) and `expert` (the frame's findings). A filter builds the field tree
// of a layer only when it names one of that layer's fields, once per frame.
import {
  defineProtocol, listProtocols, lookupField, lookupProtocol, type FieldDef, type FieldNode, type FieldValue,
} from '../model/fields.js';
import type { Packet } from '../model/packet.js';
import { compile, type FieldRef, type FieldSource, type Predicate } from './compile.js';
import { UnknownFieldError } from './errors.js';
import { parseFilter } from './parse.js';
import { parseIpv4, parseIpv6, parseTime, type Kind, type Val } from './values.js';
import { closest } from './suggest.js';

export const FRAME = defineProtocol('frame', 'Frame', {
  number: { type: 'uint', label: 'Frame Number', description: '1-based, in file order' },
  len: { type: 'uint', label: 'Frame Length', description: 'Bytes on the wire' },
  cap_len: { type: 'uint', label: 'Capture Length', description: 'Bytes captured' },
  time: { type: 'time', label: 'Arrival Time', description: 'Compare with "2005-06-10 12:00:00" (UTC) or seconds since the epoch' },
  time_epoch: { type: 'float', label: 'Epoch Arrival Time', description: 'Seconds since 1970-01-01 UTC' },
  time_relative: { type: 'float', label: 'Time since the first frame', description: 'Seconds since the first frame of the file' },
  time_delta: { type: 'float', label: 'Time delta from the previous captured frame', description: 'Seconds' },
  interface_id: { type: 'uint', label: 'Interface id' },
  protocols: { type: 'string', label: 'Protocols in frame', description: "msgscope's layer names joined by ':' (e.g. eth:ip:udp)" },
  comment: { type: 'string', label: 'Comment', description: 'pcapng packet comment' },
});

export const EXPERT = defineProtocol('expert', 'Findings (expert information)', {
  id: { type: 'string', label: 'Finding', description: 'Stable finding identifier, e.g. tcp.gap' },
  severity: { type: 'string', label: 'Severity', description: 'error, warning or note' },
  summary: { type: 'string', label: 'Summary' },
  spec: { type: 'string', label: 'Specification clause' },
});

const PSEUDO = new Set(['frame', 'expert']);

/** Per-file timing that frame.time_relative and frame.time_delta need. */
interface Timing {
  firstSec: number;
  firstNsec: number;
  prevSec: number;
  prevNsec: number;
  started: boolean;
}

/**
 * Which layers hold fields of which protocol. Fields usually live in their own protocol's
 * layer (`tcp.*` in `tcp`), but a dissector may put another protocol's fields in its tree
 * (NDR `dcerpc.*` fields under `msrp`, as Wireshark does; `isl.*` under `eth`). The first
 * PROFILE trees of every layer name are always built to learn this, and every tree built
 * later refines it; after that a filter builds only the trees that can hold its fields.
 */
const PROFILE = 64;
const hosts = new Map<string, Set<string>>();
const profiled = new Map<string, number>();

function learn(layerName: string, map: Map<string, FieldValue[]>): void {
  for (const name of map.keys()) {
    const protocol = name.slice(0, name.indexOf('.'));
    if (protocol === layerName) continue;
    let set = hosts.get(protocol);
    if (set === undefined) hosts.set(protocol, (set = new Set()));
    set.add(layerName);
  }
}

function collect(nodes: readonly FieldNode[], into: Map<string, FieldValue[]>): void {
  for (const node of nodes) {
    const list = into.get(node.def.name);
    if (list === undefined) into.set(node.def.name, [node.value]);
    else list.push(node.value);
    if (node.children !== undefined) collect(node.children, into);
  }
}

/** One frame under evaluation: the packet and the flattened fields of the layers built so far. */
class PacketItem {
  private layerCache: (Map<string, FieldValue[]> | undefined)[] | undefined;
  private protocolCache: Map<string, Map<string, FieldValue[]>> | undefined;

  constructor(
    readonly packet: Packet,
    readonly timing: Timing,
  ) {}

  private layerFields(index: number): Map<string, FieldValue[]> {
    this.layerCache ??= [];
    let map = this.layerCache[index];
    if (map === undefined) {
      const layer = this.packet.layers[index]!;
      map = new Map();
      collect(layer.tree(), map);
      this.layerCache[index] = map;
      learn(layer.name, map);
    }
    return map;
  }

  /** Every field of `protocol` in this frame, from every layer that can hold one (quoted copies included, as tshark). */
  fields(protocol: string): Map<string, FieldValue[]> {
    this.protocolCache ??= new Map();
    let out = this.protocolCache.get(protocol);
    if (out !== undefined) return out;
    out = new Map();
    const prefix = `${protocol}.`;
    const layers = this.packet.layers;
    for (let i = 0; i < layers.length; i++) {
      const name = layers[i]!.name;
      if (name !== protocol && hosts.get(protocol)?.has(name) !== true) {
        const seen = profiled.get(name) ?? 0;
        if (seen >= PROFILE) continue;
        profiled.set(name, seen + 1);
      }
      for (const [field, values] of this.layerFields(i)) {
        if (!field.startsWith(prefix)) continue;
        const list = out.get(field);
        if (list === undefined) out.set(field, [...values]);
        else list.push(...values);
      }
    }
    this.protocolCache.set(protocol, out);
    return out;
  }
}

function kindOf(def: FieldDef): Kind {
  switch (def.type) {
    case 'uint':
    case 'int':
    case 'float':
      return 'number';
    case 'bool':
      return 'bool';
    case 'string':
    case 'label':
      return 'string';
    case 'bytes':
      return 'bytes';
    case 'ipv4':
      return 'ipv4';
    case 'ipv6':
      return 'ipv6';
    case 'ether':
      return 'ether';
    case 'guid':
      return 'guid';
    case 'time':
      return 'time';
  }
}

/** A tree value as the comparisons want it, or undefined for a value-less node. */
function normalise(kind: Kind, value: FieldValue): Val | undefined {
  if (value === null) return undefined;
  switch (kind) {
    case 'ipv4': {
      if (typeof value !== 'string') return typeof value === 'number' ? { v: 4, n: BigInt(value >>> 0) } : undefined;
      const n = parseIpv4(value);
      return n === undefined ? undefined : { v: 4, n: BigInt(n) };
    }
    case 'ipv6': {
      const n = typeof value === 'string' ? parseIpv6(value) : undefined;
      return n === undefined ? undefined : { v: 6, n };
    }
    case 'ether':
    case 'guid':
      return typeof value === 'string' ? value.toLowerCase() : value;
    case 'time':
      return typeof value === 'string' ? parseTime(value) : typeof value === 'number' ? value : undefined;
    case 'bytes':
      return typeof value === 'string' ? new TextEncoder().encode(value) : value;
    default:
      return value;
  }
}

function layerField(def: FieldDef, protocol: string, alsoFrom: readonly string[]): FieldRef<PacketItem> {
  const kind = kindOf(def);
  const names = [def.name, ...alsoFrom];
  return {
    name: def.name,
    kind,
    valueNames: def.values,
    present: (item) => {
      const map = item.fields(protocol);
      return names.some((n) => map.has(n));
    },
    values: (item) => {
      const map = item.fields(protocol);
      const out: Val[] = [];
      for (const n of names) {
        const raw = map.get(n);
        if (raw === undefined) continue;
        for (const value of raw) {
          const v = normalise(kind, value);
          if (v !== undefined) out.push(v);
        }
      }
      return out;
    },
  };
}

/**
 * "Either side" fields (`ip.addr`, `tcp.port`, `eth.addr`, …): a registered `<p>.addr` also
 * matches `<p>.src`/`<p>.dst`, a `<p>.port` also `<p>.srcport`/`<p>.dstport`, whichever of them
 * the protocol declares — derived from the registry, not listed here.
 */
function eitherSide(name: string): string[] {
  const m = /^(.*\.)(addr|port)$/.exec(name);
  if (m === null) return [];
  const [, prefix, what] = m;
  const pair = what === 'addr' ? ['src', 'dst'] : ['srcport', 'dstport'];
  return pair.map((p) => `${prefix}${p}`).filter((n) => lookupField(n) !== undefined);
}

function secondsBetween(sec: number, nsec: number, baseSec: number, baseNsec: number): number {
  return sec - baseSec + (nsec - baseNsec) / 1e9;
}

function frameField(key: string): FieldRef<PacketItem> | undefined {
  const def = lookupField(`frame.${key}`)!;
  const make = (kind: Kind, get: (item: PacketItem) => Val | undefined): FieldRef<PacketItem> => ({
    name: def.name,
    kind,
    present: (item) => get(item) !== undefined,
    values: (item) => {
      const v = get(item);
      return v === undefined ? [] : [v];
    },
  });
  switch (key) {
    case 'number':
      return make('number', (i) => i.packet.frame.number);
    case 'len':
      return make('number', (i) => i.packet.frame.len);
    case 'cap_len':
      return make('number', (i) => i.packet.frame.caplen);
    case 'time':
    case 'time_epoch':
      return make(key === 'time' ? 'time' : 'number', (i) => i.packet.frame.tsSec + i.packet.frame.tsNsec / 1e9);
    case 'time_relative':
      return make('number', (i) => secondsBetween(i.packet.frame.tsSec, i.packet.frame.tsNsec, i.timing.firstSec, i.timing.firstNsec));
    case 'time_delta':
      return make('number', (i) => secondsBetween(i.packet.frame.tsSec, i.packet.frame.tsNsec, i.timing.prevSec, i.timing.prevNsec));
    case 'interface_id':
      return make('number', (i) => i.packet.frame.interfaceId);
    case 'protocols':
      return make('string', (i) => i.packet.layers.map((l) => l.name).join(':'));
    case 'comment':
      return {
        name: def.name,
        kind: 'string',
        present: (i) => (i.packet.frame.comments?.length ?? 0) > 0,
        values: (i) => i.packet.frame.comments ?? [],
      };
    default:
      return undefined;
  }
}

function expertField(key: string): FieldRef<PacketItem> | undefined {
  if (key !== 'id' && key !== 'severity' && key !== 'summary' && key !== 'spec') return undefined;
  return {
    name: `expert.${key}`,
    kind: 'string',
    present: (i) => i.packet.findings.length > 0,
    values: (i) => i.packet.findings.map((x) => x[key]),
  };
}

function protocolRef(name: string): FieldRef<PacketItem> {
  if (name === 'frame') return { name, kind: 'protocol', present: () => true, values: (i) => [i.packet.frame.data] };
  if (name === 'expert') return { name, kind: 'protocol', present: (i) => i.packet.findings.length > 0, values: () => [] };
  return {
    name,
    kind: 'protocol',
    // Present as a layer, or as fields another layer holds (e.g. `isl` inside `eth`).
    present: (i) => i.packet.layers.some((l) => l.name === name) || i.fields(name).size > 0,
    values: (i) => i.packet.layers.filter((l) => l.name === name).map((l) => l.bytes.subarray(l.offset)),
  };
}

const packetSource: FieldSource<PacketItem> = {
  noun: 'field',
  lookup(name) {
    if (lookupProtocol(name) !== undefined) return protocolRef(name);
    const def = lookupField(name);
    if (def === undefined) return undefined;
    const protocol = name.slice(0, name.indexOf('.'));
    if (protocol === 'frame') return frameField(name.slice(6));
    if (protocol === 'expert') return expertField(name.slice(7));
    return layerField(def, protocol, eitherSide(name));
  },
  suggest(name) {
    const candidates: string[] = [];
    for (const p of listProtocols()) {
      candidates.push(p.name);
      for (const n of p.fields.keys()) candidates.push(n);
    }
    return closest(name, candidates);
  },
};

/** Per-file timing: frame.time_relative counts from the first frame asked about, time_delta from the previous one. */
class FilterClock {
  private readonly timing: Timing = { firstSec: 0, firstNsec: 0, prevSec: 0, prevNsec: 0, started: false };

  reset(): void {
    this.timing.started = false;
  }

  /** Evaluates `fn` on the frame with the timing it should see, then moves the clock on. */
  at<T>(packet: Packet, fn: (item: PacketItem) => T): T {
    const t = this.timing;
    const frame = packet.frame;
    if (!t.started) {
      t.started = true;
      t.firstSec = t.prevSec = frame.tsSec;
      t.firstNsec = t.prevNsec = frame.tsNsec;
    }
    const result = fn(new PacketItem(packet, t));
    t.prevSec = frame.tsSec;
    t.prevNsec = frame.tsNsec;
    return result;
  }
}

/** Fields timed across the capture: the time since its first frame, and since the previous one. */
const FRAME_TIMES: readonly string[] = ['frame.time_relative', 'frame.time_delta'];
/** Fields numbered or timed across the capture: stream numbers and FRAME_TIMES. */
const CAPTURE_WIDE: ReadonlySet<string> = new Set(['tcp.stream', 'udp.stream', ...FRAME_TIMES]);

/** A compiled display filter for `read` and `live`. One instance per output; `reset()` between files. */
export class PacketFilter {
  private readonly predicate: Predicate<PacketItem>;
  private readonly clock = new FilterClock();

  /**
   * Whether the filter reads a field whose value depends on frames other than the one read
   * (CAPTURE_WIDE): a reader given only some of a capture's frames, as a lane of a capture split
   * by flow is, cannot evaluate it.
   */
  readonly readsCaptureWide: boolean;

  /** Throws FilterError (with the column) when the text is not a valid filter. */
  constructor(readonly text: string) {
    let wide = false;
    this.predicate = compile(parseFilter(text), {
      ...packetSource,
      lookup: (name) => {
        const ref = packetSource.lookup(name);
        if (ref !== undefined && CAPTURE_WIDE.has(ref.name)) wide = true;
        return ref;
      },
    });
    this.readsCaptureWide = wide;
  }

  /** A new capture file: frame.time_relative counts from its first frame. */
  reset(): void {
    this.clock.reset();
  }

  match(packet: Packet): boolean {
    return this.clock.at(packet, (item) => this.predicate(item));
  }
}

/**
 * Several display filters asked about the same frames (verify's rule checks): a frame's field
 * trees are built once, however many of the filters read them. Time fields count from the
 * first frame the group was asked about in the file.
 */
export class PacketFilterGroup {
  private readonly predicates: Predicate<PacketItem>[];
  private readonly clock = new FilterClock();

  /** Throws FilterError (with the column) when a text is not a valid filter. */
  constructor(readonly texts: readonly string[]) {
    this.predicates = texts.map((text) => compile(parseFilter(text), packetSource));
  }

  reset(): void {
    this.clock.reset();
  }

  /** The indices among `which` (indices into `texts`) whose filter matches the frame. */
  matching(packet: Packet, which: Iterable<number>): number[] {
    return this.clock.at(packet, (item) => {
      const out: number[] = [];
      for (const i of which) if (this.predicates[i]!(item)) out.push(i);
      return out;
    });
  }
}

/** One field's values in a frame, as `-T fields` prints them: the declaration says how. */
export interface FieldValues {
  readonly def: FieldDef | undefined;
  readonly values: readonly FieldValue[];
}

/** Seconds and nanoseconds as tshark prints times: `12.345678900`, negative when earlier. */
function secondsText(sec: number, nsec: number): string {
  let total = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
  const negative = total < 0n;
  if (negative) total = -total;
  return `${negative ? '-' : ''}${total / 1_000_000_000n}.${String(total % 1_000_000_000n).padStart(9, '0')}`;
}

/** tshark's absolute time text, in UTC: `May  6, 2005 09:17:57.389967000 UTC`. */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function absoluteTimeText(sec: number, nsec: number): string {
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return secondsText(sec, nsec);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')}, ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(nsec).padStart(9, '0')} UTC`;
}

function frameValues(key: string, i: PacketItem): FieldValue[] {
  const frame = i.packet.frame;
  const t = i.timing;
  switch (key) {
    case 'time':
      return [absoluteTimeText(frame.tsSec, frame.tsNsec)];
    case 'time_epoch':
      return [secondsText(frame.tsSec, frame.tsNsec)];
    case 'time_relative':
      return [secondsText(frame.tsSec - t.firstSec, frame.tsNsec - t.firstNsec)];
    case 'time_delta':
      return [secondsText(frame.tsSec - t.prevSec, frame.tsNsec - t.prevNsec)];
    case 'protocols':
      return [i.packet.layers.map((l) => l.name).join(':')];
    case 'comment':
      return [...(i.packet.frame.comments ?? [])];
    default: {
      const ref = frameField(key);
      return ref === undefined ? [] : (ref.values(i) as FieldValue[]);
    }
  }
}

/** A protocol named alone: tshark prints its heading, once per layer of it. */
function protocolHeadings(name: string, i: PacketItem): FieldValue[] {
  const title = lookupProtocol(name)?.title ?? name;
  return i.packet.layers.filter((l) => l.name === name).map((l) => `${title}${l.info !== undefined ? `, ${l.info}` : ''}`);
}

/**
 * Reads named fields from frames (`read -T fields -e NAME`): each field's values in tree order,
 * quoted copies included (as tshark). Names are checked when made.
 */
export class PacketFieldReader {
  private readonly readers: readonly ((i: PacketItem) => FieldValues)[];
  private readonly clock = new FilterClock();
  /**
   * Whether a field read is timed across frames (FRAME_TIMES): a
   * reader given only some of a capture's frames (a lane of a capture split by flow) cannot
   * give it. (Stream numbers come from the frame's tree, where a lane can show them.)
   */
  readonly readsFrameTimes: boolean;

  /** Throws UnknownFieldError for a name no protocol declares (with the nearest known name). */
  constructor(readonly names: readonly string[]) {
    this.readsFrameTimes = names.some((name) => FRAME_TIMES.includes(name));
    this.readers = names.map((name) => {
      if (lookupProtocol(name) !== undefined) {
        if (name === 'frame') return (i) => ({ def: undefined, values: [`Frame ${i.packet.frame.number}: ${i.packet.frame.len} bytes on wire, ${i.packet.frame.caplen} bytes captured`] });
        if (name === 'expert') return (i) => ({ def: undefined, values: i.packet.findings.map((x) => x.summary) });
        return (i) => ({ def: undefined, values: protocolHeadings(name, i) });
      }
      const def = lookupField(name);
      if (def === undefined) {
        throw new UnknownFieldError(name, packetSource.suggest(name), 'field', 'msgscope fields');
      }
      const protocol = name.slice(0, name.indexOf('.'));
      if (protocol === 'frame') {
        const key = name.slice(6);
        return (i) => ({ def, values: frameValues(key, i) });
      }
      if (protocol === 'expert') {
        const key = name.slice(7) as 'id' | 'severity' | 'summary' | 'spec';
        return (i) => ({ def, values: i.packet.findings.map((x) => x[key]) });
      }
      const names = [name, ...eitherSide(name)];
      return (i) => {
        const map = i.fields(protocol);
        const values: FieldValue[] = [];
        for (const n of names) for (const v of map.get(n) ?? []) if (v !== null) values.push(v);
        return { def, values };
      };
    });
  }

  /** A new capture file: frame.time_relative counts from its first frame. */
  reset(): void {
    this.clock.reset();
  }

  /** The values of every named field in this frame, in the order named. */
  read(packet: Packet): FieldValues[] {
    return this.clock.at(packet, (item) => this.readers.map((r) => r(item)));
  }
}

/** True for the pseudo-protocols that no layer carries (documentation lists them apart). */
export function isPseudoProtocol(name: string): boolean {
  return PSEUDO.has(name);
}
