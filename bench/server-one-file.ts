// Server throughput on one large file: our SftpServer (`sftp-wire serve --stdio`, compiled so node
// starts in milliseconds) against OpenSSH's sftp-server, both on a child's stdin/stdout, driven by
// OpenSSH's `sftp -D` and by our own SftpClient. Every contender runs once per round, interleaved;
// the table shows the median and best of the rounds.
//   node --import tsx bench/server-one-file.ts [--size-mib 256] [--runs 5] [--only REGEX] [--json FILE]
// The `sftp -D` rows time the whole sftp process (server start included); the `startup` column is
// the median time of a session that only runs `pwd`, and `net` is the throughput with it taken off.
import { execFileSync, spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SftpClient } from '../src/client/client.js';
import { spawnSftpServer, joinStreams } from '../test/support/openssh.js';

const SFTP = '/usr/bin/sftp';
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';
const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});
const SIZE = Math.round(Number(values['size-mib']) * 1024 * 1024);
const RUNS = Number(values.runs);
const only = values.only ? new RegExp(values.only) : undefined;

const work = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-server-'));
const root = join(work, 'root');
const build = join(work, 'build');
const SRC = 'src.bin';

function makeSource(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (let done = 0; done < SIZE; done += block.length) {
    randomFillSync(block);
    writeSync(fd, block, 0, Math.min(block.length, SIZE - done));
  }
  closeSync(fd);
}

/** Byte-compare two files (outside the timing). */
function sameBytes(a: string, b: string): boolean {
  if (statSync(a).size !== statSync(b).size) return false;
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  const ba = Buffer.allocUnsafe(8 << 20);
  const bb = Buffer.allocUnsafe(8 << 20);
  try {
    for (;;) {
      const na = readSync(fa, ba, 0, ba.length, null);
      const nb = readSync(fb, bb, 0, bb.length, null);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** Compile the server side once, so that `sftp -D` does not pay tsx's start-up on every session. */
function compileServer(): string[] {
  const tsc = join(REPO, 'node_modules/typescript/bin/tsc');
  const args = [tsc, join(REPO, 'src/cli/main.ts'), '--outDir', build, '--rootDir', join(REPO, 'src'), '--target', 'ES2022',
    '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--esModuleInterop', '--skipLibCheck', '--types', 'node'];
  try {
    execFileSync(process.execPath, args, { cwd: REPO, stdio: 'pipe' });
  } catch {
    // type errors elsewhere still emit JavaScript; a missing output below is the real failure
  }
  // the compiled files import ssh2 etc. from the repository's node_modules
  writeFileSync(join(build, 'package.json'), '{"type":"module"}\n');
  execFileSync('ln', ['-sfn', join(REPO, 'node_modules'), join(work, 'node_modules')]);
  const main = join(build, 'cli/main.js');
  statSync(main);
  return [process.execPath, main, 'serve', '--stdio', '--root', root];
}

function sftpBatch(server: string, commands: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(SFTP, ['-q', '-D', server, '-b', '-'], { cwd: work, stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdin!.end(commands.join('\n') + '\n');
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolveRun() : reject(new Error(`sftp -D ${server}: exit ${code}: ${err.trim()}`))));
  });
}

interface Contender {
  name: string;
  /** Runs once; returns seconds. */
  run(): Promise<number>;
  /** The file that must equal the source afterwards. */
  output: string;
  /** Start-up seconds to take off (sftp -D rows). */
  startup?: number;
}

function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  return fn().then(() => Number(process.hrtime.bigint() - t0) / 1e9);
}

async function startupOf(server: string): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < 5; i++) t.push(await timed(() => sftpBatch(server, ['pwd'])));
  return median(t);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** One client session per run, against a freshly spawned server child; only the transfer is timed. */
function clientRun(spawnServer: () => { stream: import('node:stream').Duplex; close(): Promise<void> }, op: 'put' | 'get'): () => Promise<number> {
  return async () => {
    const srv = spawnServer();
    const client = await SftpClient.fromStream(srv.stream);
    try {
      return await timed(() =>
        op === 'put' ? client.put(join(root, SRC), 'up-client.bin') : client.get(SRC, join(work, 'down-client.bin')),
      );
    } finally {
      await client.end();
      await srv.close();
    }
  };
}

