/**
 * Runs the bench: starts the servers, generates the data, then for each RTT and each case (workload and
 * direction) runs every contender round-robin over the repetitions, verifying every result byte for
 * byte and removing it before the next run. Returns every sample; report.ts turns them into tables.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSshNeeds, selectContenders, skipReason, type Contender, type TargetId } from '../contenders/index.js';
import { DataStore } from '../lib/data-store.js';
import {
  clearPath,
  verifyFile,
  verifyListing,
  verifyListingDigest,
  verifyTree,
  TREE_SHAPES,
  treeShapeFiles,
  type ListingDigest,
} from '../lib/dataset.js';
import { isTreeWorkload, type Direction, type NodeJob, type Workload } from '../contenders/jobs.js';
import { measureScpSetup, startControlMaster, type ControlMaster } from '../contenders/clients/openssh-clients.js';
import { assertNever } from '../contenders/types.js';
import type { Eta } from './eta.js';
import type { BenchOptions } from './options.js';
import { openSshPrograms } from '../lib/openssh-programs.js';
import { formatCount, formatDuration, formatNumber, mibPerSecond, perSecond } from '../lib/stats.js';
import { atRtt, startEmbeddedTargets, startOpenSshTarget, type RunningTarget, type TargetAtRtt } from './targets.js';
import { Worker } from './worker-pool.js';

export interface Sample {
  contender: string;
  workload: Workload;
  direction: Direction;
  rttMs: number;
  rep: number;
  /** Transfer time, connection set-up excluded. NaN when the run failed. */
  seconds: number;
  firstEntrySeconds?: number;
  bytes: number;
  files: number;
  entries?: number;
  maxRssBytes?: number;
  error?: string;
}

export interface Skipped {
  contender: string;
  label: string;
  reason: string;
}

export interface SuiteResult {
  startedAt: string;
  wallSeconds: number;
  samples: Sample[];
  skipped: Skipped[];
  targets: Record<string, string>;
  /** scp's subtracted set-up time per RTT (seconds). */
  scpSetupSeconds: Record<string, number>;
  /** Work folder (removed unless --keep). */
  workDir: string;
  /** Peak RSS of a worker that only started (Node + tsx baseline included in every Node row). */
  idleWorkerRssBytes?: number;
}

export type Log = (line: string) => void;

/** The cases of a run in order: each workload, up and down (LIST only "down": reading a listing). */
export function casesOf(opts: BenchOptions): { workload: Workload; direction: Direction }[] {
  const out: { workload: Workload; direction: Direction }[] = [];
  for (const workload of opts.workloads) {
    if (workload === 'list') out.push({ workload, direction: 'down' });
    else for (const direction of opts.directions) out.push({ workload, direction });
  }
  return out;
}

/** The SMALL file count a contender runs at an RTT. */
export function smallCountFor(c: Contender, rttMs: number, opts: BenchOptions): number {
  if (rttMs > 0 && c.slowAtRtt)
    return Math.min(opts.smallFiles, opts.rttSmallFiles, opts.slowFiles * (c.slowScale ?? 1));
  if (rttMs > 0) return Math.min(opts.smallFiles, opts.rttSmallFiles);
  return opts.smallFiles;
}

/**
 * The files of a WIDE or DEEP tree a contender copies at an RTT: the whole shape, except for the
 * slow contenders at RTT > 0 (as for SMALL: --slow-files, a shallower or narrower tree of the same shape).
 */
