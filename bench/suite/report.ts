/**
 * Turns samples into results: medians per contender and case, rates, peak RSS, the fraction of the
 * raw-channel limit, and how each contender compares with sftp-wire and with every other contender.
 * Renders the terminal table and its markdown twin.
 */
import { CONTENDERS, FALLBACK_REFERENCE_ID, REFERENCE_ID, limitFor } from '../contenders/index.js';
import { isTreeWorkload, type Direction, type Workload } from '../contenders/jobs.js';
import type { Sample, Skipped } from './suite.js';
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatNumber,
  formatRatio,
  median,
  mibPerSecond,
  perSecond,
  range,
  ratio,
} from '../lib/stats.js';
import { renderMarkdownTable, renderTable } from '../lib/text-table.js';

export interface SummaryRow {
  contender: string;
  label: string;
  workload: Workload;
  direction: Direction;
  rttMs: number;
  runs: number;
  ok: number;
  bytes: number;
  files: number;
  entries?: number;
  medianSeconds: number;
  minSeconds: number;
  maxSeconds: number;
  mibPerSecond: number;
  filesPerSecond: number;
  firstEntrySeconds?: number;
  peakRssBytes?: number;
  /** LARGE: median rate / the raw-channel limit's median rate (same server, RTT, direction). */
  fractionOfLimit?: number;
  /** How many times faster sftp-wire (against OpenSSH's server) is than this row; LIST compares whole-listing time. */
  sftpWireSpeedup?: number;
  /** The row sftpWireSpeedup was taken against: REFERENCE_ID, or FALLBACK_REFERENCE_ID when that one has no result. */
  speedupAgainst?: string;
  errors: string[];
}

/** Speed of a row for comparisons: MiB/s for LARGE, files/s for SMALL, 1/time for LIST. */
export function speedOf(r: SummaryRow): number {
  if (r.workload === 'large') return r.mibPerSecond;
  if (isTreeWorkload(r.workload)) return r.filesPerSecond;
  return r.medianSeconds > 0 ? 1 / r.medianSeconds : NaN;
}

function label(id: string): string {
  return CONTENDERS.find((c) => c.id === id)?.label ?? id;
}

export function caseKey(s: { rttMs: number; workload: Workload; direction: Direction }): string {
  return `rtt${s.rttMs}-${s.workload}${s.workload === 'list' ? '' : `-${s.direction}`}`;
}

