import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { isSftpUrl, parseSftpUrl, type SftpClient, type SftpUrl, type TransferOptions } from '../index.js';
import { CONNECT_OPTIONS, CONNECT_USAGE, connectUrl, parseHostKeyCheck, type HostKeyCheck } from './connect.js';
import { connectionLostLine } from './connection-lost.js';
import { ProgressDisplay, rateSummary } from './progress.js';
import { runTree } from './transfer-tree.js';

export { connectUrl, type ConnectFlags } from './connect.js';

/** A byte count like 262144, 256k, 1M. */
export function parseBytes(s: string): number {
  const m = /^(\d+)([kmg]i?b?)?$/i.exec(s.trim());
  if (!m) throw new TypeError(`not a byte count: ${JSON.stringify(s)}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[
    (m[2] ?? '').charAt(0).toLowerCase() as '' | 'k' | 'm' | 'g'
  ];
  return Number(m[1]) * mult;
}

function positiveInt(s: string | undefined, what: string): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1)
    throw new TypeError(`${what} must be a positive integer, got ${JSON.stringify(s)}`);
  return n;
}

const USAGE = `usage: sftp-wire put [options] LOCAL sftp://[user@]host[:port]/path
       sftp-wire get [options] sftp://[user@]host[:port]/path LOCAL

options:
  -r, --recursive  copy a directory tree (many files in flight at once)
  -R N             requests in flight (default 32; 256 over a whole tree with -r)
  -B BYTES         bytes per request (default: the server's limit, at most 256k; e.g. 64k)
  -p, --preserve   copy mode and times
  --fsync          flush the destination before closing
  -q, --quiet      no progress and no summary line
  --atomic         write a temporary file next to the destination, rename it into place when whole
  --resume         continue an interrupted transfer (the partial's bytes are verified first)
  --verify MODE    check the copy before committing it: size, tail or hash
${CONNECT_USAGE}
A destination ending in '/', or an existing directory, receives the source under its base name
(with -r as cp -r does; otherwise the directory is created as the copy).
sftp://host/path is absolute; sftp://host/~/path is relative to the login directory.
On a terminal a progress line (bytes, percent, rate, ETA) is redrawn in place; failed entries of
a tree are listed on stderr and the exit code is 1.
`;

/**
 * A failed transfer's message. An error about another file than the destination (an atomic upload's
 * temporary file, a resume partial) names the destination too, so the user sees what was being written.
 */
export function failureText(err: unknown, destination: string | undefined): string {
  const message = err instanceof Error ? err.message : String(err);
  const path = (err as { path?: unknown } | undefined)?.path;
  if (destination === undefined || typeof path !== 'string' || path === destination) return message;
  return `${message}, writing ${destination}`;
}

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
        ...CONNECT_OPTIONS,
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
  const verify = v.verify;
  if (verify !== undefined && verify !== 'size' && verify !== 'tail' && verify !== 'hash') {
    process.stderr.write(`sftp-wire ${verb}: --verify must be size, tail or hash\n`);
    return 2;
  }
  if (verify !== undefined && v.recursive) {
    process.stderr.write(`sftp-wire ${verb}: --verify is for single files (not with -r)\n`);
    return 2;
  }
  if (positionals.length !== 2) {
    process.stderr.write(`sftp-wire ${verb}: expected SRC and DST\n\n${USAGE}`);
    return 2;
  }
  const [src, dst] = positionals as [string, string];
  const remoteArg = verb === 'put' ? dst : src;
  const localArg = verb === 'put' ? src : dst;
  if (!isSftpUrl(remoteArg) || isSftpUrl(localArg)) {
    process.stderr.write(
      `sftp-wire ${verb}: ${verb === 'put' ? 'DST' : 'SRC'} must be an sftp:// URL and the other a local path\n`,
    );
    return 2;
  }
  let url: SftpUrl;
  let requests: number | undefined;
  let chunkSize: number | undefined;
  let hostKeyCheck: HostKeyCheck;
  try {
    url = parseSftpUrl(remoteArg);
    requests = positiveInt(v.requests, '-R');
    chunkSize = v.buffer !== undefined ? parseBytes(v.buffer) : undefined;
    hostKeyCheck = parseHostKeyCheck(v['host-key-check']);
  } catch (err) {
    process.stderr.write(`sftp-wire ${verb}: ${(err as Error).message}\n`);
    return 2;
  }
  let client: SftpClient;
  try {
    client = await connectUrl(url, {
      identity: v.identity,
      passphraseEnv: v['passphrase-env'],
      requests,
      chunkSize,
      knownHosts: v['known-hosts'],
      hostKeyCheck,
      notice: v.quiet ? () => {} : undefined,
    });
  } catch (err) {
    process.stderr.write(
      `${connectionLostLine(url, err, 'while connecting') ?? `sftp-wire ${verb}: ${(err as Error).message}`}\n`,
    );
    return 1;
  }
  // Ctrl-C (or SIGTERM) cancels: nothing more is sent, open handles are closed, temporary files removed.
  // A second signal exits at once.
  const interrupt = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(`\nsftp-wire ${verb}: ${sig}: cancelling (again to quit at once)\n`);
    interrupt.abort(Object.assign(new Error(`cancelled by ${sig}`), { name: 'AbortError', code: 'ABORT_ERR' }));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const cancelled = (code: number) => (interrupt.signal.aborted ? 130 : code);
  const stopListening = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  // What a cancelled --resume leaves: the partial, which the same command continues.
  const resumeNote = (): void => {
    if (v.resume && interrupt.signal.aborted) {
      process.stderr.write(`sftp-wire ${verb}: the partial copy was kept; run the same command again to resume it\n`);
    }
  };
  if (v.recursive) {
    try {
      return await runTree(client, {
        verb,
        src: verb === 'put' ? localArg : url.path,
        dst: verb === 'put' ? url.path : localArg,
        // atomic/resume apply to every file of the tree (TreeOptions), once the flags are accepted above.
        options: {
          preserve: v.preserve,
          fsync: v.fsync,
          requests,
          chunkSize,
          atomic: v.atomic,
          resume: v.resume,
          signal: interrupt.signal,
        },
        quiet: v.quiet,
      }).then((code) => {
        resumeNote();
        return cancelled(code);
      });
    } finally {
      stopListening();
      await client.end();
    }
  }
  const progress = new ProgressDisplay({
    label: verb === 'put' ? basename(localArg) : basename(url.path),
    quiet: v.quiet,
  });
  let to: string | undefined;
  try {
    const opts: TransferOptions = {
      preserve: v.preserve,
      fsync: v.fsync,
      requests,
      chunkSize,
      atomic: v.atomic,
      resume: v.resume,
      verify,
      signal: interrupt.signal,
      onProgress: (p) => progress.update(p),
    };
    let result;
    let from: string;
    if (verb === 'put') {
      let remote = url.path;
      if (remote.endsWith('/')) remote += basename(localArg);
      else {
        const isDir = await client.stat(remote).then(
          (a) => ((a.permissions ?? 0) & 0o170000) === 0o040000,
          () => false,
        );
        if (isDir) remote = `${remote}/${basename(localArg)}`;
      }
      [from, to] = [localArg, remote];
      result = await client.put(localArg, remote, opts);
    } else {
      let local = localArg;
      if (local.endsWith('/') || (existsSync(local) && statSync(local).isDirectory()))
        local = join(local, basename(url.path));
      [from, to] = [url.path, local];
      result = await client.get(url.path, local, opts);
    }
    const notes = [
      result.resumedFrom > 0 ? `resumed at byte ${result.resumedFrom}` : '',
      result.verified ? `verified (${result.verified})` : '',
      result.replaced === 'non-atomic' ? 'replaced NON-atomically (REMOVE+RENAME)' : '',
    ].filter(Boolean);
    progress.finish(
      `${verb} ${from} -> ${to!}: ${rateSummary(result.bytes, progress.elapsed)}${notes.length ? `; ${notes.join(', ')}` : ''}`,
    );
    return 0;
  } catch (err) {
    progress.finish();
    const source = verb === 'put' ? localArg : url.path;
    process.stderr
      .write(`${connectionLostLine(url, err, `during ${verb} of ${source}`) ?? `sftp-wire ${verb}: ${failureText(err, to)}`}
`);
    resumeNote();
    return cancelled(1);
  } finally {
    stopListening();
    await client.end();
  }
}
