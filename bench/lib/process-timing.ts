/**
 * Measuring a process from outside: GNU time (/usr/bin/time) for a child's peak RSS or CPU seconds,
 * wall time with every stdout line time-stamped as it arrives, and /proc for a running one's memory.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const GNU_TIME = '/usr/bin/time';

export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME);
}

export interface Spawned {
  code: number | null;
  stdout: string;
  stderr: string;
  wallSeconds: number;
  maxRssBytes?: number;
  /** Date.now() when each stdout line arrived. */
  lineTimes: { line: string; at: number }[];
}

/** Spawn a program (under GNU time when available), collect output, and time stamp stdout lines. */
export function spawnTimed(bin: string, args: string[]): Promise<Spawned> {
  const tmp = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-time-'));
  const rssFile = join(tmp, 'rss');
  const useTime = hasGnuTime();
  const cmd = useTime ? GNU_TIME : bin;
  const argv = useTime ? ['-f', '%M', '-o', rssFile, bin, ...args] : args;
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    // sftp's `!command` runs $SHELL -c: a plain sh keeps rc files out of the time stamps.
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHELL: '/bin/sh' } });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const lineTimes: { line: string; at: number }[] = [];
    child.stdout.on('data', (d: Buffer) => {
      const at = Date.now();
      const s = d.toString();
      stdout += s;
      const parts = (partial + s).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) lineTimes.push({ line, at });
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', (err) => {
      rmSync(tmp, { recursive: true, force: true });
      reject(err);
    });
    child.once('close', (code) => {
      const wallSeconds = (performance.now() - t0) / 1000;
      if (partial) lineTimes.push({ line: partial, at: Date.now() });
      let maxRssBytes: number | undefined;
      try {
        const kb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
        if (Number.isFinite(kb) && kb > 0) maxRssBytes = kb * 1024;
      } catch {
        /* no GNU time */
      }
      rmSync(tmp, { recursive: true, force: true });
      resolve({ code, stdout, stderr, wallSeconds, maxRssBytes, lineTimes });
    });
  });
}

let timeFiles = 0;
/**
 * A command wrapped in GNU time, writing its user+system CPU seconds to a fresh file in `work`.
 * GNU time gives hundredths of a second; with SFTP_WIRE_BENCH_CPU=perf the command runs under
 * `perf stat` instead, whose user_time and system_time are in nanoseconds (=perf-user: user time
 * only, which leaves out the kernel's work that both servers share, such as creating files).
 */
export function withCpuTime(work: string, cmd: string[]): { cmd: string[]; cpu(): number } {
  const file = join(work, `cpu-${timeFiles++}.txt`);
  const perf = process.env.SFTP_WIRE_BENCH_CPU;
  if (perf === 'perf' || perf === 'perf-user') return withPerfCpu(file, cmd, perf === 'perf-user');
  return {
    cmd: [GNU_TIME, '-f', '%U,%S', '-o', file, ...cmd],
    cpu() {
      const [u, sys] = readFileSync(file, 'utf8').trim().split('\n').at(-1)!.split(',').map(Number);
      rmSync(file, { force: true });
      return u! + sys!;
    },
  };
}

/** Seconds `fn` takes (wall clock, high resolution). */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** A process's resident set now (VmRSS) and at its peak (VmHWM), in bytes, from /proc/PID/status. */
export function procMemory(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** withCpuTime under `perf stat -e user_time,system_time` (nanoseconds); `userOnly`: user time alone. */
function withPerfCpu(file: string, cmd: string[], userOnly: boolean): { cmd: string[]; cpu(): number } {
  return {
    cmd: ['perf', 'stat', '-x,', '-e', 'user_time,system_time', '-o', file, ...cmd],
    cpu() {
      const lines = readFileSync(file, 'utf8').split('\n');
      rmSync(file, { force: true });
      const ns = (event: string): number => Number(lines.find((l) => l.split(',')[2] === event)?.split(',')[0]);
      const secs = (ns('user_time') + (userOnly ? 0 : ns('system_time'))) / 1e9;
      if (!Number.isFinite(secs)) throw new Error(`perf stat gave no user_time/system_time in ${file}`);
      return secs;
    },
  };
}
