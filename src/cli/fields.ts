// `msgscope fields [protocol]`: the field catalogue, from the same tables as every view.
import type { Argv } from 'yargs';
import { listProtocols, lookupProtocol } from '../model/fields.js';
import { Output } from '../output/writer.js';
import { UsageError } from './common.js';
import '../protocols/index.js';
import '../engine/engine.js';

export interface FieldsArgs {
  protocol?: string;
  format: 'text' | 'json';
}

export function fieldsBuilder(y: Argv) {
  return y
    .positional('protocol', { type: 'string', describe: 'only this protocol (e.g. smb, msnp)' })
    .option('format', { alias: 'T', choices: ['text', 'json'] as const, default: 'text' as const })
    .example('$0 fields smb', 'every SMB field with its type and label');
}

export async function fieldsCommand(args: FieldsArgs): Promise<void> {
  const protocols = args.protocol === undefined ? listProtocols() : [lookupProtocol(args.protocol.toLowerCase())];
  if (protocols[0] === undefined) throw new UsageError(`unknown protocol '${args.protocol}' (msgscope fields lists them all)`);
  const out = new Output();
  const defined = protocols.filter((p) => p !== undefined);
  if (args.format === 'json') {
    out.line(JSON.stringify(defined.map((p) => ({ protocol: p.name, title: p.title, fields: [...p.fields.values()].map((d) => ({ name: d.name, type: d.type, label: d.label, ...(d.values ? { values: Object.fromEntries(d.values) } : {}) })) })), null, 2));
  } else {
    for (const p of defined) {
      out.line(`${p.name}\t${p.title}`);
      for (const d of p.fields.values()) out.line(`  ${d.name.padEnd(36)} ${d.type.padEnd(7)} ${d.label}`);
    }
  }
  await out.close();
}
