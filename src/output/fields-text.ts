// tshark's `-T fields` output: one line per record, the values of the `-e` fields separated by
// `-E separator`, a field's several values joined by `-E aggregator` (or only the first or last
// one, `-E occurrence`), each field quoted by `-E quote`, and a header line of field names with
// `-E header=y`. Values print as tshark prints them: numbers in decimal (0x… for hex fields),
// booleans as 1/0, bytes as plain hex, addresses as text; tab, CR and LF in strings as \t \r \n
// (tshark's escapes). Unlike tshark, other control characters are escaped too (\x1b), so text
// from the wire cannot drive a terminal.
import type { FieldDef, FieldValue } from '../model/fields.js';
import { hexString } from '../model/fields.js';
import { escapeText } from './escape.js';

export interface FieldsOptions {
  readonly header: boolean;
  readonly separator: string;
  /** '' for none. */
  readonly quote: string;
  readonly occurrence: 'f' | 'l' | 'a';
  readonly aggregator: string;
  /** A UTF-8 byte order mark before the first line. */
  readonly bom: boolean;
}

export const DEFAULT_FIELDS_OPTIONS: FieldsOptions = { header: false, separator: '\t', quote: '', occurrence: 'a', aggregator: ',', bom: false };

/** What `-T fields` prints: the field names (`-e`) and how (`-E`). */
export interface FieldsSelection {
  readonly names: readonly string[];
  readonly options: FieldsOptions;
}

/** One value as tshark's `-T fields` prints it. */
export function fieldText(def: FieldDef | undefined, value: FieldValue): string {
  if (value === null) return '';
  if (value instanceof Uint8Array) return hexString(value, Number.MAX_SAFE_INTEGER);
  if (typeof value === 'boolean') return value ? '1' : '0';
  if ((typeof value === 'number' || typeof value === 'bigint') && def?.base === 'hex') return `0x${value.toString(16).padStart(2, '0')}`;
  if (typeof value === 'number' || typeof value === 'bigint') return value.toString();
  return escapeText(value);
}

/** The values of one field, as they go between separators. */
export function fieldCell(texts: readonly string[], o: FieldsOptions): string {
  if (texts.length === 0) return '';
  const chosen = o.occurrence === 'f' ? [texts[0]!] : o.occurrence === 'l' ? [texts[texts.length - 1]!] : texts;
  const joined = chosen.join(o.aggregator);
  return o.quote === '' ? joined : `${o.quote}${joined}${o.quote}`;
}

export function fieldsLine(cells: readonly (readonly string[])[], o: FieldsOptions): string {
  return cells.map((texts) => fieldCell(texts, o)).join(o.separator);
}

export function fieldsHeader(names: readonly string[], o: FieldsOptions): string {
  return names.join(o.separator);
}

/** The first line a fields sink writes: the header when asked, with the BOM when asked; undefined when neither. */
export function fieldsPreamble(s: FieldsSelection): string | undefined {
  const bom = s.options.bom ? '\ufeff' : '';
  if (s.options.header) return `${bom}${fieldsHeader(s.names, s.options)}`;
  return bom !== '' ? bom : undefined;
}
