// MS-MSRP stubs: the IDL of msgsvcsend and msgsvc (MS-MSRP 6.1, 6.2) described as NDR types,
// and the typed arguments of each method decoded from a stub. Pure.
import {
  carray, cstring, decodeParams, derefValue, ref, struct, u32, union, unique, wstring,
  type DecodedParams, type Drep, type NdrParam, type NdrString, type NdrType, type NdrValue,
} from '../dcerpc/ndr.js';

export const MSGSVCSEND_UUID = '5a7b91f8-ff00-11d0-a9b2-00c04fb6e6fc';
export const MSGSVC_UUID = '17fdd703-1827-4e34-79d4-24a55c53bb37';

// ---- msgsvc types (MS-MSRP 2.2.2) ----

const MSG_INFO_0: NdrType = struct('MSG_INFO_0', [{ name: 'msgi0_name', type: unique(wstring) }]);
const MSG_INFO_1: NdrType = struct('MSG_INFO_1', [
  { name: 'msgi1_name', type: unique(wstring) },
  { name: 'msgi1_forward_flag', type: u32 },
  { name: 'msgi1_forward', type: unique(wstring) },
]);
const MSG_INFO_0_CONTAINER: NdrType = struct('MSG_INFO_0_CONTAINER', [
  { name: 'EntriesRead', type: u32 },
  { name: 'Buffer', type: unique(carray(MSG_INFO_0)), sizeIs: 'EntriesRead' },
]);
const MSG_INFO_1_CONTAINER: NdrType = struct('MSG_INFO_1_CONTAINER', [
  { name: 'EntriesRead', type: u32 },
  { name: 'Buffer', type: unique(carray(MSG_INFO_1)), sizeIs: 'EntriesRead' },
]);
const MSG_ENUM_STRUCT: NdrType = struct('MSG_ENUM_STRUCT', [
  { name: 'Level', type: u32 },
  { name: 'MsgInfo', type: union('_MSG_ENUM_UNION', 'u32', { 0: unique(MSG_INFO_0_CONTAINER), 1: unique(MSG_INFO_1_CONTAINER) }), switchIs: 'Level' },
]);
const MSG_INFO: NdrType = union('_MSG_INFO', 'u32', { 0: unique(MSG_INFO_0), 1: unique(MSG_INFO_1) });

// ---- operations ----

const SERVER_NAME: NdrParam = { name: 'ServerName', dir: 'in', type: unique(wstring) };
const MSG_NAME: NdrParam = { name: 'MsgName', dir: 'in', type: wstring };

export interface OpDef {
  readonly name: string;
  readonly params: readonly NdrParam[];
}

/** msgsvcsend (MS-MSRP 3.2.4): From, To and Text are [in, string] LPSTR, i.e. char strings. */
export const SEND_OPS: ReadonlyMap<number, OpDef> = new Map([
  [0, { name: 'NetrSendMessage', params: [
    { name: 'From', dir: 'in', type: cstring },
    { name: 'To', dir: 'in', type: cstring },
    { name: 'Text', dir: 'in', type: cstring },
  ] }],
]);

/** msgsvc (MS-MSRP 3.1.4). */
export const NAME_OPS: ReadonlyMap<number, OpDef> = new Map([
  [0, { name: 'NetrMessageNameAdd', params: [SERVER_NAME, MSG_NAME] }],
  [1, { name: 'NetrMessageNameEnum', params: [
    SERVER_NAME,
    { name: 'InfoStruct', dir: 'inout', type: ref(MSG_ENUM_STRUCT) },
    { name: 'PrefMaxLen', dir: 'in', type: u32 },
    { name: 'TotalEntries', dir: 'out', type: ref(u32) },
    { name: 'ResumeHandle', dir: 'inout', type: unique(u32) },
  ] }],
  [2, { name: 'NetrMessageNameGetInfo', params: [
    SERVER_NAME, MSG_NAME,
    { name: 'Level', dir: 'in', type: u32 },
    { name: 'InfoStruct', dir: 'out', type: ref(MSG_INFO), switchIs: 'Level' },
  ] }],
  [3, { name: 'NetrMessageNameDel', params: [SERVER_NAME, MSG_NAME] }],
]);

export function decodeRequest(op: OpDef, stub: Uint8Array, drep: Drep): DecodedParams {
  return decodeParams(stub, drep, op.params, 'request', false);
}

export function decodeResponse(op: OpDef, stub: Uint8Array, drep: Drep, request: DecodedParams | undefined): DecodedParams {
  return decodeParams(stub, drep, op.params, 'response', true, request?.values);
}

// ---- typed views of decoded values ----

export function stringParam(v: NdrValue | null | undefined): NdrString | undefined {
  const d = derefValue(v);
  return d !== null && d !== undefined && d.k === 'string' ? d : undefined;
}

export function intParam(v: NdrValue | null | undefined): number | undefined {
  const d = derefValue(v);
  return d !== null && d !== undefined && d.k === 'int' ? d.v : undefined;
}

function member(v: NdrValue | null | undefined, name: string): NdrValue | undefined {
  const d = derefValue(v);
  return d !== null && d !== undefined && d.k === 'struct' ? d.members.get(name) : undefined;
}

export interface MsgInfoEntry {
  readonly name: NdrString | undefined;
  /** MSG_INFO_1 only. */
  readonly forwardFlag?: number;
  readonly forward?: NdrString | null;
}

export interface EnumView {
  readonly level: number | undefined;
  /** The union's discriminant (it should equal Level). */
  readonly tag: number | undefined;
  readonly entriesRead: number | undefined;
  /** Buffer's max_count. */
  readonly maxCount: number | undefined;
  readonly entries: MsgInfoEntry[];
  /** The container pointer was null (a request asking the server to allocate it). */
  readonly nullContainer: boolean;
}

function entryOf(item: NdrValue, level: number): MsgInfoEntry {
  const name = stringParam(member(item, level === 1 ? 'msgi1_name' : 'msgi0_name'));
  if (level !== 1) return { name };
  const fwd = member(item, 'msgi1_forward');
  return { name, forwardFlag: intParam(member(item, 'msgi1_forward_flag')), forward: derefValue(fwd) === null ? null : stringParam(fwd) };
}

/** MSG_ENUM_STRUCT (MS-MSRP 2.2.2.5) as level, counts and entries. */
export function enumView(v: NdrValue | undefined): EnumView {
  const level = intParam(member(v, 'Level'));
  const u = member(v, 'MsgInfo');
  const tag = u !== undefined && u.k === 'union' ? u.tag : undefined;
  const containerPtr = u !== undefined && u.k === 'union' ? u.arm : null;
  const container = derefValue(containerPtr);
  const entriesRead = intParam(member(container, 'EntriesRead'));
  const buffer = derefValue(member(container, 'Buffer'));
  const entries: MsgInfoEntry[] = [];
  let maxCount: number | undefined;
  if (buffer !== null && buffer !== undefined && buffer.k === 'array') {
    maxCount = buffer.max;
    for (const item of buffer.items) entries.push(entryOf(item, tag ?? level ?? 0));
  }
  return { level, tag, entriesRead, maxCount, entries, nullContainer: container === null };
}

/** MSG_INFO (MS-MSRP 2.2.2.6): the entry GetInfo returned. */
export function infoView(v: NdrValue | undefined): { tag: number | undefined; entry: MsgInfoEntry | undefined } {
  const u = derefValue(v);
  if (u === null || u === undefined || u.k !== 'union') return { tag: undefined, entry: undefined };
  const target = derefValue(u.arm);
  return { tag: u.tag, entry: target === null || target === undefined ? undefined : entryOf(target, u.tag) };
}
