// Server throughput on one large file: our SftpServer (`sftp-wire serve --stdio`, compiled so node
// starts in milliseconds) against OpenSSH's sftp-server, both on a child's stdin/stdout, driven by
// OpenSSH's `sftp -D` and by our own SftpClient. Every contender runs once per round, interleaved;
// the table shows the median and best of the rounds.
//   node --import tsx bench/server-one-file.ts [--size-mib 256] [--runs 5] [--only REGEX] [--json FILE]
//                                              [--baseline GIT-REF]
// --baseline adds rows for the server as of GIT-REF (its src/ compiled the same way), interleaved with
// the working tree's, so that a change is measured against what it replaces in the same conditions.
// The `sftp -D` rows time the whole sftp process (server start included). Each of their runs is
// paired with a session that only runs `pwd`, just before it: `startup` is the median of those, and
// `net` the median over runs of the throughput with the run's own `pwd` time taken off.
// `cpu` is the server process's user+system CPU seconds per run (median, from /usr/bin/time), and
// `cpu/GiB` the same per GiB moved (node's start-up, ~0.1 s, included): on a shared, busy machine
// they are steadier than wall-clock throughput. `idle` is the CPU of a session that moves nothing,
// run with each transfer (the `pwd` session of sftp -D rows; for SftpClient rows a session that only
// connects and ends): the server's start-up and handshake. `net/GiB` is the median over runs of the
// transfer's CPU less its idle session's, per GiB: what the bytes themselves cost.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { verifyFile, writeSeededFile } from './lib/dataset.js';
import { SFTP_PATH as SFTP, SFTP_SERVER_PATH as SFTP_SERVER } from './lib/peers/openssh.js';
import { timed, withCpuTime } from './lib/process-timing.js';
import { median } from './lib/stats.js';
import { checkoutSrc, compileServer, linkNodeModules, REPO, withClientOnChild } from './lib/stdio-servers.js';
import { renderTable } from './lib/text-table.js';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    json: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const SIZE = Math.round(Number(values['size-mib']) * 1024 * 1024);
const RUNS = Number(values.runs);
const only = values.only ? new RegExp(values.only) : undefined;

const work = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-server-'));
const root = join(work, 'root');
const SRC = 'src.bin';
const SEED = 20240601;

function sftpBatch(server: string[], commands: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(SFTP, ['-q', '-D', server.join(' '), '-b', '-'], {
      cwd: work,
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdin!.end(commands.join('\n') + '\n');
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolveRun() : reject(new Error(`sftp -D ${server}: exit ${code}: ${err.trim()}`)),
    );
  });
}

interface Sample {
  secs: number;
  cpu: number;
  /** CPU seconds of the paired session that moves nothing (start-up and handshake). */
  idleCpu: number;
  /** sftp -D rows: the paired `pwd` session's seconds. */
  startup?: number;
}

interface Contender {
  name: string;
  /** Runs once. */
  run(): Promise<Sample>;
  /** The file that must equal the source afterwards. */
  output: string;
  /** The server command (for the start-up measure of sftp -D rows). */
  server: string[];
  direct: boolean;
}

function direct(server: string[], command: string): () => Promise<Sample> {
  return async () => {
    const idle = withCpuTime(work, server);
    const startup = await timed(() => sftpBatch(idle.cmd, ['pwd']));
    const idleCpu = idle.cpu();
    const t = withCpuTime(work, server);
    const secs = await timed(() => sftpBatch(t.cmd, [command]));
    return { secs, cpu: t.cpu(), startup, idleCpu };
  };
}

/** One client session per run, against a freshly spawned server child; only the transfer is timed. */
function viaClient(server: string[], op: 'put' | 'get', outName: string): () => Promise<Sample> {
  return async () => {
    const idle = withCpuTime(work, server);
    await withClientOnChild(idle.cmd, root, async () => undefined);
    const idleCpu = idle.cpu();
    const t = withCpuTime(work, server);
    const secs = await withClientOnChild(t.cmd, root, (client) =>
      timed(() => (op === 'put' ? client.put(join(root, SRC), outName) : client.get(SRC, join(work, outName)))),
    );
    return { secs, cpu: t.cpu(), idleCpu };
  };
}

