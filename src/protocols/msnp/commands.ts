// The MSNP command table, MSNP2–MSNP21: who may send each command, on which server role, in
// which versions, how its parameters are named per version, and — the framing rule — which
// parameter (if any) carries a payload length. Framing is decided here per (command, version,
// direction, role) and never by "the last parameter is a number" (msnp-notes.md, "Framing rules").
// Sources: draft-movva-msn-messenger-protocol-00 (MSNP2) §6–§8; msnp-notes.md (payload table,
// auth flows, version grid) for MSNP3–21.

export type Side = 'c' | 's';
export type Role = 'DS' | 'NS' | 'SB';

/** The newest version this table knows. */
export const MAX_VERSION = 21;
export const MIN_VERSION = 2;

/**
 * Parameter names for one version range. Tokens are field keys of msnp.ts; a trailing `*` makes
 * the token repeat for the remaining parameters; `?` marks an optional one (documentation only).
 */
interface Syntax {
  readonly from: number;
  /** client → server */
  readonly c?: string;
  /** server → client, in answer to a request (first parameter the TrID) */
  readonly s?: string;
  /** server → client, asynchronous (no TrID) */
  readonly a?: string;
}

/** Index of the parameter holding the payload length, or -1 when this form carries no payload. */
type PayloadRule = (side: Side, params: readonly string[], version: number | undefined) => number;

export interface CommandSpec {
  readonly name: string;
  readonly title: string;
  /** First and last MSNP version the command exists in. */
  readonly since: number;
  readonly until: number;
  readonly roles: readonly Role[];
  /** Who sends it. */
  readonly senders: readonly Side[];
  /** A client request the server answers with the same TrID (draft §5.3). */
  readonly answered?: boolean;
  /** The server may send several responses with one TrID (draft §5.6: LST, ILN, IRO …). */
  readonly multi?: boolean;
  readonly payload?: PayloadRule;
  readonly syntax: readonly Syntax[];
  /** Where the command is described. */
  readonly spec: string;
}

const NONE: PayloadRule = () => -1;
const last = (count: number): PayloadRule => (_side, params) => (params.length === count ? count - 1 : -1);
const clientLast = (count: number): PayloadRule => (side, params) => (side === 'c' && params.length === count ? count - 1 : -1);
const serverLast = (count: number): PayloadRule => (side, params) => (side === 's' && params.length === count ? count - 1 : -1);

const ALL: readonly Role[] = ['DS', 'NS', 'SB'];
const NS: readonly Role[] = ['NS'];
const DSNS: readonly Role[] = ['DS', 'NS'];
const SB: readonly Role[] = ['SB'];
const C: readonly Side[] = ['c'];
const S: readonly Side[] = ['s'];
const CS: readonly Side[] = ['c', 's'];

/** The MSNP2 draft, the spec most clauses cite. */
export const DRAFT = 'draft-movva-msn-messenger-protocol-00';
/** The notes' table of payload commands and its lists of the others by role. */
const NOTES = 'msnp-notes.md Payload-command table';

function cmd(spec: CommandSpec): CommandSpec {
  return spec;
}

