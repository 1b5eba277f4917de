/**
 * The transfers a Node worker times: sftp-wire's client, ssh2's built-in SFTP client (bench-only
 * contender), and the raw SSH channel limit. Each connects first (not timed), then times the work.
 */
import { readFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { CIPHER, RAW_SINK_COMMAND, rawSourceCommand, type Endpoint, type NodeJob, type NodeJobResult } from './jobs.js';
import { SftpClient } from '../src/client/index.js';
import { ListingDigester, digestNames } from './dataset.js';

/** Tree operations, used when the client has them (they land after put/get). */
interface TreeOps {
  putTree?(localDir: string, remoteDir: string, opts?: object): Promise<unknown>;
  getTree?(remoteDir: string, localDir: string, opts?: object): Promise<unknown>;
}

export type Timed = Omit<NodeJobResult, 'maxRssBytes'>;

/** Connect an ssh2 client with the bench's cipher and TCP no-delay. */
export function connectEndpoint(ep: Endpoint): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    conn.once('ready', () => { conn.setNoDelay(true); resolve(conn); });
    conn.once('error', reject);
    conn.connect({
      host: ep.host,
      port: ep.port,
      username: ep.username,
      privateKey: readFileSync(ep.privateKeyPath),
      algorithms: { cipher: [CIPHER] },
      readyTimeout: 20_000,
    });
  });
}

/**
 * One SSH connection per endpoint, kept between jobs (set-up is never timed, and reconnecting for every
 * run only makes the suite slower), with the SFTP session of whichever client uses it. A job that
 * fails drops its connection, so the next one starts clean.
 */
interface Connection {
  conn: ssh2.Client;
  closed: boolean;
  sftpWire?: SftpClient;
  ssh2Sftp?: SFTPWrapper;
}
const connections = new Map<string, Connection>();

async function connectionFor(ep: Endpoint): Promise<Connection> {
  const key = `${ep.host}:${ep.port}:${ep.username}`;
  const have = connections.get(key);
  if (have && !have.closed) return have;
  const conn = await connectEndpoint(ep);
  const c: Connection = { conn, closed: false };
  conn.on('close', () => { c.closed = true; connections.delete(key); });
  conn.on('error', () => { c.closed = true; });
  connections.set(key, c);
  return c;
}

function drop(c: Connection): void {
  c.closed = true;
  for (const [k, v] of connections) if (v === c) connections.delete(k);
  c.conn.end();
}

/** Close every kept connection (the worker is about to exit). */
export async function closeConnections(): Promise<void> {
  for (const c of [...connections.values()]) {
    await c.sftpWire?.end().catch(() => undefined);
    c.ssh2Sftp?.end();
    drop(c);
  }
}

/** Run one job on the endpoint's kept connection. */
export async function runNodeJob(job: NodeJob): Promise<Timed> {
  if (job.kind === 'idle') return { seconds: 0 };
  const c = await connectionFor(job.endpoint);
  try {
    switch (job.kind) {
      case 'raw': return await runRaw(c.conn, job);
      case 'sftp-wire': return await runSftpWire(c, job);
      default: return await runSsh2Sftp(c, job);
    }
  } catch (err) {
    drop(c);
    throw err;
  }
}

// ---------------------------------------------------------------- raw channel (the limit)

function execChannel(conn: ssh2.Client, command: string): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) => conn.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))));
}

async function runRaw(conn: ssh2.Client, job: NodeJob): Promise<Timed> {
  const bytes = job.bytes ?? 0;
  if (job.direction === 'up') {
    const ch = await execChannel(conn, RAW_SINK_COMMAND);
    const closed = new Promise<void>((resolve) => ch.once('close', () => resolve()));
    ch.stderr.resume();
    await new Promise<void>((resolve, reject) => {
      let text = '';
      const onData = (d: Buffer) => { text += d.toString(); if (text.includes('ready')) { ch.off('data', onData); resolve(); } };
      ch.on('data', onData);
      ch.once('close', () => reject(new Error('raw sink closed before it was ready')));
    });
    ch.resume();
    const block = Buffer.alloc(256 * 1024, 0x5a);
    const t0 = performance.now();
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, block.length);
      left -= n;
      if (!ch.write(n === block.length ? block : block.subarray(0, n))) await new Promise<void>((r) => ch.once('drain', r));
    }
    ch.end();
    await closed;
    return { seconds: (performance.now() - t0) / 1000 };
  }
  const ch = await execChannel(conn, rawSourceCommand(bytes));
  ch.stderr.resume();
  let got = 0;
  let t0 = 0;
  await new Promise<void>((resolve) => {
    ch.on('data', (d: Buffer) => { if (got === 0) t0 = performance.now(); got += d.length; });
    ch.once('close', () => resolve());
  });
  const t1 = performance.now();
  if (got !== bytes) throw new Error(`raw channel delivered ${got} bytes, expected ${bytes}`);
  return { seconds: (t1 - t0) / 1000 };
}

// ---------------------------------------------------------------- a small task pool

/** Run `task` over `items` with at most `limit` at once; rejects on the first failure. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const lane = async () => {
    while (failed === null && next < items.length) {
      const item = items[next++]!;
      try { await task(item); } catch (err) { failed ??= err; }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  if (failed !== null) throw failed;
}

/** Relative paths of every file under a local directory, and its subdirectories (parents first). */
export function walkLocal(root: string): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) { dirs.push(r); walk(r); } else files.push(r);
    }
  };
  walk('');
  return { dirs, files };
}

// ---------------------------------------------------------------- sftp-wire

