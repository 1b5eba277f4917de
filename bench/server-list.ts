// Server listing speed: one directory of many entries listed by our SftpClient (scandir) from our
// SftpServer (`sftp-wire serve --stdio`, compiled so node starts in milliseconds) and from OpenSSH's
// sftp-server, both on a child's stdin/stdout. Every contender runs once per round, interleaved; the
// table shows medians over the rounds.
//   node --import tsx bench/server-list.ts [--entries 100000] [--runs 5] [--only REGEX] [--json FILE]
//                                           [--baseline GIT-REF] [--openssh-client] [--cpu-prof DIR]
// --baseline adds a row for the server as of GIT-REF (its src/ compiled the same way), interleaved with
// the working tree's, so a change is measured against what it replaces in the same conditions.
// --cpu-prof DIR runs our server (working tree) under `node --cpu-prof`, one .cpuprofile per session in DIR.
// --openssh-client adds rows where OpenSSH's `sftp -D SERVER` runs `ls -l` (whole process timed).
// Columns: `first` = milliseconds to the first entry, `total` = seconds for the whole listing,
// `cpu` = the server process's user+system CPU seconds (median, from /usr/bin/time; node's start-up
// is ~0.09 s of ours), `client` = this process's CPU seconds during the listing, `replies` =
// NAME replies per listing. After the runs, the longnames of ours and OpenSSH's are compared
// entry by entry (a mismatch is printed, not hidden).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateMixedListDir } from './lib/dataset.js';
import { SFTP_PATH as SFTP, SFTP_SERVER_PATH as SFTP_SERVER } from './lib/peers/openssh.js';
import { withCpuTime } from './lib/process-timing.js';
import { median } from './lib/stats.js';
import { checkoutSrc, compileServer, linkNodeModules, REPO, withClientOnChild } from './lib/stdio-servers.js';
import { renderTable } from './lib/text-table.js';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
    json: { type: 'string' },
    baseline: { type: 'string' },
    'openssh-client': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: node --import tsx bench/server-list.ts [--entries N] [--runs N] [--only REGEX] [--json FILE] [--baseline GIT-REF] [--openssh-client] [--cpu-prof DIR]\n',
  );
  process.exit(0);
}
const ENTRIES = Number(values.entries);
const RUNS = Number(values.runs);
const only = values.only ? new RegExp(values.only) : undefined;

const work = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-list-'));
const root = join(work, 'root');
const DIR = 'big';

interface Sample {
  secs: number;
  firstMs: number;
  cpu: number;
  /** CPU seconds of this process (the client) during the listing. */
  clientCpu: number;
  replies: number;
}

