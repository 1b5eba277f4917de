/**
 * A library client in its own process, for tests that kill the server under it: uncaught exceptions
 * and unhandled rejections can only be observed reliably in a process of their own. Run as
 *   node --import tsx reset-client.ts '<json Job>'
 * It reports one JSON object per line on stdout:
 *   { event: 'tcp-connected' }                      (the TCP connection is up; the SSH handshake starts)
 *   { event: 'connected' }                          (connect resolved)
 *   { event: 'moving', bytes }                      (the transfer has moved `bytes` bytes: kill now)
 *   { event: 'settled', ok, code?, name?, message?, at }   (the connect or the transfer settled; `at`: Date.now())
 *   { event: 'after', ok, code? }                   (a call made after the loss)
 *   { event: 'ended', ok, ms }                      (client.end() settled, in `ms`)
 *   { event: 'conn-error', message }                (fromSsh: the application's 'error' listener on its Client ran)
 *   { event: 'uncaught', kind, message, stack }     (an uncaughtException or unhandledRejection)
 * and then exits by itself: nothing may keep it alive once the connection is gone.
 */
import ssh2 from 'ssh2';
import { SftpClient } from '../../src/client/index.js';

export interface ResetJob {
  host: string;
  port: number;
  username: string;
  password: string;
  /** 'connect': only connect (the server is killed during the handshake). */
  op: 'get' | 'put' | 'connect';
  atomic?: boolean;
  /** get: the remote source and the local destination; put: the local source and the remote destination. */
  from?: string;
  to?: string;
  /** Report 'moving' once this many bytes have moved (default 4 MiB). */
  movingAt?: number;
  /** Connect with our own ssh2 Client and SftpClient.fromSsh (default: SftpClient.connect). */
  fromSsh?: boolean;
  /** fromSsh: the application's 'error' listener on its Client, kept after ready (default true). */
  userErrorListener?: boolean;
}

const report = (m: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(m)}\n`);

process.on('uncaughtException', (err) =>
  report({ event: 'uncaught', kind: 'uncaughtException', message: err.message, stack: err.stack }),
);
process.on('unhandledRejection', (err) =>
  report({
    event: 'uncaught',
    kind: 'unhandledRejection',
    message: String((err as Error)?.message ?? err),
    stack: (err as Error)?.stack,
  }),
);

function outcome(err: unknown): Record<string, unknown> {
  const e = err as { code?: unknown; name?: unknown; message?: unknown; constructor?: { name?: string } };
  return { ok: false, code: e?.code, name: e?.name, type: e?.constructor?.name, message: String(e?.message ?? err) };
}

async function connect(job: ResetJob): Promise<{ client: SftpClient; conn?: ssh2.Client }> {
  const config = {
    host: job.host,
    port: job.port,
    username: job.username,
    password: job.password,
    readyTimeout: 60_000,
    // ssh2's own trace, for one line only: the TCP connection is up (the SSH handshake starts).
    debug: (line: string) => {
      if (line === 'Socket connected') report({ event: 'tcp-connected' });
    },
  };
  if (!job.fromSsh) return { client: await SftpClient.connect({ ...config, sftp: { handshakeTimeoutMs: 60_000 } }) };
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', resolve);
    conn.once('error', reject);
    conn.connect(config);
  });
  conn.removeAllListeners('error');
  // The application's own handling of its connection's errors (what ssh2 asks of it), or none.
  if (job.userErrorListener ?? true) conn.on('error', (err) => report({ event: 'conn-error', message: err.message }));
  return { client: await SftpClient.fromSsh(conn), conn };
}

async function main(job: ResetJob): Promise<void> {
  let client: SftpClient;
  let conn: ssh2.Client | undefined;
  try {
    ({ client, conn } = await connect(job));
  } catch (err) {
    report({ event: 'settled', ...outcome(err), at: Date.now() });
    return;
  }
  report({ event: 'connected' });
  if (job.op === 'connect') {
    await client.end();
    return;
  }
  const movingAt = job.movingAt ?? 4 * 1024 * 1024;
  let told = false;
  const opts = {
    atomic: job.atomic,
    onProgress: (p: { bytes: number }) => {
      if (!told && p.bytes >= movingAt) {
        told = true;
        report({ event: 'moving', bytes: p.bytes });
      }
    },
  };
  try {
    const r =
      job.op === 'get' ? await client.get(job.from!, job.to!, opts) : await client.put(job.from!, job.to!, opts);
    report({ event: 'settled', ok: true, bytes: r.bytes, at: Date.now() });
  } catch (err) {
    report({ event: 'settled', ...outcome(err), at: Date.now() });
  }
  try {
    await client.stat('/');
    report({ event: 'after', ok: true });
  } catch (err) {
    report({ event: 'after', ...outcome(err) });
  }
  const t0 = Date.now();
  try {
    await client.end();
    report({ event: 'ended', ok: true, ms: Date.now() - t0 });
  } catch (err) {
    report({ event: 'ended', ...outcome(err), ms: Date.now() - t0 });
  }
  conn?.end();
}

await main(JSON.parse(process.argv[2]!) as ResetJob);
