// Runs `verify` in process: the verdicts of the rules selected on some captures, as the JSON
// contract gives them.
import { DEFAULT_OPTIONS } from '../src/engine/context.js';
import { applyBaseline, parseBaseline } from '../src/analysis/verify/baseline.js';
import { verifyReport } from '../src/analysis/verify/report.js';
import type { VerifyJson } from '../src/analysis/verify/result.js';
import { judgedRules, selectRules, type Rule } from '../src/analysis/verify/rules.js';
import { VerifyAnalysis, type VerifyOutcome } from '../src/analysis/verify/verify.js';
import { defaultProtocols } from '../src/protocols/index.js';
import { CATALOGUE } from '../src/protocols/catalogue.js';
import { Runner } from '../src/runner/runner.js';
import { fileSource } from '../src/runner/sources.js';

export function rulesNamed(selectors: readonly string[]): Rule[] {
  const all = judgedRules(CATALOGUE);
  const set = new Set(selectors.flatMap((s) => selectRules(s, all, CATALOGUE)));
  return all.filter((r) => set.has(r));
}

export async function verifyOutcome(paths: string | readonly string[], selectors: readonly string[]): Promise<VerifyOutcome> {
  let outcome: VerifyOutcome | undefined;
  const analysis = new VerifyAnalysis(rulesNamed(selectors), CATALOGUE, (o) => {
    outcome = o;
  });
  const runner = new Runner([analysis], { engine: DEFAULT_OPTIONS, protocols: defaultProtocols, progress: false, quiet: true });
  await runner.run((typeof paths === 'string' ? [paths] : paths).map(fileSource));
  return outcome!;
}

/** The JSON contract of a run, with a baseline's text applied when given. */
export async function verifyJson(paths: string | readonly string[], selectors: readonly string[], baseline?: string): Promise<VerifyJson> {
  const outcome = await verifyOutcome(paths, selectors);
  const parsed = baseline !== undefined ? parseBaseline(baseline, 'baseline', judgedRules(CATALOGUE), CATALOGUE) : undefined;
  const applied = parsed !== undefined ? applyBaseline(parsed, outcome.verdicts) : null;
  return verifyReport(outcome, applied, parsed?.warnings ?? []).json;
}
