// Server cost per small file: the SMALL tree (2,000 files of 4 KiB in 20 directories) uploaded by
// putTree and downloaded by getTree, with our SftpClient, to and from our SftpServer (`sftp-wire serve
// --stdio`, compiled so node starts in milliseconds) and OpenSSH's sftp-server, both on a child's
// stdin/stdout (no SSH: only the server's own work). Each direction is one session against a freshly
// spawned server; every contender runs once per round, interleaved; the table shows medians.
//   node --import tsx bench/server-small.ts [--files 2000] [--dirs 20] [--size 4096] [--runs 5]
//                                            [--only REGEX] [--baseline GIT-REF] [--cpu-prof DIR]
// --baseline adds rows for the server as of GIT-REF (its src/ compiled the same way), interleaved with
// the working tree's. --cpu-prof DIR runs our server (working tree) under `node --cpu-prof`.
// Columns: `files/s` = files per second of the transfer (wall clock), `cpu s` = the server process's
// user+system CPU seconds for the whole session (median, from /usr/bin/time), `idle cpu` = the same for
// a session that only connects (start-up and exit), `µs/file` = (cpu - idle cpu) per file.
// SFTP_WIRE_BENCH_CPU=perf (or perf-user: user time only) takes the CPU from `perf stat` in
// nanoseconds rather than GNU time's hundredths (see withCpuTime).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getTree, putTree } from '../src/client/tree/index.js';
import { generateSmallTree, verifyTree } from './lib/dataset.js';
import { SFTP_SERVER_PATH as SFTP_SERVER } from './lib/peers/openssh.js';
import { timed, withCpuTime } from './lib/process-timing.js';
import { median } from './lib/stats.js';
import { checkoutSrc, compileServer, linkNodeModules, REPO, withClientOnChild } from './lib/stdio-servers.js';
import { renderTable } from './lib/text-table.js';

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '2000' },
    dirs: { type: 'string', default: '20' },
    size: { type: 'string', default: '4096' },
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    baseline: { type: 'string' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node --import tsx bench/server-small.ts [--files N] [--dirs N] [--size BYTES] [--runs N] [--only REGEX] [--baseline GIT-REF] [--cpu-prof DIR]\n',
  );
  process.exit(0);
}
const FILES = Number(values.files);
const DIRS = Number(values.dirs);
const SIZE = Number(values.size);
const RUNS = Number(values.runs);
const only = values.only ? new RegExp(values.only) : undefined;
const SEED = 20240601;

const work = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-small-'));
const root = join(work, 'root');
const local = join(work, 'local');

interface Sample {
  up: { secs: number; cpu: number };
  down: { secs: number; cpu: number };
  idle: number;
}

async function main(): Promise<void> {
  if (/\s/.test(work)) throw new Error('temporary directory with spaces');
  const files = generateSmallTree(join(local, 'src'), SEED, { files: FILES, dirs: DIRS, size: SIZE });
  linkNodeModules(work);
  const profFlags = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])] : [];
  const servers: Array<{ label: string; cmd: string[]; base: string }> = [
    { label: 'openssh sftp-server', cmd: ['sh', '-c', `cd ${root} && exec ${SFTP_SERVER}`], base: '' },
    {
      label: 'sftp-wire serve',
      cmd: compileServer(join(REPO, 'src'), join(work, 'build'), root, profFlags),
      base: '/',
    },
  ];
  if (values.baseline) {
    servers.push({
      label: `sftp-wire@${values.baseline}`,
      cmd: compileServer(checkoutSrc(values.baseline, work), join(work, 'build-base'), root),
      base: '/',
    });
  }
  const contenders = servers.filter((s) => !only || only.test(s.label));
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.label, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const s of contenders) {
      rmSync(root, { recursive: true, force: true });
      rmSync(join(local, 'back'), { recursive: true, force: true });
      mkdirSync(root, { recursive: true });
      const remote = `${s.base}up`;
      const idle = withCpuTime(work, s.cmd);
      await withClientOnChild(idle.cmd, root, async () => undefined);
      const up = withCpuTime(work, s.cmd);
      const upSecs = await withClientOnChild(up.cmd, root, (client) =>
        timed(() => putTree(client, join(local, 'src'), remote)),
      );
      const down = withCpuTime(work, s.cmd);
      const downSecs = await withClientOnChild(down.cmd, root, (client) =>
        timed(() => getTree(client, remote, join(local, 'back'))),
      );
      verifyTree(join(root, 'up'), files);
      verifyTree(join(local, 'back'), files);
      samples.get(s.label)!.push({
        up: { secs: upSecs, cpu: up.cpu() },
        down: { secs: downSecs, cpu: down.cpu() },
        idle: idle.cpu(),
      });
    }
  }
  process.stdout.write(
    `SMALL: ${FILES} files of ${SIZE} bytes in ${DIRS} directories, ${RUNS} runs, medians (node ${process.version})\n`,
  );
  const rows: string[][] = [];
  for (const s of contenders) {
    const xs = samples.get(s.label)!;
    const idle = median(xs.map((x) => x.idle));
    for (const dir of ['up', 'down'] as const) {
      const secs = median(xs.map((x) => x[dir].secs));
      const cpu = median(xs.map((x) => x[dir].cpu));
      rows.push([
        s.label,
        dir,
        (FILES / secs).toFixed(0),
        cpu.toFixed(3),
        idle.toFixed(3),
        (((cpu - idle) / FILES) * 1e6).toFixed(1),
      ]);
    }
  }
  process.stdout.write(renderTable(['server', 'direction', 'files/s', 'cpu s', 'idle cpu', 'µs/file'], rows));
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`server-small: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
