// The field registry: every protocol declares its fields once (name, type, label), and the
// detail view, the JSON output, the display filters and `msgscope fields` all derive from it
// (the role of Wireshark's hf_ arrays).

export type FieldType =
  | 'uint' // unsigned integer (number)
  | 'int'
  | 'bool'
  | 'string'
  | 'bytes' // shown as hex
  | 'ipv4'
  | 'ipv6'
  | 'ether' // MAC address
  | 'guid'
  | 'time' // ISO-8601 string
  | 'float'
  | 'label'; // a subtree heading with no value of its own

export type FieldValue = number | bigint | boolean | string | Uint8Array | null;

export interface FieldDef {
  /** Filter name, e.g. `ip.src`; the part before the first dot is the protocol. */
  readonly name: string;
  readonly type: FieldType;
  /** Display name, e.g. "Source Address". */
  readonly label: string;
  /** Integer bases for display: hex fields show as 0x… */
  readonly base?: 'dec' | 'hex';
  /** Value strings: the meaning of coded values, shown beside the number. */
  readonly values?: ReadonlyMap<number, string>;
  readonly description?: string;
}

export interface ProtocolDef {
  /** Short lower-case name, tshark's where one exists (`ip`, `tcp`, `smb`). */
  readonly name: string;
  /** Long name for the detail view, e.g. "Internet Protocol Version 4". */
  readonly title: string;
  readonly fields: ReadonlyMap<string, FieldDef>;
}

const protocols = new Map<string, ProtocolDef>();
const allFields = new Map<string, FieldDef>();

export type FieldSpec = Omit<FieldDef, 'name' | 'values'> & {
  values?: ReadonlyMap<number, string> | Record<number, string>;
};

/**
 * Declares a protocol and its fields. Field keys are given without the protocol prefix;
 * the returned object maps each key to its full definition (and `$protocol` to the protocol) so dissectors refer to fields by
 * identifier (`IP.src`) and never by a string that could drift from the table.
 */
export function defineProtocol<K extends string>(
  name: string,
  title: string,
  specs: Record<K, FieldSpec>,
): { readonly $protocol: ProtocolDef } & { readonly [P in K]: FieldDef } {
  const fields = new Map<string, FieldDef>();
  const out: Record<string, FieldDef | ProtocolDef> = {};
  for (const key of Object.keys(specs) as K[]) {
    const spec = specs[key];
    const values =
      spec.values === undefined
        ? undefined
        : spec.values instanceof Map
          ? spec.values
          : new Map(Object.entries(spec.values).map(([k, v]) => [Number(k), v]));
    const def: FieldDef = { ...spec, name: `${name}.${key}`, values };
    if (allFields.has(def.name)) throw new Error(`field ${def.name} declared twice`);
    fields.set(def.name, def);
    allFields.set(def.name, def);
    out[key] = def;
  }
  const proto: ProtocolDef = { name, title, fields };
  if (protocols.has(name)) throw new Error(`protocol ${name} declared twice`);
  protocols.set(name, proto);
  out.$protocol = proto;
  return out as { readonly $protocol: ProtocolDef } & { readonly [P in K]: FieldDef };
}

export function lookupField(name: string): FieldDef | undefined {
  return allFields.get(name);
}

export function lookupProtocol(name: string): ProtocolDef | undefined {
  return protocols.get(name);
}

export function listProtocols(): ProtocolDef[] {
  return [...protocols.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** One decoded field in a detail tree. */
export interface FieldNode {
  readonly def: FieldDef;
  readonly value: FieldValue;
  /** Offset and length in the bytes the layer was decoded from (for -x highlighting). */
  readonly offset?: number;
  readonly length?: number;
  /** Overrides the generated "Label: value" display text. */
  readonly display?: string;
  readonly children?: FieldNode[];
}

/** The value of the first node of `def` among `nodes` and their children (depth first, in order); undefined when there is none. */
export function firstValue(nodes: readonly FieldNode[], def: FieldDef): FieldValue | undefined {
  for (const node of nodes) {
    if (node.def === def) return node.value;
    if (node.children !== undefined) {
      const v = firstValue(node.children, def);
      if (v !== undefined) return v;
    }
  }
  return undefined;
}

/** Builds tree nodes tersely: `f(IP.src, '1.2.3.4', 12, 4)`. */
export function f(
  def: FieldDef,
  value: FieldValue,
  offset?: number,
  length?: number,
  children?: FieldNode[],
  display?: string,
): FieldNode {
  return { def, value, offset, length, children, display };
}

export function formatValue(def: FieldDef, value: FieldValue): string {
  if (value === null) return '';
  if (value instanceof Uint8Array) return hexString(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const text = def.base === 'hex' ? `0x${value.toString(16).padStart(2, '0')}` : value.toString();
    const meaning = def.values?.get(Number(value));
    return meaning === undefined ? text : `${meaning} (${text})`;
  }
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return value;
}

export function displayNode(node: FieldNode): string {
  if (node.display !== undefined) return node.display;
  if (node.def.type === 'label') return node.value === null ? node.def.label : `${node.def.label}: ${String(node.value)}`;
  return `${node.def.label}: ${formatValue(node.def, node.value)}`;
}

export function hexString(bytes: Uint8Array, max = 4096): string {
  const n = Math.min(bytes.length, max);
  let s = '';
  for (let i = 0; i < n; i++) s += HEX[bytes[i]!];
  return n < bytes.length ? `${s}…` : s;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The JSON form of a field value: numbers stay numbers, bytes become hex strings. */
export function jsonValue(value: FieldValue): string | number | boolean | null {
  if (value === null) return null;
  if (value instanceof Uint8Array) return hexString(value, Number.MAX_SAFE_INTEGER);
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  return value;
}
