/** sftp-wire's own client as a contender: put/get (LARGE), putTree/getTree (SMALL, WIDE, DEEP), scandir (LIST). */
import { performance } from 'node:perf_hooks';
import { SftpClient } from '../../../src/index.js';
import { ListingDigester } from '../../lib/dataset.js';
import type { NodeJob } from '../jobs.js';
import type { Timed, WorkerSession } from './worker-session.js';

function client(session: WorkerSession): Promise<SftpClient> {
  return session.kept(
    'sftp-wire',
    () => SftpClient.fromSsh(session.conn),
    (c) =>
      c.end().then(
        () => undefined,
        () => undefined,
      ),
  );
}

/** Requests in flight per file and chunk size, where the job sets them (else the client's defaults). */
function transferOptions(job: NodeJob): { chunkSize?: number; requests?: number } {
  return {
    ...(job.chunkSize ? { chunkSize: job.chunkSize } : {}),
    ...(job.requests ? { requests: job.requests } : {}),
  };
}

export async function sftpWireLarge(session: WorkerSession, job: NodeJob): Promise<Timed> {
  const c = await client(session);
  const xfer = transferOptions(job);
  const t0 = performance.now();
  if (job.direction === 'up') await c.put(job.localPath, job.remotePath, xfer);
  else await c.get(job.remotePath, job.localPath, xfer);
  return { seconds: (performance.now() - t0) / 1000 };
}

export async function sftpWireSmall(session: WorkerSession, job: NodeJob): Promise<Timed> {
  const c = await client(session);
  // Tree options: files in flight are bounded by open handles; requests are tree-wide.
  const tree = { ...transferOptions(job), ...(job.concurrency ? { maxOpenFiles: job.concurrency } : {}) };
  const t0 = performance.now();
  if (job.direction === 'up') await c.putTree(job.localPath, job.remotePath, tree);
  else await c.getTree(job.remotePath, job.localPath, tree);
  return { seconds: (performance.now() - t0) / 1000 };
}

export async function sftpWireList(session: WorkerSession, job: NodeJob): Promise<Timed> {
  const c = await client(session);
  const t0 = performance.now();
  const names = new ListingDigester();
  let first = NaN;
  for await (const e of c.scandir(job.remotePath)) {
    if (Number.isNaN(first)) first = performance.now();
    names.add(e.filename);
  }
  const t1 = performance.now();
  return { seconds: (t1 - t0) / 1000, firstEntrySeconds: (first - t0) / 1000, listing: names.digest() };
}