const TABLE: CommandSpec[] = [
  // ---- login (draft §7.1–§7.4, msnp-notes "Authentication flows") ----
  cmd({ name: 'VER', title: 'Protocol version negotiation', since: 2, until: 21, roles: DSNS, senders: CS, answered: true, spec: `${DRAFT} 7.1`,
    syntax: [{ from: 2, c: 'trid dialect*', s: 'trid dialect*' }] }),
  cmd({ name: 'CVR', title: 'Client version information', since: 8, until: 21, roles: DSNS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 8, c: 'trid locale os_type os_version arch client_name client_version brand handle', s: 'trid recommended_version recommended_version2 minimum_version download_url info_url' }] }),
  cmd({ name: 'INF', title: 'Security package query', since: 2, until: 7, roles: DSNS, senders: CS, answered: true, spec: `${DRAFT} 7.2`,
    syntax: [{ from: 2, c: 'trid', s: 'trid security_package*' }] }),
  cmd({ name: 'USR', title: 'Authentication', since: 2, until: 21, roles: ALL, senders: CS, answered: true, spec: `${DRAFT} 7.3, 8.2`,
    // The actual names depend on the form (MD5/TWN/SSO stages, SB cookie login, OK): see usrNames().
    syntax: [{ from: 2, c: 'trid auth_method auth_stage auth_info*', s: 'trid auth_method auth_stage auth_info*' }] }),
  cmd({ name: 'XFR', title: 'Referral', since: 2, until: 21, roles: DSNS, senders: CS, answered: true, spec: `${DRAFT} 7.4, 8.1`,
    syntax: [
      { from: 2, c: 'trid referral_type', s: 'trid referral_type address security_package cookie' },
      { from: 8, c: 'trid referral_type', s: 'trid referral_type address security_package cookie' },
      { from: 13, c: 'trid referral_type', s: 'trid referral_type address security_package cookie direct_host_flag host unused' },
    ] }),
  cmd({ name: 'OUT', title: 'Sign out', since: 2, until: 21, roles: ALL, senders: CS, spec: `${DRAFT} 7.10, 8.6`,
    syntax: [{ from: 2, c: '', a: 'reason' }] }),
  cmd({ name: 'CHL', title: 'Challenge', since: 6, until: 21, roles: NS, senders: S, spec: NOTES,
    syntax: [{ from: 6, s: 'trid challenge', a: 'trid challenge' }] }),
  cmd({ name: 'QRY', title: 'Challenge response', since: 6, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: clientLast(3),
    syntax: [{ from: 6, c: 'trid client_id length', s: 'trid' }] }),
  cmd({ name: 'GCF', title: 'Get configuration file', since: 11, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    // GCF trid file (request, no payload) → GCF trid file len (11–12) | GCF trid len / GCF 0 len (13+)
    payload: (side, params, version) => {
      if (side !== 's') return -1;
      if (version !== undefined && version >= 13) return params.length === 2 ? 1 : params.length === 3 ? 2 : -1;
      return params.length === 3 ? 2 : params.length === 2 ? 1 : -1;
    },
    syntax: [{ from: 11, c: 'trid file', s: 'trid file length' }, { from: 13, c: 'trid file', s: 'trid length', a: 'trid length' }] }),

  // ---- contact lists and properties (draft §7.5–§7.8) ----
  cmd({ name: 'SYN', title: 'Synchronise properties', since: 2, until: 12, roles: NS, senders: CS, answered: true, multi: true, spec: `${DRAFT} 7.5`,
    syntax: [
      { from: 2, c: 'trid serial', s: 'trid serial' },
      { from: 8, c: 'trid serial', s: 'trid serial contact_count group_count' },
      { from: 10, c: 'trid serial serial2', s: 'trid serial serial2 contact_count group_count' },
    ] }),
  cmd({ name: 'GTC', title: 'Reverse-list prompt setting', since: 2, until: 12, roles: NS, senders: CS, answered: true, spec: `${DRAFT} 7.6`,
    syntax: [{ from: 2, c: 'trid setting', s: 'trid serial setting' }, { from: 8, c: 'trid setting', s: 'trid serial setting', a: 'setting' }, { from: 10, c: 'trid setting', s: 'trid setting', a: 'setting' }] }),
  cmd({ name: 'BLP', title: 'Privacy mode', since: 2, until: 21, roles: NS, senders: CS, answered: true, spec: `${DRAFT} 7.6`,
    syntax: [{ from: 2, c: 'trid setting', s: 'trid serial setting' }, { from: 8, c: 'trid setting', s: 'trid serial setting', a: 'setting' }, { from: 10, c: 'trid setting', s: 'trid setting', a: 'setting' }] }),
  cmd({ name: 'LST', title: 'List retrieval', since: 2, until: 12, roles: NS, senders: CS, answered: true, multi: true, spec: `${DRAFT} 7.6`,
    syntax: [
      { from: 2, c: 'trid list', s: 'trid list serial item total handle friendly' },
      { from: 8, a: 'handle friendly lists groups' },
      { from: 10, a: 'handle friendly guid lists groups' },
    ] }),
  cmd({ name: 'LSG', title: 'Group list', since: 7, until: 12, roles: NS, senders: CS, answered: true, multi: true, spec: NOTES,
    syntax: [
      { from: 7, c: 'trid', s: 'trid serial item total group_id group_name unused' },
      { from: 8, a: 'group_id group_name unused' },
      { from: 10, a: 'group_name group_id' },
    ] }),
  cmd({ name: 'ADD', title: 'Add to list', since: 2, until: 10, roles: NS, senders: CS, answered: true, spec: `${DRAFT} 7.8`,
    syntax: [{ from: 2, c: 'trid list handle friendly group_id', s: 'trid list serial handle friendly group_id' }] }),
  cmd({ name: 'REM', title: 'Remove from list', since: 2, until: 12, roles: NS, senders: CS, answered: true, spec: `${DRAFT} 7.8`,
    syntax: [{ from: 2, c: 'trid list handle group_id', s: 'trid list serial handle group_id' }, { from: 10, c: 'trid list handle group_id', s: 'trid list handle group_id' }] }),
  cmd({ name: 'ADC', title: 'Add contact', since: 10, until: 12, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 10, c: 'trid list handle friendly', s: 'trid list handle friendly guid' }] }),
  cmd({ name: 'ADG', title: 'Add group', since: 7, until: 12, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 7, c: 'trid group_name unused', s: 'trid serial group_name group_id unused' }, { from: 10, c: 'trid group_name', s: 'trid group_name group_id' }] }),
  cmd({ name: 'RMG', title: 'Remove group', since: 7, until: 12, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 7, c: 'trid group_id', s: 'trid serial group_id' }, { from: 10, c: 'trid group_id', s: 'trid group_id' }] }),
  cmd({ name: 'REG', title: 'Rename group', since: 7, until: 12, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 7, c: 'trid group_id group_name unused', s: 'trid serial group_id group_name unused' }, { from: 10, c: 'trid group_id group_name', s: 'trid group_id group_name' }] }),
  cmd({ name: 'REA', title: 'Rename (friendly name)', since: 2, until: 9, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 2, c: 'trid handle friendly', s: 'trid serial handle friendly' }] }),
  cmd({ name: 'PRP', title: 'Personal property', since: 7, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 7, c: 'trid property value', s: 'trid serial property value', a: 'property value' }, { from: 10, c: 'trid property value', s: 'trid property value', a: 'property value' }] }),
  cmd({ name: 'BPR', title: 'Contact property', since: 8, until: 12, roles: NS, senders: S, spec: NOTES,
    syntax: [{ from: 8, a: 'property value' }] }),
  cmd({ name: 'SBP', title: 'Set contact property', since: 10, until: 12, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 10, c: 'trid guid property value', s: 'trid guid property value' }] }),
  cmd({ name: 'ADL', title: 'Add to list (XML)', since: 13, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: (side, params) => (side === 'c' ? (params.length === 2 ? 1 : -1) : params.length === 2 && params[1] !== 'OK' ? 1 : -1),
    syntax: [{ from: 13, c: 'trid length', s: 'trid ok', a: 'trid length' }] }),
  cmd({ name: 'RML', title: 'Remove from list (XML)', since: 13, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: (side, params) => (side === 'c' ? (params.length === 2 ? 1 : -1) : params.length === 2 && params[1] !== 'OK' ? 1 : -1),
    syntax: [{ from: 13, c: 'trid length', s: 'trid ok', a: 'trid length' }] }),
  cmd({ name: 'FQY', title: 'Federated membership query', since: 14, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: last(2), syntax: [{ from: 14, c: 'trid length', s: 'trid length' }] }),

  // ---- presence (draft §7.7, §7.9) ----
  cmd({ name: 'CHG', title: 'Change status', since: 2, until: 21, roles: NS, senders: CS, answered: true, multi: true, spec: `${DRAFT} 7.7`,
    syntax: [{ from: 2, c: 'trid status', s: 'trid status' }, { from: 8, c: 'trid status client_id', s: 'trid status client_id' }, { from: 9, c: 'trid status client_id msnobj', s: 'trid status client_id msnobj' }] }),
  cmd({ name: 'ILN', title: 'Initial online state', since: 2, until: 21, roles: NS, senders: S, spec: `${DRAFT} 7.9`,
    syntax: [
      { from: 2, s: 'trid status handle friendly' },
      { from: 8, s: 'trid status handle friendly client_id' },
      { from: 9, s: 'trid status handle friendly client_id msnobj' },
      { from: 14, s: 'trid status handle netid friendly client_id msnobj' },
      { from: 18, s: 'trid status handle friendly client_id msnobj' },
    ] }),
  cmd({ name: 'NLN', title: 'Contact online / status change', since: 2, until: 21, roles: NS, senders: S, spec: `${DRAFT} 7.9`,
    syntax: [
      { from: 2, a: 'status handle friendly' },
      { from: 8, a: 'status handle friendly client_id' },
      { from: 9, a: 'status handle friendly client_id msnobj' },
      { from: 14, a: 'status handle netid friendly client_id msnobj' },
      { from: 18, a: 'status handle friendly client_id msnobj' },
    ] }),
  cmd({ name: 'FLN', title: 'Contact offline', since: 2, until: 21, roles: NS, senders: S, spec: `${DRAFT} 7.9`,
    syntax: [{ from: 2, a: 'handle' }, { from: 14, a: 'handle netid' }, { from: 18, a: 'handle client_id' }] }),
  cmd({ name: 'UBX', title: 'Contact personal message', since: 11, until: 21, roles: NS, senders: S, spec: NOTES,
    payload: (side, params) => (side === 's' && (params.length === 2 || params.length === 3) ? params.length - 1 : -1),
    syntax: [{ from: 11, a: 'handle length' }, { from: 14, a: 'handle netid length' }, { from: 18, a: 'handle length' }] }),
  cmd({ name: 'UUX', title: 'Set personal message', since: 11, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: clientLast(2), syntax: [{ from: 11, c: 'trid length', s: 'trid length' }] }),
  cmd({ name: 'UUN', title: 'Send notification to contact', since: 13, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: clientLast(4), syntax: [{ from: 13, c: 'trid handle type length', s: 'trid ok' }] }),
  cmd({ name: 'UBN', title: 'Notification from contact', since: 13, until: 21, roles: NS, senders: S, spec: NOTES,
    payload: serverLast(3), syntax: [{ from: 13, a: 'handle type length' }] }),
  cmd({ name: 'UUM', title: 'Send message to other network', since: 14, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: clientLast(5), syntax: [{ from: 14, c: 'trid handle netid type length', s: 'trid ok' }] }),
  cmd({ name: 'UBM', title: 'Message from other network', since: 14, until: 21, roles: NS, senders: S, spec: NOTES,
    payload: serverLast(4), syntax: [{ from: 14, a: 'handle netid type length' }] }),
  cmd({ name: 'IMS', title: 'Instant-message switch', since: 2, until: 12, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 2, c: 'trid setting', s: 'trid serial setting' }] }),
  cmd({ name: 'PNG', title: 'Keep-alive ping', since: 2, until: 21, roles: NS, senders: C, spec: NOTES, syntax: [{ from: 2, c: '' }] }),
  cmd({ name: 'QNG', title: 'Keep-alive reply', since: 2, until: 21, roles: NS, senders: S, spec: NOTES,
    syntax: [{ from: 2, a: '' }, { from: 9, a: 'seconds' }] }),
  cmd({ name: 'URL', title: 'Service URL request', since: 5, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 5, c: 'trid url_type url_param', s: 'trid redirect_url post_url site_id' }] }),
  cmd({ name: 'SDC', title: 'Send directory invitation', since: 5, until: 9, roles: NS, senders: CS, answered: true, spec: NOTES,
    syntax: [{ from: 5, c: 'trid handle locale marketing cobrand site friendly length', s: 'trid ok' }] }),
  cmd({ name: 'FND', title: 'Directory search', since: 3, until: 9, roles: NS, senders: CS, answered: true, multi: true, spec: NOTES,
    syntax: [{ from: 3, c: 'trid query*', s: 'trid serial item total result*' }] }),
  cmd({ name: 'RNG', title: 'Switchboard invitation', since: 2, until: 21, roles: NS, senders: S, spec: `${DRAFT} 8.4`,
    syntax: [
      { from: 2, a: 'sessid address security_package cookie caller caller_friendly' },
      { from: 13, a: 'sessid address security_package cookie caller caller_friendly direct_host_flag host' },
      { from: 14, a: 'sessid address security_package cookie caller caller_friendly direct_host_flag host unused' },
    ] }),
  cmd({ name: 'NOT', title: 'Alert notification', since: 5, until: 21, roles: NS, senders: S, spec: NOTES,
    payload: serverLast(1), syntax: [{ from: 5, a: 'length' }] }),
  cmd({ name: 'IPG', title: 'Mobile page', since: 6, until: 21, roles: NS, senders: S, spec: NOTES,
    payload: serverLast(1), syntax: [{ from: 6, a: 'length' }] }),
  cmd({ name: 'PAG', title: 'Page (mobile message)', since: 5, until: 9, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: clientLast(3), syntax: [{ from: 5, c: 'trid handle length', s: 'trid ok' }] }),
  cmd({ name: 'PGD', title: 'Page (mobile message, XML)', since: 10, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: clientLast(4), syntax: [{ from: 10, c: 'trid handle netid length', s: 'trid ok' }] }),
  cmd({ name: 'SBS', title: 'Subscription state', since: 11, until: 21, roles: NS, senders: S, spec: 'msnp-notes.md Best public references', syntax: [{ from: 11, a: 'trid value' }] }),

  // ---- MSNP21 routed messaging ----
  cmd({ name: 'SDG', title: 'Send data group (routed message)', since: 21, until: 21, roles: NS, senders: CS, spec: NOTES,
    payload: last(2), syntax: [{ from: 21, c: 'trid length', s: 'trid length', a: 'trid length' }] }),
  cmd({ name: 'PUT', title: 'Put document', since: 21, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: (side, params) => (side === 'c' ? (params.length === 2 ? 1 : -1) : params.length === 3 ? 2 : -1),
    syntax: [{ from: 21, c: 'trid length', s: 'trid ok length' }] }),
  cmd({ name: 'DEL', title: 'Delete document', since: 21, until: 21, roles: NS, senders: CS, answered: true, spec: NOTES,
    payload: (side, params) => (side === 'c' ? (params.length === 2 ? 1 : -1) : params.length === 3 ? 2 : -1),
    syntax: [{ from: 21, c: 'trid length', s: 'trid ok length' }] }),
  cmd({ name: 'NFY', title: 'Notify (routed document)', since: 21, until: 21, roles: NS, senders: S, spec: NOTES,
    payload: serverLast(2), syntax: [{ from: 21, a: 'operation length' }] }),
  cmd({ name: 'GET', title: 'Get document', since: 21, until: 21, roles: NS, senders: CS, answered: true, spec: `${NOTES} (verify)`,
    payload: last(2), syntax: [{ from: 21, c: 'trid length', s: 'trid length' }] }),

  // ---- switchboard (draft §8) ----
  cmd({ name: 'CAL', title: 'Invite to switchboard', since: 2, until: 21, roles: SB, senders: CS, answered: true, spec: `${DRAFT} 8.3`,
    syntax: [{ from: 2, c: 'trid handle', s: 'trid status sessid' }] }),
  cmd({ name: 'ANS', title: 'Answer switchboard invitation', since: 2, until: 21, roles: SB, senders: CS, answered: true, spec: `${DRAFT} 8.4`,
    syntax: [{ from: 2, c: 'trid handle cookie sessid', s: 'trid ok' }] }),
  cmd({ name: 'IRO', title: 'Initial roster', since: 2, until: 21, roles: SB, senders: S, multi: true, spec: `${DRAFT} 8.4`,
    syntax: [{ from: 2, s: 'trid item total handle friendly' }, { from: 12, s: 'trid item total handle friendly client_id' }] }),
  cmd({ name: 'JOI', title: 'Participant joined', since: 2, until: 21, roles: SB, senders: S, spec: `${DRAFT} 8.5`,
    syntax: [{ from: 2, a: 'handle friendly' }, { from: 12, a: 'handle friendly client_id' }] }),
  cmd({ name: 'BYE', title: 'Participant left', since: 2, until: 21, roles: SB, senders: S, spec: `${DRAFT} 8.5`,
    syntax: [{ from: 2, a: 'handle' }, { from: 8, a: 'handle idle' }] }),
  cmd({ name: 'ACK', title: 'Message delivered', since: 2, until: 21, roles: SB, senders: S, spec: `${DRAFT} 8.7`, syntax: [{ from: 2, s: 'trid' }] }),
  cmd({ name: 'NAK', title: 'Message not delivered', since: 2, until: 21, roles: SB, senders: S, spec: `${DRAFT} 8.7`, syntax: [{ from: 2, s: 'trid' }] }),
  cmd({ name: 'MSG', title: 'Message', since: 2, until: 21, roles: ALL, senders: CS, spec: `${DRAFT} 8.7, 8.8`,
    // C: MSG TrID [U|N|A|D] Length; S: MSG UserHandle FriendlyName Length (draft §8.7–8.8; D since MSNP9)
    payload: last(3),
    syntax: [{ from: 2, c: 'trid ack_mode length', a: 'handle friendly length' }] }),
];

