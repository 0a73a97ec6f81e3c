// The detail tree (-V) escapes a line only when it may hold text from the wire: a node with its
// own display text or a string value (src/output/packet-view.ts, mayHoldWireText). Every other
// line is a declared label and a number, boolean, bytes or declared value name — which must then
// hold nothing escapeText would change. This checks every declaration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkFields } from '../src/net/fields.js';
import { applicationFields } from '../src/protocols/index.js';
import { listProtocols } from '../src/model/fields.js';
import { escapeText } from '../src/output/escape.js';
import { detailTree } from '../src/output/packet-view.js';
import { makeStyle } from '../src/output/style.js';
import type { Packet } from '../src/model/packet.js';
import { f, lookupField } from '../src/model/fields.js';

test('every declared field label and value name is left as it is by escapeText (unescaped detail lines are safe)', () => {
  const protocols = [...networkFields(), ...applicationFields(), ...listProtocols()];
  let fields = 0;
  for (const protocol of protocols) {
    for (const def of protocol.fields.values()) {
      fields++;
      assert.equal(escapeText(def.label), def.label, `${def.name}'s label`);
      for (const [code, name] of def.values ?? []) assert.equal(escapeText(name), name, `${def.name} value ${code}`);
    }
  }
  assert.ok(fields > 500, `${fields} fields`);
});

test('a string value or display text from the wire is escaped in the detail tree; numbers are written as they are', () => {
  const text = lookupField('smb.message')!;
  const port = lookupField('tcp.srcport')!;
  const packet: Packet = {
    frame: { number: 1, tsSec: 0, tsNsec: 0, caplen: 0, len: 0, linkType: 1, data: new Uint8Array(0), interfaceId: 0 },
    layers: [{ name: 'smb', bytes: new Uint8Array(0), offset: 0, length: 0, tree: () => [f(text, 'hi\u001b[2Jthere'), f(port, 139, undefined, undefined, undefined, 'Shown: \u202eevil')] }],
    src: '',
    dst: '',
    findings: [],
  };
  const tree = detailTree(packet, makeStyle(false));
  assert.match(tree, /hi\\x1b\[2Jthere/);
  assert.match(tree, /Shown: \\u\{202e\}evil/);
  assert.doesNotMatch(tree, /\u001b|\u202e/);
});
