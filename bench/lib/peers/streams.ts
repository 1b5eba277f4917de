/** Byte-stream pairs for driving a server or a client from the other end. */
import net from 'node:net';
import { Duplex } from 'node:stream';

/**
 * Two connected in-memory Duplex ends: what one writes, the other reads (delivered on a later tick).
 * `write()` reports backpressure once `highWaterMark` bytes are queued, like a real stream.
 */
export function memoryPair(highWaterMark = 64 * 1024): [Duplex, Duplex] {
  const ends: Duplex[] = [];
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      highWaterMark,
      write(chunk: Buffer, _enc, cb) {
        setImmediate(() => {
          const p = peer();
          if (!p.destroyed && !p.readableEnded) p.push(chunk);
          cb();
        });
      },
      final(cb) {
        setImmediate(() => {
          const p = peer();
          if (!p.destroyed) p.push(null);
          cb();
        });
      },
      read() {},
    });
  ends.push(
    make(() => ends[1]!),
    make(() => ends[0]!),
  );
  const [a, b] = ends as [Duplex, Duplex];
  a.once('close', () => setImmediate(() => b.destroy()));
  b.once('close', () => setImmediate(() => a.destroy()));
  return [a, b];
}

/** Two connected TCP sockets on loopback (real kernel buffers and backpressure): [client, server]. */
export async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const listener = net.createServer();
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const { port } = listener.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((r) => listener.once('connection', r));
  const client = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', () => r()));
  const server = await accepted;
  listener.close();
  client.setNoDelay(true);
  server.setNoDelay(true);
  return [client, server];
}

/** Resolve after `ms` (for polling a state, never for asserting a duration). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Await `p`, failing with `what` if it has not settled after `ms`: a hang detector for things that
 * must finish (a session after its stream ended), not a measure of speed.
 */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, watchdog]);
  } finally {
    clearTimeout(timer);
  }
}
