/**
 * Whether a bench run did its job, as the reasons it did not (empty: exit 0). A run fails when a row
 * that needs only Node (sftp-wire's embedded server, the ssh2 raw channel) did not run, when it
 * selected sftp-wire rows and none of them produced a result, when any run failed its transfer or
 * verification, and when the sweep did not run or had a failed point. OpenSSH rows skipped because
 * OpenSSH is not installed are not a failure: the table lists them with what to install.
 */
import { CONTENDERS, isSftpWireRow, needsOnlyNode, type ContenderDef } from '../contenders/index.js';
import type { SummaryRow } from './report.js';
import type { Skipped } from './suite.js';
import type { SweepResult } from './sweep.js';

export interface VerdictInput {
  selected: readonly ContenderDef[];
  rows: readonly SummaryRow[];
  skipped: readonly Skipped[];
  sweep: SweepResult | null;
}

export function runProblems(input: VerdictInput): string[] {
  const problems: string[] = [];
  const def = (id: string) => CONTENDERS.find((c) => c.id === id);
  for (const s of input.skipped) {
    const c = def(s.contender);
    if (c && needsOnlyNode(c)) problems.push(`${s.contender} (${s.label}) did not run: ${s.reason}`);
  }
  const ours = input.selected.filter(isSftpWireRow);
  if (ours.length > 0 && !input.rows.some((r) => ours.some((c) => c.id === r.contender) && r.ok > 0)) {
    const why = input.skipped
      .filter((s) => ours.some((c) => c.id === s.contender))
      .map((s) => `${s.contender}: ${s.reason}`);
    problems.push(`no sftp-wire row produced a result${why.length ? ` (${why.join('; ')})` : ''}`);
  }
  const failed = input.rows.filter((r) => r.errors.length > 0);
  if (failed.length)
    problems.push(
      `${failed.length} row(s) had failed runs: ${[...new Set(failed.map((r) => r.contender))].join(', ')} (see "failures" in the table)`,
    );
  if (input.sweep?.skipped) problems.push(`the sweep did not run: ${input.sweep.skipped}`);
  const badPoints = input.sweep?.points.filter((p) => p.error) ?? [];
  if (badPoints.length) problems.push(`${badPoints.length} sweep point(s) had failed runs (see "sweep failures")`);
  return problems;
}
