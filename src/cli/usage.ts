// What the user sees when the command line is wrong, and what shell completion offers. yargs'
// own messages span several lines ("Invalid values:\n  Argument: …") and name no alternatives;
// here each becomes one line that says what was wrong and what is accepted.
import { closest } from '../filter/suggest.js';

/** What an option accepts, for the messages: its names and, when it has them, its choices. */
export interface OptionInfo {
  readonly names: readonly string[];
  readonly choices?: readonly string[];
}

export interface UsageContext {
  /** The command being parsed (`read`), or undefined at the top level. */
  readonly command: string | undefined;
  readonly commands: readonly string[];
  readonly options: readonly OptionInfo[];
}

function flag(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

function optionNames(context: UsageContext): string[] {
  return [...new Set(context.options.flatMap((o) => o.names.map(flag)))];
}

function helpHint(context: UsageContext): string {
  return context.command === undefined ? 'msgscope --help' : `msgscope ${context.command} --help`;
}

/** "Argument: format, Given: "x", Choices: "a", "b"" → one sentence. */
function invalidValue(line: string, context: UsageContext): string | undefined {
  const m = /Argument: ([^,]+), Given: (.*), Choices: (.*)$/.exec(line.trim());
  if (m === null) return undefined;
  const [, name, given, choices] = m;
  const accepted = choices!.split(/,\s*/).map((c) => c.replace(/^"|"$/g, '')).join(', ');
  const option = context.options.find((o) => o.names.includes(name!));
  const names = option !== undefined ? option.names.map(flag).join('/') : flag(name!);
  return `invalid value ${given} for ${names}; accepted: ${accepted}`;
}

function unknownArguments(list: string, context: UsageContext): string {
  const names = list.split(/,\s*/).filter((n) => n !== '');
  // At the top level, a bare word is a command name that does not exist.
  const word = context.command === undefined ? names.find((n) => !n.startsWith('-') && n.length > 1) : undefined;
  if (word !== undefined) return `unknown command '${word}'; commands: ${context.commands.join(', ')}`;
  const known = optionNames(context);
  const parts = names.map((name) => {
    if (name.length === 1) {
      const letters = known.filter((k) => /^-[^-]$/.test(k));
      return `unknown option -${name}; one-letter options: ${letters.join(' ')}`;
    }
    const shown = name.startsWith('-') ? name : `--${name}`;
    const guess = closest(shown, known.filter((k) => k.startsWith('--')));
    return `unknown option ${shown}${guess !== undefined ? ` (did you mean ${guess}?)` : ''}`;
  });
  return `${parts.join('; ')} — ${helpHint(context)} lists the options`;
}

/** yargs' message (possibly several lines) as one line naming what was wrong and what is accepted. */
export function usageMessage(message: string, context: UsageContext): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const first = lines[0] ?? 'invalid arguments';
  if (/^Invalid values?:/.test(first)) {
    const parts = lines.slice(1).map((l) => invalidValue(l, context)).filter((p): p is string => p !== undefined);
    if (parts.length > 0) return parts.join('; ');
  }
  const unknown = /^Unknown arguments?: (.*)$/.exec(first);
  if (unknown !== null) return unknownArguments(unknown[1]!, context);
  const following = /^Not enough arguments following: (.*)$/.exec(first);
  if (following !== null) {
    const option = context.options.find((o) => o.names.includes(following[1]!));
    const choices = option?.choices !== undefined ? ` (one of ${option.choices.join(', ')})` : '';
    return `${flag(following[1]!)} needs a value${choices}`;
  }
  const missing = /^Missing required arguments?: (.*)$/.exec(first);
  if (missing !== null) return `missing ${missing[1]!.split(/,\s*/).map(flag).join(', ')} — see ${helpHint(context)}`;
  if (/^Not enough non-option arguments/.test(first)) return `${context.command ?? 'this command'} needs more arguments — see ${helpHint(context)}`;
  if (/^Too many non-option arguments/.test(first)) return `${context.command ?? 'msgscope'} takes fewer arguments — see ${helpHint(context)}`;
  return lines.join(' ');
}

/**
 * Completion candidates cleaned of yargs' habit of offering one-letter aliases as `--q`: a
 * one-letter name is offered as `-q` (and only when the word typed so far allows it).
 */
export function cleanCompletions(candidates: readonly string[], current: string): string[] {
  const out: string[] = [];
  for (const c of candidates) {
    const short = /^--([^-:])(:.*)?$/.exec(c);
    const item = short !== null ? `-${short[1]}${short[2] ?? ''}` : c;
    if (current.startsWith('--') && !item.startsWith('--')) continue;
    if (!out.includes(item)) out.push(item);
  }
  return out;
}
