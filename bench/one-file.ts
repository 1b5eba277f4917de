// One large file up and down: sftp-wire's client against OpenSSH's sftp-server over stdio and over ssh2
// to a loopback sshd, beside ssh2's own fastGet/fastPut on the same file in the same run.
//   node --import tsx bench/one-file.ts [--size-mib 256] [--runs 5] [--sweep]
import { randomFillSync } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ssh2 from 'ssh2';
import { spawnSftpServer, startSshd } from '../test/support/openssh.js';
import { SftpClient } from '../src/client/client.js';
import { connectSsh } from '../src/transport/ssh-client.js';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    sweep: { type: 'boolean', default: false },
  },
});
const SIZE = Number(values['size-mib']) * 1024 * 1024;
const RUNS = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-bench-one-'));
const src = join(dir, 'src.bin');
const results: Array<{ name: string; mibs: number }> = [];
void results;

async function makeFile(path: string, size: number): Promise<void> {
  const out = createWriteStream(path);
  const block = Buffer.allocUnsafe(4 * 1024 * 1024);
  for (let done = 0; done < size; done += block.length) {
    randomFillSync(block);
    const part = block.subarray(0, Math.min(block.length, size - done));
    if (!out.write(Buffer.from(part))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
}

/** Time one run of `fn` (MiB/s), checking the output's size. */
async function once(name: string, fn: () => Promise<unknown>, check?: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (check && statSync(check).size !== SIZE) throw new Error(`${name}: ${check} has the wrong size`);
  return SIZE / 1024 / 1024 / secs;
}

/** Run every contender once per round, interleaved (so drift on a shared machine hits all alike); report median and best. */
async function rounds(contenders: Array<[string, () => Promise<unknown>, string?]>): Promise<void> {
  const runs = new Map<string, number[]>(contenders.map(([n]) => [n, []]));
  for (let i = 0; i < RUNS; i++) for (const [name, fn, check] of contenders) runs.get(name)!.push(await once(name, fn, check));
  for (const [name, v] of runs) {
    const sorted = [...v].sort((a, b) => a - b);
    const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
    results.push({ name, mibs: median });
    process.stdout.write(`${name.padEnd(58)} median ${median.toFixed(1).padStart(7)}  best ${sorted.at(-1)!.toFixed(1).padStart(7)} MiB/s\n`);
  }
}

function ssh2Sftp(conn: ssh2.Client): Promise<ssh2.SFTPWrapper> {
  return new Promise((res, rej) => conn.sftp((e, s) => (e ? rej(e) : res(s))));
}

async function main(): Promise<void> {
  await makeFile(src, SIZE);
  process.stdout.write(`file: ${SIZE / 1024 / 1024} MiB, ${RUNS} interleaved round(s)\n`);
  const settings: Array<{ chunkSize?: number; requests?: number }> = values.sweep
    ? [{ chunkSize: 32768, requests: 64 }, { chunkSize: 65536, requests: 32 }, { chunkSize: 261120, requests: 8 }, {}, { chunkSize: 261120, requests: 64 }]
    : [{}];
  const label = (s: { chunkSize?: number; requests?: number }) => (s.chunkSize ? ` [${s.chunkSize / 1024} KiB x ${s.requests}]` : ' [defaults]');

  // 1. OpenSSH sftp-server over its stdio
  const server = spawnSftpServer({ cwd: dir });
  const stdio = await SftpClient.fromStream(server.stream);
  await rounds(
    settings.flatMap((s): Array<[string, () => Promise<unknown>, string]> => [
      [`sftp-wire get, sftp-server stdio${label(s)}`, () => stdio.get(src, join(dir, 'get.bin'), s), join(dir, 'get.bin')],
      [`sftp-wire put, sftp-server stdio${label(s)}`, () => stdio.put(src, join(dir, 'put.bin'), s), join(dir, 'put.bin')],
    ]),
  );
  await stdio.end();
  await server.close();

  // 2. ssh2 to a loopback sshd (OpenSSH's sftp-server as the subsystem)
  const sshd = await startSshd();
  try {
    const cfg = { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey };
    const conn = await connectSsh(cfg);
    const c = await SftpClient.fromSsh(conn);
    const conn2 = await connectSsh(cfg); // connectSsh sets TCP no-delay, as the design notes ask
    const sftp = await ssh2Sftp(conn2);
    const fast = (f: 'fastGet' | 'fastPut', a: string, b: string) =>
      new Promise<void>((res, rej) => sftp[f](a, b, (e?: Error | null) => (e ? rej(e) : res())));
    await rounds([
      ...settings.flatMap((s): Array<[string, () => Promise<unknown>, string]> => [
        [`sftp-wire get, ssh2 -> sshd${label(s)}`, () => c.get(src, join(dir, 'get.bin'), s), join(dir, 'get.bin')],
        [`sftp-wire put, ssh2 -> sshd${label(s)}`, () => c.put(src, join(dir, 'put.bin'), s), join(dir, 'put.bin')],
      ]),
      ['ssh2 fastGet, ssh2 -> sshd [defaults: 32 KiB x 64]', () => fast('fastGet', src, join(dir, 'get.bin')), join(dir, 'get.bin')],
      ['ssh2 fastPut, ssh2 -> sshd [defaults: 32 KiB x 64]', () => fast('fastPut', src, join(dir, 'put.bin')), join(dir, 'put.bin')],
    ]);
    await c.end();
    conn.end();
    conn2.end();
  } finally {
    await sshd.stop();
  }
}

main()
  .catch((err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