/** Medians and ratios per contender and case, in first-seen order. */
export function summarize(samples: readonly Sample[]): SummaryRow[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const k = `${caseKey(s)}|${s.contender}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(s);
  }
  const rows: SummaryRow[] = [];
  for (const group of groups.values()) {
    const s0 = group[0]!;
    const ok = group.filter((s) => !s.error && Number.isFinite(s.seconds));
    const secs = ok.map((s) => s.seconds);
    const med = median(secs);
    const [lo, hi] = range(secs);
    const rss = ok.map((s) => s.maxRssBytes).filter((x): x is number => typeof x === 'number');
    const firsts = ok.map((s) => s.firstEntrySeconds).filter((x): x is number => typeof x === 'number');
    rows.push({
      contender: s0.contender,
      label: label(s0.contender),
      workload: s0.workload,
      direction: s0.direction,
      rttMs: s0.rttMs,
      runs: group.length,
      ok: ok.length,
      bytes: s0.bytes,
      files: s0.files,
      entries: s0.entries,
      medianSeconds: med,
      minSeconds: lo,
      maxSeconds: hi,
      mibPerSecond: mibPerSecond(s0.bytes, med),
      filesPerSecond: isTreeWorkload(s0.workload) ? perSecond(s0.files, med) : NaN,
      firstEntrySeconds: firsts.length ? median(firsts) : undefined,
      peakRssBytes: rss.length ? Math.max(...rss) : undefined,
      errors: [...new Set(group.filter((s) => s.error).map((s) => s.error!))],
    });
  }
  const find = (like: SummaryRow, id: string) => rows.find((r) => r.contender === id && caseKey(r) === caseKey(like));
  for (const r of rows) {
    const def = CONTENDERS.find((c) => c.id === r.contender);
    if (r.workload === 'large' && def && !def.isLimit) {
      const lim = find(r, limitFor(def));
      if (lim) r.fractionOfLimit = ratio(r.mibPerSecond, lim.mibPerSecond);
    }
    if (r.contender !== REFERENCE_ID && !def?.isLimit) {
      let ref = find(r, REFERENCE_ID);
      if (!ref || ref.ok === 0)
        ref = r.contender === FALLBACK_REFERENCE_ID ? undefined : find(r, FALLBACK_REFERENCE_ID);
      if (ref && ref.ok > 0) {
        r.sftpWireSpeedup = ratio(speedOf(ref), speedOf(r));
        r.speedupAgainst = ref.contender;
      }
    }
  }
  return rows;
}

/** For each case: speed of row a / speed of row b, for every pair (the "ratio to each contender"). */
export function ratioMatrix(rows: readonly SummaryRow[]): Record<string, Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, Record<string, number>>> = {};
  for (const a of rows) {
    const k = caseKey(a);
    out[k] ??= {};
    out[k][a.contender] = {};
    for (const b of rows)
      if (caseKey(b) === k && b !== a) out[k][a.contender]![b.contender] = ratio(speedOf(a), speedOf(b));
  }
  return out;
}

const HEADERS = [
  'case',
  'id',
  'contender',
  'runs',
  'size',
  'time',
  'MiB/s',
  'files/s',
  'first entry',
  'peak RSS',
  'of limit',
  'sftp-wire x',
];

function caseLabel(r: SummaryRow): string {
  return r.workload === 'list' ? 'LIST' : `${r.workload.toUpperCase()} ${r.direction}`;
}

function sizeLabel(r: SummaryRow): string {
  if (r.workload === 'large') return formatBytes(r.bytes);
  if (isTreeWorkload(r.workload)) return `${r.files} files`;
  return `${formatCount(r.entries ?? NaN)} entries`;
}

function cells(r: SummaryRow, first: boolean): string[] {
  return [
    first ? caseLabel(r) : '',
    r.contender,
    r.label,
    `${r.ok}/${r.runs}`,
    sizeLabel(r),
    formatDuration(r.medianSeconds),
    r.workload === 'list' ? '' : formatNumber(r.mibPerSecond),
    isTreeWorkload(r.workload) ? formatNumber(r.filesPerSecond) : '',
    r.firstEntrySeconds !== undefined ? formatDuration(r.firstEntrySeconds) : '',
    r.peakRssBytes !== undefined ? formatBytes(Math.round(r.peakRssBytes / 1024 / 1024) * 1024 * 1024) : '-',
    r.fractionOfLimit !== undefined ? formatRatio(r.fractionOfLimit, 'percent') : '',
    r.sftpWireSpeedup !== undefined
      ? `${formatRatio(r.sftpWireSpeedup)}${r.speedupAgainst === REFERENCE_ID ? '' : '*'}`
      : '',
  ];
}

function tableRows(
  rows: readonly SummaryRow[],
  rtt: number,
  skipped: readonly Skipped[],
  workloads: readonly { workload: Workload; direction: Direction }[],
): string[][] {
  const out: string[][] = [];
  for (const cs of workloads) {
    const group = rows.filter((r) => r.rttMs === rtt && r.workload === cs.workload && r.direction === cs.direction);
    const skippedHere = skipped.filter((s) =>
      CONTENDERS.find((c) => c.id === s.contender)?.workloads.includes(cs.workload),
    );
    if (group.length === 0 && skippedHere.length === 0) continue;
    group.forEach((r, i) => out.push(cells(r, i === 0)));
    for (const s of skippedHere)
      out.push([
        group.length === 0 && s === skippedHere[0]
          ? caseLabel({ workload: cs.workload, direction: cs.direction } as SummaryRow)
          : '',
        s.contender,
        s.label,
        'skipped',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ]);
  }
  return out;
}

export interface RenderInput {
  rows: SummaryRow[];
  skipped: Skipped[];
  rtts: number[];
  cases: { workload: Workload; direction: Direction }[];
}

/** The terminal table: one block per RTT, then skipped contenders and failures. */
export function renderSummary(input: RenderInput, markdown = false): string {
  const parts: string[] = [];
  const render = markdown ? renderMarkdownTable : renderTable;
  for (const rtt of input.rtts) {
    const rows = tableRows(input.rows, rtt, input.skipped, input.cases);
    if (rows.length === 0) continue;
    parts.push(
      markdown
        ? `**RTT ${rtt} ms**${rtt === 0 ? ' (loopback, direct)' : ' (latency proxy)'}\n`
        : `RTT ${rtt} ms${rtt === 0 ? ' (loopback, direct)' : ' (latency proxy)'}`,
    );
    parts.push(render(HEADERS, rows, { align: ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] }));
  }
  if (input.skipped.length) {
    // One line per reason: a machine without OpenSSH skips most rows for the same one.
    const byReason = new Map<string, string[]>();
    for (const s of input.skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.contender]);
    parts.push('skipped:');
    for (const [reason, ids] of byReason) parts.push(`${markdown ? '- ' : '  '}${ids.join(', ')}: ${reason}`);
    parts.push('');
  }
  const failed = input.rows.filter((r) => r.errors.length);
  if (failed.length) {
    parts.push('failures:');
    for (const r of failed)
      for (const e of r.errors)
        parts.push(`${markdown ? '- ' : '  '}RTT ${r.rttMs} ms ${caseLabel(r)} ${r.contender} (${r.label}): ${e}`);
    parts.push('');
  }
  return parts.join('\n');
}

/** Round numbers in JSON output: NaN/Infinity become null. */
export function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
  );
}
