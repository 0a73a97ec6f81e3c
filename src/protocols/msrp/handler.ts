// MS-MSRP over DCE/RPC: the msgsvcsend and msgsvc interface handlers. They dissect stubs for
// the packet view, check the spec's rules, and turn each finished call into a `message`
// event (NetrSendMessage) or a `name` event (NetrMessageName*).
import type { EngineContext } from '../../engine/context.js';
import type { CallEvent, MessageEvent, MessageStatus, NameEvent } from '../../model/events.js';
import { f, type FieldDef, type FieldNode } from '../../model/fields.js';
import { NEEDS_TREE, type PeekedValue } from '../../model/packet.js';
import type { Finding } from '../../model/findings.js';
import { MSRP_FINDINGS } from './findings.js';
import type { RpcCall, RpcInterfaceHandler, RpcOutcome, StubDissection } from '../dcerpc/interfaces.js';
import { stringChars, wcharText, type DecodedParams, type Drep, type NdrString } from '../dcerpc/ndr.js';
import { mergeFrames, outcomeFrames } from '../dcerpc/calls.js';
import { DCERPC } from '../dcerpc/fields.js';
import { messengerText } from '../oem-text.js';
import { MSRP, enumNodes, entryNodes, stringNode, uniqueStringNode } from './fields.js';
import {
  decodeRequest, decodeResponse, enumView, infoView, intParam, MSGSVC_UUID, MSGSVCSEND_UUID, NAME_OPS, SEND_OPS, stringParam, type OpDef,
} from './parse.js';
import { NAME_ADD_STATUS, NAME_DEL_STATUS, NAME_ENUM_STATUS, NAME_GETINFO_STATUS, SEND_MESSAGE_STATUS, statusName } from './status.js';

/** MS-MSRP 3.2.4.4: Text is at most 652 bytes. */
const MAX_TEXT = 652;
/** MS-MSRP 3.1.4.4 and notes <10>, <11>, <16>, <18>: MsgName at most 16 characters with its NUL. */
const MAX_MSGNAME = 16;

export interface Parsed {
  readonly op: OpDef | undefined;
  readonly decoded: DecodedParams | undefined;
  readonly drep: Drep;
  /** OEM code page the char strings were decoded with. */
  readonly codepage: string;
}

// ---- text ----

/** char strings: the OEM code page (MS-MSRP 3.2.4.1), 0x14 shown as a line break, as SMB and mailslot text. */
export function oemText(s: NdrString, codepage: string, drep: Drep): string {
  const chars = stringChars(s);
  if (drep.ebcdic) return Buffer.from(chars).toString('latin1');
  return messengerText(chars, codepage);
}

function textOf(parsed: Parsed): (s: NdrString) => string {
  return (s) => (s.char === 2 ? wcharText(s, parsed.drep) : oemText(s, parsed.codepage, parsed.drep));
}

// ---- findings shared by both interfaces ----

function ndrFindings(d: DecodedParams, frame: number, what: string, clause: string): Finding[] {
  const out: Finding[] = [];
  if (d.error !== undefined) {
    out.push(MSRP_FINDINGS.truncatedStub.at(frame, `${what}: ${d.error.param} cannot be decoded: ${d.error.err.message}`, { clause }));
  }
  for (const issue of d.issues) {
    switch (issue.id) {
      case 'string-no-nul':
        out.push(MSRP_FINDINGS.stringNoNul.at(frame, `${what}: ${issue.summary}`, { clause }));
        break;
      case 'embedded-nul':
        out.push(MSRP_FINDINGS.embeddedNul.at(frame, `${what}: ${issue.summary}`, { clause }));
        break;
      case 'bad-referent':
        out.push(MSRP_FINDINGS.nullRef.at(frame, `${what}: ${issue.summary}`));
        break;
      default:
        out.push(MSRP_FINDINGS.countMismatch.at(frame, `${what}: ${issue.summary}`));
    }
  }
  if (d.error === undefined && d.trailing > 7) {
    out.push(MSRP_FINDINGS.trailingBytes.at(frame, `${what}: ${d.trailing} byte(s) after the last argument`, { clause }));
  }
  return out;
}

