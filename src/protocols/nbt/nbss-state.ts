// What the NetBIOS session service learned about a TCP conversation (its called and
// calling names), for the protocols carried on it (SMB messenger checks the called name).
import type { TcpConversationInfo } from '../../engine/context.js';

export interface NbssNames {
  called?: { name: string; suffix: number; text: string };
  calling?: string;
}

const names = new WeakMap<TcpConversationInfo, NbssNames>();

export function nbssNames(conv: TcpConversationInfo): NbssNames | undefined {
  return names.get(conv);
}

export function setNbssNames(conv: TcpConversationInfo, value: NbssNames): void {
  names.set(conv, value);
}
