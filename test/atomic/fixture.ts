import { readdirSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { SftpClient, type ClientOptions } from '../../src/client/index.js';
import { SftpServer } from '../../src/server/index.js';
import { spawnSftpServer } from '../../bench/lib/peers/openssh.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

export type PeerKind = 'openssh' | 'ours';

/** A server working in `dir` on a byte stream; `close` ends it (and waits for it). */
export interface ServerEnd {
  stream: Duplex;
  close(): Promise<void>;
}

/** OpenSSH's sftp-server (stdio, working directory `dir`) or our SftpServer (root `dir`), on a stream. */
export function startServer(kind: PeerKind, dir: string): ServerEnd {
  if (kind === 'openssh') {
    const s = spawnSftpServer({ cwd: dir });
    return { stream: s.stream, close: () => s.close() };
  }
  const [clientEnd, serverEnd] = memoryPair();
  const done = new SftpServer({ root: dir }).serve(serverEnd).catch(() => {});
  return {
    stream: clientEnd,
    async close() {
      if (!clientEnd.writableEnded) clientEnd.end();
      await done;
    },
  };
}

export interface Peer {
  kind: PeerKind;
  dir: string;
  client: SftpClient;
  close(): Promise<void>;
}

/** A client connected to a fresh server in `dir` (paths relative to `dir` work on both kinds). */
export async function connectPeer(kind: PeerKind, dir: string, opts?: ClientOptions): Promise<Peer> {
  const server = startServer(kind, dir);
  const client = await SftpClient.fromStream(server.stream, opts);
  return {
    kind,
    dir,
    client,
    async close() {
      await client.end().catch(() => {});
      await server.close();
    },
  };
}

/** Names in `dir` that look like our temporary files (`.x.TAG.part`, `.x.HASH.resume`). */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => /^\..*\.[0-9a-f]{8}\.(part|resume)$/.test(n));
}

/** A deterministic pseudo-random buffer (xorshift), never all zeros. */
export function randomBytesSeeded(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export async function rejectionOf(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, got a result');
}
