import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { SftpClient } from '../client/client.js';
import { isSftpUrl, parseSftpUrl, type SftpUrl } from '../client/url.js';
import type { TransferOptions } from '../client/transfer.js';

export interface ConnectFlags {
  identity?: string;
  requests?: number;
  chunkSize?: number;
}

/**
 * Connect to the host of an sftp:// URL. Authentication: the key given with -i, else the ssh-agent at
 * SSH_AUTH_SOCK, else ~/.ssh/id_ed25519|id_ecdsa|id_rsa; a password from SFTP_WIRE_PASSWORD if set.
 * The server's host key is NOT checked against known_hosts.
 */
export async function connectUrl(url: SftpUrl, flags: ConnectFlags = {}): Promise<SftpClient> {
  let privateKey: Buffer | undefined;
  if (flags.identity) privateKey = readFileSync(flags.identity);
  else if (!process.env.SSH_AUTH_SOCK) {
    const found = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(homedir(), '.ssh', n)).find((p) => existsSync(p));
    if (found) privateKey = readFileSync(found);
  }
  return SftpClient.connect({
    host: url.host,
    port: url.port,
    username: url.user ?? process.env.USER ?? userInfo().username,
    privateKey,
    agent: flags.identity ? undefined : process.env.SSH_AUTH_SOCK,
    password: process.env.SFTP_WIRE_PASSWORD,
    readyTimeout: 20_000,
    sftp: { requests: flags.requests, chunkSize: flags.chunkSize },
  });
}

/** A byte count like 262144, 256k, 1M. */
export function parseBytes(s: string): number {
  const m = /^(\d+)([kmg]i?b?)?$/i.exec(s.trim());
  if (!m) throw new TypeError(`not a byte count: ${JSON.stringify(s)}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').charAt(0).toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * mult;
}

function positiveInt(s: string | undefined, what: string): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`${what} must be a positive integer, got ${JSON.stringify(s)}`);
  return n;
}

const USAGE = `usage: sftp-wire put [options] LOCAL sftp://[user@]host[:port]/path
       sftp-wire get [options] sftp://[user@]host[:port]/path LOCAL

options:
  -i FILE          private key (default: ssh-agent, then ~/.ssh/id_*)
  -R N             requests in flight (default 32)
  -B BYTES         bytes per request (default: the server's limit, at most 256k; e.g. 64k)
  -p, --preserve   copy mode and times
  --fsync          flush the destination before closing
  -q, --quiet      no summary line
  -r, --atomic, --resume, --verify MODE   (not supported yet)

A remote path ending in '/' (or a local directory) receives the source's base name.
sftp://host/path is absolute; sftp://host/~/path is relative to the login directory.
Host keys are not checked against known_hosts.
`;

/** `sftp-wire put|get ...`: args[0] is 'put' or 'get'. Returns the exit code. */
export async function run(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== 'put' && verb !== 'get') {
    process.stderr.write(USAGE);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        identity: { type: 'string', short: 'i' },
        requests: { type: 'string', short: 'R' },
        buffer: { type: 'string', short: 'B' },
        preserve: { type: 'boolean', short: 'p' },
        fsync: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        recursive: { type: 'boolean', short: 'r' },
        atomic: { type: 'boolean' },
        resume: { type: 'boolean' },
        verify: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`sftp-wire ${verb}: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  for (const k of ['recursive', 'atomic', 'resume', 'verify'] as const) {
    if (v[k]) {
      process.stderr.write(`sftp-wire ${verb}: --${k === 'recursive' ? 'r' : k} is not supported yet\n`);
      return 2;
    }
  }
  if (positionals.length !== 2) {
    process.stderr.write(`sftp-wire ${verb}: expected SRC and DST\n\n${USAGE}`);
    return 2;
  }
  const [src, dst] = positionals as [string, string];
  const remoteArg = verb === 'put' ? dst : src;
  const localArg = verb === 'put' ? src : dst;
  if (!isSftpUrl(remoteArg) || isSftpUrl(localArg)) {
    process.stderr.write(`sftp-wire ${verb}: ${verb === 'put' ? 'DST' : 'SRC'} must be an sftp:// URL and the other a local path\n`);
    return 2;
  }
  let url: SftpUrl;
  let requests: number | undefined;
  let chunkSize: number | undefined;
  try {
    url = parseSftpUrl(remoteArg);
    requests = positiveInt(v.requests, '-R');
    chunkSize = v.buffer !== undefined ? parseBytes(v.buffer) : undefined;
  } catch (err) {
    process.stderr.write(`sftp-wire ${verb}: ${(err as Error).message}\n`);
    return 2;
  }
  const client = await connectUrl(url, { identity: v.identity, requests, chunkSize });
  try {
    const opts: TransferOptions = { preserve: v.preserve, fsync: v.fsync, requests, chunkSize };
    const started = process.hrtime.bigint();
    let result;
    let from: string;
    let to: string;
    if (verb === 'put') {
      let remote = url.path;
      if (remote.endsWith('/')) remote += basename(localArg);
      else {
        const isDir = await client.stat(remote).then((a) => ((a.permissions ?? 0) & 0o170000) === 0o040000, () => false);
        if (isDir) remote = `${remote}/${basename(localArg)}`;
      }
      [from, to] = [localArg, remote];
      result = await client.put(localArg, remote, opts);
    } else {
      let local = localArg;
      if (local.endsWith('/') || (existsSync(local) && statSync(local).isDirectory())) local = join(local, basename(url.path));
      [from, to] = [url.path, local];
      result = await client.get(url.path, local, opts);
    }
    if (!v.quiet) {
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      const mib = result.bytes / 1024 / 1024;
      process.stderr.write(`${verb} ${from} -> ${to}: ${result.bytes} bytes in ${secs.toFixed(2)} s (${(mib / Math.max(secs, 1e-9)).toFixed(1)} MiB/s)\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`sftp-wire ${verb}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await client.end();
  }
}
