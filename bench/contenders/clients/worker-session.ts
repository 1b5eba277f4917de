/**
 * A Node worker's side of a job: one SSH connection per endpoint, kept between jobs (set-up is never
 * timed, and reconnecting for every run only makes the suite slower), with the SFTP sessions the
 * runners open on it. A job that fails drops its connection, so the next one starts clean.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { CIPHER, type Endpoint, type NodeJob, type NodeJobResult } from '../jobs.js';

/** What a worker runner returns: the timing without the process's peak RSS (the worker adds it). */
export type Timed = Omit<NodeJobResult, 'maxRssBytes'>;

/** The kept connection a runner works on, and the sessions (SFTP clients) it has opened on it. */
export interface WorkerSession {
  readonly conn: ssh2.Client;
  /** The session kept under `key`, opened on first use; `close` runs when the connection is dropped. */
  kept<T>(key: string, open: () => Promise<T>, close: (value: T) => Promise<void> | void): Promise<T>;
}

/** A contender's code for one workload, run in a worker process. */
export type WorkerRunner = (session: WorkerSession, job: NodeJob) => Promise<Timed>;

/** Connect an ssh2 client with the bench's cipher and TCP no-delay. */
export function connectEndpoint(ep: Endpoint): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const conn = new ssh2.Client();
    conn.once('ready', () => {
      conn.setNoDelay(true);
      resolve(conn);
    });
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

interface Connection extends WorkerSession {
  closed: boolean;
  sessions: Map<string, { value: unknown; close(): Promise<void> | void }>;
}
const connections = new Map<string, Connection>();

async function connectionFor(ep: Endpoint): Promise<Connection> {
  const key = `${ep.host}:${ep.port}:${ep.username}`;
  const have = connections.get(key);
  if (have && !have.closed) return have;
  const conn = await connectEndpoint(ep);
  const sessions: Connection['sessions'] = new Map();
  const c: Connection = {
    conn,
    closed: false,
    sessions,
    async kept<T>(name: string, open: () => Promise<T>, close: (value: T) => Promise<void> | void): Promise<T> {
      const s = sessions.get(name);
      if (s) return s.value as T;
      const value = await open();
      sessions.set(name, { value, close: () => close(value) });
      return value;
    },
  };
  conn.on('close', () => {
    c.closed = true;
    connections.delete(key);
  });
  conn.on('error', () => {
    c.closed = true;
  });
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
    for (const s of c.sessions.values()) await Promise.resolve(s.close()).catch(() => undefined);
    drop(c);
  }
}

/** Run one job with `runner` on the endpoint's kept connection. */
export async function runOnKeptConnection(job: NodeJob, runner: WorkerRunner): Promise<Timed> {
  const c = await connectionFor(job.endpoint);
  try {
    return await runner(c, job);
  } catch (err) {
    drop(c);
    throw err;
  }
}
