/**
 * Go's pkg/sftp client test suite (Debian's golang-github-pkg-sftp-dev) as a test peer: compiled once
 * per run in GOPATH mode, offline, into a temporary folder, then run with `-integration -sftp SERVER`,
 * which starts SERVER for each client test and speaks SFTP to it on its stdin/stdout.
 *
 * Its test files import github.com/stretchr/testify's assert and require: Debian's
 * golang-github-stretchr-testify-dev (pkg/sftp's package does not depend on it).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../../..');
const TSX_LOADER = path.join(REPO, 'node_modules/tsx/dist/esm/index.mjs');
const CLI_MAIN = path.join(REPO, 'src/cli/main.ts');
/** Debian's Go sources: pkg/sftp and the packages it imports. */
export const GOCODE = '/usr/share/gocode';
export const PKG_SFTP_SOURCES = path.join(GOCODE, 'src/github.com/pkg/sftp');
export const TESTIFY_SOURCES = path.join(GOCODE, 'src/github.com/stretchr/testify/require');

export interface GoSuite {
  /** Run the suite against an sftp-server-like executable; resolves with its whole output. */
  run(server: string, limitMs: number): Promise<SuiteRun>;
  /** A command that runs our server the way the suite runs OpenSSH's (`-e [-R] -l LEVEL`). */
  ourServer: string;
  /** How many times the suite has started our server so far. */
  ourServerStarts(): number;
  cleanup(): void;
}

export interface SuiteRun {
  output: string;
  passed: Set<string>;
  failed: Set<string>;
  /** The run ended without Go's closing line (a panic, a timeout): tests after that point never ran. */
  incomplete: boolean;
}

/** Test names by result in `go test -v` output; subtests come as Parent/child. */
export function parseGoTestOutput(output: string): { passed: Set<string>; failed: Set<string>; skipped: Set<string> } {
  const sets = { PASS: new Set<string>(), FAIL: new Set<string>(), SKIP: new Set<string>() };
  // not anchored at the start of a line: a server's stderr (the suite's stdout) may end without one
  for (const m of output.matchAll(/--- (PASS|FAIL|SKIP): (\S+) \(\d/g)) sets[m[1] as keyof typeof sets].add(m[2]!);
  return { passed: sets.PASS, failed: sets.FAIL, skipped: sets.SKIP };
}

/** Why the suite cannot be built here, or undefined: a missing Go or missing sources is said plainly. */
export function suiteProblem(): string | undefined {
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status !== 0)
    return '`go` is not installed: install golang-go (.ci/run does)';
  if (!existsSync(path.join(PKG_SFTP_SOURCES, 'client_integration_test.go'))) {
    return `${PKG_SFTP_SOURCES} is missing: install golang-github-pkg-sftp-dev (.ci/run does)`;
  }
  if (!existsSync(TESTIFY_SOURCES)) {
    return `${TESTIFY_SOURCES} is missing: install golang-github-stretchr-testify-dev (.ci/run does)`;
  }
  return undefined;
}

/**
 * Copy the package into a temporary GOPATH (its tests read files beside them, and run where they
 * are), compile its test binary there with Debian's sources, write the
 * wrapper that starts our server.
 */
