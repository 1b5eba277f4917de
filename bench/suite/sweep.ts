/**
 * The tuning sweep: sftp-wire client against the embedded server, LARGE over requests in flight x
 * chunk size and SMALL over files in flight, at the sweep RTTs. Every point runs --sweep-reps times,
 * interleaved (each round runs every point once), and is reported as the median. Each run moves enough
 * data to take about --sweep-seconds at the rate expected of it (what the point measured before, or
 * at most what the point with half the window measured, scaled by the window), and is verified.
 * Charts: throughput against window, one line per chunk size, the spread of the runs as bars, and the
 * raw SSH channel as a dashed reference line.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataStore } from '../lib/data-store.js';
import { clearPath, verifyFile, verifyTree } from '../lib/dataset.js';
import type { Eta } from './eta.js';
import type { Direction, NodeJob } from '../contenders/jobs.js';
import type { BenchOptions } from './options.js';
import { formatBytes, formatNumber, median, mibPerSecond, perSecond, range, MiB } from '../lib/stats.js';
import { renderLineChart, type ChartSeries } from '../lib/svg-chart.js';
import { atRtt, startEmbeddedTargets, type RunningTarget, type TargetAtRtt } from './targets.js';
import { renderMarkdownTable, renderTable } from '../lib/text-table.js';
import { Worker } from './worker-pool.js';
import type { Log } from './suite.js';
import { SFTP_RECEIVE_WINDOW } from '../../src/advanced.js';
import { MAX_AUTO_RECEIVE_WINDOW } from '../../src/transport/ssh-channel.js';

/** ssh2's own channel receive window (fixed in ssh2): what the raw-channel reference runs with. */
export const SSH2_DEFAULT_WINDOW = 2 * MiB;

/** Why a line can read above the raw channel: one sentence for charts and table headers. */
export const REFERENCE_NOTE = `raw SSH channel = a reference, not a ceiling: sftp-wire's SSH receive window is ${formatBytes(SFTP_RECEIVE_WINDOW)}, grown with the round trip up to ${formatBytes(MAX_AUTO_RECEIVE_WINDOW)}, the raw channel keeps ssh2's ${formatBytes(SSH2_DEFAULT_WINDOW)}, so downloads can read above it`;

/** One sweep point: what is varied. */
export interface SweepSpec {
  workload: 'large' | 'small' | 'limit';
  direction: Direction;
  rttMs: number;
  requests?: number;
  chunkSize?: number;
  concurrency?: number;
}

/** One run of a point. */
export interface SweepSample extends SweepSpec {
  rep: number;
  bytes: number;
  files: number;
  seconds: number;
  mibPerSecond: number;
  filesPerSecond: number;
  error?: string;
}

/** A point over its runs: medians of the rates, their spread, and the first error if any run failed. */
export interface SweepPoint extends SweepSpec {
  runs: number;
  ok: number;
  /** Bytes and files of the last run (sizes follow the measured rate, so runs may differ). */
  bytes: number;
  files: number;
  seconds: number;
  mibPerSecond: number;
  filesPerSecond: number;
  /** Lowest and highest rate of the runs (MiB/s for LARGE and the limit, files/s for SMALL). */
  spread: [number, number];
  error?: string;
}

export interface SweepResult {
  points: SweepPoint[];
  samples: SweepSample[];
  /** Why the sweep did not run at all (the embedded server did not start). */
  skipped?: string;
}

export function specKey(s: SweepSpec): string {
  return `${s.rttMs}|${s.workload}|${s.direction}|${s.requests ?? ''}|${s.chunkSize ?? ''}|${s.concurrency ?? ''}`;
}

/** The points of one round, in run order: the raw-channel limits, LARGE by chunk then window, SMALL. */
export function sweepPlan(opts: BenchOptions): SweepSpec[] {
  const plan: SweepSpec[] = [];
  const requests = [...opts.sweepRequests].sort((a, b) => a - b);
  const concurrency = [...opts.sweepConcurrency].sort((a, b) => a - b);
  for (const rttMs of opts.sweepRtts) {
    if (opts.sweepWorkloads.includes('large')) {
      for (const direction of opts.directions) plan.push({ workload: 'limit', direction, rttMs });
      for (const direction of opts.directions) {
        for (const chunkSize of opts.sweepChunks)
          for (const r of requests) plan.push({ workload: 'large', direction, rttMs, requests: r, chunkSize });
      }
    }
    if (opts.sweepWorkloads.includes('small')) {
      for (const direction of opts.directions)
        for (const c of concurrency) plan.push({ workload: 'small', direction, rttMs, concurrency: c });
    }
  }
  return plan;
}

