// The protocol set the engine is given: every engine makes its own instances, and the field
// catalogue `msgscope fields` lists names every table the field registry holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldCatalogue } from '../src/cli/fields.js';
import { instantiate } from '../src/engine/protocols.js';
import { listProtocols } from '../src/model/fields.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { Engine } from '../src/engine/engine.js';

test('the field catalogue names exactly the tables in the field registry', () => {
  // Loading the engine and the default protocols registers every table.
  new Engine({}, {}, defaultProtocols());
  assert.deepEqual(fieldCatalogue().map((p) => p.name), listProtocols().map((p) => p.name));
});

test('each instantiation of a protocol set makes fresh instances', () => {
  const set = defaultProtocols();
  const a = instantiate(set);
  const b = instantiate(set);
  assert.deepEqual(a.tcp.map((x) => x.name), ['nbss', 'dcerpc', 'msnp']);
  assert.deepEqual(a.udp.map((x) => x.name), ['nbdgm', 'nbns', 'dcerpc']);
  for (let i = 0; i < a.tcp.length; i++) assert.notEqual(a.tcp[i], b.tcp[i]);
  for (let i = 0; i < a.udp.length; i++) assert.notEqual(a.udp[i], b.udp[i]);
});

test('the seams are filled bottom-up and handed to the protocols above', () => {
  const made: string[] = [];
  const base = defaultProtocols();
  instantiate({
    ...base,
    pipeConsumers: [() => {
      made.push('pipe');
      return { name: 'p', accepts: () => false, open: () => ({ data: () => undefined, end: () => undefined }) };
    }],
    sessionPayloads: [(seams) => {
      made.push(`session sees ${seams.pipeConsumers.length} pipe consumer(s)`);
      return { name: 's', match: () => false, create: () => ({ message: () => undefined, end: () => undefined }) };
    }],
    tcp: [(seams) => {
      made.push(`tcp sees ${seams.sessionPayloads.length} session payload(s), ${seams.datagramPayloads.length} datagram payload(s)`);
      return { name: 't', create: () => ({ data: () => undefined, gap: () => undefined, end: () => undefined }) };
    }],
  });
  assert.deepEqual(made, ['pipe', 'session sees 1 pipe consumer(s)', 'tcp sees 1 session payload(s), 1 datagram payload(s)']);
});
