// Server latency, one request in flight: what a client that waits for each reply (most interactive
// clients, and every tool that stats or opens one name at a time) feels of the server. Our server
// (`sftp-wire serve --stdio`, compiled so node starts in milliseconds) beside OpenSSH's sftp-server,
// each a child speaking SFTP on its stdin/stdout, both driven by the same thin raw SFTP peer.
//   node --import tsx bench/server-latency.ts [--requests 2000] [--rounds 5] [--only REGEX] [--json FILE]
//                                             [--baseline GIT-REF] [--cpu-prof DIR]
// Operations, each on a file two directories down (`d1/d2/f.bin`, 64 KiB):
//   lstat       LSTAT of the file
//   open+close  OPEN for reading, then CLOSE of the handle (two round trips, counted as one operation)
//   read 1k     READ of 1 KiB at a varying offset through a handle opened once per round
// Each round runs `--requests` of each operation on every server in turn (interleaved, the servers
// stay up for the whole run); the table shows the median microseconds per operation over all rounds,
// the 90th percentile, and the server's CPU microseconds per operation (user+system from
// /proc/PID/stat over the rounds, steadier than wall-clock on a busy machine).
// --baseline adds our server as of GIT-REF (its src/ compiled the same way); --cpu-prof DIR runs our
// server (working tree) under `node --cpu-prof`, its profile written to DIR at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OpenFlags, PacketType as T, StatusCode } from '../src/protocol/index.js';
import { RawPeer, type Reply } from './lib/peers/raw-peer.js';
import { joinStreams, SFTP_SERVER_PATH, requireOpenSsh } from './lib/peers/openssh.js';
import { median, percentile } from './lib/stats.js';
import { checkoutSrc, compileServer, linkNodeModules, REPO } from './lib/stdio-servers.js';
import { renderTable } from './lib/text-table.js';

const USAGE =
  'usage: node --import tsx bench/server-latency.ts [--requests N] [--rounds N] [--only REGEX] [--json FILE] [--baseline GIT-REF] [--cpu-prof DIR]\n';
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    only: { type: 'string' },
    json: { type: 'string' },
    baseline: { type: 'string' },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
if (!(Number.isInteger(REQUESTS) && REQUESTS > 0 && Number.isInteger(ROUNDS) && ROUNDS > 0)) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const only = values.only ? new RegExp(values.only) : undefined;

const FILE = 'd1/d2/f.bin';
const FILE_SIZE = 64 * 1024;
const READ_SIZE = 1024;
/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

const work = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-latency-'));
const root = join(work, 'root');

/** One server child with a raw peer on its stdio. */
class Server {
  readonly peer: RawPeer;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private nextId = 1;

  constructor(
    readonly label: string,
    cmd: string[],
  ) {
    this.child = spawn(cmd[0]!, cmd.slice(1), { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    this.peer = new RawPeer(joinStreams(this.child.stdin!, this.child.stdout!), undefined, { strict: true });
  }

  async init(): Promise<void> {
    const v = await this.peer.init();
    if (v?.type !== T.VERSION) throw new Error(`${this.label}: no VERSION`);
  }

  /** The server's user+system CPU seconds so far. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after "pid (comm) ": state is field 3 (index 0 here); utime 14 and stime 15
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  }

  async request(p: DistributiveOmit<Parameters<RawPeer['send']>[0], 'id'>): Promise<Reply> {
    const id = this.nextId++;
    const r = await this.peer.request({ ...p, id } as Parameters<RawPeer['request']>[0]);
    if (!r) throw new Error(`${this.label}: the server ended`);
    return r;
  }

  async handle(path: string): Promise<Buffer> {
    const r = await this.request({ type: T.OPEN, path, pflags: OpenFlags.READ, attrs: {} });
    if (r.type !== T.HANDLE) throw new Error(`${this.label}: OPEN ${path}: ${describe(r)}`);
    return r.handle;
  }

  async close(handle: Buffer): Promise<void> {
    const r = await this.request({ type: T.CLOSE, handle });
    if (r.type !== T.STATUS || r.code !== StatusCode.OK) throw new Error(`${this.label}: CLOSE: ${describe(r)}`);
  }

  async end(): Promise<void> {
    this.child.stdin!.end();
    const k = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(k);
  }
}

type DistributiveOmit<U, K extends PropertyKey> = U extends unknown ? Omit<U, K> : never;

function describe(r: Reply): string {
  return r.type === T.STATUS ? `status ${r.code} ${r.message}` : `packet type ${r.type}`;
}

interface Operation {
  name: string;
  /** Runs `n` operations one after another; returns each one's microseconds. */
  run(s: Server, n: number): Promise<number[]>;
}

function micros(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1000;
}

const OPERATIONS: Operation[] = [
  {
    name: 'lstat',
    async run(s, n) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        const r = await s.request({ type: T.LSTAT, path: FILE });
        out.push(micros(t0));
        if (r.type !== T.ATTRS || r.attrs.size !== FILE_SIZE) throw new Error(`${s.label}: LSTAT: ${describe(r)}`);
      }
      return out;
    },
  },
  {
    name: 'open+close',
    async run(s, n) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = process.hrtime.bigint();
        await s.close(await s.handle(FILE));
        out.push(micros(t0));
      }
      return out;
    },
  },
  {
    name: 'read 1k',
    async run(s, n) {
      const out: number[] = [];
      const h = await s.handle(FILE);
      for (let i = 0; i < n; i++) {
        const offset = (i * READ_SIZE) % FILE_SIZE;
        const t0 = process.hrtime.bigint();
        const r = await s.request({ type: T.READ, handle: h, offset, length: READ_SIZE });
        out.push(micros(t0));
        if (r.type !== T.DATA || r.data.length !== READ_SIZE) throw new Error(`${s.label}: READ: ${describe(r)}`);
      }
      await s.close(h);
      return out;
    },
  },
];

