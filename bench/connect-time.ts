// Connect time as a user meets it: a whole node process that imports sftp-wire as built (compiled to
// JavaScript and installed by its package.json exports; no tsx in the measured process), connects to a
// local sshd with a key, opens the SFTP subsystem and ends; against the same process written with
// plain ssh2 (`conn.sftp()`, which also sends INIT and asks limits@openssh.com). Each round runs every
// contender once, in turn, after one warm-up round. The table shows per process the median wall time
// and CPU seconds (user+system, GNU time), each as a ratio to ssh2 (the median of the per-round
// ratios, which holds when the machine's speed drifts), and how many module files the import alone
// loads (`import { SftpClient } from 'sftp-wire'`; `import ssh2 from 'ssh2'`).
//   node --import tsx bench/connect-time.ts [--runs 20] [--baseline GIT-REF]
// The package is built as `npm run build` builds it (tsc, then scripts/bundle.mjs when its package.json
// says so). --baseline adds the package as of GIT-REF (built as that ref builds it), in the same rounds.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startSshd, type Sshd } from './lib/peers/openssh.js';
import { GNU_TIME, hasGnuTime, withCpuTime } from './lib/process-timing.js';
import { median } from './lib/stats.js';
import { REPO } from './lib/stdio-servers.js';
import { writeLoadRecorder } from './lib/load-recorder.js';
import { renderTable } from './lib/text-table.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, baseline: { type: 'string' } } });
const RUNS = Number(values.runs);
if (!(RUNS >= 1)) throw new Error('--runs must be at least 1');
if (!hasGnuTime()) throw new Error(`${GNU_TIME} is needed for the CPU figures`);

const work = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-connect-'));