function spawnOurs(cmd: string[]): { stream: import('node:stream').Duplex; close(): Promise<void> } {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    stream: joinStreams(child.stdin!, child.stdout!),
    async close() {
      child.stdin!.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

async function main(): Promise<void> {
  execFileSync('mkdir', ['-p', root]);
  makeSource(join(root, SRC));
  const ours = compileServer();
  const oursCmd = ours.join(' ');
  if (/\s/.test(work)) throw new Error('temporary directory with spaces');
  const up = (name: string): string => join(root, name);
  const down = (name: string): string => join(work, name);

  const contenders: Contender[] = [
    { name: 'put  sftp -D  -> openssh sftp-server', output: up('up-openssh.bin'),
      run: () => timed(() => sftpBatch(SFTP_SERVER, [`put root/${SRC} root/up-openssh.bin`])) },
    { name: 'put  sftp -D  -> sftp-wire serve', output: up('up-ours.bin'),
      run: () => timed(() => sftpBatch(oursCmd, [`put root/${SRC} /up-ours.bin`])) },
    { name: 'get  sftp -D  <- openssh sftp-server', output: down('down-openssh.bin'),
      run: () => timed(() => sftpBatch(SFTP_SERVER, [`get root/${SRC} down-openssh.bin`])) },
    { name: 'get  sftp -D  <- sftp-wire serve', output: down('down-ours.bin'),
      run: () => timed(() => sftpBatch(oursCmd, [`get /${SRC} down-ours.bin`])) },
    { name: 'put  SftpClient -> openssh sftp-server', output: up('up-client.bin'),
      run: clientRun(() => spawnSftpServer({ cwd: root }), 'put') },
    { name: 'put  SftpClient -> sftp-wire serve', output: up('up-client.bin'),
      run: clientRun(() => spawnOurs(ours), 'put') },
    { name: 'get  SftpClient <- openssh sftp-server', output: down('down-client.bin'),
      run: clientRun(() => spawnSftpServer({ cwd: root }), 'get') },
    { name: 'get  SftpClient <- sftp-wire serve', output: down('down-client.bin'),
      run: clientRun(() => spawnOurs(ours), 'get') },
  ].filter((c) => !only || only.test(c.name));

  const startup = new Map<string, number>();
  for (const c of contenders) {
    if (!c.name.includes('sftp -D')) continue;
    const server = c.name.includes('openssh') ? SFTP_SERVER : oursCmd;
    if (!startup.has(server)) startup.set(server, await startupOf(server));
    c.startup = startup.get(server);
  }

  const secs = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const c of contenders) {
      rmSync(c.output, { force: true });
      secs.get(c.name)!.push(await c.run());
      if (i === 0 && !sameBytes(join(root, SRC), c.output)) throw new Error(`${c.name}: ${c.output} differs from the source`);
      if (statSync(c.output).size !== SIZE) throw new Error(`${c.name}: ${c.output} has the wrong size`);
    }
  }

  const mib = SIZE / 1024 / 1024;
  const rows = contenders.map((c) => {
    const s = secs.get(c.name)!;
    const med = median(s);
    const best = Math.min(...s);
    return {
      name: c.name,
      median: mib / med,
      best: mib / best,
      startupMs: c.startup !== undefined ? c.startup * 1000 : undefined,
      net: c.startup !== undefined ? mib / Math.max(1e-6, med - c.startup) : undefined,
    };
  });
  process.stdout.write(`one file of ${mib} MiB, ${RUNS} runs, MiB/s (node ${process.version})\n`);
  process.stdout.write(`${'contender'.padEnd(40)} ${'median'.padStart(8)} ${'best'.padStart(8)} ${'startup'.padStart(9)} ${'net'.padStart(8)}\n`);
  for (const r of rows) {
    const su = r.startupMs !== undefined ? `${r.startupMs.toFixed(0)} ms` : '';
    const net = r.net !== undefined ? r.net.toFixed(1) : '';
    process.stdout.write(`${r.name.padEnd(40)} ${r.median.toFixed(1).padStart(8)} ${r.best.toFixed(1).padStart(8)} ${su.padStart(9)} ${net.padStart(8)}\n`);
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ sizeMiB: mib, runs: RUNS, rows }, null, 2) + '\n');
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`server-one-file: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
