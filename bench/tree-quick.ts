/**
 * Quick tree bench: the SMALL workload — 2,000 files of 4 KiB in 20 directories — uploaded
 * and downloaded by putTree/getTree, by OpenSSH's `sftp -b` (put -r / get -r) and by ssh2's own SFTP
 * one file at a time, in the same run, against OpenSSH's sftp-server (over stdio, and over a loopback
 * sshd), at RTT 0 and, through bench/latency-proxy.ts, at RTT 20 ms.
 *
 *   node --import tsx bench/tree-quick.ts [--runs 3] [--rtt 0,20] [--slow-files 200] [--full]
 *
 * At RTT 20 ms the one-file-at-a-time contenders take minutes for 2,000 files; unless --full they run
 * on the first --slow-files files (spread over the same 20 directories) and their time is scaled to
 * 2,000 files (their cost is per file: round trips). Every copy is checked byte for byte.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import ssh2 from 'ssh2';
import { SftpClient } from '../src/client/index.js';
import { getTree, putTree } from '../src/client/tree/index.js';
import { runOpenSshSftp } from './contenders/clients/openssh-clients.js';
import { CIPHER } from './contenders/jobs.js';
import { generateSmallTree, verifyTree, type SmallFile } from './lib/dataset.js';
import { delayForRtt, startLatencyProxy } from './lib/latency-proxy.js';
import { startSshd, spawnSftpServer, type Sshd } from './lib/peers/openssh.js';
import { median } from './lib/stats.js';
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    rtt: { type: 'string', default: '0,20' },
    files: { type: 'string', default: '2000' },
    dirs: { type: 'string', default: '20' },
    size: { type: 'string', default: '4096' },
    'slow-files': { type: 'string', default: '200' },
    full: { type: 'boolean', default: false },
  },
});
const RUNS = Number(values.runs);
const FILES = Number(values.files);
const DIRS = Number(values.dirs);
const SIZE = Number(values.size);
const RTTS = values.rtt!.split(',').map(Number);

const SEED = 20240601;

/** The SMALL tree of `files` files (d00/f00000 ...) in DIRS directories, seeded; returns the files with their digests. */
function makeSmall(dir: string, files: number): SmallFile[] {
  return generateSmallTree(dir, SEED, { files, dirs: Math.min(DIRS, files), size: SIZE });
}

interface Row {
  rtt: number;
  contender: string;
  direction: 'up' | 'down';
  files: number;
  seconds: number[];
  /** Seconds for FILES files (scaled when fewer files were copied). */
  scaled: number;
}

/** `sftp -b` with `!date` stamps around the command (the suite's openssh-sftp runner): connection set-up is not timed. */
async function runSftpBatch(
  sshd: Sshd,
  port: number,
  direction: 'up' | 'down',
  from: string,
  to: string,
): Promise<number> {
  const target = { host: sshd.host, port, username: sshd.username, sshOptions: sshd.sshOptions };
  const r = await runOpenSshSftp({
    workload: 'small',
    direction,
    target,
    localPath: direction === 'up' ? from : to,
    remotePath: direction === 'up' ? to : from,
  });
  return r.seconds;
}