async function main(): Promise<void> {
  if (/\s/.test(work)) throw new Error('temporary directory with spaces');
  mkdirSync(root, { recursive: true });
  // Seeded bytes (the suite's LARGE stream); the copies are checked against its digest.
  const sha256 = writeSeededFile(join(root, SRC), SEED, SIZE);
  linkNodeModules(work);
  // sftp-server serves its working directory (for sftp -D that is sftp's, `work`); ours serve `root`.
  const servers: Array<{ label: string; cmd: string[]; remote: string; asClient: string[] }> = [
    {
      label: 'openssh sftp-server',
      cmd: [SFTP_SERVER],
      remote: 'root/',
      asClient: ['sh', '-c', `cd ${root} && exec ${SFTP_SERVER}`],
    },
  ];
  const ours = compileServer(join(REPO, 'src'), join(work, 'build'), root);
  servers.push({ label: 'sftp-wire serve', cmd: ours, remote: '/', asClient: ours });
  if (values.baseline) {
    const base = compileServer(checkoutSrc(values.baseline, work), join(work, 'build-base'), root);
    servers.push({ label: `sftp-wire@${values.baseline}`, cmd: base, remote: '/', asClient: base });
  }
  const all: Contender[] = [];
  let n = 0;
  for (const op of ['put', 'get'] as const) {
    for (const s of servers) {
      const out = op === 'put' ? join(root, `up-${n++}.bin`) : join(work, `down-${n++}.bin`);
      const remoteOut = `${s.remote}${basename(out)}`;
      all.push({
        name: `${op}  sftp -D  ${op === 'put' ? '->' : '<-'} ${s.label}`,
        output: out,
        server: s.cmd,
        direct: true,
        run: direct(s.cmd, op === 'put' ? `put root/${SRC} ${remoteOut}` : `get ${s.remote}${SRC} ${basename(out)}`),
      });
    }
    for (const s of servers) {
      const out = op === 'put' ? join(root, `up-${n++}.bin`) : join(work, `down-${n++}.bin`);
      all.push({
        name: `${op}  SftpClient ${op === 'put' ? '->' : '<-'} ${s.label}`,
        output: out,
        server: s.asClient,
        direct: false,
        run: viaClient(s.asClient, op, basename(out)),
      });
    }
  }
  const contenders = all.filter((c) => !only || only.test(c.name));

  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const c of contenders) {
      rmSync(c.output, { force: true });
      samples.get(c.name)!.push(await c.run());
      if (i === 0)
        await verifyFile(c.output, sha256, SIZE).catch((err: Error) => {
          throw new Error(`${c.name}: ${err.message}`);
        });
      if (statSync(c.output).size !== SIZE) throw new Error(`${c.name}: ${c.output} has the wrong size`);
      // gone before the next contender runs: copies left behind fill the page cache and get written
      // back to disk in the middle of later runs, which charges their CPU with reclaim and writeback
      rmSync(c.output, { force: true });
    }
  }

  const mib = SIZE / 1024 / 1024;
  const rows = contenders.map((c) => {
    const s = samples.get(c.name)!;
    const med = median(s.map((x) => x.secs));
    const best = Math.min(...s.map((x) => x.secs));
    return {
      name: c.name,
      median: mib / med,
      best: mib / best,
      startupMs: c.direct ? median(s.map((x) => x.startup!)) * 1000 : undefined,
      net: c.direct ? median(s.map((x) => mib / Math.max(1e-3, x.secs - x.startup!))) : undefined,
      serverCpuSecs: median(s.map((x) => x.cpu)),
      serverCpuSecsPerGiB: median(s.map((x) => x.cpu)) / (mib / 1024),
      idleCpuSecs: median(s.map((x) => x.idleCpu)),
      netCpuSecsPerGiB: median(s.map((x) => x.cpu - x.idleCpu)) / (mib / 1024),
    };
  });
  process.stdout.write(
    `one file of ${mib} MiB, ${RUNS} runs; throughput in MiB/s, server CPU in seconds and seconds per GiB (node ${process.version})\n`,
  );
  process.stdout.write(
    renderTable(
      ['contender', 'median', 'best', 'startup', 'net', 'cpu', 'cpu/GiB', 'idle', 'net/GiB'],
      rows.map((r) => [
        r.name,
        r.median.toFixed(1),
        r.best.toFixed(1),
        r.startupMs !== undefined ? `${r.startupMs.toFixed(0)} ms` : '',
        r.net !== undefined ? r.net.toFixed(1) : '',
        r.serverCpuSecs.toFixed(2),
        r.serverCpuSecsPerGiB.toFixed(2),
        r.idleCpuSecs.toFixed(2),
        r.netCpuSecsPerGiB.toFixed(2),
      ]),
    ),
  );
  if (values.json) writeFileSync(values.json, JSON.stringify({ sizeMiB: mib, runs: RUNS, rows }, null, 2) + '\n');
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`server-one-file: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
