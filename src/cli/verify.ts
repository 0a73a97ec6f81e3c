// `msgscope verify`: conformance verdicts per rule and spec clause, for people (text) and CI
// (JSON, JUnit XML, SARIF), with baselines of accepted deviations. Exit status: 0 no unaccepted
// failure, 1 at least one, 2 usage or input error.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { applyBaseline, BaselineError, parseBaseline, writeBaseline, type Baseline } from '../analysis/verify/baseline.js';
import { verifyReport } from '../analysis/verify/report.js';
import { NOTICE, type BaselineJson } from '../analysis/verify/result.js';
import { defaultRules, isSeverity, judgedRules, selectRules, severityRank, type Rule } from '../analysis/verify/rules.js';
import { VerifyAnalysis, type VerifyOutcome } from '../analysis/verify/verify.js';
import type { Severity } from '../model/findings.js';
import { VERIFY_FORMATS, VERIFY_SINKS, type VerifyFormat } from '../output/sinks/index.js';
import { Output } from '../output/writer.js';
import { CATALOGUE } from '../protocols/catalogue.js';
import { captureList, fileSources, makeRunner, protocolsOff, sinkSettings, UsageError, warn, withCaptureOptions, withCommonOptions, type CaptureArgs, type CommonArgs } from './common.js';

export interface VerifyArgs extends CommonArgs, CaptureArgs {
  format: VerifyFormat;
  rules?: string | string[];
  severity: string;
  baseline?: string;
  'write-baseline'?: string;
  'fail-on-stale': boolean;
}

export function verifyBuilder(y: Argv) {
  return withCommonOptions(withCaptureOptions(y), VERIFY_FORMATS)
    // Not an array option: yargs arrays would swallow the capture names that follow; repeat it or use commas.
    .option('rules', { type: 'string', describe: 'Rules to judge: a protocol (smb), an id or glob (smb.msg.*), a clause ("MS-MSRP 2.2.3"), or all; repeat or separate with commas (default: the protocols above TCP and UDP)' })
    .option('severity', { type: 'string', choices: ['note', 'warning', 'error'], default: 'note', describe: 'Judge only rules whose finding can reach this severity' })
    .option('baseline', { type: 'string', describe: 'Accepted deviations (docs/verify.md): a failure a line covers is accepted, a line whose rule now passes is reported stale' })
    .option('write-baseline', { type: 'string', describe: 'Write the current failures to this file as a starting baseline (they then count as accepted)' })
    .option('fail-on-stale', { type: 'boolean', default: false, describe: 'Exit 1 when a baseline entry is stale (its rule passes now), as Samba\'s knownfail does' })
    .example('$0 verify samples/messenger-mix.pcapng', 'verdicts per rule and clause, failures first')
    .example('$0 verify --rules smb --rules "MS-MSRP 3.2.4.4" samples/messenger-mix.pcapng', 'only these rules')
    .example('$0 verify --baseline docs/examples/samba.baseline --format junit samples/messenger-mix.pcapng > verify.xml', 'for CI: accepted deviations do not fail the job')
    .example('$0 verify --format sarif samples/messenger-mix.pcapng > verify.sarif', 'for code-scanning dashboards')
    .epilogue(`Exit status: 0 no unaccepted failure, 1 at least one (or a stale baseline entry with --fail-on-stale), 2 usage or input error. ${NOTICE} Docs: docs/verify.md.`);
}

/** The rules --rules and --severity select; a selector that names nothing is a usage error. */
export function chooseRules(all: readonly Rule[], selectors: readonly string[], floor: Severity): Rule[] {
  let chosen: Rule[];
  if (selectors.length === 0) chosen = defaultRules(all);
  else {
    const set = new Set<Rule>();
    for (const s of selectors) {
      const found = selectRules(s, all, CATALOGUE);
      if (found.length === 0) {
        throw new UsageError(`--rules '${s}' names no rule (a protocol such as ${CATALOGUE.protocols().slice(0, 4).join(', ')}…, an id or glob such as smb.msg.*, a clause such as "MS-MSRP 2.2.3", or all)`);
      }
      for (const r of found) set.add(r);
    }
    chosen = all.filter((r) => set.has(r));
  }
  const kept = chosen.filter((r) => severityRank(r.severity) >= severityRank(floor));
  if (kept.length === 0) throw new UsageError(`no rule selected by --rules reaches --severity ${floor}`);
  return kept;
}

function selectors(value: string | string[] | undefined): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

function loadBaseline(path: string, all: readonly Rule[]): Baseline {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--baseline ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`}`);
  }
  try {
    return parseBaseline(text, path, all, CATALOGUE);
  } catch (err) {
    if (err instanceof BaselineError) throw new UsageError(`--baseline ${path}: ${err.message}`);
    throw err;
  }
}

export async function verifyCommand(args: VerifyArgs): Promise<void> {
  const floor = args.severity;
  if (!isSeverity(floor)) throw new UsageError(`--severity must be note, warning or error, not '${floor}'`);
  const all = judgedRules(CATALOGUE);
  const rules = chooseRules(all, selectors(args.rules), floor);
  const baseline = args.baseline !== undefined ? loadBaseline(args.baseline, all) : undefined;
  // A protocol switched off leaves its rules nothing to judge, as if it never appeared: the verdicts must say why.
  const off = [...protocolsOff(args)];
  const warnings = [...(baseline?.warnings ?? []), ...(off.length > 0 ? [`not dissected (--disable-protocol): ${off.join(', ')}; rules of what they carry had nothing to judge`] : [])];
  for (const w of warnings) warn(args, w);
  const out = new Output();
  const sink = VERIFY_SINKS[args.format](sinkSettings(out, args));
  let unaccepted = 0;
  let stale = 0;
  const done = async (outcome: VerifyOutcome): Promise<void> => {
    const applied: BaselineJson | null = baseline !== undefined ? applyBaseline(baseline, outcome.verdicts) : null;
    if (args['write-baseline'] !== undefined) {
      try {
        writeFileSync(args['write-baseline'], writeBaseline(outcome.verdicts, outcome.captures, new Date()));
      } catch (err) {
        throw new UsageError(`--write-baseline ${args['write-baseline']}: cannot write (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    }
    const report = verifyReport(outcome, applied, warnings);
    await sink.write(report);
    for (const w of outcome.warnings) warn(args, w);
    unaccepted = args['write-baseline'] !== undefined ? 0 : report.json.totals.unaccepted;
    stale = applied?.stale.length ?? 0;
    if (stale > 0) warn(args, `${stale} stale baseline entr${stale === 1 ? 'y' : 'ies'} (the rule passes now): remove ${stale === 1 ? 'it' : 'them'} from ${applied!.file}`);
  };
  const runner = makeRunner([new VerifyAnalysis(rules, CATALOGUE, done)], args);
  try {
    await runner.run(fileSources(captureList(args, 'verify')));
  } finally {
    await out.close();
  }
  if (unaccepted > 0 || (args['fail-on-stale'] && stale > 0)) process.exitCode = 1;
}