/** Every MS-MSRP tree starts with the interface and the opnum, and none has an `msrp.operation` node. */
function headFields(iface: string, opnum: number): (def: FieldDef) => PeekedValue {
  return (def) => (def === MSRP.interface ? iface : def === MSRP.opnum ? opnum : def === MSRP.operation ? undefined : NEEDS_TREE);
}

function statusNodes(code: number, name: string): FieldNode[] {
  return [f(MSRP.status, code, undefined, undefined, undefined, `Return value: ${name} (0x${code.toString(16).padStart(8, '0')})`), f(MSRP.status_name, name)];
}

function errorNode(d: DecodedParams | undefined): FieldNode[] {
  return d?.error !== undefined ? [f(MSRP.stub_error, `${d.error.param}: ${d.error.err.message}`)] : [];
}

function unknownOp(name: string, uuid: string, opnum: number, frame: number, clause: string): StubDissection<Parsed> {
  return {
    layer: 'msrp', column: 'MSRP', info: `${name} unknown operation ${opnum}`, fieldValue: headFields(name, opnum),
    tree: () => [f(MSRP.interface, name), f(MSRP.opnum, opnum)],
    findings: [MSRP_FINDINGS.unknownOpnum.at(frame, `${name} (${uuid}) has no operation ${opnum}`, { clause })],
    parsed: { op: undefined, decoded: undefined, drep: { little: true, ebcdic: false, float: 0 }, codepage: '' },
  };
}

/**
 * MS-MSRP 2.1.1: each interface has its RPC protocol sequence — NetrSendMessage RPC over UDP
 * (3.2.4.2), the name management methods RPC over named pipes. Reported with the call's event.
 */
function transportFinding(call: RpcCall<Parsed, Parsed>, iface: 'msgsvcsend' | 'msgsvc'): void {
  const t = call.route.transport;
  const frame = call.request.frames[0] ?? 0;
  if (iface === 'msgsvcsend' && t !== 'udp/dcerpc') {
    call.findings.push(MSRP_FINDINGS.transport.at(frame, `NetrSendMessage called over ${t}, not RPC over UDP`, { clause: 'MS-MSRP 3.2.4.2' }));
  } else if (iface === 'msgsvc' && !t.includes('/pipe/')) {
    call.findings.push(MSRP_FINDINGS.transport.at(frame, `msgsvc called over ${t}, not RPC over a named pipe`, { clause: 'MS-MSRP 2.1.1' }));
  }
}

// ---- event helpers ----

interface Result {
  readonly status: MessageStatus;
  readonly error?: string;
  readonly code?: number;
  readonly name?: string;
}

function outcomeResult(outcome: RpcOutcome, response: Parsed | undefined, table: ReadonlyMap<number, string>): Result {
  switch (outcome.kind) {
    case 'response': {
      const code = response?.decoded?.result;
      if (code === undefined) return { status: 'unknown' };
      const { name } = statusName(table, code);
      return code === 0 ? { status: 'ok', code, name } : { status: 'error', error: name, code, name };
    }
    case 'fault':
    case 'reject':
      return { status: 'error', error: outcome.name, code: outcome.status, name: outcome.name };
    case 'bounce':
      return { status: 'error', error: outcome.reason };
    case 'none':
      return { status: outcome.expected ? 'no-response' : 'unknown' };
  }
}

function baseEvent(call: RpcCall<Parsed, Parsed>) {
  return {
    tsSec: call.request.tsSec,
    tsNsec: call.request.tsNsec,
    frames: mergeFrames(call.request.frames, outcomeFrames(call.outcome)),
    transport: call.route.transport,
    src: call.route.client,
    dst: call.route.server,
  };
}

function unknownOpCall(call: RpcCall<Parsed, Parsed>, ctx: EngineContext, iface: string): void {
  const r = outcomeResult(call.outcome, undefined, new Map());
  const event: CallEvent = {
    kind: 'call', ...baseEvent(call), protocol: 'msrp', findings: call.findings, interface: iface, operation: `opnum ${call.opnum}`,
    result: r.code !== undefined && r.name !== undefined ? { code: r.code, name: r.name } : undefined,
    details: { outcome: call.outcome.kind, status: r.status, ...(r.error !== undefined && r.code === undefined ? { error: r.error } : {}), ...call.ids },
  };
  ctx.emit(event);
}

