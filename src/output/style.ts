// Colour for people at a terminal (chalk), nothing for pipes and files.
import { Chalk, type ChalkInstance } from 'chalk';
import type { Severity } from '../model/findings.js';
import type { MessageStatus } from '../model/events.js';

export interface Style {
  /** True when every method returns its text unchanged (no colour): outputs may then skip them. */
  readonly plain?: boolean;
  protocol(text: string, protocol: string): string;
  heading(text: string): string;
  severity(severity: Severity): string;
  dim(text: string): string;
  bold(text: string): string;
  /** Text coloured by the severity of what it describes (a frame's info, an event line). */
  tint(text: string, severity: Severity | undefined): string;
  /** A message's status tag: green delivered, red failed or bounced, yellow unanswered. */
  status(text: string, status: MessageStatus): string;
}

const PROTOCOL_COLOURS: Record<string, (c: ChalkInstance) => ChalkInstance> = {
  MSNP: (c) => c.cyan,
  MSNMS: (c) => c.cyan,
  SMB: (c) => c.yellow,
  MAILSLOT: (c) => c.yellow,
  NBSS: (c) => c.green,
  NBNS: (c) => c.green,
  NBDGM: (c) => c.green,
  DCERPC: (c) => c.magenta,
  MSRP: (c) => c.magenta,
  MESSENGER: (c) => c.magenta,
};

export function makeStyle(colour: boolean): Style {
  const c = new Chalk({ level: colour ? 1 : 0 });
  return {
    plain: !colour,
    protocol: (text, protocol) => (colour ? (PROTOCOL_COLOURS[protocol.toUpperCase()]?.(c) ?? c.reset)(text) : text),
    heading: (text) => c.bold(text),
    severity: (severity) => (severity === 'error' ? c.red.bold('[error]') : severity === 'warning' ? c.yellow('[warning]') : c.blue('[note]')),
    dim: (text) => c.dim(text),
    bold: (text) => c.bold(text),
    tint: (text, severity) => (severity === 'error' ? c.red(text) : severity === 'warning' ? c.yellow(text) : text),
    status: (text, status) => (status === 'ok' ? c.green(text) : status === 'error' ? c.red.bold(text) : status === 'no-response' ? c.yellow(text) : c.dim(text)),
  };
}

/** Colour when asked, or by default when stdout is a terminal and NO_COLOR is unset. */
export function wantColour(flag: boolean | undefined): boolean {
  if (flag !== undefined) return flag;
  return process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
}