const BY_NAME = new Map<string, CommandSpec>(TABLE.map((c) => [c.name, c]));

export function commandSpec(name: string): CommandSpec | undefined {
  return BY_NAME.get(name);
}

export function allCommands(): readonly CommandSpec[] {
  return TABLE;
}

/** Error codes: the draft's table (§7.11) and later ones from the community error lists. */
export const ERROR_NAMES: Readonly<Record<number, string>> = {
  200: 'ERR_SYNTAX_ERROR', 201: 'ERR_INVALID_PARAMETER', 204: 'ERR_INVALID_NETWORK', 205: 'ERR_INVALID_USER', 206: 'ERR_FQDN_MISSING',
  207: 'ERR_ALREADY_LOGIN', 208: 'ERR_INVALID_USERNAME', 209: 'ERR_INVALID_FRIENDLY_NAME', 210: 'ERR_LIST_FULL',
  215: 'ERR_ALREADY_THERE', 216: 'ERR_NOT_ON_LIST', 217: 'ERR_USER_NOT_ONLINE', 218: 'ERR_ALREADY_IN_THE_MODE',
  219: 'ERR_ALREADY_IN_OPPOSITE_LIST', 223: 'ERR_TOO_MANY_GROUPS', 224: 'ERR_INVALID_GROUP', 225: 'ERR_USER_NOT_IN_GROUP',
  229: 'ERR_GROUP_NAME_TOO_LONG', 230: 'ERR_CANNOT_REMOVE_GROUP_ZERO', 231: 'ERR_INVALID_GROUP', 240: 'ERR_EMPTY_DOMAIN',
  241: 'ERR_INVALID_XML_DATA', 280: 'ERR_SWITCHBOARD_FAILED', 281: 'ERR_NOTIFY_XFR_FAILED',
  300: 'ERR_REQUIRED_FIELDS_MISSING', 302: 'ERR_NOT_LOGGED_IN', 402: 'ERR_ERROR_ACCESSING_CONTACT_LIST', 403: 'ERR_ERROR_ACCESSING_CONTACT_LIST',
  420: 'ERR_INVALID_ACCOUNT_PERMISSIONS', 500: 'ERR_INTERNAL_SERVER', 501: 'ERR_DB_SERVER', 502: 'ERR_CMD_DISABLED',
  508: 'ERR_UPS_FAILURE', 509: 'ERR_UPS_FAILURE', 510: 'ERR_FILE_OPERATION', 511: 'ERR_BANNED', 520: 'ERR_MEMORY_ALLOC',
  540: 'ERR_CHALLENGE_RESPONSE_FAILED', 600: 'ERR_SERVER_BUSY', 601: 'ERR_SERVER_UNAVAILABLE', 602: 'ERR_PEER_NS_DOWN',
  603: 'ERR_DB_CONNECT', 604: 'ERR_SERVER_GOING_DOWN', 605: 'ERR_SERVER_UNAVAILABLE', 707: 'ERR_CREATE_CONNECTION',
  710: 'ERR_BAD_CVR_PARAMETERS', 711: 'ERR_BLOCKING_WRITE', 712: 'ERR_SESSION_OVERLOAD', 713: 'ERR_USER_TOO_ACTIVE',
  714: 'ERR_TOO_MANY_SESSIONS', 715: 'ERR_NOT_EXPECTED', 717: 'ERR_BAD_FRIEND_FILE', 731: 'ERR_NOT_EXPECTED_CVR',
  800: 'ERR_CHANGING_TOO_RAPIDLY', 910: 'ERR_SERVER_TOO_BUSY', 911: 'ERR_AUTHENTICATION_FAILED', 912: 'ERR_SERVER_TOO_BUSY',
  913: 'ERR_NOT_ALLOWED_WHEN_OFFLINE', 914: 'ERR_SERVER_UNAVAILABLE', 915: 'ERR_SERVER_UNAVAILABLE', 916: 'ERR_SERVER_UNAVAILABLE',
  917: 'ERR_AUTHENTICATION_FAILED', 918: 'ERR_SERVER_TOO_BUSY', 919: 'ERR_SERVER_TOO_BUSY', 920: 'ERR_NOT_ACCEPTING_NEW_USERS',
  921: 'ERR_SERVER_TOO_BUSY', 922: 'ERR_SERVER_TOO_BUSY', 923: 'ERR_KIDS_WITHOUT_CONSENT', 924: 'ERR_PASSPORT_NOT_VERIFIED',
  928: 'ERR_BAD_TICKET', 933: 'ERR_PASSPORT_AUTH_FAILED',
};