async function main(): Promise<void> {
  requireOpenSsh(SFTP_SERVER_PATH);
  mkdirSync(join(root, 'd1/d2'), { recursive: true });
  const data = Buffer.alloc(FILE_SIZE);
  for (let i = 0; i < FILE_SIZE; i++) data[i] = (i * 131 + 7) & 0xff;
  writeFileSync(join(root, FILE), data);
  linkNodeModules(work);

  const profFlags = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', resolve(values['cpu-prof'])] : [];
  // sftp-server serves its working directory (root); ours serve root as "/": the relative path is the same file.
  const commands: Array<{ label: string; cmd: string[] }> = [{ label: 'openssh sftp-server', cmd: [SFTP_SERVER_PATH] }];
  commands.push({
    label: 'sftp-wire serve',
    cmd: compileServer(join(REPO, 'src'), join(work, 'build'), root, profFlags),
  });
  if (values.baseline) {
    const src = checkoutSrc(values.baseline, work);
    commands.push({ label: `sftp-wire@${values.baseline}`, cmd: compileServer(src, join(work, 'build-base'), root) });
  }
  const servers = commands.map((c) => new Server(c.label, c.cmd));
  try {
    for (const s of servers) await s.init();
    const ops = OPERATIONS.filter((o) => !only || only.test(o.name));
    const samples = new Map<string, number[]>();
    const cpu = new Map<string, number>();
    const key = (s: Server, o: Operation): string => `${o.name}\0${s.label}`;
    // a short warm-up of every operation on every server (JIT, page cache, the server's own caches)
    for (const o of ops) for (const s of servers) await o.run(s, Math.min(200, REQUESTS));
    for (let round = 0; round < ROUNDS; round++) {
      for (const o of ops) {
        for (const s of servers) {
          const c0 = s.cpuSeconds();
          const got = await o.run(s, REQUESTS);
          cpu.set(key(s, o), (cpu.get(key(s, o)) ?? 0) + s.cpuSeconds() - c0);
          const all = samples.get(key(s, o)) ?? [];
          for (const x of got) all.push(x);
          samples.set(key(s, o), all);
        }
      }
    }
    const rows = ops.flatMap((o) =>
      servers.map((s) => {
        const v = samples.get(key(s, o))!;
        return {
          operation: o.name,
          server: s.label,
          medianUs: median(v),
          p90Us: percentile(v, 0.9),
          serverCpuUs: (cpu.get(key(s, o))! / v.length) * 1e6,
        };
      }),
    );
    process.stdout.write(
      `one request in flight, ${ROUNDS} rounds x ${REQUESTS} operations on ${FILE} (node ${process.version}); microseconds per operation\n`,
    );
    process.stdout.write(
      renderTable(
        ['operation', 'server', 'median', 'p90', 'server cpu'],
        rows.map((r) => [r.operation, r.server, r.medianUs.toFixed(0), r.p90Us.toFixed(0), r.serverCpuUs.toFixed(0)]),
      ),
    );
    if (values.json)
      writeFileSync(
        values.json,
        JSON.stringify({ rounds: ROUNDS, requests: REQUESTS, file: FILE, rows }, null, 2) + '\n',
      );
  } finally {
    await Promise.all(servers.map((s) => s.end()));
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`server-latency: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
