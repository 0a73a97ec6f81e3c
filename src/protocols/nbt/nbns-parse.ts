// NetBIOS name service packets (RFC 1002 §4.2): header, questions and resource records.
// Pure parsing; names may use compression pointers.
import { decodeName, type NetbiosName } from './names.js';
import { ipv4String } from '../../net/addr.js';

export interface NbnsQuestion {
  readonly name: NetbiosName;
  readonly offset: number;
  readonly type: number;
  readonly class: number;
}

export interface NbEntry {
  readonly flags: number;
  readonly addr: string;
  readonly offset: number;
}

export interface NbnsRecord {
  readonly section: 'answer' | 'authority' | 'additional';
  readonly name: NetbiosName;
  readonly offset: number;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdLength: number;
  readonly rdOffset: number;
  /** NB records: flags and addresses. */
  readonly nb?: NbEntry[];
  /** NBSTAT records: the node's names. */
  readonly names?: { name: Uint8Array; flags: number; offset: number }[];
  readonly unitId?: Uint8Array;
  /** WACK records (RFC 1002 §4.2.16): the flags of the request being acknowledged. */
  readonly wackFlags?: number;
}

export interface NbnsPacket {
  readonly id: number;
  readonly flags: number;
  readonly response: boolean;
  readonly opcode: number;
  readonly rcode: number;
  readonly broadcast: boolean;
  readonly counts: [number, number, number, number];
  readonly questions: NbnsQuestion[];
  readonly records: NbnsRecord[];
  readonly problems: string[];
}

const MAX_ENTRIES = 256;

export function parseNbns(b: Uint8Array): NbnsPacket | string {
  if (b.length < 12) return `NBNS header truncated: ${b.length} of 12 bytes`;
  const be16 = (o: number): number => (b[o]! << 8) | b[o + 1]!;
  const flags = be16(2);
  const counts: [number, number, number, number] = [be16(4), be16(6), be16(8), be16(10)];
  const problems: string[] = [];
  const questions: NbnsQuestion[] = [];
  const records: NbnsRecord[] = [];
  let p = 12;
  const total = counts[0] + counts[1] + counts[2] + counts[3];
  if (total > MAX_ENTRIES) return `NBNS counts add up to ${total} entries`;
  for (let i = 0; i < counts[0]; i++) {
    const name = decodeName(b, p, true);
    if (typeof name === 'string') {
      problems.push(`question ${i + 1}: ${name}`);
      break;
    }
    if (name.end + 4 > b.length) {
      problems.push(`question ${i + 1}: type and class truncated`);
      break;
    }
    questions.push({ name, offset: p, type: be16(name.end), class: be16(name.end + 2) });
    p = name.end + 4;
  }
  const sections: ['answer' | 'authority' | 'additional', number][] = [['answer', counts[1]], ['authority', counts[2]], ['additional', counts[3]]];
  outer: for (const [section, count] of sections) {
    for (let i = 0; i < count; i++) {
      if (problems.length > 0) break outer;
      const name = decodeName(b, p, true);
      if (typeof name === 'string') {
        problems.push(`${section} record ${i + 1}: ${name}`);
        break outer;
      }
      const o = name.end;
      if (o + 10 > b.length) {
        problems.push(`${section} record ${i + 1}: header truncated`);
        break outer;
      }
      const type = be16(o);
      const rdLength = be16(o + 8);
      const rdOffset = o + 10;
      if (rdOffset + rdLength > b.length) {
        problems.push(`${section} record ${i + 1}: RDLENGTH ${rdLength} but ${b.length - rdOffset} bytes present`);
        break outer;
      }
      const rec: NbnsRecord = {
        section, name, offset: p, type, class: be16(o + 2), ttl: ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0,
        rdLength, rdOffset, ...rdata(b, type, rdOffset, rdLength, (flags >> 11) & 0xf),
      };
      records.push(rec);
      p = rdOffset + rdLength;
    }
  }
  return {
    id: be16(0), flags, response: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, rcode: flags & 0xf, broadcast: (flags & 0x0010) !== 0,
    counts, questions, records, problems,
  };
}

function rdata(b: Uint8Array, type: number, o: number, len: number, opcode: number): Partial<NbnsRecord> {
  if (opcode === 7 && len === 2) return { wackFlags: (b[o]! << 8) | b[o + 1]! };
  if (type === 0x20) {
    const nb: NbEntry[] = [];
    for (let q = o; q + 6 <= o + len && nb.length < MAX_ENTRIES; q += 6) nb.push({ flags: (b[q]! << 8) | b[q + 1]!, addr: ipv4String(b, q + 2), offset: q });
    return { nb };
  }
  if (type === 0x21 && len >= 1) {
    const count = b[o]!;
    const names: { name: Uint8Array; flags: number; offset: number }[] = [];
    let q = o + 1;
    for (let i = 0; i < count && q + 18 <= o + len; i++, q += 18) names.push({ name: b.subarray(q, q + 16), flags: (b[q + 16]! << 8) | b[q + 17]!, offset: q });
    return { names, unitId: q + 6 <= o + len ? b.subarray(q, q + 6) : undefined };
  }
  return {};
}
