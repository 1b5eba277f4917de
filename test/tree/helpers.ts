import { randomBytes } from 'node:crypto';
import {
  realpathSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  lstatSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, createConnection, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import type { Duplex } from 'node:stream';
import { join, relative } from 'node:path';
import { spawnSftpServer, type SpawnedSftpServer } from '../../bench/lib/peers/openssh.js';
import { SftpClient, type ClientOptions } from '../../src/client/index.js';
import { SftpServer } from '../../src/server/index.js';
import { WireTap } from './wire-tap.js';
import { tempDir } from '../support/temp-dir.js';

/** A tree description: a string or Buffer is a file, an object a directory, { link } a symbolic link. */
export type TreeSpec = { [name: string]: string | Buffer | TreeSpec | { link: string } };

/** `files` files of random bytes dealt over `dirs` folders (d0/f0, d1/f1, ...); file i has `sizeOf(i)` bytes. */
export function filesInDirs(files: number, dirs: number, sizeOf: (i: number) => number): TreeSpec {
  const spec: TreeSpec = {};
  for (let d = 0; d < dirs; d++) spec[`d${d}`] = {};
  for (let i = 0; i < files; i++) (spec[`d${i % dirs}`] as TreeSpec)[`f${i}`] = randomBytes(sizeOf(i));
  return spec;
}

function isLink(v: unknown): v is { link: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Buffer.isBuffer(v) &&
    typeof (v as { link?: unknown }).link === 'string' &&
    Object.keys(v).length === 1
  );
}

export function writeTree(dir: string, spec: TreeSpec): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, v] of Object.entries(spec)) {
    const p = join(dir, name);
    if (typeof v === 'string' || Buffer.isBuffer(v)) writeFileSync(p, v);
    else if (isLink(v)) symlinkSync(v.link, p);
    else writeTree(p, v as TreeSpec);
  }
}

/** A canonical description of a local tree: path -> 'd' | 'f:<hex of content>' | 'l:<target>'. */
export function describeTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out.set(r, `l:${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(r, 'd');
        walk(p, r);
      } else out.set(r, `f:${readFileSync(p).toString('base64')}`);
    }
  };
  walk(dir, '');
  return out;
}

/** The bytes of the regular files in a local tree (links not followed). */
export function treeBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) n += treeBytes(p);
    else if (e.isFile()) n += lstatSync(p).size;
  }
  return n;
}

/** The differences between two trees, as readable lines (empty when identical). */
export function treeDiff(a: string, b: string): string[] {
  const da = describeTree(a);
  const db = describeTree(b);
  const diffs: string[] = [];
  for (const [k, v] of da) {
    if (!db.has(k)) diffs.push(`missing in copy: ${JSON.stringify(k)}`);
    else if (db.get(k) !== v) diffs.push(`differs: ${JSON.stringify(k)}`);
  }
  for (const k of db.keys()) if (!da.has(k)) diffs.push(`extra in copy: ${JSON.stringify(k)}`);
  return diffs;
}

/** One peer to test against: a client connected to a server that works in the local file system. */
export interface Peer {
  name: string;
  client: SftpClient;
  /** The remote path that names a local path on this peer. */
  remote(localPath: string): string;
  /** Open handles the server holds right now (file descriptors for OpenSSH), when it can tell. */
  openHandles(): number;
  close(): Promise<void>;
}

export interface PeerOptions {
  client?: ClientOptions;
  /** Put something between the client and the server's stream (e.g. a WireTap). */
  wrap?: (stream: Duplex) => Duplex;
}

export async function openSshPeer(opts: PeerOptions = {}): Promise<Peer> {
  const server: SpawnedSftpServer = spawnSftpServer({ cwd: tmpdir() });
  const client = await SftpClient.fromStream(opts.wrap ? opts.wrap(server.stream) : server.stream, opts.client);
  const baseline = readdirSync(`/proc/${server.child.pid}/fd`).length;
  return {
    name: 'openssh',
    client,
    remote: (p) => p,
    openHandles: () => readdirSync(`/proc/${server.child.pid}/fd`).length - baseline,
    async close() {
      await client.end().catch(() => {});
      await server.close();
    },
  };
}

/** Our SftpServer (LocalFs jailed to the temp folder) over a loopback TCP connection. */
export async function ourPeer(opts: PeerOptions = {}): Promise<Peer> {
  const root = realpathSync(tmpdir());
  const sftp = new SftpServer({ root });
  const served: Array<Promise<void>> = [];
  const net: Server = createServer((sock) => {
    sock.setNoDelay(true);
    served.push(sftp.serve(sock).catch(() => {}));
  });
  await new Promise<void>((r) => net.listen(0, '127.0.0.1', () => r()));
  const port = (net.address() as { port: number }).port;
  const sock = createConnection({ port, host: '127.0.0.1' });
  sock.setNoDelay(true);
  await new Promise<void>((r, j) => {
    sock.once('connect', () => r());
    sock.once('error', j);
  });
  const client = await SftpClient.fromStream(opts.wrap ? opts.wrap(sock) : sock, opts.client);
  return {
    name: 'sftp-wire',
    client,
    remote: (p) => {
      const r = relative(root, p);
      if (r.startsWith('..')) throw new Error(`${p} is outside the served root ${root} (use tempDir())`);
      return '/' + r;
    },
    openHandles: () => -1,
    async close() {
      await client.end().catch(() => {});
      sock.destroy();
      await Promise.all(served);
      await new Promise<void>((r) => net.close(() => r()));
    },
  };
}

/** A peer whose wire a fresh WireTap watches, and a new temporary folder (removeDir it after). */
export async function openTapped(p: {
  open: (opts?: PeerOptions) => Promise<Peer>;
}): Promise<{ peer: Peer; tap: WireTap; base: string }> {
  const tap = new WireTap();
  const peer = await p.open({ wrap: (s) => tap.wrap(s) });
  return { peer, tap, base: tempDir('sftp-wire-tree-').dir };
}

export const peers: Array<{ name: string; open: (opts?: PeerOptions) => Promise<Peer> }> = [
  { name: 'OpenSSH sftp-server', open: openSshPeer },
  { name: 'our SftpServer', open: ourPeer },
];
