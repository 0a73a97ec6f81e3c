// Display filters over timeline events (`timeline -Y`, `live --view timeline -Y`). The names
// follow the events' JSON form (docs/schema.md): the common members (`kind`, `time`, `frames`,
// `protocol`, `transport`, `src`, `dst`, `uid`, `community_id`), derived endpoint parts (`src.addr`, `dst.port`,
// `addr`, `port`), the findings every event carries (`finding.id`, `finding.severity`, …),
// and each kind's own members under its kind: `message.text`, `name.operation`,
// `call.result.name`, `message.details.<anything>`. Bare `message` (any kind) tests the
// kind; bare `smb` (any registered protocol) tests the event's protocol or transport path.
import type { FindingEvent, TimelineEvent } from '../model/events.js';
import { lookupProtocol } from '../model/fields.js';
import { compile, type FieldRef, type FieldSource, type Predicate } from './compile.js';
import { parseFilter } from './parse.js';
import { UnknownFieldError } from './errors.js';
import { isoTime } from '../output/time.js';
import { closest } from './suggest.js';
import { addrOf, type Kind, type Val } from './values.js';

type EventKind = TimelineEvent['kind'];
type OwnKeys<K extends EventKind> = Exclude<keyof Extract<TimelineEvent, { kind: K }>, keyof FindingEvent>;

/**
 * Each kind's own members. Typed against src/model/events.ts both ways (a missing or an
 * extra key is a compile error), so this table cannot drift from the event types.
 */
const KIND_KEYS: { readonly [K in EventKind]: Readonly<Record<OwnKeys<K>, true>> } = {
  message: { from: true, to: true, text: true, status: true, error: true, details: true },
  session: { action: true, details: true },
  presence: { user: true, status: true, details: true },
  name: { operation: true, name: true, level: true, names: true, result: true, details: true },
  call: { interface: true, operation: true, result: true, details: true },
  notice: { notice: true, from: true, to: true, details: true },
  finding: {},
};

/** Members whose values are objects with members of their own. */
const NESTED: Readonly<Record<string, readonly string[] | 'any'>> = { details: 'any', result: ['code', 'name'] };

const COMMON: Readonly<Record<string, Kind>> = {
  kind: 'string', time: 'time', frames: 'number', protocol: 'string', transport: 'string', src: 'string', dst: 'string',
  'src.addr': 'ip', 'dst.addr': 'ip', addr: 'ip', 'src.port': 'number', 'dst.port': 'number', port: 'number',
  uid: 'string', community_id: 'string',
};

const FINDING_KEYS = ['id', 'severity', 'summary', 'frame', 'spec'] as const;

/** `ip:port` or `[v6]:port` → its parts, as text and number. */
function endpointParts(text: string): { addr: string; port?: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m !== null) return { addr: m[1]!, port: Number(m[2]) };
  return { addr: text.replace(/^\[|\]$/g, '') };
}

/** `ip:port` or `[v6]:port` → its parts, the address as filters compare it. */
function splitEndpoint(text: string): { addr?: Val; port?: number } {
  const { addr, port } = endpointParts(text);
  return { addr: addrOf(addr), port };
}

/** The raw values of a common member (addresses as text), as `-T fields` prints them. */
function commonValues(name: string, e: TimelineEvent): (string | number)[] {
  switch (name) {
    case 'time':
      return [isoTime(e.tsSec, e.tsNsec)];
    case 'frames':
      return e.frames;
    case 'src.addr':
    case 'dst.addr':
    case 'src.port':
    case 'dst.port': {
      const text = name.startsWith('src') ? e.src : e.dst;
      if (text === '') return [];
      const part = endpointParts(text)[name.endsWith('addr') ? 'addr' : 'port'];
      return part === undefined ? [] : [part];
    }
    case 'addr':
    case 'port': {
      const out: (string | number)[] = [];
      for (const ep of [e.src, e.dst]) {
        if (ep === '') continue;
        const part = endpointParts(ep)[name];
        if (part !== undefined) out.push(part);
      }
      return out;
    }
    default: {
      const v = (e as unknown as Record<string, unknown>)[name];
      return typeof v === 'string' && v !== '' ? [v] : [];
    }
  }
}

function common(name: string, kind: Kind): FieldRef<TimelineEvent> {
  const values = (e: TimelineEvent): Val[] => {
    switch (name) {
      case 'time':
        return [e.tsSec + e.tsNsec / 1e9];
      case 'frames':
        return e.frames;
      case 'src.addr':
      case 'dst.addr':
      case 'src.port':
      case 'dst.port': {
        const part = splitEndpoint(name.startsWith('src') ? e.src : e.dst)[name.endsWith('addr') ? 'addr' : 'port'];
        return part === undefined ? [] : [part];
      }
      case 'addr':
      case 'port': {
        const out: Val[] = [];
        for (const ep of [e.src, e.dst]) {
          const part = splitEndpoint(ep)[name];
          if (part !== undefined) out.push(part);
        }
        return out;
      }
      case 'community_id':
        return e.communityId !== undefined ? [e.communityId] : [];
      default: {
        const v = (e as unknown as Record<string, unknown>)[name];
        return typeof v === 'string' && v !== '' ? [v] : [];
      }
    }
  };
  return { name, kind, present: (e) => values(e).length > 0, values };
}