export async function buildGoSuite(limitMs: number): Promise<GoSuite> {
  const problem = suiteProblem();
  if (problem) throw new Error(problem);
  const dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-pkg-sftp-'));
  const pkgDir = path.join(dir, 'gopath/src/github.com/pkg/sftp');
  mkdirSync(path.dirname(pkgDir), { recursive: true });
  cpSync(PKG_SFTP_SOURCES, pkgDir, { recursive: true });
  const binary = path.join(dir, 'sftp.test');
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: [path.join(dir, 'gopath'), GOCODE].join(':'),
    GOCACHE: path.join(dir, 'gocache'),
    GOFLAGS: '',
    GOPROXY: 'off',
    CGO_ENABLED: '0',
  };
  const build = await runChild(
    'go',
    ['test', '-c', '-o', binary, 'github.com/pkg/sftp'],
    { cwd: pkgDir, env },
    limitMs,
  );
  if (build.code !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `go test -c failed (exit ${build.code}${build.timedOut ? ', timed out' : ''}):\n${build.output.slice(-4000)}`,
    );
  }
  const starts = path.join(dir, 'our-server-starts');
  writeFileSync(starts, '');
  const ourServer = path.join(dir, 'sftp-wire-server');
  const machineTmp = tmpdir();
  for (const p of [TSX_LOADER, CLI_MAIN, starts, process.execPath, machineTmp])
    if (/[\s'"$`\\]/.test(p)) throw new Error(`cannot quote path ${p}`);
  // The suite passes OpenSSH's flags: -e (log to stderr), -l LEVEL, -R (read-only). Ours serves the
  // whole file system from the working directory with --stdio, as sftp-server does.
  writeFileSync(
    ourServer,
    [
      '#!/bin/sh',
      `echo started >> ${starts}`,
      'ro=',
      'while [ $# -gt 0 ]; do case $1 in -R) ro=--read-only;; -l) shift;; esac; shift; done',
      // tsx keeps its compile cache in the machine's temporary folder, not in the run's own
      `TMPDIR=${machineTmp}; export TMPDIR`,
      `exec ${process.execPath} --import ${TSX_LOADER} ${CLI_MAIN} serve --stdio $ro`,
      '',
    ].join('\n'),
  );
  chmodSync(ourServer, 0o755);
  return {
    ourServer,
    ourServerStarts: () =>
      readFileSync(starts, 'utf8')
        .split('\n')
        .filter((l) => l === 'started').length,
    async run(server, runLimitMs) {
      const seconds = Math.ceil(runLimitMs / 1000);
      // A temporary folder of the run's own: TestClientReadDir lists os.TempDir() three times (the
      // file system, the server under test, Go's server) and compares sizes and times, so a shared
      // /tmp that other processes write to would fail it at random.
      // It also fails on an empty one (reading it gives EOF): a file, a directory and a symlink are
      // there to be listed.
      const runTmp = mkdtempSync(path.join(dir, 'tmp-'));
      writeFileSync(path.join(runTmp, 'a-file'), 'seventeen bytes..');
      mkdirSync(path.join(runTmp, 'a-dir'));
      symlinkSync('a-file', path.join(runTmp, 'a-link'));
      const runEnv = { ...env, TMPDIR: runTmp };
      const r = await runChild(
        binary,
        ['-test.v', `-test.timeout=${seconds}s`, '-integration', '-sftp', server],
        { cwd: pkgDir, env: runEnv },
        runLimitMs + 10_000,
      );
      const { passed, failed } = parseGoTestOutput(r.output);
      const closing = /^(PASS|FAIL)$/m.test(r.output.split('\n').slice(-3).join('\n'));
      return { output: r.output, passed, failed, incomplete: r.timedOut || !closing };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

interface ChildRun {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/** A child with stdout and stderr together, killed (SIGKILL, its whole process group) after limitMs. */
function runChild(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
  limitMs: number,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, limitMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString('utf8'), timedOut });
    });
  });
}

/** What a test printed, from its `=== RUN` line to its result line (at most `max` characters). */
export function testExcerpt(output: string, name: string, max = 1500): string {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l === `=== RUN   ${name}`);
  if (start < 0) return '(it never ran)';
  const end = lines.findIndex(
    (l, i) => i > start && ['PASS', 'FAIL', 'SKIP'].some((r) => l.trimStart().startsWith(`--- ${r}: ${name} (`)),
  );
  const text = lines.slice(start, end < 0 ? start + 40 : end + 1).join('\n');
  return text.length > max ? text.slice(0, max) + '...' : text;
}