/** Codes of the draft's own table (§7.11); the rest are later additions. */
export const DRAFT_ERROR_CODES: ReadonlySet<number> = new Set([
  200, 201, 205, 206, 207, 208, 209, 210, 215, 216, 218, 219, 280, 281, 300, 302, 500, 501, 510, 520, 600, 601, 602, 603, 604,
  707, 711, 712, 713, 714, 715, 717, 911, 913, 920,
]);

/** Errors that carry an XML payload from MSNP13 on (`241 trid len`; msnp-notes, msnp-sharp's list). */
const PAYLOAD_ERRORS: ReadonlySet<number> = new Set([201, 203, 204, 205, 210, 234, 241, 508, 509, 511, 591, 731, 801, 933]);

export function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `ERR_${code}`;
}

/** The payload-length parameter index of a numeric error line, or -1. */
export function errorPayloadIndex(code: number, params: readonly string[], version: number | undefined): number {
  if (!PAYLOAD_ERRORS.has(code)) return -1;
  if (version !== undefined && version < 13) return -1;
  return params.length === 2 && /^\d+$/.test(params[1]!) && /^\d+$/.test(params[0]!) ? 1 : -1;
}

/** Index of the payload-length parameter for this command line, or -1 (the framing table). */
export function payloadIndex(name: string, side: Side, params: readonly string[], version: number | undefined): number {
  if (/^\d{3}$/.test(name)) return side === 's' ? errorPayloadIndex(Number(name), params, version) : -1;
  const spec = BY_NAME.get(name);
  return (spec?.payload ?? NONE)(side, params, version);
}

