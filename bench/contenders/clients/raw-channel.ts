/**
 * The raw SSH channel, the limit LARGE rows are read against: `cat > /dev/null` up, `head -c N
 * /dev/zero` down (the embedded server understands exactly these two commands; sshd runs them).
 */
import { performance } from 'node:perf_hooks';
import type ssh2 from 'ssh2';
import { RAW_SINK_COMMAND, rawSourceCommand, type NodeJob } from '../jobs.js';
import type { Timed, WorkerSession } from './worker-session.js';

function execChannel(conn: ssh2.Client, command: string): Promise<ssh2.ClientChannel> {
  return new Promise((resolve, reject) => conn.exec(command, (err, ch) => (err ? reject(err) : resolve(ch))));
}

/** Move job.bytes over a plain channel (LARGE only; nothing to verify: zeros). */
export async function rawChannelLarge(session: WorkerSession, job: NodeJob): Promise<Timed> {
  const conn = session.conn;
  const bytes = job.bytes ?? 0;
  if (job.direction === 'up') {
    const ch = await execChannel(conn, RAW_SINK_COMMAND);
    const closed = new Promise<void>((resolve) => ch.once('close', () => resolve()));
    ch.stderr.resume();
    await new Promise<void>((resolve, reject) => {
      let text = '';
      const onData = (d: Buffer) => {
        text += d.toString();
        if (text.includes('ready')) {
          ch.off('data', onData);
          resolve();
        }
      };
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
      if (!ch.write(n === block.length ? block : block.subarray(0, n)))
        await new Promise<void>((r) => ch.once('drain', r));
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
    ch.on('data', (d: Buffer) => {
      if (got === 0) t0 = performance.now();
      got += d.length;
    });
    ch.once('close', () => resolve());
  });
  const t1 = performance.now();
  if (got !== bytes) throw new Error(`raw channel delivered ${got} bytes, expected ${bytes}`);
  return { seconds: (t1 - t0) / 1000 };
}