function statusFinding(table: ReadonlyMap<number, string>, code: number, op: string, frame: number, clause: string): Finding | undefined {
  const s = statusName(table, code);
  if (s.listed) return undefined;
  return MSRP_FINDINGS.statusUnlisted.at(frame, `${op} returned ${s.name} (0x${code.toString(16).padStart(8, '0')}), which the spec's table for ${op} does not list`, { clause });
}

// ---- msgsvcsend ----

const SEND_CLAUSE = 'MS-MSRP 3.2.4.1';

export const msgsvcsend: RpcInterfaceHandler<Parsed, Parsed> = {
  uuid: MSGSVCSEND_UUID,
  version: 1,
  name: 'msgsvcsend',
  opName: (opnum) => SEND_OPS.get(opnum)?.name,

  dissectRequest(stub, drep, opnum, ctx, frame) {
    const op = SEND_OPS.get(opnum);
    if (op === undefined) return unknownOp('msgsvcsend', MSGSVCSEND_UUID, opnum, frame, 'MS-MSRP 3.2.4');
    const decoded = decodeRequest(op, stub, drep);
    const parsed: Parsed = { op, decoded, drep, codepage: ctx.options.oemCodepage };
    const text = textOf(parsed);
    const findings = ndrFindings(decoded, frame, 'NetrSendMessage request', SEND_CLAUSE);
    const from = stringParam(decoded.values.get('From'));
    const to = stringParam(decoded.values.get('To'));
    const body = stringParam(decoded.values.get('Text'));
    if (body !== undefined && stringChars(body).length > MAX_TEXT) {
      findings.push(MSRP_FINDINGS.textTooLong.at(frame, `Text is ${stringChars(body).length} bytes, over the ${MAX_TEXT} allowed`));
    }
    if (drep.ebcdic) findings.push(MSRP_FINDINGS.ebcdic.at(frame, 'strings are EBCDIC (drep): shown as Latin-1'));
    const info = `NetrSendMessage request${from !== undefined ? `, From: ${text(from)}` : ''}${to !== undefined ? `, To: ${text(to)}` : ''}`;
    return {
      layer: 'msrp', column: 'MSRP', info, findings, parsed, fieldValue: headFields('msgsvcsend', opnum),
      tree: () => {
        const nodes: FieldNode[] = [f(MSRP.interface, 'msgsvcsend'), f(MSRP.opnum, opnum, undefined, undefined, undefined, 'Operation: NetrSendMessage (0)')];
        if (from !== undefined) nodes.push(stringNode(MSRP.from, from, text(from)));
        if (to !== undefined) nodes.push(stringNode(MSRP.to, to, text(to)));
        if (body !== undefined) nodes.push(stringNode(MSRP.text, body, text(body)), f(MSRP.text_length, stringChars(body).length));
        return [...nodes, ...errorNode(decoded)];
      },
    };
  },

  dissectResponse(stub, drep, opnum, _request, ctx, frame) {
    const op = SEND_OPS.get(opnum);
    if (op === undefined) return unknownOp('msgsvcsend', MSGSVCSEND_UUID, opnum, frame, 'MS-MSRP 3.2.4');
    const decoded = decodeResponse(op, stub, drep, undefined);
    const parsed: Parsed = { op, decoded, drep, codepage: ctx.options.oemCodepage };
    const findings = ndrFindings(decoded, frame, 'NetrSendMessage response', SEND_CLAUSE);
    const code = decoded.result;
    const name = code !== undefined ? statusName(SEND_MESSAGE_STATUS, code).name : undefined;
    if (code !== undefined) {
      const unlisted = statusFinding(SEND_MESSAGE_STATUS, code, 'NetrSendMessage', frame, SEND_CLAUSE);
      if (unlisted !== undefined) findings.push(unlisted);
    }
    return {
      layer: 'msrp', column: 'MSRP', info: `NetrSendMessage response${name !== undefined ? `, ${name}` : ''}`, findings, parsed, fieldValue: headFields('msgsvcsend', opnum),
      tree: () => [f(MSRP.interface, 'msgsvcsend'), f(MSRP.opnum, opnum), ...(code !== undefined && name !== undefined ? statusNodes(code, name) : []), ...errorNode(decoded)],
    };
  },

  complete(call, ctx) {
    const req = call.requestParsed;
    if (req?.op === undefined || req.decoded === undefined) {
      unknownOpCall(call, ctx, 'msgsvcsend');
      return;
    }
    transportFinding(call, 'msgsvcsend');
    const text = textOf(req);
    const values = req.decoded.values;
    const from = stringParam(values.get('From'));
    const to = stringParam(values.get('To'));
    const body = stringParam(values.get('Text'));
    const r = outcomeResult(call.outcome, call.responseParsed, SEND_MESSAGE_STATUS);
    const details: Record<string, unknown> = { interface: 'msgsvcsend', operation: 'NetrSendMessage', outcome: call.outcome.kind, ...call.ids };
    if (r.code !== undefined) details.result = { code: r.code, name: r.name };
    if (!req.drep.little) details.byteOrder = 'big-endian';
    if (body === undefined) details.textComplete = false;
    if (call.outcome.kind === 'bounce') {
      details.icmp = call.outcome.reason;
      if (call.outcome.icmp !== undefined) {
        details.icmpType = call.outcome.icmp.type;
        details.icmpCode = call.outcome.icmp.code;
      }
    }
    const event: MessageEvent = {
      kind: 'message', ...baseEvent(call), protocol: 'msrp', findings: call.findings,
      from: from !== undefined ? text(from) : '',
      to: to !== undefined ? [text(to)] : [],
      text: body !== undefined ? text(body) : '',
      status: r.status,
      details,
    };
    if (r.error !== undefined) event.error = r.error;
    ctx.emit(event);
  },
};