/** Whether this server line answers a request (first parameter is the client's TrID). */
function serverFormIsResponse(spec: CommandSpec, params: readonly string[]): boolean {
  switch (spec.name) {
    case 'MSG': case 'NLN': case 'FLN': case 'UBX': case 'UBN': case 'UBM': case 'RNG': case 'JOI': case 'BYE': case 'NOT':
    case 'IPG': case 'QNG': case 'NFY': case 'BPR': case 'OUT':
      return false;
    case 'LST': case 'LSG':
      return params.length > 0 && /^\d+$/.test(params[0]!) && params.length >= 6;
    default:
      return params.length > 0 && /^\d+$/.test(params[0]!);
  }
}

/** The field keys for each parameter of a line, per the version's syntax. */
/** Parameter names some syntax of each command uses (USR's come from usrNames, which `mayHaveParam` does not list). */
const PARAM_KEYS = new Map<string, ReadonlySet<string>>(TABLE.map((c) => [c.name, new Set(c.syntax.flatMap((s) => [s.c, s.s, s.a]).flatMap((t) => (t === undefined || t === '' ? [] : t.split(' '))).map((k) => k.replace('*', '')))]));

/** Whether `paramNames` may name a parameter of command `name` `key` (false: it never does). */
export function mayHaveParam(name: string, key: string): boolean {
  if (key === 'param' || name === 'USR') return true;
  if (/^\d{3}$/.test(name)) return key === 'trid';
  return PARAM_KEYS.get(name)?.has(key) ?? false;
}

