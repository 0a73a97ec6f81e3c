// MS-MSRP fields and the detail trees of msgsvcsend and msgsvc stubs. Labels follow the
// spec's parameter names: NetrSendMessage's first string is From, the second To (MS-MSRP
// 3.2.4.1), whatever other dissectors call them.
import { defineProtocol, f, type FieldDef, type FieldNode } from '../../model/fields.js';
import { DCERPC, ndrStringCounts } from '../dcerpc/fields.js';
import { derefValue, type NdrString, type NdrValue } from '../dcerpc/ndr.js';
import type { EnumView, MsgInfoEntry } from './parse.js';

export const MSRP = defineProtocol('msrp', 'Messenger Service Remote Protocol (MS-MSRP)', {
  interface: { type: 'string', label: 'Interface' },
  opnum: { type: 'uint', label: 'Operation' },
  operation: { type: 'string', label: 'Operation name' },
  from: { type: 'string', label: 'From' },
  to: { type: 'string', label: 'To' },
  text: { type: 'string', label: 'Text' },
  text_length: { type: 'uint', label: 'Text length (bytes, without NUL)' },
  server_name: { type: 'string', label: 'ServerName' },
  msg_name: { type: 'string', label: 'MsgName' },
  level: { type: 'uint', label: 'Level' },
  info_level: { type: 'uint', label: 'Union discriminant' },
  pref_max_len: { type: 'uint', label: 'PrefMaxLen' },
  total_entries: { type: 'uint', label: 'TotalEntries' },
  resume_handle: { type: 'uint', label: 'ResumeHandle' },
  entries_read: { type: 'uint', label: 'EntriesRead' },
  name: { type: 'string', label: 'Name' },
  forward_flag: { type: 'uint', label: 'msgi1_forward_flag' },
  forward: { type: 'string', label: 'msgi1_forward' },
  status: { type: 'uint', label: 'Return value', base: 'hex' },
  status_name: { type: 'string', label: 'Return value name' },
  stub_error: { type: 'string', label: 'Stub decoding stopped' },
});

/** A decoded string as a field with its NDR counts beneath. */
export function stringNode(def: FieldDef, s: NdrString, text: string): FieldNode {
  return f(def, text, s.off + 12, s.bytes.length, ndrStringCounts(s));
}

/** A unique pointer to a string: referent id, then the string (or a NULL note). */
export function uniqueStringNode(def: FieldDef, v: NdrValue | undefined, text: (s: NdrString) => string): FieldNode[] {
  if (v === undefined) return [];
  if (v.k !== 'ptr') return v.k === 'string' ? [stringNode(def, v, text(v))] : [];
  const target = derefValue(v);
  const refNode = f(DCERPC.referent_id, v.referent, v.off, 4);
  if (target === null || target === undefined || target.k !== 'string') return [f(def, null, v.off, 4, [refNode], `${def.label}: NULL`)];
  const node = stringNode(def, target, text(target));
  return [{ ...node, children: [refNode, ...(node.children ?? [])] }];
}

export function entryNodes(entry: MsgInfoEntry, text: (s: NdrString) => string): FieldNode[] {
  const nodes: FieldNode[] = [];
  if (entry.name !== undefined) nodes.push(stringNode(MSRP.name, entry.name, text(entry.name)));
  if (entry.forwardFlag !== undefined) nodes.push(f(MSRP.forward_flag, entry.forwardFlag));
  if (entry.forward !== undefined) nodes.push(entry.forward === null ? f(MSRP.forward, null, undefined, undefined, undefined, 'msgi1_forward: NULL') : stringNode(MSRP.forward, entry.forward, text(entry.forward)));
  return nodes;
}

export function enumNodes(view: EnumView, text: (s: NdrString) => string): FieldNode[] {
  const nodes: FieldNode[] = [];
  if (view.level !== undefined) nodes.push(f(MSRP.level, view.level));
  if (view.tag !== undefined) nodes.push(f(MSRP.info_level, view.tag));
  if (view.entriesRead !== undefined) nodes.push(f(MSRP.entries_read, view.entriesRead));
  if (view.maxCount !== undefined) nodes.push(f(DCERPC['array.max_count'], view.maxCount));
  for (const entry of view.entries) nodes.push(...entryNodes(entry, text));
  return nodes;
}