/** The sources of a package build at `ref` (src/, scripts/, package.json, tsconfig.json), with this checkout's node_modules. */
function checkoutPackage(ref: string): string {
  const dir = join(work, `ref-${ref.replace(/[^\w.-]/g, '_')}`);
  mkdirSync(dir, { recursive: true });
  const files = ['src', 'scripts', 'package.json', 'tsconfig.json'];
  const tar = execFileSync('git', ['archive', ref, ...files], { cwd: REPO, maxBuffer: 256 << 20 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/**
 * The package as `npm run build` makes it from the checkout at `root`, in `pkg` next to its package.json:
 * src/ compiled to `pkg/dist/src`, then, when that package.json's build runs scripts/bundle.mjs, the
 * entries bundled into `pkg/dist/bundle` (where its exports lead).
 */
function buildPackage(root: string, pkg: string): void {
  mkdirSync(pkg, { recursive: true });
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  const args = [tsc, join(root, 'src', 'index.ts'), '--outDir', join(pkg, 'dist'), '--rootDir', root];
  const flags = ['--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext'];
  try {
    execFileSync(process.execPath, [...args, ...flags, '--esModuleInterop', '--skipLibCheck', '--types', 'node'], {
      cwd: REPO,
      stdio: 'pipe',
    });
  } catch {
    // type errors still emit JavaScript; a missing output is the real failure (the first run says so)
  }
  const packageJson = readFileSync(join(root, 'package.json'), 'utf8');
  const build = (JSON.parse(packageJson) as { scripts?: { build?: string } }).scripts?.build ?? '';
  if (build.includes('scripts/bundle.mjs')) {
    const bundle = join(root, 'scripts', 'bundle.mjs');
    execFileSync(process.execPath, [bundle, '--root', root, '--out', join(pkg, 'dist', 'bundle')], { stdio: 'pipe' });
  }
  writeFileSync(join(pkg, 'package.json'), packageJson);
  symlinkSync(join(REPO, 'node_modules'), join(pkg, 'node_modules'), 'dir');
}

/** A user's project: node_modules/sftp-wire (the package at `pkg`) and node_modules/ssh2; returns its folder. */
function project(name: string, pkg: string | undefined): string {
  const dir = join(work, `app-${name}`);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  if (pkg) symlinkSync(pkg, join(dir, 'node_modules', 'sftp-wire'), 'dir');
  symlinkSync(join(REPO, 'node_modules', 'ssh2'), join(dir, 'node_modules', 'ssh2'), 'dir');
  return dir;
}

function ourScript(sshd: Sshd): string {
  return `import { readFileSync } from 'node:fs';
import { SftpClient } from 'sftp-wire';
const client = await SftpClient.connect({ host: ${JSON.stringify(sshd.host)}, port: ${sshd.port}, username: ${JSON.stringify(sshd.username)}, privateKey: readFileSync(${JSON.stringify(sshd.privateKeyPath)}) });
await client.end();
`;
}

function ssh2Script(sshd: Sshd): string {
  return `import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
const conn = new ssh2.Client();
conn.on('error', (err) => { console.error(err); process.exit(1); });
conn.on('ready', () => conn.sftp((err, sftp) => { if (err) throw err; sftp.end(); conn.end(); }));
conn.connect({ host: ${JSON.stringify(sshd.host)}, port: ${sshd.port}, username: ${JSON.stringify(sshd.username)}, privateKey: readFileSync(${JSON.stringify(sshd.privateKeyPath)}) });
`;
}

/** How many module files (ES modules and CommonJS) a process that only runs `importLine` in `dir` loads. */
function modulesLoaded(dir: string, importLine: string): number {
  const log = join(dir, 'loaded.txt');
  const recorder = writeLoadRecorder(dir);
  writeFileSync(join(dir, 'import-only.mjs'), `${importLine}\n`);
  rmSync(log, { force: true });
  execFileSync(process.execPath, ['--import', recorder, 'import-only.mjs'], {
    cwd: dir,
    stdio: 'pipe',
    env: { ...process.env, LOADS_FILE: log },
  });
  const loaded = readFileSync(log, 'utf8')
    .split('\n')
    .filter((url) => url && !url.endsWith('/import-only.mjs'));
  return new Set(loaded).size;
}

interface Contender {
  name: string;
  dir: string;
  script: string;
  modules: number;
  wall: number[];
  cpu: number[];
}

function runOnce(c: Contender): Promise<{ wall: number; cpu: number }> {
  const timedCmd = withCpuTime(work, [process.execPath, c.script]);
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(timedCmd.cmd[0]!, timedCmd.cmd.slice(1), { cwd: c.dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(kill);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${c.name} exited with ${code}: ${stderr.trim()}`));
      resolve({ wall, cpu: timedCmd.cpu() });
    });
  });
}

const sshd = await startSshd();
try {
  const builds: Array<{ name: string; pkg: string | undefined }> = [{ name: 'ssh2', pkg: undefined }];
  const here = join(work, 'pkg-working-tree');
  buildPackage(REPO, here);
  builds.push({ name: 'sftp-wire', pkg: here });
  if (values.baseline) {
    const pkg = join(work, 'pkg-baseline');
    buildPackage(checkoutPackage(values.baseline), pkg);
    builds.push({ name: `sftp-wire@${values.baseline}`, pkg });
  }
  const contenders: Contender[] = builds.map(({ name, pkg }) => {
    const dir = project(name.replace(/[^\w.-]/g, '_'), pkg);
    const script = join(dir, 'connect.mjs');
    writeFileSync(script, pkg ? ourScript(sshd) : ssh2Script(sshd));
    const modules = modulesLoaded(dir, pkg ? "import { SftpClient } from 'sftp-wire';" : "import ssh2 from 'ssh2';");
    return { name, dir, script, modules, wall: [], cpu: [] };
  });
  for (let round = 0; round <= RUNS; round++) {
    for (const c of contenders) {
      const r = await runOnce(c);
      if (round === 0) continue; // warm-up: file cache, sshd
      c.wall.push(r.wall);
      c.cpu.push(r.cpu);
    }
    if (round > 0) process.stderr.write(`\rround ${round}/${RUNS}`);
  }
  process.stderr.write('\n');
  const base = contenders[0]!;
  const ratio = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i]!)).toFixed(2);
  const rows = contenders.map((c) => [
    c.name,
    String(c.modules),
    (median(c.wall) * 1000).toFixed(0),
    ratio(c.wall, base.wall),
    (median(c.cpu) * 1000).toFixed(0),
    ratio(c.cpu, base.cpu),
  ]);
  process.stdout.write(
    `connect, open SFTP, end: ${RUNS} rounds against OpenSSH's sshd on ${sshd.host} (whole processes, medians)\n`,
  );
  process.stdout.write(
    renderTable(['client', 'modules at import', 'wall ms', 'wall / ssh2', 'cpu ms', 'cpu / ssh2'], rows),
  );
} finally {
  await sshd.stop();
  rmSync(work, { recursive: true, force: true });
}