/** ssh2's SFTP client one file at a time, as users write it: mkdir, then fastPut/fastGet each file. */
async function ssh2OneByOne(
  port: number,
  sshd: Sshd,
  direction: 'up' | 'down',
  from: string,
  to: string,
): Promise<number> {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve());
    conn.once('error', reject);
    conn.connect({
      host: sshd.host,
      port,
      username: sshd.username,
      privateKey: sshd.privateKey,
      algorithms: { cipher: [CIPHER] },
    });
  });
  (conn as unknown as { _sock?: { setNoDelay?(b: boolean): void } })._sock?.setNoDelay?.(true);
  const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
    conn.sftp((e, s) => (e ? reject(e) : resolve(s))),
  );
  const call = <T>(f: (cb: (e: Error | null | undefined, v?: T) => void) => void) =>
    new Promise<T>((resolve, reject) => f((e, v) => (e ? reject(e) : resolve(v as T))));
  const t0 = performance.now();
  if (direction === 'up') {
    await call<void>((cb) => sftp.mkdir(to, cb));
    for (const d of readdirSync(from).sort()) {
      await call<void>((cb) => sftp.mkdir(`${to}/${d}`, cb));
      for (const f of readdirSync(join(from, d)).sort())
        await call<void>((cb) => sftp.fastPut(join(from, d, f), `${to}/${d}/${f}`, cb));
    }
  } else {
    mkdirSync(to);
    const dirs = await call<ssh2.FileEntry[]>((cb) => sftp.readdir(from, cb));
    for (const d of dirs.map((e) => e.filename).sort()) {
      mkdirSync(join(to, d));
      const files = await call<ssh2.FileEntry[]>((cb) => sftp.readdir(`${from}/${d}`, cb));
      for (const f of files.map((e) => e.filename).sort())
        await call<void>((cb) => sftp.fastGet(`${from}/${d}/${f}`, join(to, d, f), cb));
    }
  }
  const s = (performance.now() - t0) / 1000;
  conn.end();
  return s;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sftp-wire-tree-bench-'));
  const sshd = await startSshd();
  const rows: Row[] = [];
  try {
    const full = join(work, 'small');
    const fullFiles = makeSmall(full, FILES);
    const slowFiles = values.full ? FILES : Math.min(FILES, Number(values['slow-files']));
    const subset = join(work, 'small-subset');
    const subsetFiles = slowFiles < FILES ? makeSmall(subset, slowFiles) : fullFiles;
    const filesOf = (src: string): SmallFile[] => (src === full ? fullFiles : subsetFiles);
    console.log(
      `SMALL: ${FILES} files x ${SIZE} B in ${DIRS} directories; ${RUNS} runs each; cipher ${CIPHER}; node ${process.version}`,
    );

    let n = 0;
    const fresh = () => join(work, `out-${n++}`);
    const record = (rtt: number, contender: string, direction: 'up' | 'down', files: number, secs: number[]) => {
      const row = { rtt, contender, direction, files, seconds: secs, scaled: (median(secs) * FILES) / files };
      rows.push(row);
      console.log(
        `RTT ${String(rtt).padStart(2)} ms  ${contender.padEnd(34)} ${direction.padEnd(4)} ${files} files  median ${median(secs).toFixed(3)} s` +
          (files !== FILES ? `  (x${FILES / files} -> ${row.scaled.toFixed(2)} s)` : '') +
          `  runs ${secs.map((s) => s.toFixed(3)).join(' ')}`,
      );
    };
    /** Time `op` RUNS times (each into a fresh destination, checked and removed). */
    const measure = async (
      src: string,
      runs: number,
      op: (dst: string) => Promise<number | void>,
      check: (dst: string) => string,
    ): Promise<number[]> => {
      const secs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const dst = fresh();
        const t0 = performance.now();
        const s = await op(dst);
        secs.push(typeof s === 'number' ? s : (performance.now() - t0) / 1000);
        verifyTree(check(dst), filesOf(src));
        rmSync(check(dst), { recursive: true, force: true });
      }
      return secs;
    };

    for (const rtt of RTTS) {
      const proxy =
        rtt > 0
          ? await startLatencyProxy({ target: { host: sshd.host, port: sshd.port }, delayMs: delayForRtt(rtt) })
          : undefined;
      const port = proxy ? proxy.port : sshd.port;
      const slow = rtt > 0 ? slowFiles : FILES;
      const slowSrc = slow < FILES ? subset : full;
      try {
        if (rtt === 0) {
          const server = spawnSftpServer();
          const client = await SftpClient.fromStream(server.stream);
          const up = await measure(
            full,
            RUNS,
            async (dst) => void (await putTree(client, full, dst)),
            (d) => d,
          );
          record(rtt, 'sftp-wire putTree (sftp-server stdio)', 'up', FILES, up);
          const down = await measure(
            full,
            RUNS,
            async (dst) => void (await getTree(client, full, dst)),
            (d) => d,
          );
          record(rtt, 'sftp-wire getTree (sftp-server stdio)', 'down', FILES, down);
          await client.end();
          await server.close();
        }
        const client = await SftpClient.connect({
          host: sshd.host,
          port,
          username: sshd.username,
          privateKey: sshd.privateKey,
          algorithms: { cipher: [CIPHER] },
        });
        record(
          rtt,
          'sftp-wire putTree (sshd)',
          'up',
          FILES,
          await measure(
            full,
            RUNS,
            async (dst) => void (await putTree(client, full, dst)),
            (d) => d,
          ),
        );
        record(
          rtt,
          'sftp-wire getTree (sshd)',
          'down',
          FILES,
          await measure(
            full,
            RUNS,
            async (dst) => void (await getTree(client, full, dst)),
            (d) => d,
          ),
        );
        await client.end();
        const slowRuns = rtt > 0 ? 1 : RUNS;
        record(
          rtt,
          'OpenSSH sftp -b put -r',
          'up',
          slow,
          await measure(
            slowSrc,
            slowRuns,
            (dst) => runSftpBatch(sshd, port, 'up', slowSrc, dst),
            (d) => d,
          ),
        );
        record(
          rtt,
          'OpenSSH sftp -b get -r',
          'down',
          slow,
          await measure(
            slowSrc,
            slowRuns,
            (dst) => runSftpBatch(sshd, port, 'down', slowSrc, dst),
            (d) => d,
          ),
        );
        record(
          rtt,
          'ssh2 SFTP one file at a time',
          'up',
          slow,
          await measure(
            slowSrc,
            slowRuns,
            (dst) => ssh2OneByOne(port, sshd, 'up', slowSrc, dst),
            (d) => d,
          ),
        );
        record(
          rtt,
          'ssh2 SFTP one file at a time',
          'down',
          slow,
          await measure(
            slowSrc,
            slowRuns,
            (dst) => ssh2OneByOne(port, sshd, 'down', slowSrc, dst),
            (d) => d,
          ),
        );
      } finally {
        await proxy?.close();
      }
    }

    console.log(
      '\nRatios (contender time / sftp-wire over sshd, same RTT, same direction; time scaled to the full tree):',
    );
    for (const rtt of RTTS) {
      for (const dir of ['up', 'down'] as const) {
        const ours = rows.find((r) => r.rtt === rtt && r.direction === dir && r.contender.includes('(sshd)'))!;
        for (const r of rows.filter(
          (x) => x.rtt === rtt && x.direction === dir && !x.contender.startsWith('sftp-wire'),
        )) {
          console.log(
            `RTT ${rtt} ms ${dir.padEnd(4)} ${r.contender.padEnd(30)} ${(r.scaled / ours.scaled).toFixed(1)}x slower`,
          );
        }
      }
    }
  } finally {
    await sshd.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
