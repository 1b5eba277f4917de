// Client CPU on one large file: sftp-wire's get/put against OpenSSH's sshd + sftp-server on loopback,
// beside the raw ssh2 channel to the same sshd (`head -c N /dev/zero` down, `cat > /dev/null` up),
// the floor any client on ssh2 stands on. Each run is a process of its own (client-one-file-child.ts)
// that moves the file once to warm up, then once timed; contenders run once per round, interleaved.
// `cpu/GiB` is the client process's user+system CPU seconds per GiB moved during the timed run: on
// a shared, busy machine it is steadier than the throughput, and on a machine of two cores the
// client's CPU is taken from the servers'.
//   node --import tsx bench/client-one-file.ts [--size-mib 256] [--runs 5] [--only REGEX] [--json FILE]
//                                              [--baseline GIT-REF]
// --baseline adds get/put rows for the client as of GIT-REF (its src/, run through tsx), interleaved
// with the working tree's.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { siblingScript } from './lib/child-script.js';
import { verifyFile, writeSeededFile } from './lib/dataset.js';
import { startSshd } from './lib/peers/openssh.js';
import { median } from './lib/stats.js';
import { checkoutSrc, linkNodeModules, REPO } from './lib/stdio-servers.js';
import { renderTable } from './lib/text-table.js';
import { CIPHER } from './contenders/jobs.js';

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
const SEED = 20240601;
const work = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-client-'));
const child = siblingScript(import.meta.url, 'client-one-file-child');

interface Sample {
  seconds: number;
  cpuSeconds: number;
}

interface Contender {
  name: string;
  op: 'get' | 'put' | 'raw-down' | 'raw-up';
  src: string;
  remote: string;
  local: string;
  /** The file that must hold the source's bytes afterwards (get/put). */
  output?: string;
}

function runChild(spec: object): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...child.execArgv, child.path, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`run exited with ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as Sample);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

async function main(): Promise<void> {
  if (!Number.isFinite(SIZE) || SIZE <= 0 || !(RUNS >= 1)) throw new Error('--size-mib and --runs must be positive');
  const data = join(work, 'data');
  mkdirSync(data, { recursive: true });
  const source = join(data, 'src.bin');
  const sha256 = writeSeededFile(source, SEED, SIZE);
  const sshd = await startSshd({ extraConfig: [`Ciphers ${CIPHER}`, 'Compression no', 'SetEnv SHLVL=1'] });
  try {
    const clients: Array<{ label: string; src: string }> = [{ label: 'sftp-wire', src: join(REPO, 'src', 'index.ts') }];
    if (values.baseline) {
      linkNodeModules(work);
      clients.push({
        label: `sftp-wire@${values.baseline}`,
        src: join(checkoutSrc(values.baseline, work), 'index.ts'),
      });
    }
    const all: Contender[] = [];
    let n = 0;
    for (const dir of ['down', 'up'] as const) {
      for (const c of clients) {
        const out = join(data, `${dir}-${n++}.bin`);
        all.push(
          dir === 'down'
            ? { name: `get  ${c.label} <- sshd`, op: 'get', src: c.src, remote: source, local: out, output: out }
            : { name: `put  ${c.label} -> sshd`, op: 'put', src: c.src, remote: out, local: source, output: out },
        );
      }
      all.push({
        name: `${dir === 'down' ? 'down' : 'up  '} raw ssh2 channel ${dir === 'down' ? '<-' : '->'} sshd`,
        op: dir === 'down' ? 'raw-down' : 'raw-up',
        src: '',
        remote: '',
        local: '',
      });
    }
    const contenders = all.filter((c) => !only || only.test(c.name));
    const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const c of contenders) {
        const s = await runChild({
          op: c.op,
          src: c.src,
          host: sshd.host,
          port: sshd.port,
          username: sshd.username,
          privateKeyPath: sshd.privateKeyPath,
          cipher: CIPHER,
          remote: c.remote,
          local: c.local,
          size: SIZE,
        });
        samples.get(c.name)!.push(s);
        if (c.output) {
          await verifyFile(c.output, sha256, SIZE).catch((err: Error) => {
            throw new Error(`${c.name}: ${err.message}`);
          });
          rmSync(c.output, { force: true });
        }
      }
    }
    const mib = SIZE / 1024 / 1024;
    const gib = SIZE / 1024 ** 3;
    const rows = contenders.map((c) => {
      const s = samples.get(c.name)!;
      return {
        name: c.name,
        median: mib / median(s.map((x) => x.seconds)),
        best: mib / Math.min(...s.map((x) => x.seconds)),
        cpuSecsPerGiB: median(s.map((x) => x.cpuSeconds)) / gib,
        bestCpuSecsPerGiB: Math.min(...s.map((x) => x.cpuSeconds)) / gib,
      };
    });
    process.stdout.write(
      `one file of ${mib} MiB over SSH (${CIPHER}, loopback, RTT 0), ${RUNS} runs; MiB/s, client CPU seconds per GiB (node ${process.version})\n`,
    );
    process.stdout.write(
      renderTable(
        ['contender', 'median', 'best', 'cpu/GiB', 'best cpu/GiB'],
        rows.map((r) => [
          r.name,
          r.median.toFixed(1),
          r.best.toFixed(1),
          r.cpuSecsPerGiB.toFixed(2),
          r.bestCpuSecsPerGiB.toFixed(2),
        ]),
      ),
    );
    if (values.json) writeFileSync(values.json, JSON.stringify({ sizeMiB: mib, runs: RUNS, rows }, null, 2) + '\n');
  } finally {
    await sshd.stop();
  }
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`client-one-file: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
