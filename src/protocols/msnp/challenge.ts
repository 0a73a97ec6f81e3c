// CHL/QRY challenge answers (pure). MSNP6–10: MD5(challenge + client key) in hex; MSNP11+: the
// client key's MD5 mixed with the challenge and the product ID (msnp-notes.md "Challenge"; the
// algorithm and the public client ID/key pairs are documented by the community wikis and used by
// every third-party client). A client ID not in this table cannot be checked.
import { createHash } from 'node:crypto';

interface ClientKey {
  readonly key: string;
  /** 'md5' for MSNP6–10 clients, 'msnp11' for the mixed algorithm. */
  readonly algorithm: 'md5' | 'msnp11';
}

export const CLIENT_KEYS: ReadonlyMap<string, ClientKey> = new Map<string, ClientKey>([
  ['msmsgs@msnmsgr.com', { key: 'Q1P7W2E4J9R8U3S5', algorithm: 'md5' }],
  ['PROD0038W!61ZTF9', { key: 'VT6PX?UQTM4WM%YR', algorithm: 'md5' }],
  ['PROD0058#7IL2{QD', { key: 'QHDCY@7R1TB6W?5B', algorithm: 'md5' }],
  ['PROD0061VRRZH@4F', { key: 'JXQ6J@TUOGYV@N0M', algorithm: 'md5' }],
  ['PROD00504RLUG%WL', { key: 'I2EBK%PYNLZL5_J4', algorithm: 'md5' }],
  ['PROD0076ENE8*@AW', { key: 'CEQJ8}OE0!WTSWII', algorithm: 'md5' }],
  ['PROD0090YUAUV{2B', { key: 'YMM8C_H7KCQ2S_KL', algorithm: 'msnp11' }],
  ['PROD0101{0RM?UBW', { key: 'CFHUR$52U_{VIX5T', algorithm: 'msnp11' }],
  ['PROD01065C%ZFN6F', { key: 'O4BG@C7BWLYQX?5G', algorithm: 'msnp11' }],
  ['PROD0112J1LW7%NB', { key: 'RH96F{PHI8PPX_TJ', algorithm: 'msnp11' }],
  ['PROD0113H11T8$X_', { key: 'RG@XY*28Q5QHS%Q5', algorithm: 'msnp11' }],
  ['PROD0114ES4Z%Q5W', { key: 'PK}_A_0N_K%O?A9S', algorithm: 'msnp11' }],
  ['PROD0118R6%2WYOS', { key: 'YIXPX@5I2P0UT*LK', algorithm: 'msnp11' }],
  ['PROD0119GSJUC$18', { key: 'ILTXC!4IXB5FB*PX', algorithm: 'msnp11' }],
  ['PROD0120PW!CCV9@', { key: 'C1BX{V4W}Q3*10SM', algorithm: 'msnp11' }],
]);

const MOD = 0x7fffffffn;
const MAGIC = 0x0e79a9c1n;

function md5(text: string): Buffer {
  return createHash('md5').update(text, 'latin1').digest();
}

/** The MSNP11+ answer; `padAligned` pads with 8 zeros even when already aligned (a variant some clients use). */
export function msnp11Answer(challenge: string, productId: string, productKey: string, padAligned = false): string {
  const hash = md5(challenge + productKey);
  const parts: bigint[] = [];
  for (let i = 0; i < 4; i++) parts.push(BigInt(hash.readUInt32LE(i * 4)) & MOD);
  let s = challenge + productId;
  const rem = s.length % 8;
  if (rem !== 0 || padAligned) s += '0'.repeat(8 - rem);
  const bytes = Buffer.from(s, 'latin1');
  let high = 0n;
  let low = 0n;
  for (let i = 0; i + 8 <= bytes.length; i += 8) {
    let temp = (BigInt(bytes.readUInt32LE(i)) * MAGIC) % MOD;
    temp = (parts[0]! * (temp + high) + parts[1]!) % MOD;
    high = (BigInt(bytes.readUInt32LE(i + 4)) + temp) % MOD;
    high = (parts[2]! * high + parts[3]!) % MOD;
    low = low + high + temp;
  }
  high = (high + parts[1]!) % MOD;
  low = (low + parts[3]!) % MOD;
  const out = Buffer.from(hash);
  for (let i = 0; i < 4; i++) {
    const mix = i % 2 === 0 ? high : low;
    out.writeUInt32LE((out.readUInt32LE(i * 4) ^ Number(mix)) >>> 0, i * 4);
  }
  return out.toString('hex');
}

export type ChallengeCheck =
  | { readonly state: 'ok'; readonly expected: string }
  | { readonly state: 'wrong'; readonly expected: string }
  | { readonly state: 'unknown-client'; readonly expected?: undefined };

/** Checks a QRY answer against the challenge for a known client ID. */
export function checkChallenge(challenge: string, clientId: string, answer: string): ChallengeCheck {
  const entry = CLIENT_KEYS.get(clientId);
  if (entry === undefined) return { state: 'unknown-client' };
  const given = answer.trim().toLowerCase();
  if (entry.algorithm === 'md5') {
    const expected = md5(challenge + entry.key).toString('hex');
    return { state: given === expected ? 'ok' : 'wrong', expected };
  }
  const expected = msnp11Answer(challenge, clientId, entry.key);
  if (given === expected) return { state: 'ok', expected };
  if (given === msnp11Answer(challenge, clientId, entry.key, true)) return { state: 'ok', expected: given };
  return { state: 'wrong', expected };
}
