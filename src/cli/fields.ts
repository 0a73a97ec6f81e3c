// `msgscope fields [protocol]`: the field catalogue, from the same tables as every view and
// filter (docs/fields.md is generated from it by scripts/gen-fields-doc.mjs); with
// `--findings`, the rule and finding catalogue (docs/findings.md, scripts/gen-findings-doc.mjs).
import type { Argv } from 'yargs';
import type { FieldDef, ProtocolDef } from '../model/fields.js';
import type { FindingDef } from '../model/findings.js';
import { CATALOGUE } from '../protocols/catalogue.js';
import { EXPERT, FRAME } from '../filter/packet-fields.js';
import { eventFieldNames } from '../filter/index.js';
import { networkFields } from '../net/fields.js';
import { applicationFields } from '../protocols/index.js';
import { csvField, escapeText } from '../output/escape.js';
import { Output } from '../output/writer.js';
import { UsageError } from './common.js';
import { jsonText } from '../output/escape.js';

export interface FieldsArgs {
  protocol?: string;
  format: 'text' | 'json' | 'csv';
  events: boolean;
  values: boolean;
  findings: boolean;
}

export function fieldsBuilder(y: Argv) {
  return y
    .positional('protocol', { type: 'string', describe: 'only this protocol (e.g. smb, msnp)' })
    .option('format', { alias: 'T', choices: ['text', 'json', 'csv'] as const, default: 'text' as const, describe: 'Output format' })
    .option('values', { type: 'boolean', default: false, describe: 'Also list the value names of coded fields' })
    .option('events', { type: 'boolean', default: false, describe: 'List the timeline event fields (for timeline -Y) instead' })
    .option('findings', { type: 'boolean', default: false, describe: 'List the rule and finding catalogue (id, severity, spec clause, summary, requirement) instead' })
    .example('$0 fields', 'every protocol and field')
    .example('$0 fields smb --values', 'SMB fields with the names of their codes (smb.cmd == "Send Message")')
    .example('$0 fields --events', 'names for timeline -Y filters')
    .example('$0 fields --findings smb', 'the findings SMB can raise, with the clause of each rule')
    .example('$0 fields --format json | jq \'.[].fields[].name\'', 'machine-readable catalogue');
}

/** "Either side" filter fields (ip.addr, tcp.port…) that match the src/dst pair of the protocol. */
export function eitherSideNote(def: FieldDef, protocol: ProtocolDef): string | undefined {
  const m = /^(.*\.)(addr|port)$/.exec(def.name);
  if (m === null) return undefined;
  const pair = m[2] === 'addr' ? ['src', 'dst'] : ['srcport', 'dstport'];
  const names = pair.map((p) => `${m[1]}${p}`).filter((n) => protocol.fields.has(n));
  return names.length > 0 ? `filters: matches ${names.join(' or ')}` : undefined;
}

/** Every field table: the layers the engine decodes, the application protocols, and the filter pseudo-protocols. */
export function fieldCatalogue(): ProtocolDef[] {
  return [...networkFields(), ...applicationFields(), FRAME.$protocol, EXPERT.$protocol].sort((a, b) => a.name.localeCompare(b.name));
}

export async function fieldsCommand(args: FieldsArgs): Promise<void> {
  const out = new Output();
  if (args.findings) {
    if (args.events) throw new UsageError('--findings and --events list different catalogues: choose one');
    findingsCatalogue(args, out);
    await out.close();
    return;
  }
  if (args.events) {
    const names = eventFieldNames();
    if (args.format === 'json') out.line(jsonText(names, 2));
    else for (const n of names) out.line(n);
    await out.close();
    return;
  }
  let protocols: ProtocolDef[];
  const catalogue = fieldCatalogue();
  if (args.protocol === undefined) protocols = catalogue;
  else {
    const name = args.protocol.toLowerCase();
    const p = catalogue.find((table) => table.name === name);
    if (p === undefined) throw new UsageError(`unknown protocol '${args.protocol}' (msgscope fields lists them all)`);
    protocols = [p];
  }
  if (args.format === 'json') {
    out.line(jsonText(protocols.map((p) => ({
      protocol: p.name,
      title: p.title,
      fields: [...p.fields.values()].map((d) => ({
        name: d.name, type: d.type, label: d.label,
        ...(d.description !== undefined ? { description: d.description } : {}),
        ...(d.values ? { values: Object.fromEntries(d.values) } : {}),
      })),
    })), 2));
  } else if (args.format === 'csv') {
    out.line('protocol,name,type,label,description');
    for (const p of protocols) for (const d of p.fields.values()) out.line([p.name, d.name, d.type, d.label, d.description ?? eitherSideNote(d, p) ?? ''].map((c) => csvField(c)).join(','));
  } else {
    const width = Math.max(20, ...protocols.flatMap((p) => [...p.fields.keys()].map((n) => n.length)));
    for (const [i, p] of protocols.entries()) {
      if (i > 0) out.line('');
      out.line(`${p.name}  ${p.title}`);
      for (const d of p.fields.values()) {
        const note = d.description ?? eitherSideNote(d, p);
        out.line(`  ${d.name.padEnd(width)}  ${d.type.padEnd(6)}  ${escapeText(d.label)}${note !== undefined ? ` — ${escapeText(note)}` : ''}`);
        if (args.values && d.values !== undefined) {
          for (const [code, name] of d.values) out.line(`  ${''.padEnd(width)}  ${''.padEnd(6)}    ${d.base === 'hex' ? `0x${code.toString(16).padStart(2, '0')}` : code} = ${escapeText(name)}`);
        }
      }
    }
  }
  await out.close();
}

/** One declared finding as `fields --findings --format json` lists it. */
export function findingJson(d: FindingDef): Record<string, unknown> {
  return {
    id: d.id, protocol: d.protocol, severity: d.severity, severities: d.severities, spec: d.spec,
    ...(d.specPerSite !== undefined ? { specPerSite: d.specPerSite } : {}),
    summary: d.summary, requirement: d.requirement, scope: d.scope,
    ...(d.role !== undefined ? { role: d.role } : {}),
    ...(d.transports !== undefined ? { transports: d.transports } : {}),
    appliesTo: d.appliesTo,
  };
}

function findingsCatalogue(args: FieldsArgs, out: Output): void {
  let defs: FindingDef[];
  if (args.protocol === undefined) defs = CATALOGUE.list();
  else {
    defs = CATALOGUE.ofProtocol(args.protocol.toLowerCase());
    if (defs.length === 0) throw new UsageError(`no findings are declared for '${args.protocol}' (they are for: ${CATALOGUE.protocols().join(', ')})`);
  }
  const severity = (d: FindingDef): string => d.severities.join('/');
  if (args.format === 'json') {
    out.line(jsonText(defs.map(findingJson), 2));
  } else if (args.format === 'csv') {
    out.line('id,protocol,severity,spec,summary,requirement,scope');
    for (const d of defs) out.line([d.id, d.protocol, severity(d), d.spec, d.summary, d.requirement, d.scope].map((c) => csvField(c)).join(','));
  } else {
    const width = Math.max(...defs.map((d) => d.id.length));
    let protocol = '';
    for (const d of defs) {
      if (d.protocol !== protocol) {
        if (protocol !== '') out.line('');
        protocol = d.protocol;
        out.line(protocol);
      }
      out.line(`  ${d.id.padEnd(width)}  ${severity(d).padEnd(13)}  ${d.scope.padEnd(12)}  ${d.spec}`);
      out.line(`  ${''.padEnd(width)}  ${d.summary}`);
      out.line(`  ${''.padEnd(width)}  ${d.requirement}`);
    }
  }
}