interface Contender {
  name: string;
  run(): Promise<Sample>;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/** Longnames by filename of the last listing per server (for the comparison at the end). */
const longnames = new Map<string, Map<string, string>>();

/** One client session per run, against a freshly spawned server child; only the listing is timed. */
function viaClient(label: string, server: string[], remote: string): () => Promise<Sample> {
  return async () => {
    const t = withCpuTime(work, server);
    let count = 0;
    let replies = 0;
    let firstMs = 0;
    let secs = 0;
    let clientCpu = 0;
    const names = new Map<string, string>();
    await withClientOnChild(t.cmd, root, async (client) => {
      const t0 = now();
      const c0 = process.cpuUsage();
      // readdir batch by batch, as scandir does, counting replies
      const handle = await client.opendir(remote);
      const inFlight: Array<Promise<unknown>> = [];
      let eof = false;
      const ask = (): void => {
        inFlight.push(client.readdir(handle));
      };
      for (let i = 0; i < 4; i++) ask();
      while (inFlight.length > 0) {
        const batch = (await inFlight.shift()) as Array<{ filename: string; longname: string }> | null;
        if (!batch || batch.length === 0) {
          eof = true;
          continue;
        }
        if (!eof) ask();
        if (count === 0) firstMs = (now() - t0) * 1000;
        replies++;
        count += batch.length;
        for (const e of batch) names.set(e.filename, e.longname);
      }
      await client.close(handle);
      secs = now() - t0;
      const c = process.cpuUsage(c0);
      clientCpu = (c.user + c.system) / 1e6;
    });
    if (names.size !== ENTRIES + 2 || count !== ENTRIES + 2) {
      throw new Error(`${label}: listed ${count} entries (${names.size} distinct), expected ${ENTRIES + 2}`);
    }
    longnames.set(label, names);
    return { secs, firstMs, cpu: t.cpu(), clientCpu, replies };
  };
}

/** OpenSSH's own client: `sftp -D SERVER -b -` running `ls -l DIR`; the whole process is timed. */
function viaOpenSshClient(server: string[], remote: string): () => Promise<Sample> {
  return async () => {
    const t = withCpuTime(work, server);
    const t0 = now();
    let lines = 0;
    await new Promise<void>((resolveRun, reject) => {
      const child = spawn(SFTP, ['-q', '-D', t.cmd.join(' '), '-b', '-'], {
        cwd: root,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let err = '';
      let tail = '';
      child.stdout!.on('data', (d: Buffer) => {
        const s = tail + d.toString('latin1');
        const parts = s.split('\n');
        tail = parts.pop()!;
        lines += parts.length;
      });
      child.stderr!.on('data', (d) => (err += d));
      child.stdin!.end(`ls -l ${remote}\n`);
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolveRun() : reject(new Error(`sftp -D: exit ${code}: ${err.trim()}`)),
      );
    });
    const secs = now() - t0;
    // the batch echo line plus one per entry (sftp hides dot files)
    if (lines < ENTRIES) throw new Error(`sftp ls -l printed ${lines} lines, expected at least ${ENTRIES}`);
    return { secs, firstMs: Number.NaN, cpu: t.cpu(), clientCpu: Number.NaN, replies: Number.NaN };
  };
}

async function main(): Promise<void> {
  if (/\s/.test(work)) throw new Error('temporary directory with spaces');
  process.stdout.write(`creating ${ENTRIES} entries...\n`);
  generateMixedListDir(join(root, DIR), ENTRIES);
  linkNodeModules(work);
  const profFlags = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])] : [];
  const servers: Array<{ label: string; cmd: string[]; remote: string }> = [
    { label: 'openssh sftp-server', cmd: ['sh', '-c', `cd ${root} && exec ${SFTP_SERVER}`], remote: DIR },
    {
      label: 'sftp-wire serve',
      cmd: compileServer(join(REPO, 'src'), join(work, 'build'), root, profFlags),
      remote: `/${DIR}`,
    },
  ];
  if (values.baseline) {
    servers.push({
      label: `sftp-wire@${values.baseline}`,
      cmd: compileServer(checkoutSrc(values.baseline, work), join(work, 'build-base'), root),
      remote: `/${DIR}`,
    });
  }
  const all: Contender[] = servers.map((s) => ({
    name: `SftpClient <- ${s.label}`,
    run: viaClient(s.label, s.cmd, s.remote),
  }));
  if (values['openssh-client']) {
    for (const s of servers) {
      const direct = s.label === 'openssh sftp-server' ? [SFTP_SERVER] : s.cmd;
      all.push({
        name: `sftp ls -l <- ${s.label}`,
        run: viaOpenSshClient(direct, s.label === 'openssh sftp-server' ? `${DIR}` : `/${DIR}`),
      });
    }
  }
  const contenders = all.filter((c) => !only || only.test(c.name));
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const c of contenders) samples.get(c.name)!.push(await c.run());
  }

  const rows = contenders.map((c) => {
    const s = samples.get(c.name)!;
    return {
      name: c.name,
      totalSecs: median(s.map((x) => x.secs)),
      bestSecs: Math.min(...s.map((x) => x.secs)),
      firstMs: median(s.map((x) => x.firstMs)),
      serverCpuSecs: median(s.map((x) => x.cpu)),
      clientCpuSecs: median(s.map((x) => x.clientCpu)),
      replies: median(s.map((x) => x.replies)),
      /** Seconds of each round, in order (for ratios between rows round by round). */
      runSecs: s.map((x) => x.secs),
    };
  });
  process.stdout.write(`one directory of ${ENTRIES} entries, ${RUNS} runs, medians (node ${process.version})\n`);
  const f = (v: number, d: number): string => (Number.isNaN(v) ? '' : v.toFixed(d));
  process.stdout.write(
    renderTable(
      ['contender', 'total s', 'best s', 'first ms', 'cpu s', 'client', 'replies'],
      rows.map((r) => [
        r.name,
        f(r.totalSecs, 3),
        f(r.bestSecs, 3),
        f(r.firstMs, 1),
        f(r.serverCpuSecs, 2),
        f(r.clientCpuSecs, 2),
        f(r.replies, 0),
      ]),
    ),
  );

  const theirs = longnames.get('openssh sftp-server');
  const ours = longnames.get('sftp-wire serve');
  if (theirs && ours) {
    let differ = 0;
    let differInSpacing = 0;
    let example = '';
    const squeeze = (s: string | undefined): string => (s ?? '').replace(/ +/g, ' ');
    for (const [name, l] of ours) {
      if (name === '.' || name === '..') continue; // not the same directories ("." of the served root)
      const t = theirs.get(name);
      if (t === l) continue;
      if (squeeze(t) === squeeze(l)) differInSpacing++;
      else if (differ++ === 0) example = `\n  ours:    ${l}\n  openssh: ${t}`;
    }
    process.stdout.write(
      `longnames vs OpenSSH's: ${differ} differ, ${differInSpacing} differ only in spacing${example}\n`,
    );
  }
  if (values.json) writeFileSync(values.json, JSON.stringify({ entries: ENTRIES, runs: RUNS, rows }, null, 2) + '\n');
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`server-list: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
