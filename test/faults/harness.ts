import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { SftpClient } from '../../src/client/index.js';
import { startServer, type PeerKind } from '../atomic/fixture.js';
import { CutProxy, type CutProxyOptions } from './cut-proxy.js';

export interface Attempt<T> {
  result?: T;
  error?: unknown;
  proxy: CutProxy;
}

/**
 * One connection to a fresh server (OpenSSH's sftp-server or ours) in `dir` through a CutProxy; runs
 * `fn` with the client, then ends everything and waits until the server has exited, so the next
 * attempt sees what this one left on disk.
 */
export async function attempt<T>(
  kind: PeerKind,
  dir: string,
  proxyOpts: CutProxyOptions,
  fn: (c: SftpClient) => Promise<T>,
): Promise<Attempt<T>> {
  const server = startServer(kind, dir);
  const proxy = new CutProxy(server.stream, proxyOpts);
  const out: Attempt<T> = { proxy };
  let client: SftpClient | undefined;
  try {
    client = await SftpClient.fromStream(proxy.clientStream);
    out.result = await fn(client);
  } catch (err) {
    out.error = err;
  }
  if (client) await client.end().catch(() => {});
  proxy.cut();
  await server.close();
  return out;
}

/**
 * The shape of the cut-at-any-byte properties: a 256 KiB file moved in 4 KiB chunks, 8 in flight (one
 * window W = 32 KiB), FAULT_RUNS runs per property (default 20).
 */
export const CUT_SHAPE = {
  size: 256 * 1024,
  chunk: 4096,
  requests: 8,
  window: 4096 * 8,
  runs: Number(process.env.FAULT_RUNS ?? 20),
};

/**
 * An attempt with no cut, which must succeed: the bytes that crossed the proxy both ways, i.e. the range
 * a cut can be drawn from.
 */
export async function uncutTotal<T>(kind: PeerKind, dir: string, fn: (c: SftpClient) => Promise<T>): Promise<number> {
  const a = await attempt(kind, dir, {}, fn);
  assert.ok(a.result, String(a.error));
  return a.proxy.bytesUp + a.proxy.bytesDown;
}

/**
 * Watches a file while a transfer runs: every look at it (as often as the event loop allows) must find
 * it absent or holding exactly one of `allowed`. Reads the contents only when its stat changed.
 */
export function watchFile(path: string, allowed: Buffer[]) {
  let stopped = false;
  let looks = 0;
  let reads = 0;
  const bad: string[] = [];
  let last = '';
  const look = () => {
    looks++;
    let key: string;
    try {
      const st = statSync(path, { bigint: true });
      key = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      last = '';
      return;
    }
    if (key === last) return;
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch {
      return; // renamed away between stat and read
    }
    reads++;
    if (!allowed.some((a) => a.equals(data))) bad.push(`${data.length} bytes matching none of the allowed contents`);
    last = key;
  };
  // Unref'd: a watcher left running (a failed assertion before stop) never keeps the process alive.
  const tick = () => {
    if (stopped) return;
    look();
    setImmediate(tick).unref();
  };
  tick();
  return {
    async stop() {
      stopped = true;
      look();
      return { looks, reads, bad };
    },
  };
}