export function paramNames(name: string, side: Side, params: readonly string[], version: number | undefined): string[] {
  if (/^\d{3}$/.test(name)) return params.map((_, i) => (i === 0 ? 'trid' : 'param'));
  const spec = BY_NAME.get(name);
  if (spec === undefined) return params.map(() => 'param');
  if (name === 'USR') return usrNames(side, params);
  const isResponse = side === 's' && serverFormIsResponse(spec, params);
  const pick = (s: Syntax): string | undefined => (side === 'c' ? s.c : isResponse ? (s.s ?? s.a) : (s.a ?? s.s));
  let chosen: string | undefined;
  if (version !== undefined) {
    for (const s of spec.syntax) if (s.from <= version && pick(s) !== undefined) chosen = pick(s);
  } else {
    // Version unknown: the variant whose parameter count matches best.
    let best = Infinity;
    for (const s of spec.syntax) {
      const text = pick(s);
      if (text === undefined) continue;
      const n = text === '' ? 0 : text.split(' ').length;
      const d = Math.abs(n - params.length);
      if (d <= best) {
        best = d;
        chosen = text;
      }
    }
  }
  return expand(chosen ?? '', params.length);
}

function expand(text: string, count: number): string[] {
  const tokens = text === '' ? [] : text.split(' ');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const tok = tokens[Math.min(i, tokens.length - 1)];
    if (i < tokens.length) out.push(tokens[i]!.replace('*', ''));
    else if (tok !== undefined && tok.endsWith('*')) out.push(tok.slice(0, -1));
    else out.push('param');
  }
  return out;
}

