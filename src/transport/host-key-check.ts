/**
 * Verification of an SSH server's host key against OpenSSH known_hosts files, for any ssh2
 * connection: the policy (strict, accept-new, off) and the config to spread into ssh2's settings.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SshConnectConfig } from './ssh-channel.js';
import {
  appendKnownHost,
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownHostLine,
  knownHostName,
  knownKeyTypes,
  loadKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js';

/** What to do with the server's host key: like OpenSSH's StrictHostKeyChecking yes / accept-new / no-check. */
export type HostKeyCheck = 'strict' | 'accept-new' | 'off';

export const HOST_KEY_CHECKS: readonly HostKeyCheck[] = ['strict', 'accept-new', 'off'];

export interface KnownHostsOptions {
  /** The user's known_hosts file: read, and where accept-new records keys (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Files only read (default /etc/ssh/ssh_known_hosts). */
  globalKnownHosts?: string[];
  /** Default 'accept-new'. */
  hostKeyCheck?: HostKeyCheck;
}

export type HostKeyErrorCode = 'ERR_HOST_KEY_CHANGED' | 'ERR_HOST_KEY_UNKNOWN' | 'ERR_HOST_KEY_REVOKED';

/** The connection was refused because of the server's host key. */
export class HostKeyError extends Error {
  override readonly name = 'HostKeyError';
  constructor(
    readonly code: HostKeyErrorCode,
    message: string,
    readonly entry?: KnownHostEntry,
  ) {
    super(message);
  }
}

export function defaultKnownHostsFile(): string {
  return join(homedir(), '.ssh', 'known_hosts');
}

const GLOBAL_KNOWN_HOSTS = ['/etc/ssh/ssh_known_hosts'];

/** ssh2's host key algorithms in its default order (those it supports by default). */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/**
 * Host key algorithms to offer, with those of the keys on file first (as OpenSSH does), so that a host
 * known by its ECDSA key is asked for that key and not a newer Ed25519 one. Undefined: ssh2's default.
 */
export function preferredHostKeyAlgorithms(knownTypes: string[]): string[] | undefined {
  const first: string[] = [];
  for (const t of knownTypes) {
    const algs = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t];
    for (const a of algs) if (HOST_KEY_ALGORITHMS.includes(a) && !first.includes(a)) first.push(a);
  }
  if (first.length === 0) return undefined;
  return [...first, ...HOST_KEY_ALGORITHMS.filter((a) => !first.includes(a))];
}

function describeKey(key: Buffer): string {
  return `${keyTypeOf(key) ?? 'unknown-type'} ${fingerprint(key)}`;
}

export interface HostKeyDecision {
  accept: boolean;
  error?: HostKeyError;
  /** accept-new on an unknown host: the line to append to the user's known_hosts file once connected. */
  record?: { line: string; key: Buffer };
}

/**
 * The policy: known keys pass; a revoked or changed key is always refused (whatever the policy but
 * 'off'); an unknown host is refused by 'strict' and recorded by 'accept-new'.
 */
export function decideHostKey(
  entries: KnownHostEntry[],
  target: { host: string; port: number },
  key: Buffer,
  policy: Exclude<HostKeyCheck, 'off'>,
  userFile: string,
): HostKeyDecision {
  const name = knownHostName(target.host, target.port);
  const verdict = checkHostKey(entries, target.host, target.port, key);
  switch (verdict.status) {
    case 'known':
      return { accept: true };
    case 'revoked': {
      const e = verdict.entry;
      return {
        accept: false,
        error: new HostKeyError(
          'ERR_HOST_KEY_REVOKED',
          `the host key of ${name} (${describeKey(key)}) is marked @revoked in ${e.file} line ${e.line}; refusing to connect`,
          e,
        ),
      };
    }
    case 'changed': {
      const e = verdict.entry;
      const remove = `ssh-keygen -R '${name}' -f '${e.file}'`;
      return {
        accept: false,
        error: new HostKeyError(
          'ERR_HOST_KEY_CHANGED',
          `HOST KEY CHANGED for ${name}: the server offered ${describeKey(key)}, but ${e.file} line ${e.line} ` +
            `holds ${describeKey(e.key)} for this host. Someone may be intercepting the connection ` +
            `(man-in-the-middle), or the host key was replaced. Refusing to connect. If the change is ` +
            `expected, remove the old key (${remove}) and connect again.`,
          e,
        ),
      };
    }
    case 'unknown':
      if (policy === 'strict') {
        return {
          accept: false,
          error: new HostKeyError(
            'ERR_HOST_KEY_UNKNOWN',
            `no host key for ${name} in ${userFile} (the server offered ${describeKey(key)}); ` +
              `--host-key-check strict refuses unknown hosts. Add its key to the file ` +
              `(after checking the fingerprint) or use --host-key-check accept-new.`,
          ),
        };
      }
      return { accept: true, record: { line: knownHostLine(target.host, target.port, key), key } };
  }
}

export interface KnownHostsCheck {
  /** Spread into ssh2's ConnectConfig: hostVerifier, and host key algorithms with the known types first. */
  config: Pick<SshConnectConfig, 'hostVerifier' | 'algorithms'>;
  /** After a failed connect: the HostKeyError when the host key was the reason. */
  refusal(): HostKeyError | undefined;
  /**
   * After a successful connect: record a key accepted as new (accept-new) in the user's known_hosts
   * file. Returns the notice to show (a line added, or a warning that it could not be), if any.
   */
  commit(): string | undefined;
}

/**
 * Host key checking for one ssh2 connection, usable with SftpClient.connect or a plain ssh2 Client:
 * `const c = knownHostsCheck({ host, port }, { hostKeyCheck: 'strict' })`, connect with
 * `{ ...config, ...c.config }`, on failure throw `c.refusal() ?? err`, on success call `c.commit()`.
 * The known_hosts files are read once, here. Policy 'off' gives an empty config (ssh2 accepts any key).
 */
export function knownHostsCheck(target: { host: string; port: number }, opts: KnownHostsOptions = {}): KnownHostsCheck {
  const policy = opts.hostKeyCheck ?? 'accept-new';
  const userFile = opts.knownHosts ?? defaultKnownHostsFile();
  let decision: HostKeyDecision | undefined;
  const config: KnownHostsCheck['config'] = {};
  if (policy !== 'off') {
    const entries = loadKnownHosts([userFile, ...(opts.globalKnownHosts ?? GLOBAL_KNOWN_HOSTS)]);
    const serverHostKey = preferredHostKeyAlgorithms(knownKeyTypes(entries, target.host, target.port));
    if (serverHostKey)
      config.algorithms = {
        serverHostKey: serverHostKey as NonNullable<SshConnectConfig['algorithms']>['serverHostKey'],
      };
    config.hostVerifier = (key: Buffer): boolean => {
      decision = decideHostKey(entries, target, key, policy, userFile);
      return decision.accept;
    };
  }
  return {
    config,
    refusal: () => decision?.error,
    commit() {
      const record = decision?.record;
      if (!record) return undefined;
      decision = { accept: true }; // once
      const name = knownHostName(target.host, target.port);
      try {
        const line = appendKnownHost(userFile, record.line);
        return `sftp-wire: added the host key of ${name} (${describeKey(record.key)}) to ${userFile} line ${line}`;
      } catch (err) {
        // Like OpenSSH: the key was accepted for this connection; say it could not be kept.
        return `sftp-wire: warning: could not add the host key of ${name} to ${userFile}: ${(err as Error).message}`;
      }
    },
  };
}