// ---- msgsvc ----

const NAME_CLAUSES: Record<number, { clause: string; send: string; table: ReadonlyMap<number, string> }> = {
  0: { clause: 'MS-MSRP 3.1.4.1', send: 'MS-MSRP 3.1.4.5', table: NAME_ADD_STATUS },
  1: { clause: 'MS-MSRP 3.1.4.2', send: 'MS-MSRP 3.1.4.7', table: NAME_ENUM_STATUS },
  2: { clause: 'MS-MSRP 3.1.4.3', send: 'MS-MSRP 3.1.4.9', table: NAME_GETINFO_STATUS },
  3: { clause: 'MS-MSRP 3.1.4.4', send: 'MS-MSRP 3.1.4.11', table: NAME_DEL_STATUS },
};

function levelFinding(level: number | undefined, op: string, frame: number, clause: string): Finding[] {
  if (level === undefined || level === 0 || level === 1) return [];
  return [MSRP_FINDINGS.badLevel.at(frame, `${op} Level is ${level}; it MUST be 0 or 1`, { clause })];
}

function entryFindings(entries: { forwardFlag?: number; forward?: NdrString | null }[], frame: number): Finding[] {
  const out: Finding[] = [];
  for (const e of entries) {
    if (e.forwardFlag !== undefined && e.forwardFlag !== 0) out.push(MSRP_FINDINGS.forwardFlag.at(frame, `msgi1_forward_flag is ${e.forwardFlag}; it MUST be zero`));
    if (e.forward !== undefined && e.forward !== null) out.push(MSRP_FINDINGS.forwardNotNull.at(frame, 'msgi1_forward is not NULL'));
  }
  return out;
}