export function shapeCountFor(c: Contender, rttMs: number, opts: BenchOptions, shape: 'wide' | 'deep'): number {
  const all = treeShapeFiles(TREE_SHAPES[shape]);
  return rttMs > 0 && c.slowAtRtt ? Math.min(all, opts.slowFiles * (c.slowScale ?? 1)) : all;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  if (items.length === 0) return [];
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Runs of the suite: every case of every selected contender, times the repetitions (skips not known yet). */
export function suiteRunCount(opts: BenchOptions): number {
  const contenders = selectContenders(opts.contenders);
  return (
    opts.rtts.length *
    casesOf(opts).reduce((a, cs) => a + contenders.filter((c) => c.workloads.includes(cs.workload)).length, 0) *
    opts.reps
  );
}

export async function runSuite(opts: BenchOptions, log: Log, eta?: Eta): Promise<SuiteResult> {
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  const contenders = selectContenders(opts.contenders);
  const workDir = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-'));
  const samples: Sample[] = [];
  const skipped: Skipped[] = [];
  const targetsInfo: Record<string, string> = {};
  const scpSetupSeconds: Record<string, number> = {};
  const running: Partial<Record<TargetId, RunningTarget>> = {};
  let idleWorkerRssBytes: number | undefined;

  try {
    log(`work folder ${workDir}`);
    // Servers first: what fails to start makes its contenders "skipped", with the reason.
    const problems: { embedded?: string; openssh?: string; client?: string } = {};
    const programs = openSshPrograms();
    const needs = new Set(contenders.map((c) => c.target));
    // sshd only when some OpenSSH-server contender has every program it needs.
    if (contenders.some((c) => c.target === 'openssh' && openSshNeeds(c).every((n) => programs[n]))) {
      try {
        running.openssh = await startOpenSshTarget(workDir);
        targetsInfo.openssh = running.openssh.description;
      } catch (err) {
        problems.openssh = `sshd did not start: ${(err as Error).message}`;
      }
    }
    if (needs.has('embedded') || needs.has('embedded-raw')) {
      try {
        const both = await startEmbeddedTargets(workDir);
        running.embedded = both.sftp;
        running['embedded-raw'] = both.raw;
        targetsInfo.embedded = both.sftp.description;
        targetsInfo['embedded-raw'] = both.raw.description;
      } catch (err) {
        problems.embedded = `embedded server did not start: ${(err as Error).message}`;
      }
    }
    const active: Contender[] = [];
    for (const c of contenders) {
      const why = skipReason(c, problems, programs);
      if (why) {
        skipped.push({ contender: c.id, label: c.label, reason: why });
        log(`skipped: ${c.label}: ${why}`);
      } else active.push(c);
    }

    const idle = new Worker('idle');
    try {
      idleWorkerRssBytes = (
        await idle.run({
          contender: 'idle',
          workload: 'large',
          direction: 'up',
          endpoint: { host: '', port: 0, username: '', privateKeyPath: '' },
          localPath: '',
          remotePath: '',
        })
      ).maxRssBytes;
    } finally {
      await idle.stop();
    }

    log('generating data (seeded)');
    const data = new DataStore(workDir, opts.seed, {
      files: opts.smallFiles,
      dirs: opts.smallDirs,
      size: opts.smallSize,
    });
    mkdirSync(join(workDir, 'dst'), { recursive: true });
    mkdirSync(join(workDir, 'dl'), { recursive: true });

    const cases = casesOf(opts);
    const plan = opts.rtts.flatMap((rtt) =>
      cases.map((cs) => ({ rtt, ...cs, who: active.filter((c) => c.workloads.includes(cs.workload)) })),
    );
    const totalRuns = plan.reduce((a, p) => a + p.who.length * opts.reps, 0);
    let done = 0;
    eta?.begin('suite');
    // Skipped contenders take no time: the ETA counts only the runs that will happen.
    eta?.setUnits('suite', totalRuns);

    for (const rtt of opts.rtts) {
      const views: Partial<Record<TargetId, TargetAtRtt>> = {};
      for (const id of ['openssh', 'embedded', 'embedded-raw'] as const)
        if (running[id]) views[id] = await atRtt(running[id]!, rtt);
      let master: ControlMaster | null = null;
      try {
        if (active.some((c) => c.runs === 'spawned' && c.sharedMaster) && views.openssh) {
          const v = views.openssh;
          master = await startControlMaster(v.sshTarget);
          v.sshTarget = { ...v.sshTarget, controlPath: master.controlPath };
          scpSetupSeconds[String(rtt)] = await measureScpSetup(
            v.sshTarget,
            join(workDir, 'src', 'empty'),
            `${v.target.remoteBase}/dst/scp-setup-empty`,
          );
          log(`RTT ${rtt} ms: scp set-up (subtracted from scp times) ${formatDuration(scpSetupSeconds[String(rtt)]!)}`);
        }
        for (const cs of plan.filter((p) => p.rtt === rtt)) {
          if (cs.who.length === 0) continue;
          const workers = new Map<string, Worker>();
          for (const c of cs.who) if (c.runs === 'worker') workers.set(c.id, new Worker(c.id));
          await Promise.all([...workers.values()].map((w) => w.ready()));
          try {
            for (let rep = 0; rep < opts.reps; rep++) {
              for (const c of rotate(cs.who, rep)) {
                done++;
                const sample = await runOne({
                  c,
                  rtt,
                  rep,
                  workload: cs.workload,
                  direction: cs.direction,
                  view: views[c.target]!,
                  data,
                  opts,
                  worker: workers.get(c.id),
                  scpSetup: scpSetupSeconds[String(rtt)] ?? 0,
                });
                samples.push(sample);
                eta?.tick('suite');
                log(
                  `[${String(done).padStart(String(totalRuns).length)}/${totalRuns}] ${eta ? `${eta.label()} ` : ''}RTT ${rtt} ms ${cs.workload.toUpperCase()} ${cs.workload === 'list' ? '' : cs.direction + ' '}rep ${rep + 1}/${opts.reps} ${c.label}: ${describeSample(sample)}`,
                );
              }
            }
          } finally {
            await Promise.all([...workers.values()].map((w) => w.stop()));
          }
        }
      } finally {
        await master?.stop();
        for (const v of Object.values(views)) await v?.proxy?.close();
      }
    }
    eta?.end('suite');
  } finally {
    for (const t of Object.values(running)) await t?.stop().catch(() => undefined);
    if (!opts.keep) rmSync(workDir, { recursive: true, force: true });
  }
  return {
    startedAt,
    wallSeconds: (Date.now() - t0) / 1000,
    samples,
    skipped,
    targets: targetsInfo,
    scpSetupSeconds,
    workDir,
    idleWorkerRssBytes,
  };
}

function describeSample(s: Sample): string {
  if (s.error) return `FAILED: ${s.error}`;
  if (s.workload === 'list')
    return `${formatCount(s.entries ?? 0)} entries in ${formatDuration(s.seconds)}, first after ${formatDuration(s.firstEntrySeconds ?? NaN)}`;
  const rate = `${formatNumber(mibPerSecond(s.bytes, s.seconds))} MiB/s`;
  if (isTreeWorkload(s.workload))
    return `${s.files} files in ${formatDuration(s.seconds)} = ${formatNumber(perSecond(s.files, s.seconds))} files/s, ${rate}`;
  return `${rate} (${formatDuration(s.seconds)})`;
}

interface RunArgs {
  c: Contender;
  rtt: number;
  rep: number;
  workload: Workload;
  direction: Direction;
  view: TargetAtRtt;
  data: DataStore;
  opts: BenchOptions;
  worker?: Worker;
  scpSetup: number;
}

function remoteName(view: TargetAtRtt, rel: string): string {
  return view.target.remoteBase ? `${view.target.remoteBase}/${rel}` : `/${rel}`;
}

/** One timed run of one contender, verified and cleaned up. Never throws: failures are in `error`. */
async function runOne(a: RunArgs): Promise<Sample> {
  const { c, rtt, rep, workload, direction, view, data, opts } = a;
  const tag = `${c.id}-rtt${rtt}-${workload}-${rep}`;
  const base: Sample = { contender: c.id, workload, direction, rttMs: rtt, rep, seconds: NaN, bytes: 0, files: 0 };
  let localPath = '';
  let remoteRel = '';
  let destLocal = '';
  let verify: () => Promise<void> = async () => undefined;

  if (workload === 'large') {
    const src = data.large(rtt > 0 ? opts.rttLargeSize : opts.largeSize);
    base.bytes = src.size;
    base.files = 1;
    if (direction === 'up') {
      localPath = data.local(src.rel);
      remoteRel = `dst/${tag}.bin`;
      destLocal = data.local(remoteRel);
    } else {
      remoteRel = src.rel;
      localPath = data.local(`dl/${tag}.bin`);
      destLocal = localPath;
    }
    verify = () => verifyFile(destLocal, src.sha256, src.size);
  } else if (isTreeWorkload(workload)) {
    const tree =
      workload === 'small'
        ? data.smallTree(smallCountFor(c, rtt, opts))
        : data.shapeTree(workload, shapeCountFor(c, rtt, opts, workload));
    base.bytes = tree.bytes;
    base.files = tree.files.length;
    if (direction === 'up') {
      localPath = data.local(tree.rel);
      remoteRel = `dst/${tag}`;
      destLocal = data.local(remoteRel);
    } else {
      remoteRel = tree.rel;
      localPath = data.local(`dl/${tag}`);
      destLocal = localPath;
    }
    verify = async () => {
      verifyTree(destLocal, tree.files);
    };
  } else {
    const list = data.listDir(rtt > 0 ? opts.rttListEntries : opts.listEntries);
    remoteRel = list.rel;
    base.entries = list.names.size;
  }
  const remotePath = remoteName(view, remoteRel);

  try {
    let seconds: number;
    let firstEntrySeconds: number | undefined;
    let names: string[] | undefined;
    let listing: ListingDigest | undefined;
    let maxRssBytes: number | undefined;
    switch (c.runs) {
      case 'worker': {
        const job: NodeJob = {
          contender: c.id,
          workload,
          direction,
          endpoint: view.endpoint,
          localPath,
          remotePath,
          bytes: base.bytes,
          ...c.jobOptions?.({ requests: opts.requests, chunkSize: opts.chunkSize, concurrency: opts.concurrency }),
        };
        const r = await a.worker!.run(job);
        ({ seconds, firstEntrySeconds, listing, maxRssBytes } = r);
        break;
      }
      case 'spawned': {
        const run = c.runners[workload];
        if (!run) throw new Error(`contender ${c.id} has no runner for ${workload}`);
        const r = await run(
          { workload, direction, target: view.sshTarget, localPath, remotePath },
          { scpSetupSeconds: a.scpSetup },
        );
        ({ seconds, firstEntrySeconds, names, maxRssBytes } = r);
        break;
      }
      default:
        assertNever(c, 'contender kind');
    }
    if (!c.isLimit) {
      if (workload === 'list') {
        const expected = data.listDir(base.entries!).names;
        if (listing) verifyListingDigest(listing, expected);
        else verifyListing(names ?? [], expected);
      } else await verify();
    }
    return { ...base, seconds, firstEntrySeconds, maxRssBytes };
  } catch (err) {
    return { ...base, error: (err as Error).message };
  } finally {
    if (destLocal) clearPath(destLocal);
  }
}
