/** Command-line options of the bench suite, its two profiles (default and --quick), and --help. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSize, formatBytes } from '../lib/stats.js';
import type { Direction, Workload } from '../contenders/jobs.js';
import { TREE_SHAPES, treeShapeFiles, type TreeShape } from '../lib/dataset.js';
import { selectContenders } from '../contenders/index.js';

export interface BenchOptions {
  profile: 'default' | 'quick';
  out: string;
  seed: number;
  reps: number;
  rtts: number[];
  workloads: Workload[];
  directions: Direction[];
  /** Contender ids to run (empty: all). */
  contenders: string[];
  smallFiles: number;
  smallDirs: number;
  smallSize: number;
  largeSize: number;
  listEntries: number;
  /** At RTT > 0: LARGE size, LIST size, SMALL count, and SMALL count for slow contenders. */
  rttLargeSize: number;
  rttListEntries: number;
  rttSmallFiles: number;
  slowFiles: number;
  /** sftp-wire tuning for the main runs (undefined: the client's defaults). */
  requests?: number;
  chunkSize?: number;
  concurrency?: number;
  sweep: boolean;
  sweepRtts: number[];
  sweepWorkloads: ('large' | 'small')[];
  sweepRequests: number[];
  sweepChunks: number[];
  sweepConcurrency: number[];
  /** Runs of each sweep point, interleaved; the charts and tables show their median. */
  sweepReps: number;
  /** Most bytes per LARGE sweep point. */
  sweepMaxSize: number;
  /** Seconds each sweep point aims to take (sizes are picked from the expected rate). */
  sweepSeconds: number;
  /** Keep the work folder (data and sshd config) instead of removing it. */
  keep: boolean;
  /** Print the contender ids and what each needs, then exit. */
  listContenders: boolean;
}

const KiB = 1024;
const MiB = 1024 * 1024;

export function defaultOptions(profile: 'default' | 'quick' = 'default'): BenchOptions {
  const quick = profile === 'quick';
  return {
    profile,
    out: defaultOutDir(),
    seed: 20240601,
    reps: quick ? 1 : 3,
    rtts: [0, 20],
    workloads: ['large', 'small', 'wide', 'deep', 'list'],
    directions: ['up', 'down'],
    contenders: [],
    smallFiles: quick ? 200 : 2000,
    smallDirs: 20,
    smallSize: 4 * KiB,
    largeSize: quick ? 32 * MiB : 256 * MiB,
    listEntries: quick ? 10_000 : 100_000,
    rttLargeSize: quick ? 16 * MiB : 32 * MiB,
    rttListEntries: quick ? 2_000 : 5_000,
    rttSmallFiles: quick ? 100 : 500,
    slowFiles: 10,
    sweep: true,
    sweepRtts: [20],
    sweepWorkloads: ['large', 'small'],
    sweepRequests: quick ? [1, 4, 16, 64] : [1, 2, 4, 8, 16, 32, 64],
    sweepChunks: [32 * KiB, 64 * KiB, 256 * KiB],
    sweepConcurrency: quick ? [1, 8, 64] : [1, 2, 4, 8, 16, 32, 64, 128],
    sweepReps: 3,
    sweepMaxSize: quick ? 16 * MiB : 64 * MiB,
    sweepSeconds: quick ? 0.1 : 0.2,
    keep: false,
    listContenders: false,
  };
}

/** bench/results under the current folder when it is a checkout, else ./sftp-wire-bench-results. */
export function defaultOutDir(): string {
  return existsSync(join(process.cwd(), 'bench')) ? resolve('bench/results') : resolve('sftp-wire-bench-results');
}

