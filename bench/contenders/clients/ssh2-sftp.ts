/**
 * ssh2's built-in SFTP client as a contender (bench only): fastPut/fastGet (LARGE), files one at a time
 * or N in flight (SMALL), readdir(path) (LIST), as users write it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SFTPWrapper } from 'ssh2';
import { digestNames, walkLocal } from '../../lib/dataset.js';
import { pool } from '../../lib/pool.js';
import type { NodeJob } from '../jobs.js';
import type { Timed, WorkerSession } from './worker-session.js';

function sftpOf(session: WorkerSession): Promise<SFTPWrapper> {
  return session.kept(
    'ssh2-sftp',
    () =>
      new Promise<SFTPWrapper>((resolve, reject) =>
        session.conn.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))),
      ),
    (sftp) => {
      sftp.end();
    },
  );
}

function cb<T = void>(fn: (done: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

function fastOptions(job: NodeJob): { concurrency?: number; chunkSize?: number } {
  return {
    ...(job.requests ? { concurrency: job.requests } : {}),
    ...(job.chunkSize ? { chunkSize: job.chunkSize } : {}),
  };
}

/** As users write it: readdir(path) hands back the whole listing at once. */
export async function ssh2List(session: WorkerSession, job: NodeJob): Promise<Timed> {
  const sftp = await sftpOf(session);
  const t0 = performance.now();
  const list = await cb<{ filename: string }[]>((done) => sftp.readdir(job.remotePath, done));
  const t1 = performance.now();
  return {
    seconds: (t1 - t0) / 1000,
    firstEntrySeconds: (t1 - t0) / 1000,
    listing: digestNames(list.map((e) => e.filename)),
  };
}

export async function ssh2FastLarge(session: WorkerSession, job: NodeJob): Promise<Timed> {
  const sftp = await sftpOf(session);
  const fastOpts = fastOptions(job);
  const t0 = performance.now();
  if (job.direction === 'up') await cb((done) => sftp.fastPut(job.localPath, job.remotePath, fastOpts, done));
  else await cb((done) => sftp.fastGet(job.remotePath, job.localPath, fastOpts, done));
  return { seconds: (performance.now() - t0) / 1000 };
}

/** A tree with fastPut/fastGet per file, `inFlight` files at once (directories made first, in order). */
export async function ssh2Tree(session: WorkerSession, job: NodeJob, inFlight: number): Promise<Timed> {
  const sftp = await sftpOf(session);
  const fastOpts = fastOptions(job);
  const t0 = performance.now();
  if (job.direction === 'up') {
    const { dirs, files } = walkLocal(job.localPath);
    await cb((done) => sftp.mkdir(job.remotePath, done));
    for (const d of dirs) await cb((done) => sftp.mkdir(`${job.remotePath}/${d}`, done));
    await pool(files, inFlight, (f) =>
      cb((done) => sftp.fastPut(join(job.localPath, f), `${job.remotePath}/${f}`, fastOpts, done)),
    );
  } else {
    const files: string[] = [];
    const walk = async (rel: string): Promise<void> => {
      const entries = await cb<{ filename: string; attrs: { mode: number } }[]>((done) =>
        sftp.readdir(rel ? `${job.remotePath}/${rel}` : job.remotePath, done),
      );
      mkdirSync(join(job.localPath, rel), { recursive: true });
      for (const e of entries.sort((a, b) => (a.filename < b.filename ? -1 : 1))) {
        const r = rel ? `${rel}/${e.filename}` : e.filename;
        if ((e.attrs.mode & 0o170000) === 0o040000) await walk(r);
        else files.push(r);
      }
    };
    await walk('');
    await pool(files, inFlight, (f) =>
      cb((done) => sftp.fastGet(`${job.remotePath}/${f}`, join(job.localPath, f), fastOpts, done)),
    );
  }
  return { seconds: (performance.now() - t0) / 1000 };
}
