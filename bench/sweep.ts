/**
 * The tuning sweep: sftp-wire client against the embedded server, LARGE over requests in flight x
 * chunk size and SMALL over files in flight, at the sweep RTTs. Each point moves enough data to take
 * about --sweep-seconds at its expected rate, and is verified. Charts: throughput against window, one
 * line per chunk size, with the raw-channel limit as a dashed line.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataStore } from './data-store.js';
import { clearPath, verifyFile, verifyTree } from './dataset.js';
import type { Direction, NodeJob } from './jobs.js';
import type { BenchOptions } from './options.js';
import { formatBytes, formatNumber, mibPerSecond, perSecond, MiB } from './stats.js';
import { renderLineChart, type ChartSeries } from './svg-chart.js';
import { atRtt, startEmbeddedTargets, type RunningTarget, type TargetAtRtt } from './targets.js';
import { renderTable } from './text-table.js';
import { Worker } from './worker-pool.js';
import type { Log } from './suite.js';

export interface SweepPoint {
  workload: 'large' | 'small' | 'limit';
  direction: Direction;
  rttMs: number;
  requests?: number;
  chunkSize?: number;
  concurrency?: number;
  bytes: number;
  files: number;
  seconds: number;
  mibPerSecond: number;
  filesPerSecond: number;
  error?: string;
}

export interface SweepResult {
  points: SweepPoint[];
  summary: string;
}

const TREE_SIZES = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** Bytes for a LARGE point: about `seconds` at the rate the window allows, within [4 MiB, max]. */
export function largePointSize(requests: number, chunk: number, rttMs: number, seconds: number, maxSize: number, capMiBps = 300): number {
  const rtt = Math.max(rttMs, 0.2) / 1000;
  const rate = Math.min((requests * chunk) / rtt, capMiBps * MiB);
  const bytes = Math.ceil((rate * seconds) / MiB) * MiB;
  return Math.max(Math.min(4 * MiB, maxSize), Math.min(bytes, maxSize));
}

/** Files for a SMALL point: about `seconds` at ~3 round trips per file per lane, from a fixed set of sizes. */
export function smallPointCount(concurrency: number, rttMs: number, seconds: number, maxFiles: number, capFilesPerSecond = 3000): number {
  const rtt = Math.max(rttMs, 0.2) / 1000;
  const rate = Math.min(concurrency / (3 * rtt), capFilesPerSecond);
  const want = Math.round(rate * seconds);
  const pick = TREE_SIZES.find((n) => n >= want) ?? TREE_SIZES[TREE_SIZES.length - 1]!;
  return Math.max(1, Math.min(pick, maxFiles));
}

function remote(view: TargetAtRtt, rel: string): string {
  return view.target.remoteBase ? `${view.target.remoteBase}/${rel}` : `/${rel}`;
}