/** USR names depend on the form: NS auth stages (MD5/TWN/SSO/CTP), SB cookie login, or OK. */
function usrNames(side: Side, params: readonly string[]): string[] {
  const p1 = params[1];
  if (p1 === 'OK') return expand(params.length >= 4 && params[3] !== undefined && /^\d$/.test(params[3]) ? 'trid ok handle verified unused' : 'trid ok handle friendly verified unused', params.length);
  if (p1 !== undefined && /^(MD5|TWN|SSO|CTP|SHA)$/.test(p1)) {
    return expand(side === 'c' && params[2] === 'I' ? 'trid auth_method auth_stage handle' : 'trid auth_method auth_stage auth_info*', params.length);
  }
  if (side === 'c') return expand('trid handle cookie', params.length);
  return expand('trid auth_method auth_stage auth_info*', params.length);
}

/** Presence status codes (draft §7.7 and later ones). */
export const STATUS_NAMES: Readonly<Record<string, string>> = {
  NLN: 'online', FLN: 'offline', HDN: 'hidden', BSY: 'busy', IDL: 'idle', BRB: 'be right back', AWY: 'away',
  PHN: 'on the phone', LUN: 'out to lunch',
};

/** Commands a client sends on a switchboard, or a server sends there only. */
export function isServerOnly(name: string): boolean {
  const spec = BY_NAME.get(name);
  return spec !== undefined && spec.senders.length === 1 && spec.senders[0] === 's';
}

export function isClientOnly(name: string): boolean {
  const spec = BY_NAME.get(name);
  return spec !== undefined && spec.senders.length === 1 && spec.senders[0] === 'c';
}