function findingField(key: (typeof FINDING_KEYS)[number]): FieldRef<TimelineEvent> {
  return {
    name: `finding.${key}`,
    kind: key === 'frame' ? 'number' : 'string',
    present: (e) => e.findings.length > 0,
    values: (e) => e.findings.map((x) => x[key]),
  };
}

/** Values at a member path, arrays flattened; objects count for presence only. */
function walk(value: unknown, path: readonly string[], out: { present: boolean; values: Val[] }): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) walk(item, path, out);
    return;
  }
  if (path.length > 0) {
    if (typeof value === 'object') walk((value as Record<string, unknown>)[path[0]!], path.slice(1), out);
    return;
  }
  out.present = true;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') out.values.push(value);
}

function kindField(kind: EventKind, path: readonly string[]): FieldRef<TimelineEvent> {
  const read = (e: TimelineEvent): { present: boolean; values: Val[] } => {
    const out = { present: false, values: [] as Val[] };
    if (e.kind === kind) walk((e as unknown as Record<string, unknown>)[path[0]!], path.slice(1), out);
    return out;
  };
  return { name: `${kind}.${path.join('.')}`, kind: 'dynamic', present: (e) => read(e).present, values: (e) => read(e).values };
}

function isKind(name: string): name is EventKind {
  return Object.prototype.hasOwnProperty.call(KIND_KEYS, name);
}

/** Every name the event filters know (for suggestions and documentation). */
export function eventFieldNames(): string[] {
  const names = [...Object.keys(COMMON), 'finding', ...FINDING_KEYS.map((k) => `finding.${k}`)];
  for (const kind of Object.keys(KIND_KEYS) as EventKind[]) {
    names.push(kind);
    for (const key of Object.keys(KIND_KEYS[kind])) {
      const nested = NESTED[key];
      if (nested === undefined) names.push(`${kind}.${key}`);
      else if (nested === 'any') names.push(`${kind}.${key}.<member>`);
      else for (const sub of nested) names.push(`${kind}.${key}.${sub}`);
    }
  }
  return names;
}

const eventSource: FieldSource<TimelineEvent> = {
  noun: 'event field',
  lookup(name) {
    const kindOfCommon = COMMON[name];
    if (kindOfCommon !== undefined) return common(name, kindOfCommon);
    if (name === 'finding') return { name, kind: 'protocol', present: (e) => e.findings.length > 0, values: () => [] };
    if (isKind(name)) return { name, kind: 'protocol', present: (e) => e.kind === name, values: () => [] };
    const dot = name.indexOf('.');
    if (dot > 0) {
      const head = name.slice(0, dot);
      const path = name.slice(dot + 1).split('.');
      if (head === 'finding' && path.length === 1 && (FINDING_KEYS as readonly string[]).includes(path[0]!)) {
        return findingField(path[0] as (typeof FINDING_KEYS)[number]);
      }
      if (isKind(head) && path.every((p) => p !== '')) {
        const keys: Readonly<Record<string, true>> = KIND_KEYS[head];
        if (keys[path[0]!] !== true) return undefined;
        const nested = NESTED[path[0]!];
        if (path.length > 1 && (nested === undefined || (nested !== 'any' && (path.length > 2 || !nested.includes(path[1]!))))) return undefined;
        return kindField(head, path);
      }
    }
    // A protocol name tests the event's protocol or any step of its transport path.
    if (lookupProtocol(name) !== undefined) {
      return { name, kind: 'protocol', present: (e) => e.protocol === name || e.transport.split('/').includes(name), values: () => [] };
    }
    return undefined;
  },
  suggest(name) {
    return closest(name, eventFieldNames().filter((n) => !n.includes('<')));
  },
};

export type EventFieldValue = string | number | boolean | bigint;

/**
 * Reads named event fields (`timeline -T fields -e NAME`): the same names as the event filters,
 * values as the JSON form has them (time as ISO-8601, addresses as text, arrays one value per
 * item). A bare kind or protocol name gives its name when the event is one. Names are checked
 * when made.
 */
export class EventFieldReader {
  private readonly readers: readonly ((e: TimelineEvent) => EventFieldValue[])[];

  /** Throws UnknownFieldError for a name the events do not have (with the nearest known name). */
  constructor(readonly names: readonly string[]) {
    this.readers = names.map((name) => {
      const ref = eventSource.lookup(name);
      if (ref === undefined) {
        throw new UnknownFieldError(name, eventSource.suggest(name), 'event field', 'msgscope fields --events');
      }
      if (COMMON[name] !== undefined) return (e) => commonValues(name, e);
      if (ref.kind === 'protocol') return (e) => (ref.present(e) ? [name] : []);
      return (e) => ref.values(e) as EventFieldValue[];
    });
  }

  read(event: TimelineEvent): EventFieldValue[][] {
    return this.readers.map((r) => r(event));
  }
}

/** A compiled display filter for timeline events. */
export class EventFilter {
  private readonly predicate: Predicate<TimelineEvent>;

  /** Throws FilterError (with the column) when the text is not a valid filter. */
  constructor(readonly text: string) {
    this.predicate = compile(parseFilter(text), eventSource);
  }

  match(event: TimelineEvent): boolean {
    return this.predicate(event);
  }
}
