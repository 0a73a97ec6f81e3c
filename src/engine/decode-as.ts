// tshark's `-d tcp.port==8000,msnp` (decode as): a protocol set in which the named TCP or UDP
// protocol also claims the given port, and no other protocol claims it any more.
import { instantiate, type ProtocolSet, type Seams } from './protocols.js';

export interface DecodeAs {
  readonly transport: 'tcp' | 'udp';
  readonly port: number;
  /** The protocol's name as its factory gives it (`msnp`, `nbss`, `dcerpc`, `nbns`, …). */
  readonly protocol: string;
}

interface Claims {
  readonly name: string;
  readonly ports?: readonly number[];
}

/** The factory with other ports; everything else (its methods, its state) comes from the original. */
function withPorts<F extends Claims>(factory: F, ports: readonly number[]): F {
  return Object.create(factory, { ports: { value: ports, enumerable: true } }) as F;
}

function apply<F extends Claims>(makers: readonly ((seams: Seams) => F)[], rules: readonly DecodeAs[]): ((seams: Seams) => F)[] {
  if (rules.length === 0) return [...makers];
  const given = new Set(rules.map((r) => r.port));
  return makers.map((make) => (seams: Seams) => {
    const factory = make(seams);
    const own = rules.filter((r) => r.protocol === factory.name).map((r) => r.port);
    const kept = (factory.ports ?? []).filter((p) => !given.has(p));
    const ports = [...own, ...kept];
    return ports.length === (factory.ports ?? []).length && own.length === 0 ? factory : withPorts(factory, ports);
  });
}

/** The protocol names -d accepts per transport: those of the set's TCP and UDP protocols. */
export function decodableNames(set: ProtocolSet): { tcp: string[]; udp: string[] } {
  const made = instantiate(set);
  return { tcp: made.tcp.map((f) => f.name), udp: made.udp.map((f) => f.name) };
}

export function decodeAs(set: ProtocolSet, rules: readonly DecodeAs[]): ProtocolSet {
  return {
    ...set,
    tcp: apply(set.tcp, rules.filter((r) => r.transport === 'tcp')),
    udp: apply(set.udp, rules.filter((r) => r.transport === 'udp')),
  };
}