export const msgsvc: RpcInterfaceHandler<Parsed, Parsed> = {
  uuid: MSGSVC_UUID,
  version: 1,
  name: 'msgsvc',
  opName: (opnum) => NAME_OPS.get(opnum)?.name,

  dissectRequest(stub, drep, opnum, ctx, frame) {
    const op = NAME_OPS.get(opnum);
    if (op === undefined) return unknownOp('msgsvc', MSGSVC_UUID, opnum, frame, 'MS-MSRP 3.1.4');
    const c = NAME_CLAUSES[opnum]!;
    const decoded = decodeRequest(op, stub, drep);
    const parsed: Parsed = { op, decoded, drep, codepage: ctx.options.oemCodepage };
    const text = textOf(parsed);
    const v = decoded.values;
    const findings = ndrFindings(decoded, frame, `${op.name} request`, c.clause);
    const msgName = stringParam(v.get('MsgName'));
    if (msgName !== undefined && msgName.actual > MAX_MSGNAME) {
      findings.push(MSRP_FINDINGS.msgnameTooLong.at(frame, `MsgName is ${msgName.actual} characters with its NUL, over ${MAX_MSGNAME}`, { clause: opnum === 3 ? 'MS-MSRP 3.1.4.4' : c.send }));
    }
    const level = opnum === 2 ? intParam(v.get('Level')) : undefined;
    const ev = opnum === 1 ? enumView(v.get('InfoStruct')) : undefined;
    findings.push(...levelFinding(level ?? ev?.level, op.name, frame, opnum === 1 ? 'MS-MSRP 2.2.2.5' : c.clause));
    const info = `${op.name} request${msgName !== undefined ? `, MsgName: ${text(msgName)}` : ''}${level !== undefined ? `, Level: ${level}` : ''}${ev?.level !== undefined ? `, Level: ${ev.level}` : ''}`;
    return {
      layer: 'msrp', column: 'MSRP', info, findings, parsed, fieldValue: headFields('msgsvc', opnum),
      tree: () => {
        const nodes: FieldNode[] = [f(MSRP.interface, 'msgsvc'), f(MSRP.opnum, opnum, undefined, undefined, undefined, `Operation: ${op.name} (${opnum})`)];
        nodes.push(...uniqueStringNode(MSRP.server_name, v.get('ServerName'), text));
        if (msgName !== undefined) nodes.push(stringNode(MSRP.msg_name, msgName, text(msgName)));
        if (level !== undefined) nodes.push(f(MSRP.level, level));
        if (ev !== undefined) for (const node of enumNodes(ev, text)) nodes.push(node);
        const pref = intParam(v.get('PrefMaxLen'));
        if (pref !== undefined) nodes.push(f(MSRP.pref_max_len, pref));
        const resume = v.get('ResumeHandle');
        if (resume !== undefined) nodes.push(intParam(resume) !== undefined ? f(MSRP.resume_handle, intParam(resume)!) : f(MSRP.resume_handle, null, undefined, undefined, undefined, 'ResumeHandle: NULL'));
        return [...nodes, ...errorNode(decoded)];
      },
    };
  },

  dissectResponse(stub, drep, opnum, request, ctx, frame) {
    const op = NAME_OPS.get(opnum);
    if (op === undefined) return unknownOp('msgsvc', MSGSVC_UUID, opnum, frame, 'MS-MSRP 3.1.4');
    const c = NAME_CLAUSES[opnum]!;
    const decoded = decodeResponse(op, stub, drep, request?.decoded);
    const parsed: Parsed = { op, decoded, drep, codepage: ctx.options.oemCodepage };
    const text = textOf(parsed);
    const v = decoded.values;
    const findings = ndrFindings(decoded, frame, `${op.name} response`, c.clause);
    const code = decoded.result;
    const name = code !== undefined ? statusName(c.table, code).name : undefined;
    if (code !== undefined) {
      const unlisted = statusFinding(c.table, code, op.name, frame, c.clause);
      if (unlisted !== undefined) findings.push(unlisted);
    }
    const ev = opnum === 1 ? enumView(v.get('InfoStruct')) : undefined;
    const gi = opnum === 2 ? infoView(v.get('InfoStruct')) : undefined;
    const total = intParam(v.get('TotalEntries'));
    if (ev !== undefined) {
      findings.push(...levelFinding(ev.level, op.name, frame, 'MS-MSRP 2.2.2.5'), ...entryFindings(ev.entries, frame));
      if (total !== undefined && ev.entriesRead !== undefined && total !== ev.entriesRead && code === 0) {
        findings.push(MSRP_FINDINGS.totalEntries.at(frame, `TotalEntries ${total} differs from the ${ev.entriesRead} entries returned`));
      }
    }
    if (gi?.entry !== undefined) findings.push(...entryFindings([gi.entry], frame));
    return {
      layer: 'msrp', column: 'MSRP', info: `${op.name} response${name !== undefined ? `, ${name}` : ''}`, findings, parsed, fieldValue: headFields('msgsvc', opnum),
      tree: () => {
        const nodes: FieldNode[] = [f(MSRP.interface, 'msgsvc'), f(MSRP.opnum, opnum, undefined, undefined, undefined, `Operation: ${op.name} (${opnum})`)];
        if (ev !== undefined) for (const node of enumNodes(ev, text)) nodes.push(node);
        if (gi !== undefined) {
          if (gi.tag !== undefined) nodes.push(f(MSRP.info_level, gi.tag));
          if (gi.entry !== undefined) nodes.push(...entryNodes(gi.entry, text));
        }
        if (total !== undefined) nodes.push(f(MSRP.total_entries, total));
        const resume = v.get('ResumeHandle');
        if (resume !== undefined) nodes.push(intParam(resume) !== undefined ? f(MSRP.resume_handle, intParam(resume)!) : f(DCERPC.referent_id, 0, undefined, undefined, undefined, 'ResumeHandle: NULL'));
        if (code !== undefined && name !== undefined) nodes.push(...statusNodes(code, name));
        return [...nodes, ...errorNode(decoded)];
      },
    };
  },

  complete(call, ctx) {
    const req = call.requestParsed;
    if (req?.op === undefined || req.decoded === undefined) {
      unknownOpCall(call, ctx, 'msgsvc');
      return;
    }
    transportFinding(call, 'msgsvc');
    const c = NAME_CLAUSES[call.opnum]!;
    const text = textOf(req);
    const rv = req.decoded.values;
    const resp = call.responseParsed;
    const sv = resp?.decoded?.values;
    const msgName = stringParam(rv.get('MsgName'));
    const server = stringParam(rv.get('ServerName'));
    const r = outcomeResult(call.outcome, resp, c.table);
    const details: Record<string, unknown> = { interface: 'msgsvc', outcome: call.outcome.kind, status: r.status, ...call.ids };
    if (server !== undefined) details.serverName = text(server);
    let level: number | undefined;
    let names: string[] | undefined;
    if (call.opnum === 1) {
      const reqView = enumView(rv.get('InfoStruct'));
      level = reqView.level;
      details.prefMaxLen = intParam(rv.get('PrefMaxLen'));
      const resumeIn = intParam(rv.get('ResumeHandle'));
      if (resumeIn !== undefined) details.resumeHandle = resumeIn;
      if (sv !== undefined) {
        const respView = enumView(sv.get('InfoStruct'));
        names = respView.entries.map((e) => (e.name !== undefined ? (resp !== undefined ? textOf(resp)(e.name) : '') : ''));
        if (respView.entriesRead !== undefined) details.entriesRead = respView.entriesRead;
        const total = intParam(sv.get('TotalEntries'));
        if (total !== undefined) details.totalEntries = total;
        const resumeOut = intParam(sv.get('ResumeHandle'));
        if (resumeOut !== undefined) details.resumeHandleOut = resumeOut;
      }
    } else if (call.opnum === 2) {
      level = intParam(rv.get('Level'));
      if (sv !== undefined && resp !== undefined) {
        const gi = infoView(sv.get('InfoStruct'));
        if (gi.entry?.name !== undefined) details.infoName = textOf(resp)(gi.entry.name);
        if (gi.entry?.forwardFlag !== undefined) details.forwardFlag = gi.entry.forwardFlag;
      }
    }
    if (r.error !== undefined && r.code === undefined) details.error = r.error;
    const event: NameEvent = {
      kind: 'name', ...baseEvent(call), protocol: 'msrp', findings: call.findings,
      operation: req.op.name,
      name: msgName !== undefined ? text(msgName) : '',
      level,
      names,
      result: r.code !== undefined && r.name !== undefined ? { code: r.code, name: r.name } : undefined,
      details,
    };
    ctx.emit(event);
  },
};