/** The point with the next smaller window in the same series (same RTT, direction, chunk), if any. */
export function predecessor(spec: SweepSpec, plan: readonly SweepSpec[]): SweepSpec | undefined {
  const same = plan.filter(
    (p) =>
      p.workload === spec.workload &&
      p.direction === spec.direction &&
      p.rttMs === spec.rttMs &&
      p.chunkSize === spec.chunkSize,
  );
  const width = (p: SweepSpec) => (p.workload === 'small' ? p.concurrency! : (p.requests ?? 0));
  return same.filter((p) => width(p) < width(spec)).sort((a, b) => width(b) - width(a))[0];
}

/**
 * The rate a point can expect (bytes/s for LARGE and the limit, files/s for SMALL): its own median so
 * far; else the window's rate over the RTT (LARGE: requests x chunk; SMALL: ~3 round trips per file
 * per lane), at most `cap` and at most the predecessor's measured rate scaled up by the window.
 */
export function expectedRate(
  spec: SweepSpec,
  hints: { own?: number; previous?: { rate: number; width: number } },
  caps = { bytes: 300 * MiB, files: 3000 },
): number {
  if (hints.own !== undefined && hints.own > 0 && Number.isFinite(hints.own)) return hints.own;
  const rtt = Math.max(spec.rttMs, 0.2) / 1000;
  const width = spec.workload === 'small' ? spec.concurrency! : (spec.requests ?? 0);
  let rate =
    spec.workload === 'small'
      ? Math.min(width / (3 * rtt), caps.files)
      : spec.workload === 'limit'
        ? caps.bytes
        : Math.min((width * spec.chunkSize!) / rtt, caps.bytes);
  const prev = hints.previous;
  if (prev && prev.rate > 0 && Number.isFinite(prev.rate) && prev.width > 0)
    rate = Math.min(rate, prev.rate * (width / prev.width));
  return rate;
}

/** Round a byte count up to 2^k or 1.5 x 2^k (few distinct files to generate, at most 1.5x over). */
export function roundUpSize(n: number): number {
  if (n <= 1) return 1;
  const p = 2 ** Math.ceil(Math.log2(n));
  return p * 0.75 >= n && Number.isInteger(p * 0.75) ? p * 0.75 : p;
}

/**
 * Bytes for one LARGE (or limit) run: about `seconds` at `rate` bytes/s, at least four windows and
 * 512 KiB (so ramp-up does not dominate), at most `maxSize`, rounded up (roundUpSize).
 */
export function largePointSize(rate: number, seconds: number, maxSize: number, window = 0): number {
  const want = Math.max(rate * seconds, 4 * window, 512 * 1024);
  return Math.max(1, Math.min(roundUpSize(Math.ceil(want)), maxSize));
}

