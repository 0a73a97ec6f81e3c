// `Layer.fieldValue` gives some fields of a layer without building its tree (stats' command
// table reads them from every PDU). Held to the tree over every public capture, fixture and
// sample: each answer other than NEEDS_TREE must be the value of the tree's first node of that
// field (depth first), undefined exactly when the tree has none; the layers of the protocols
// with a command table must answer every field the table reads (or stats would build the
// tree anyway); and the stats report must be the same with every accessor taken away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readCapture } from '../src/capture/open.js';
import type { Frame } from '../src/capture/frame.js';
import { Engine } from '../src/engine/engine.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { lookupProtocol, type FieldDef, type FieldNode, type FieldValue } from '../src/model/fields.js';
import { NEEDS_TREE, type Layer, type Packet } from '../src/model/packet.js';
import { commandFields, StatsCollector } from '../src/analysis/stats.js';
import { allCaptures } from './helpers.js';
import fc from 'fast-check';
import { commandLayer } from '../src/protocols/msnp/present.js';
import { allCommands, commandSpec, type Side } from '../src/protocols/msnp/commands.js';
import type { RawCommand } from '../src/protocols/msnp/parse.js';

/** The first value of each field in the tree, depth first (what the accessor must give). */
function firstValues(nodes: readonly FieldNode[], into = new Map<FieldDef, FieldValue>()): Map<FieldDef, FieldValue> {
  for (const node of nodes) {
    if (!into.has(node.def)) into.set(node.def, node.value);
    if (node.children !== undefined) firstValues(node.children, into);
  }
  return into;
}

function same(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(a, b) === 0;
  return Object.is(a, b);
}

const show = (v: FieldValue | undefined): string => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? 'undefined');

/** Every problem with one layer's answers: each field of its protocol, of the command table and of its tree. */
function accessorProblems(layer: Layer, wanted: readonly FieldDef[]): string[] {
  if (layer.fieldValue === undefined) return [];
  const tree = firstValues(layer.tree());
  const defs = new Set<FieldDef>([...(lookupProtocol(layer.name)?.fields.values() ?? []), ...wanted, ...tree.keys()]);
  const problems: string[] = [];
  for (const def of defs) {
    const got = layer.fieldValue(def);
    if (got === NEEDS_TREE) {
      if (wanted.includes(def)) problems.push(`${def.name}: not given without the tree, though the command table reads it`);
      continue;
    }
    const expected = tree.get(def);
    if (!same(got, expected)) problems.push(`${def.name}: ${show(got)}, the tree has ${show(expected)}`);
  }
  return problems;
}

async function packets(path: string, each: (packet: Packet) => void): Promise<void> {
  // With an event consumer, as stats runs (the frames are the same without: events-unwanted.test.ts).
  const engine = new Engine({ packet: each, event: () => undefined }, {}, defaultProtocols());
  await readCapture(path, { frame: (f) => engine.frame(f), warning: () => undefined });
  engine.finish();
}

test('every capture: a layer\'s fieldValue answers are its tree\'s first values, and cover the command table\'s fields', async () => {
  const table = commandFields();
  const problems: string[] = [];
  /** Per protocol: layers checked, and how many gave the command field a value without the tree. */
  const checked = new Map<string, { layers: number; commands: number }>();
  for (const path of allCaptures()) {
    await packets(path, (packet) => {
      for (const layer of packet.layers) {
        if (layer.fieldValue === undefined) continue;
        const wanted = table.get(layer.name) ?? [];
        for (const p of accessorProblems(layer, wanted)) if (problems.length < 50) problems.push(`${path} frame ${packet.frame.number} ${layer.name}: ${p}`);
        const count = checked.get(layer.name) ?? { layers: 0, commands: 0 };
        count.layers++;
        const command = wanted[0];
        if (command !== undefined && layer.fieldValue(command) !== undefined) count.commands++;
        checked.set(layer.name, count);
      }
    });
  }
  assert.deepEqual(problems, []);
  // Not vacuous: each protocol that gives its fields so was seen with commands in the captures.
  for (const name of ['smb', 'msnp', 'dcerpc', 'msrp', 'mailslot', 'browser']) {
    const count = checked.get(name);
    assert.ok(count !== undefined && count.commands >= 5, `${name}: ${JSON.stringify(count)} layers with an accessor`);
  }
});