async function runSftpWire(c: Connection, job: NodeJob): Promise<Timed> {
  c.sftpWire ??= await SftpClient.fromSsh(c.conn);
  const client = c.sftpWire;
  const trees = client as unknown as TreeOps;
  const xfer = { ...(job.chunkSize ? { chunkSize: job.chunkSize } : {}), ...(job.requests ? { requests: job.requests } : {}) };
  const t0 = performance.now();
  if (job.workload === 'list') {
    const names = new ListingDigester();
    let first = NaN;
    for await (const e of client.scandir(job.remotePath)) {
      if (Number.isNaN(first)) first = performance.now();
      names.add(e.filename);
    }
    const t1 = performance.now();
    return { seconds: (t1 - t0) / 1000, firstEntrySeconds: (first - t0) / 1000, listing: names.digest() };
  }
  if (job.workload === 'large') {
    if (job.direction === 'up') await client.put(job.localPath, job.remotePath, xfer);
    else await client.get(job.remotePath, job.localPath, xfer);
  } else {
    // Tree options: files in flight are bounded by open handles; requests are tree-wide.
    const tree = { ...xfer, ...(job.concurrency ? { maxOpenFiles: job.concurrency } : {}) };
    if (job.direction === 'up') {
      if (trees.putTree) await trees.putTree(job.localPath, job.remotePath, tree);
      else await sftpWireTreeUp(client, job, xfer);
    } else {
      if (trees.getTree) await trees.getTree(job.remotePath, job.localPath, tree);
      else await sftpWireTreeDown(client, job, xfer);
    }
  }
  return { seconds: (performance.now() - t0) / 1000 };
}

/** Until putTree lands: mkdir the directories, then many files in flight with put(). */
async function sftpWireTreeUp(client: SftpClient, job: NodeJob, xfer: object): Promise<void> {
  const { dirs, files } = walkLocal(job.localPath);
  await client.mkdir(job.remotePath);
  await Promise.all(dirs.map((d) => client.mkdir(`${job.remotePath}/${d}`)));
  await pool(files, job.concurrency ?? 64, (f) => client.put(join(job.localPath, f), `${job.remotePath}/${f}`, xfer));
}

async function sftpWireTreeDown(client: SftpClient, job: NodeJob, xfer: object): Promise<void> {
  const files: string[] = [];
  mkdirSync(job.localPath, { recursive: true });
  const top: string[] = [];
  for await (const e of client.scandir(job.remotePath)) if (e.filename !== '.' && e.filename !== '..') top.push(e.filename);
  // SMALL is two levels: directories of files.
  await Promise.all(top.map(async (d) => {
    mkdirSync(join(job.localPath, d), { recursive: true });
    for await (const e of client.scandir(`${job.remotePath}/${d}`)) if (e.filename !== '.' && e.filename !== '..') files.push(`${d}/${e.filename}`);
  }));
  await pool(files, job.concurrency ?? 64, (f) => client.get(`${job.remotePath}/${f}`, join(job.localPath, f), xfer));
}

// ---------------------------------------------------------------- ssh2's own SFTP (bench-only contender)

function openSsh2Sftp(conn: ssh2.Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => conn.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

function cb<T = void>(fn: (done: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

async function runSsh2Sftp(c: Connection, job: NodeJob): Promise<Timed> {
  c.ssh2Sftp ??= await openSsh2Sftp(c.conn);
  const sftp = c.ssh2Sftp;
  const fastOpts = { ...(job.requests ? { concurrency: job.requests } : {}), ...(job.chunkSize ? { chunkSize: job.chunkSize } : {}) };
  const t0 = performance.now();
  if (job.workload === 'list') {
    // As users write it: readdir(path) hands back the whole listing at once.
    const list = await cb<{ filename: string }[]>((done) => sftp.readdir(job.remotePath, done));
    const t1 = performance.now();
    return { seconds: (t1 - t0) / 1000, firstEntrySeconds: (t1 - t0) / 1000, listing: digestNames(list.map((e) => e.filename)) };
  }
  if (job.workload === 'large') {
    if (job.direction === 'up') await cb((done) => sftp.fastPut(job.localPath, job.remotePath, fastOpts, done));
    else await cb((done) => sftp.fastGet(job.remotePath, job.localPath, fastOpts, done));
    return { seconds: (performance.now() - t0) / 1000 };
  }
  const inFlight = job.kind === 'ssh2-serial' ? 1 : job.concurrency ?? 16;
  if (job.direction === 'up') {
    const { dirs, files } = walkLocal(job.localPath);
    await cb((done) => sftp.mkdir(job.remotePath, done));
    for (const d of dirs) await cb((done) => sftp.mkdir(`${job.remotePath}/${d}`, done));
    await pool(files, inFlight, (f) => cb((done) => sftp.fastPut(join(job.localPath, f), `${job.remotePath}/${f}`, fastOpts, done)));
  } else {
    const files: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await cb<{ filename: string; attrs: { mode: number } }[]>((done) => sftp.readdir(rel ? `${job.remotePath}/${rel}` : job.remotePath, done));
      mkdirSync(join(job.localPath, rel), { recursive: true });
      for (const e of entries.sort((a, b) => (a.filename < b.filename ? -1 : 1))) {
        const r = rel ? `${rel}/${e.filename}` : e.filename;
        if ((e.attrs.mode & 0o170000) === 0o040000) await walk(r);
        else files.push(r);
      }
    };
    await walk('');
    await pool(files, inFlight, (f) => cb((done) => sftp.fastGet(`${job.remotePath}/${f}`, join(job.localPath, f), fastOpts, done)));
  }
  return { seconds: (performance.now() - t0) / 1000 };
}