export async function runSweep(opts: BenchOptions, log: Log): Promise<SweepResult> {
  const points: SweepPoint[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'sftp-wire-sweep-'));
  let target: RunningTarget | null = null;
  let rawTarget: RunningTarget | null = null;
  let worker: Worker | null = null;
  try {
    try {
      ({ sftp: target, raw: rawTarget } = await startEmbeddedTargets(workDir));
    } catch (err) {
      log(`sweep skipped: embedded server did not start: ${(err as Error).message}`);
      return { points, summary: `sweep skipped: embedded server did not start: ${(err as Error).message}\n` };
    }
    const data = new DataStore(workDir, opts.seed, { files: opts.smallFiles, dirs: opts.smallDirs, size: opts.smallSize });
    mkdirSync(join(workDir, 'dst'), { recursive: true });
    mkdirSync(join(workDir, 'dl'), { recursive: true });
    worker = new Worker('sweep');
    await worker.ready();
    const directions = opts.directions;
    const largeTotal = opts.sweepWorkloads.includes('large') ? opts.sweepRequests.length * opts.sweepChunks.length * directions.length : 0;
    const smallTotal = opts.sweepWorkloads.includes('small') ? opts.sweepConcurrency.length * directions.length : 0;
    const total = (largeTotal + smallTotal + (largeTotal ? directions.length : 0)) * opts.sweepRtts.length;
    let n = 0;
    let seq = 0;

    for (const rtt of opts.sweepRtts) {
      const view = await atRtt(target, rtt);
      const rawView = await atRtt(rawTarget!, rtt);
      try {
        const run = async (p: Omit<SweepPoint, 'seconds' | 'mibPerSecond' | 'filesPerSecond'>, job: NodeJob, verify: () => Promise<void>, dest: string) => {
          n++;
          let point: SweepPoint;
          try {
            const r = await worker!.run(job);
            await verify();
            point = { ...p, seconds: r.seconds, mibPerSecond: mibPerSecond(p.bytes, r.seconds), filesPerSecond: perSecond(p.files, r.seconds) };
          } catch (err) {
            point = { ...p, seconds: NaN, mibPerSecond: NaN, filesPerSecond: NaN, error: (err as Error).message };
          } finally {
            if (dest) clearPath(dest);
          }
          points.push(point);
          const what = p.workload === 'small' ? `${p.concurrency} files in flight` : p.workload === 'limit' ? 'raw channel limit' : `${p.requests} x ${formatBytes(p.chunkSize!)}`;
          const result = point.error ? `FAILED: ${point.error}` : p.workload === 'small' ? `${formatNumber(point.filesPerSecond)} files/s` : `${formatNumber(point.mibPerSecond)} MiB/s`;
          log(`sweep [${n}/${total}] RTT ${rtt} ms ${p.workload.toUpperCase()} ${p.direction} ${what}: ${result}`);
        };

        if (opts.sweepWorkloads.includes('large')) {
          for (const direction of directions) {
            const bytes = Math.min(opts.sweepMaxSize, Math.max(...opts.sweepChunks) * 64 * 4);
            await run({ workload: 'limit', direction, rttMs: rtt, bytes, files: 0 },
              { kind: 'raw', workload: 'large', direction, endpoint: rawView.endpoint, localPath: '', remotePath: '', bytes }, async () => undefined, '');
          }
          for (const direction of directions) {
            for (const chunkSize of opts.sweepChunks) {
              for (const requests of opts.sweepRequests) {
                const src = data.large(largePointSize(requests, chunkSize, rtt, opts.sweepSeconds, opts.sweepMaxSize));
                const tag = `sweep-${seq++}`;
                const up = direction === 'up';
                const dest = up ? data.local(`dst/${tag}.bin`) : data.local(`dl/${tag}.bin`);
                await run({ workload: 'large', direction, rttMs: rtt, requests, chunkSize, bytes: src.size, files: 1 }, {
                  kind: 'sftp-wire', workload: 'large', direction, endpoint: view.endpoint, requests, chunkSize,
                  localPath: up ? data.local(src.rel) : dest,
                  remotePath: up ? remote(view, `dst/${tag}.bin`) : remote(view, src.rel),
                }, () => verifyFile(dest, src.sha256, src.size), dest);
              }
            }
          }
        }
        if (opts.sweepWorkloads.includes('small')) {
          for (const direction of directions) {
            for (const concurrency of opts.sweepConcurrency) {
              const tree = data.smallTree(smallPointCount(concurrency, rtt, opts.sweepSeconds, opts.smallFiles));
              const tag = `sweep-${seq++}`;
              const up = direction === 'up';
              const dest = up ? data.local(`dst/${tag}`) : data.local(`dl/${tag}`);
              await run({ workload: 'small', direction, rttMs: rtt, concurrency, bytes: tree.bytes, files: tree.files.length }, {
                kind: 'sftp-wire', workload: 'small', direction, endpoint: view.endpoint, concurrency,
                localPath: up ? data.local(tree.rel) : dest,
                remotePath: up ? remote(view, `dst/${tag}`) : remote(view, tree.rel),
              }, async () => { verifyTree(dest, tree.files); }, dest);
            }
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
  return { points, summary: sweepSummary(points) };
}

/** Terminal tables of the sweep: MiB/s by chunk (rows) and requests (columns); files/s by files in flight. */
export function sweepSummary(points: readonly SweepPoint[]): string {
  const out: string[] = [];
  const rtts = [...new Set(points.map((p) => p.rttMs))];
  for (const rtt of rtts) {
    for (const direction of ['up', 'down'] as const) {
      const large = points.filter((p) => p.rttMs === rtt && p.direction === direction && p.workload === 'large');
      if (large.length) {
        const reqs = [...new Set(large.map((p) => p.requests!))].sort((a, b) => a - b);
        const chunks = [...new Set(large.map((p) => p.chunkSize!))].sort((a, b) => a - b);
        const limit = points.find((p) => p.rttMs === rtt && p.direction === direction && p.workload === 'limit');
        out.push(`sweep: LARGE ${direction}, RTT ${rtt} ms, sftp-wire -> sftp-wire server, MiB/s (limit: raw channel ${formatNumber(limit?.mibPerSecond ?? NaN)} MiB/s)`);
        out.push(renderTable(['chunk \\ requests', ...reqs.map(String)], chunks.map((c) => [formatBytes(c), ...reqs.map((r) => {
          const p = large.find((q) => q.chunkSize === c && q.requests === r);
          return p?.error ? 'fail' : formatNumber(p?.mibPerSecond ?? NaN);
        })])));
      }
    }
    const small = points.filter((p) => p.rttMs === rtt && p.workload === 'small');
    if (small.length) {
      const conc = [...new Set(small.map((p) => p.concurrency!))].sort((a, b) => a - b);
      out.push(`sweep: SMALL, RTT ${rtt} ms, sftp-wire -> sftp-wire server, files/s by files in flight`);
      out.push(renderTable(['direction \\ files in flight', ...conc.map(String)], (['up', 'down'] as const).filter((d) => small.some((p) => p.direction === d)).map((d) => [d, ...conc.map((c) => {
        const p = small.find((q) => q.direction === d && q.concurrency === c);
        return p?.error ? 'fail' : formatNumber(p?.filesPerSecond ?? NaN);
      })])));
    }
  }
  return out.join('\n');
}

/** SVG charts of the sweep: LARGE per RTT and direction (one line per chunk size), SMALL per RTT. */
export function sweepCharts(result: SweepResult): { name: string; svg: string }[] {
  const charts: { name: string; svg: string }[] = [];
  const pts = result.points.filter((p) => !p.error);
  for (const rtt of [...new Set(result.points.map((p) => p.rttMs))]) {
    for (const direction of ['up', 'down'] as const) {
      const large = pts.filter((p) => p.rttMs === rtt && p.direction === direction && p.workload === 'large');
      if (large.length === 0) continue;
      const chunks = [...new Set(large.map((p) => p.chunkSize!))].sort((a, b) => a - b);
      const series: ChartSeries[] = chunks.map((c) => ({
        name: `chunk ${formatBytes(c)}`,
        points: large.filter((p) => p.chunkSize === c).map((p) => ({ x: p.requests!, y: p.mibPerSecond })),
      }));
      const limit = pts.find((p) => p.rttMs === rtt && p.direction === direction && p.workload === 'limit');
      charts.push({
        name: `sweep-large-${direction}-rtt${rtt}.svg`,
        svg: renderLineChart({
          title: `LARGE ${direction}, RTT ${rtt} ms: sftp-wire -> sftp-wire server`,
          xLabel: 'requests in flight (window)',
          yLabel: 'MiB/s',
          xScale: 'log2',
          series,
          ...(limit ? { reference: { y: limit.mibPerSecond, label: `raw SSH channel ${formatNumber(limit.mibPerSecond)} MiB/s` } } : {}),
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
          yLabel: 'files/s',
          xScale: 'log2',
          series: (['up', 'down'] as const).map((d) => ({ name: d, points: small.filter((p) => p.direction === d).map((p) => ({ x: p.concurrency!, y: p.filesPerSecond })) })).filter((s) => s.points.length > 0),
        }),
      });
    }
  }
  return charts;
}