/** The layer as it would be without an accessor: stats reads its tree. */
function withoutAccessor(layer: Layer): Layer {
  return {
    name: layer.name, bytes: layer.bytes, offset: layer.offset, length: layer.length, tree: () => layer.tree(), info: layer.info, column: layer.column,
    quoted: layer.quoted, srcAddress: layer.srcAddress, dstAddress: layer.dstAddress, srcPort: layer.srcPort, dstPort: layer.dstPort,
  };
}

test('every capture: the stats report is the same without the accessors', async () => {
  let differ = 0;
  for (const path of allCaptures()) {
    const fast = new StatsCollector();
    const slow = new StatsCollector();
    await packets(path, (packet) => {
      fast.packet(packet);
      slow.packet({ frame: packet.frame, layers: packet.layers.map(withoutAccessor), src: packet.src, dst: packet.dst, findings: packet.findings });
    });
    const a = JSON.stringify(fast.report());
    const b = JSON.stringify(slow.report());
    if (a !== b) {
      differ++;
      assert.equal(a, b, path);
    }
  }
  assert.equal(differ, 0);
});

test('a layer whose accessor gives some of the fields only: the table reads its tree', () => {
  const stats = commandFields();
  assert.ok(stats.get('smb') !== undefined);
  // An accessor that knows nothing, and one that would give a wrong command: NEEDS_TREE for the link makes the whole PDU read from the tree.
  const smb = lookupProtocol('smb')!;
  const cmd = smb.fields.get('smb.cmd')!;
  const node = (def: FieldDef, value: FieldValue, children?: FieldNode[]): FieldNode => ({ def, value, children });
  const frame: Frame = { number: 1, tsSec: 0, tsNsec: 0, len: 60, caplen: 60, linkType: 1, data: new Uint8Array(60), interfaceId: 0 };
  const layer = (fieldValue?: Layer['fieldValue']): Layer => ({ name: 'smb', bytes: new Uint8Array(0), offset: 0, length: 0, tree: () => [node(cmd, 0x2f)], fieldValue });
  const report = (l: Layer): string => {
    const c = new StatsCollector();
    c.packet({ frame, layers: [l], src: '', dst: '', findings: [] });
    return JSON.stringify(c.report().commands);
  };
  const fromTree = report(layer());
  assert.match(fromTree, /Write AndX/);
  assert.equal(report(layer(() => NEEDS_TREE)), fromTree);
  assert.equal(report(layer((def) => (def === cmd ? 0x25 : NEEDS_TREE))), fromTree);
  // An accessor that answers everything is believed (which is why the corpus test above holds it to the tree).
  assert.notEqual(report(layer((def) => (def === cmd ? 0x25 : undefined))), fromTree);
});

test('MSNP commands of every kind (property): the command, its operation parameter and request link as the tree has them', () => {
  const wanted = commandFields().get('msnp')!;
  const names = [...allCommands().map((c) => c.name), '200', '911', 'XYZ'];
  const param = fc.constantFrom('1', '42', '0', 'abc', 'NLN', 'a%20b', 'x@y.z', '1.0', 'OK', 'MSNP21', '');
  fc.assert(
    fc.property(fc.constantFrom(...names), fc.constantFrom<Side>('c', 's'), fc.option(fc.integer({ min: 2, max: 21 }), { nil: undefined }), fc.array(param, { maxLength: 6 }), fc.option(fc.nat(100_000), { nil: undefined }),
      (name, side, version, rawParams, requestFrame) => {
        const params = rawParams.filter((p) => p !== '');
        const line = [name, ...params].join(' ');
        const cmd: RawCommand = { name, params, line, lineLength: line.length + 2, bareLf: false, payloadIndex: -1, payloadLength: 0, total: line.length + 2, unknown: commandSpec(name) === undefined };
        const layer = commandLayer({ side, cmd, bytes: Buffer.from(`${line}\r\n`, 'latin1'), version, versionText: version === undefined ? 'unknown' : `MSNP${version}`, role: 'NS', requestFrame });
        assert.deepEqual(accessorProblems(layer, wanted), []);
      }),
    { numRuns: 3000 },
  );
  // NFY names its first parameter the operation (MSNP21): given without the tree.
  const line = 'NFY PUT 120';
  const nfy = commandLayer({ side: 's', cmd: { name: 'NFY', params: ['PUT', '120'], line, lineLength: line.length + 2, bareLf: false, payloadIndex: -1, payloadLength: 0, total: line.length + 2, unknown: false }, bytes: Buffer.from(line), version: 21, versionText: 'MSNP21', role: 'NS' });
  assert.equal(nfy.fieldValue?.(wanted.find((d) => d.name === 'msnp.operation')!), 'PUT');
});