export const HELP = `usage: npm run bench -- [options]      (or: sftp-wire bench [options])

Runs every contender on the same data in one run, interleaved, and verifies every transfer
byte for byte. Needs only Node: sftp-wire's own rows run against an embedded server; OpenSSH
rows join where OpenSSH is installed (see --list-contenders). Progress with an ETA goes to
stderr, the tables to stdout; results.json, table.txt, table.md (sweep tables included) and SVG
charts go to --out. Exit 0: done; 1: sftp-wire's rows did not run or a run failed (the reasons
on stderr); 2: a bad command line.

profiles
  --quick                 a fast look: 200 small files, 32 MiB, 10,000 entries, 1 rep, small sweep

what to run
  --rtt LIST              round-trip times in ms through the latency proxy (default 0,20; 0 = direct)
  --workloads LIST        large,small,wide,deep,list (default all; wide: 20 dirs x 5 files, deep: a
                          chain 20 deep, 2 files each, 4 KiB files: tree copies, against sshd)
  --directions LIST       up,down (default both)
  --contenders LIST       contender ids (default all; see --list-contenders)
  --list-contenders       print every contender id, what it runs and what it needs, then exit
  --reps N                repetitions, interleaved round-robin (default 3; --quick 1)
  --no-sweep              skip the requests-in-flight x chunk-size sweep

sizes
  --small-files N         SMALL file count (default 2000)   --small-dirs N (default 20)
  --small-size SIZE       SMALL file size (default 4k)
  --large-size SIZE       LARGE size (default 256m)
  --list-entries N        LIST entries (default 100000)
  --rtt-large-size SIZE   LARGE size when RTT > 0 (default 32m)
  --rtt-list-entries N    LIST entries when RTT > 0 (default 5000)
  --rtt-small-files N     SMALL count when RTT > 0 (default 500)
  --slow-files N          SMALL count for slow contenders when RTT > 0 (default 10; ssh2 with 16
                          files in flight runs 8x that; compare them in files/s)

sftp-wire tuning (main runs; default: the client's own defaults)
  -R, --requests N        requests in flight per file
  -B, --chunk SIZE        chunk size
  --concurrency N         files in flight (SMALL)

sweep
  --sweep-rtt LIST        RTTs of the sweep (default 20)
  --sweep-workloads LIST  large,small (default both)
  --sweep-requests LIST   requests in flight (default 1,2,4,8,16,32,64)
  --sweep-chunks LIST     chunk sizes (default 32k,64k,256k)
  --sweep-concurrency LIST  SMALL files in flight (default 1,2,4,8,16,32,64,128)
  --sweep-reps N          runs of each point, interleaved; charts show the median (default 3)
  --sweep-max-size SIZE   most bytes per LARGE point (default 64m)

other
  --out DIR               output folder (default bench/results)
  --seed N                data seed (default 20240601)
  --keep                  keep the work folder
  -h, --help              this text
`;

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function int(text: string, name: string, min = 0): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${name} needs an integer >= ${min}, got ${JSON.stringify(text)}`);
  return n;
}

function oneOf<T extends string>(values: string[], allowed: readonly T[], name: string): T[] {
  for (const v of values)
    if (!allowed.includes(v as T))
      throw new Error(`${name}: unknown value ${JSON.stringify(v)} (allowed: ${allowed.join(', ')})`);
  return values as T[];
}

/** Parse argv; returns null for --help. Throws with a clear message on a bad flag. */
export function parseOptions(argv: string[]): BenchOptions | null {
  if (argv.includes('-h') || argv.includes('--help')) return null;
  const o = defaultOptions(argv.includes('--quick') ? 'quick' : 'default');
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--quick') continue;
    if (flag === '--no-sweep') {
      o.sweep = false;
      continue;
    }
    if (flag === '--keep') {
      o.keep = true;
      continue;
    }
    if (flag === '--list-contenders') {
      o.listContenders = true;
      continue;
    }
    const eq = flag.indexOf('=');
    const name = eq > 0 ? flag.slice(0, eq) : flag;
    const value = (): string => {
      if (eq > 0) return flag.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case '--out':
        o.out = resolve(value());
        break;
      case '--seed':
        o.seed = int(value(), name);
        break;
      case '--reps':
        o.reps = int(value(), name, 1);
        break;
      case '--rtt':
        o.rtts = list(value()).map((v) => int(v, name));
        break;
      case '--workloads':
        o.workloads = oneOf(list(value()), ['large', 'small', 'wide', 'deep', 'list'] as const, name);
        break;
      case '--directions':
        o.directions = oneOf(list(value()), ['up', 'down'] as const, name);
        break;
      case '--contenders':
        o.contenders = list(value());
        selectContenders(o.contenders);
        break;
      case '--small-files':
        o.smallFiles = int(value(), name, 1);
        break;
      case '--small-dirs':
        o.smallDirs = int(value(), name, 1);
        break;
      case '--small-size':
        o.smallSize = parseSize(value());
        break;
      case '--large-size':
        o.largeSize = parseSize(value());
        break;
      case '--list-entries':
        o.listEntries = int(value(), name, 1);
        break;
      case '--rtt-large-size':
        o.rttLargeSize = parseSize(value());
        break;
      case '--rtt-list-entries':
        o.rttListEntries = int(value(), name, 1);
        break;
      case '--rtt-small-files':
        o.rttSmallFiles = int(value(), name, 1);
        break;
      case '--slow-files':
        o.slowFiles = int(value(), name, 1);
        break;
      case '-R':
      case '--requests':
        o.requests = int(value(), name, 1);
        break;
      case '-B':
      case '--chunk':
        o.chunkSize = parseSize(value());
        break;
      case '--concurrency':
        o.concurrency = int(value(), name, 1);
        break;
      case '--sweep-rtt':
        o.sweepRtts = list(value()).map((v) => int(v, name));
        break;
      case '--sweep-workloads':
        o.sweepWorkloads = oneOf(list(value()), ['large', 'small'] as const, name);
        break;
      case '--sweep-requests':
        o.sweepRequests = list(value()).map((v) => int(v, name, 1));
        break;
      case '--sweep-chunks':
        o.sweepChunks = list(value()).map(parseSize);
        break;
      case '--sweep-concurrency':
        o.sweepConcurrency = list(value()).map((v) => int(v, name, 1));
        break;
      case '--sweep-reps':
        o.sweepReps = int(value(), name, 1);
        break;
      case '--sweep-max-size':
        o.sweepMaxSize = parseSize(value());
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(flag)} (see --help)`);
    }
  }
  if (o.smallDirs > o.smallFiles) o.smallDirs = o.smallFiles;
  return o;
}

function describeShape(s: TreeShape): string {
  return `${treeShapeFiles(s)} x ${formatBytes(s.size)}, ${s.kind === 'wide' ? `${s.dirs} dirs side by side` : `a chain ${s.dirs} deep`}`;
}

/** One line describing the sizes in use, for the report header. */
export function describeSizes(o: BenchOptions): string {
  return (
    `SMALL ${o.smallFiles} x ${formatBytes(o.smallSize)} in ${o.smallDirs} dirs (at RTT > 0: ${Math.min(o.rttSmallFiles, o.smallFiles)}, slow contenders ${o.slowFiles});` +
    ` WIDE ${describeShape(TREE_SHAPES.wide)}; DEEP ${describeShape(TREE_SHAPES.deep)};` +
    ` LARGE ${formatBytes(o.largeSize)} (${formatBytes(o.rttLargeSize)} at RTT > 0); LIST ${o.listEntries} entries (${o.rttListEntries} at RTT > 0)`
  );
}