const TREE_SIZES = [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** Files for one SMALL run: about `seconds` at `rate` files/s and at least one per lane, from a fixed set of counts. */
export function smallPointCount(rate: number, concurrency: number, seconds: number, maxFiles: number): number {
  const want = Math.max(Math.round(rate * seconds), concurrency);
  const pick = TREE_SIZES.find((n) => n >= want) ?? TREE_SIZES[TREE_SIZES.length - 1]!;
  return Math.max(1, Math.min(pick, maxFiles));
}

/** Medians per point over its runs, in plan order. */
export function summarizeSweep(samples: readonly SweepSample[], plan: readonly SweepSpec[]): SweepPoint[] {
  const out: SweepPoint[] = [];
  for (const spec of plan) {
    const runs = samples.filter((s) => specKey(s) === specKey(spec));
    if (runs.length === 0) continue;
    const ok = runs.filter((s) => !s.error);
    const rate = (s: SweepSample) => (spec.workload === 'small' ? s.filesPerSecond : s.mibPerSecond);
    const last = runs[runs.length - 1]!;
    out.push({
      ...spec,
      runs: runs.length,
      ok: ok.length,
      bytes: last.bytes,
      files: last.files,
      seconds: median(ok.map((s) => s.seconds)),
      mibPerSecond: median(ok.map((s) => s.mibPerSecond)),
      filesPerSecond: median(ok.map((s) => s.filesPerSecond)),
      spread: range(ok.map(rate)),
      ...(runs.find((s) => s.error) ? { error: runs.find((s) => s.error)!.error } : {}),
    });
  }
  return out;
}

function remote(view: TargetAtRtt, rel: string): string {
  return view.target.remoteBase ? `${view.target.remoteBase}/${rel}` : `/${rel}`;
}

/** Total runs of a sweep (for progress and the ETA). */
export function sweepRunCount(opts: BenchOptions): number {
  return opts.sweep ? sweepPlan(opts).length * opts.sweepReps : 0;
}

export async function runSweep(opts: BenchOptions, log: Log, eta?: Eta): Promise<SweepResult> {
  const samples: SweepSample[] = [];
  const plan = sweepPlan(opts);
  const workDir = mkdtempSync(join(tmpdir(), 'sftp-wire-sweep-'));
  let target: RunningTarget | null = null;
  let rawTarget: RunningTarget | null = null;
  let worker: Worker | null = null;
  try {
    try {
      ({ sftp: target, raw: rawTarget } = await startEmbeddedTargets(workDir));
    } catch (err) {
      const why = `embedded server did not start: ${(err as Error).message}`;
      log(`sweep skipped: ${why}`);
      return { points: [], samples, skipped: why };
    }
    const data = new DataStore(workDir, opts.seed, {
      files: opts.smallFiles,
      dirs: opts.smallDirs,
      size: opts.smallSize,
    });
    mkdirSync(join(workDir, 'dst'), { recursive: true });
    mkdirSync(join(workDir, 'dl'), { recursive: true });
    worker = new Worker('sweep');
    await worker.ready();
    const total = plan.length * opts.sweepReps;
    const rates = new Map<string, number[]>();
    const rateOf = (spec: SweepSpec) => {
      const r = rates.get(specKey(spec));
      return r && r.length ? median(r) : undefined;
    };
    let n = 0;
    let seq = 0;

    for (const rtt of opts.sweepRtts) {
      const view = await atRtt(target, rtt);
      const rawView = await atRtt(rawTarget!, rtt);
      try {
        for (let rep = 0; rep < opts.sweepReps; rep++) {
          for (const spec of plan.filter((p) => p.rttMs === rtt)) {
            const prevSpec = predecessor(spec, plan);
            const prevRate = prevSpec ? rateOf(prevSpec) : undefined;
            const width = (p: SweepSpec) => (p.workload === 'small' ? p.concurrency! : (p.requests ?? 0));
            const rate = expectedRate(spec, {
              own: rateOf(spec),
              ...(prevSpec && prevRate !== undefined ? { previous: { rate: prevRate, width: width(prevSpec) } } : {}),
            });
            const up = spec.direction === 'up';
            const tag = `sweep-${seq++}`;
            let job: NodeJob;
            let bytes = 0;
            let files = 0;
            let dest = '';
            let verify: () => Promise<void> = async () => undefined;
            if (spec.workload === 'limit') {
              bytes = largePointSize(rate, 2 * opts.sweepSeconds, opts.sweepMaxSize, SSH2_DEFAULT_WINDOW);
              job = {
                contender: 'limit-ssh2',
                workload: 'large',
                direction: spec.direction,
                endpoint: rawView.endpoint,
                localPath: '',
                remotePath: '',
                bytes,
              };
            } else if (spec.workload === 'large') {
              const src = data.large(
                largePointSize(rate, opts.sweepSeconds, opts.sweepMaxSize, spec.requests! * spec.chunkSize!),
              );
              bytes = src.size;
              files = 1;
              dest = up ? data.local(`dst/${tag}.bin`) : data.local(`dl/${tag}.bin`);
              job = {
                contender: 'sftp-wire',
                workload: 'large',
                direction: spec.direction,
                endpoint: view.endpoint,
                requests: spec.requests,
                chunkSize: spec.chunkSize,
                localPath: up ? data.local(src.rel) : dest,
                remotePath: up ? remote(view, `dst/${tag}.bin`) : remote(view, src.rel),
              };
              const d = dest;
              verify = () => verifyFile(d, src.sha256, src.size);
            } else {
              const tree = data.smallTree(smallPointCount(rate, spec.concurrency!, opts.sweepSeconds, opts.smallFiles));
              bytes = tree.bytes;
              files = tree.files.length;
              dest = up ? data.local(`dst/${tag}`) : data.local(`dl/${tag}`);
              job = {
                contender: 'sftp-wire',
                workload: 'small',
                direction: spec.direction,
                endpoint: view.endpoint,
                concurrency: spec.concurrency,
                localPath: up ? data.local(tree.rel) : dest,
                remotePath: up ? remote(view, `dst/${tag}`) : remote(view, tree.rel),
              };
              const d = dest;
              verify = async () => {
                verifyTree(d, tree.files);
              };
            }
            n++;
            let sample: SweepSample;
            try {
              const r = await worker.run(job);
              await verify();
              sample = {
                ...spec,
                rep,
                bytes,
                files,
                seconds: r.seconds,
                mibPerSecond: mibPerSecond(bytes, r.seconds),
                filesPerSecond: perSecond(files, r.seconds),
              };
              const measured = spec.workload === 'small' ? sample.filesPerSecond : bytes / r.seconds;
              if (Number.isFinite(measured) && measured > 0)
                rates.set(specKey(spec), [...(rates.get(specKey(spec)) ?? []), measured]);
            } catch (err) {
              sample = {
                ...spec,
                rep,
                bytes,
                files,
                seconds: NaN,
                mibPerSecond: NaN,
                filesPerSecond: NaN,
                error: (err as Error).message,
              };
            } finally {
              if (dest) clearPath(dest);
            }
            samples.push(sample);
            eta?.tick('sweep');
            const what =
              spec.workload === 'small'
                ? `${spec.concurrency} files in flight`
                : spec.workload === 'limit'
                  ? 'raw channel (reference)'
                  : `${spec.requests} x ${formatBytes(spec.chunkSize!)}`;
            const result = sample.error
              ? `FAILED: ${sample.error}`
              : spec.workload === 'small'
                ? `${formatNumber(sample.filesPerSecond)} files/s (${files} files)`
                : `${formatNumber(sample.mibPerSecond)} MiB/s (${formatBytes(bytes)})`;
            log(
              `sweep [${String(n).padStart(String(total).length)}/${total}] ${eta ? `${eta.label()} ` : ''}RTT ${rtt} ms rep ${rep + 1}/${opts.sweepReps} ${spec.workload.toUpperCase()} ${spec.direction} ${what}: ${result}`,
            );
          }
        }
      } finally {
        await view.proxy?.close();
        await rawView.proxy?.close();
      }
    }
  } finally {
    await worker?.stop();
    await target?.stop().catch(() => undefined);
    if (!opts.keep) rmSync(workDir, { recursive: true, force: true });
  }
  return { points: summarizeSweep(samples, plan), samples };
}

/** A table cell: the median, "fail" when every run failed, "(n/m ok)" appended when some did. */
function cell(p: SweepPoint | undefined, value: (p: SweepPoint) => number): string {
  if (!p) return '';
  if (p.ok === 0) return 'fail';
  return `${formatNumber(value(p))}${p.ok < p.runs ? ` (${p.ok}/${p.runs} ok)` : ''}`;
}

/**
 * The sweep as tables, for the terminal, table.txt and (markdown) table.md: LARGE MiB/s by chunk size
 * (rows) and requests in flight (columns), the raw channel as the reference; SMALL files/s by files
 * in flight. Each cell is the median of the point's runs.
 */
export function sweepTables(result: SweepResult, markdown = false): string {
  if (result.skipped) return `sweep skipped: ${result.skipped}\n`;
  const points = result.points;
  const out: string[] = [];
  const render = markdown ? renderMarkdownTable : renderTable;
  const title = (t: string) => out.push(markdown ? `**${t}**\n` : t);
  const reps = Math.max(0, ...points.map((p) => p.runs));
  for (const rtt of [...new Set(points.map((p) => p.rttMs))]) {
    for (const direction of ['up', 'down'] as const) {
      const large = points.filter((p) => p.rttMs === rtt && p.direction === direction && p.workload === 'large');
      if (large.length) {
        const reqs = [...new Set(large.map((p) => p.requests!))].sort((a, b) => a - b);
        const chunks = [...new Set(large.map((p) => p.chunkSize!))].sort((a, b) => a - b);
        const limit = points.find((p) => p.rttMs === rtt && p.direction === direction && p.workload === 'limit');
        title(
          `sweep: LARGE ${direction}, RTT ${rtt} ms, sftp-wire -> sftp-wire server, MiB/s, median of ${reps} (raw SSH channel: ${cell(limit, (p) => p.mibPerSecond) || '-'} MiB/s)`,
        );
        out.push(
          render(
            ['chunk \\ requests', ...reqs.map(String)],
            chunks.map((c) => [
              formatBytes(c),
              ...reqs.map((r) =>
                cell(
                  large.find((q) => q.chunkSize === c && q.requests === r),
                  (p) => p.mibPerSecond,
                ),
              ),
            ]),
          ),
        );
      }
    }
    const small = points.filter((p) => p.rttMs === rtt && p.workload === 'small');
    if (small.length) {
      const conc = [...new Set(small.map((p) => p.concurrency!))].sort((a, b) => a - b);
      title(
        `sweep: SMALL, RTT ${rtt} ms, sftp-wire -> sftp-wire server, files/s by files in flight, median of ${reps}`,
      );
      out.push(
        render(
          ['direction \\ files in flight', ...conc.map(String)],
          (['up', 'down'] as const)
            .filter((d) => small.some((p) => p.direction === d))
            .map((d) => [
              d,
              ...conc.map((c) =>
                cell(
                  small.find((q) => q.direction === d && q.concurrency === c),
                  (p) => p.filesPerSecond,
                ),
              ),
            ]),
        ),
      );
    }
  }
  if (points.some((p) => p.workload === 'limit')) out.push(`${markdown ? '' : 'note: '}${REFERENCE_NOTE}.\n`);
  const failed = points.filter((p) => p.error);
  if (failed.length) {
    out.push('sweep failures:');
    for (const p of failed)
      out.push(
        `${markdown ? '- ' : '  '}RTT ${p.rttMs} ms ${p.workload.toUpperCase()} ${p.direction} ${p.workload === 'small' ? `${p.concurrency} files in flight` : p.workload === 'limit' ? 'raw channel' : `${p.requests} x ${formatBytes(p.chunkSize!)}`}: ${p.error}`,
      );
    out.push('');
  }
  return out.join('\n');
}

/** SVG charts of the sweep: LARGE per RTT and direction (one line per chunk size), SMALL per RTT. */
export function sweepCharts(result: SweepResult): { name: string; svg: string }[] {
  const charts: { name: string; svg: string }[] = [];
  const pts = result.points.filter((p) => p.ok > 0);
  const reps = Math.max(0, ...result.points.map((p) => p.runs));
  for (const rtt of [...new Set(result.points.map((p) => p.rttMs))]) {
    for (const direction of ['up', 'down'] as const) {
      const large = pts.filter((p) => p.rttMs === rtt && p.direction === direction && p.workload === 'large');
      if (large.length === 0) continue;
      const chunks = [...new Set(large.map((p) => p.chunkSize!))].sort((a, b) => a - b);
      const series: ChartSeries[] = chunks.map((c) => ({
        name: `chunk ${formatBytes(c)}`,
        points: large
          .filter((p) => p.chunkSize === c)
          .map((p) => ({ x: p.requests!, y: p.mibPerSecond, lo: p.spread[0], hi: p.spread[1] })),
      }));
      const limit = pts.find((p) => p.rttMs === rtt && p.direction === direction && p.workload === 'limit');
      charts.push({
        name: `sweep-large-${direction}-rtt${rtt}.svg`,
        svg: renderLineChart({
          title: `LARGE ${direction}, RTT ${rtt} ms: sftp-wire -> sftp-wire server`,
          xLabel: 'requests in flight (window)',
          yLabel: `MiB/s (median of ${reps}; bars: lowest to highest)`,
          xScale: 'log2',
          series,
          ...(limit
            ? {
                reference: {
                  y: limit.mibPerSecond,
                  label: `raw SSH channel ${formatNumber(limit.mibPerSecond)} MiB/s (reference, not a ceiling)`,
                },
                note: REFERENCE_NOTE,
              }
            : {}),
        }),
      });
    }
    const small = pts.filter((p) => p.rttMs === rtt && p.workload === 'small');
    if (small.length) {
      charts.push({
        name: `sweep-small-rtt${rtt}.svg`,
        svg: renderLineChart({
          title: `SMALL (${formatBytes(small[0]!.bytes / Math.max(1, small[0]!.files))} files), RTT ${rtt} ms: sftp-wire -> sftp-wire server`,
          xLabel: 'files in flight',
          yLabel: `files/s (median of ${reps}; bars: lowest to highest)`,
          xScale: 'log2',
          series: (['up', 'down'] as const)
            .map((d) => ({
              name: d,
              points: small
                .filter((p) => p.direction === d)
                .map((p) => ({ x: p.concurrency!, y: p.filesPerSecond, lo: p.spread[0], hi: p.spread[1] })),
            }))
            .filter((s) => s.points.length > 0),
        }),
      });
    }
  }
  return charts;
}
