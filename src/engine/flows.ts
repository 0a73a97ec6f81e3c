// What the engine's conversation tables (TCP and UDP) share: their bounds and their keys.

/** Conversations tracked at once per transport; past it, later ones are dissected without state. */
export const MAX_CONVERSATIONS = 1_000_000;
/** Conversations idle this long (capture time) are ended, their state freed. */
export const IDLE_SECONDS = 3600;

/** A conversation's key, the same whichever side sent the packet. */
export function conversationKey(src: string, sp: number, dst: string, dp: number): string {
  return src < dst || (src === dst && sp <= dp) ? `${src}|${sp}|${dst}|${dp}` : `${dst}|${dp}|${src}|${sp}`;
}
