/**
 * OpenSSH's own clients as contenders: `sftp -b` (put/get, put -r/get -r, ls -1) and `scp` (-r),
 * against the bench's sshd. Peak RSS comes from GNU time (/usr/bin/time -f %M) where installed.
 *
 * Timing: `sftp -b` runs `!date` before and after the transfer inside the session, so connection
 * set-up is excluded exactly. `scp` cannot do that: it runs over a shared master connection
 * (ControlMaster, so key exchange and authentication are done once, outside the timing), and its time
 * has the median time of copying one empty file the same way subtracted.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSshPrograms, type OpenSshProgram } from '../../lib/openssh-programs.js';
import { spawnTimed } from '../../lib/process-timing.js';
import { median } from '../../lib/stats.js';
import { CIPHER, isTreeWorkload, type Direction, type Workload } from '../jobs.js';

/** The path of an OpenSSH program found on this machine; throws when it is not installed. */
function program(name: OpenSshProgram): string {
  const p = openSshPrograms()[name];
  if (!p) throw new Error(`OpenSSH ${name} is not installed`);
  return p;
}

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  /** ssh options (-i key, -o ...) without the port. */
  sshOptions: string[];
  /** A master connection's control socket (see startControlMaster), used by scp. */
  controlPath?: string;
}

export interface OpenSshJob {
  workload: Workload;
  direction: Direction;
  target: SshTarget;
  localPath: string;
  remotePath: string;
}

export interface OpenSshResult {
  seconds: number;
  firstEntrySeconds?: number;
  names?: string[];
  /** Whole process wall time, set-up included. */
  wallSeconds: number;
  maxRssBytes?: number;
}

function baseArgs(t: SshTarget): string[] {
  return [...t.sshOptions, '-c', CIPHER, '-o', 'Compression=no'];
}

function batchCommand(job: OpenSshJob): string {
  const q = (p: string) => `"${p.replace(/(["\\])/g, '\\$1')}"`;
  const r = isTreeWorkload(job.workload) ? '-r ' : '';
  if (job.workload === 'list') return `ls -1 ${q(job.remotePath)}`;
  return job.direction === 'up'
    ? `put ${r}${q(job.localPath)} ${q(job.remotePath)}`
    : `get ${r}${q(job.remotePath)} ${q(job.localPath)}`;
}

/** Run one transfer or listing with `sftp -b`. */
export async function runOpenSshSftp(job: OpenSshJob): Promise<OpenSshResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-batch-'));
  const batch = join(dir, 'batch');
  const command = batchCommand(job);
  writeFileSync(batch, `!date +%s.%N\n${command}\n!date +%s.%N\n`);
  try {
    const r = await spawnTimed(program('sftp'), [
      ...baseArgs(job.target),
      '-P',
      String(job.target.port),
      '-b',
      batch,
      `${job.target.username}@${job.target.host}`,
    ]);
    if (r.code !== 0)
      throw new Error(`sftp exited with ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const stamps = r.lineTimes.filter((l) => /^\d+\.\d+$/.test(l.line)).map((l) => Number(l.line));
    if (stamps.length !== 2) throw new Error(`sftp: expected two time stamps in its output, got ${stamps.length}`);
    const seconds = stamps[1]! - stamps[0]!;
    const out: OpenSshResult = { seconds, wallSeconds: r.wallSeconds, maxRssBytes: r.maxRssBytes };
    if (job.workload === 'list') {
      // Entries are the lines between the echoed `ls` command and the second `!date`.
      const start = r.lineTimes.findIndex((l) => l.line.startsWith('sftp> ls'));
      const end = r.lineTimes.findIndex((l, i) => i > start && l.line.startsWith('sftp> !date'));
      const entries = r.lineTimes.slice(start + 1, end < 0 ? undefined : end).filter((l) => l.line.length > 0);
      out.names = entries.map((l) => l.line.slice(l.line.lastIndexOf('/') + 1));
      out.firstEntrySeconds = entries.length ? Math.max(0, entries[0]!.at / 1000 - stamps[0]!) : NaN;
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Run one copy with `scp` (-r for SMALL). `setupSeconds` is subtracted (see measureScpSetup). */
export async function runScp(job: OpenSshJob, setupSeconds: number): Promise<OpenSshResult> {
  if (job.workload === 'list') throw new Error('scp does not list');
  const remote = (p: string) => `${job.target.username}@${job.target.host}:${p}`;
  const mux = job.target.controlPath ? ['-o', `ControlPath=${job.target.controlPath}`, '-o', 'ControlMaster=no'] : [];
  const args = [
    ...baseArgs(job.target),
    ...mux,
    '-P',
    String(job.target.port),
    '-q',
    ...(isTreeWorkload(job.workload) ? ['-r'] : []),
  ];
  const [src, dst] =
    job.direction === 'up' ? [job.localPath, remote(job.remotePath)] : [remote(job.remotePath), job.localPath];
  const r = await spawnTimed(program('scp'), [...args, src, dst]);
  if (r.code !== 0) throw new Error(`scp exited with ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const seconds = r.wallSeconds - setupSeconds;
  if (seconds < r.wallSeconds * 0.1) {
    throw new Error(
      `scp took ${(r.wallSeconds * 1000).toFixed(0)} ms with a set-up of ${(setupSeconds * 1000).toFixed(0)} ms: too short to time (use a larger size)`,
    );
  }
  return { seconds, wallSeconds: r.wallSeconds, maxRssBytes: r.maxRssBytes };
}

/** Median wall time of `scp` copying one empty file: what runScp subtracts. */
export async function measureScpSetup(
  target: SshTarget,
  emptyLocal: string,
  remoteDst: string,
  runs = 5,
): Promise<number> {
  writeFileSync(emptyLocal, '');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runScp(
      { workload: 'large', direction: 'up', target, localPath: emptyLocal, remotePath: remoteDst },
      0,
    );
    times.push(r.wallSeconds);
  }
  return median(times);
}

export interface ControlMaster {
  controlPath: string;
  stop(): Promise<void>;
}

/** Start `ssh -M` to the target (no command) so later scp runs share its connection. */
export async function startControlMaster(target: SshTarget): Promise<ControlMaster> {
  const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-mux-'));
  const controlPath = join(dir, 'mux');
  const child = spawn(
    program('ssh'),
    [
      ...baseArgs(target),
      '-M',
      '-N',
      '-o',
      `ControlPath=${controlPath}`,
      '-o',
      'ControlPersist=no',
      '-p',
      String(target.port),
      `${target.username}@${target.host}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!existsSync(controlPath)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`ssh master connection did not start: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    controlPath,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
