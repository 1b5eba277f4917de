/**
 * The CLI's connection to the host of an sftp:// URL: authentication (key, agent, password from the
 * environment) and verification of the server's host key against OpenSSH known_hosts files.
 */
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { ConnectConfig } from 'ssh2';
import { SftpClient } from '../client/client.js';
import type { SftpUrl } from '../client/url.js';
import { cliAuth, loadPrivateKey, type Ask } from './auth.js';
import { canPrompt, readHidden } from './prompt.js';
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

export interface ConnectFlags {
  /** Private key file (-i). */
  identity?: string;
  requests?: number;
  chunkSize?: number;
  /** The user's known_hosts file: read, and where accept-new records keys (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** Files only read (default /etc/ssh/ssh_known_hosts). */
  globalKnownHosts?: string[];
  /** Default 'accept-new'. */
  hostKeyCheck?: HostKeyCheck;
  /** Where notices go (a recorded new host key); default stderr. */
  notice?: (message: string) => void;
  /** The environment variable holding the passphrase of an encrypted key (--passphrase-env). */
  passphraseEnv?: string;
  /** Asks for a password or passphrase; default: on the terminal when stdin is one (and not under CI); null: never. */
  ask?: Ask | null;
  /** Default process.env (SSH_AUTH_SOCK, SFTP_WIRE_PASSWORD, USER, CI). */
  env?: NodeJS.ProcessEnv;
  /** Connecting's time limit, not counting prompts (default CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
}

/** parseArgs option definitions shared by put, get and ls. */
export const CONNECT_OPTIONS = {
  identity: { type: 'string', short: 'i' },
  'passphrase-env': { type: 'string' },
  'known-hosts': { type: 'string' },
  'host-key-check': { type: 'string' },
} as const;

export const CONNECT_USAGE = `  -i FILE          private key (default: ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa)
  --passphrase-env VAR          an encrypted key's passphrase is in $VAR (default: asked for
                                on a terminal)
  --known-hosts FILE            known_hosts file (default ~/.ssh/known_hosts;
                                /etc/ssh/ssh_known_hosts is read too)
  --host-key-check strict|accept-new|off
                   strict: refuse hosts not on file; accept-new (default): record an
                   unknown host's key, refuse a changed one; off: no check at all

Passwords: when no key logs in, the password is asked for on a terminal (not echoed); scripts set
SFTP_WIRE_PASSWORD. Without a terminal, or under CI, nothing is asked.
`;

/** The host-key-check flag's value, checked. */
export function parseHostKeyCheck(s: string | undefined): HostKeyCheck {
  if (s === undefined) return 'accept-new';
  if ((HOST_KEY_CHECKS as readonly string[]).includes(s)) return s as HostKeyCheck;
  throw new TypeError(`--host-key-check must be strict, accept-new or off, got ${JSON.stringify(s)}`);
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
  config: Pick<ConnectConfig, 'hostVerifier' | 'algorithms'>;
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
export function knownHostsCheck(
  target: { host: string; port: number },
  opts: Pick<ConnectFlags, 'knownHosts' | 'globalKnownHosts' | 'hostKeyCheck'> = {},
): KnownHostsCheck {
  const policy = opts.hostKeyCheck ?? 'accept-new';
  const userFile = opts.knownHosts ?? defaultKnownHostsFile();
  let decision: HostKeyDecision | undefined;
  const config: KnownHostsCheck['config'] = {};
  if (policy !== 'off') {
    const entries = loadKnownHosts([userFile, ...(opts.globalKnownHosts ?? GLOBAL_KNOWN_HOSTS)]);
    const serverHostKey = preferredHostKeyAlgorithms(knownKeyTypes(entries, target.host, target.port));
    if (serverHostKey) config.algorithms = { serverHostKey: serverHostKey as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] };
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

/** How long connecting may take, not counting the time spent waiting for someone to type a secret. */
export const CONNECT_TIMEOUT_MS = 30_000;

/** The ~/.ssh/id_* files tried (after the agent) when no -i is given, in OpenSSH's order. */
export function defaultKeyFiles(home = homedir()): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(home, '.ssh', n)).filter((p) => existsSync(p));
}

/** A timer that can be stopped while someone types, and started again. */
class PausableTimer {
  private left: number;
  private since = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(ms: number, private readonly fire: () => void) {
    this.left = ms;
    this.start();
  }
  start(): void {
    if (this.timer || this.left <= 0) return;
    this.since = Date.now();
    this.timer = setTimeout(this.fire, this.left);
  }
  pause(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.left -= Date.now() - this.since;
  }
}

/**
 * Connect to the host of an sftp:// URL. Authentication (see cliAuth): the key given with -i, else the
 * ssh-agent at SSH_AUTH_SOCK and ~/.ssh/id_ed25519|id_ecdsa|id_rsa; then a password from
 * SFTP_WIRE_PASSWORD, else asked for when stdin is a terminal (never under CI). An encrypted key's
 * passphrase comes from --passphrase-env VAR or the terminal. The server's host key is checked against
 * known_hosts (see decideHostKey); a key accepted as new is recorded only once the connection is up.
 * Rejects with a HostKeyError when the key is refused, an AuthenticationError when the login is.
 */
export async function connectUrl(url: SftpUrl, flags: ConnectFlags = {}): Promise<SftpClient> {
  const env = flags.env ?? process.env;
  const ask: Ask | undefined = flags.ask === null ? undefined : (flags.ask ?? (canPrompt(process.stdin, env) ? (p: string) => readHidden(p) : undefined));
  const identityKey = flags.identity ? await loadPrivateKey(flags.identity, { passphraseEnv: flags.passphraseEnv, ask, env }) : undefined;
  const target = knownHostName(url.host, url.port).replace(/^\[(.*)\]:(\d+)$/, (_m, h: string, p: string) => (h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`));
  const username = url.user ?? env.USER ?? userInfo().username;
  const auth = cliAuth(
    {
      username,
      target,
      identity: flags.identity,
      defaultKeys: flags.identity ? [] : defaultKeyFiles(),
      agent: flags.identity ? undefined : env.SSH_AUTH_SOCK || undefined,
      password: env.SFTP_WIRE_PASSWORD || undefined,
      passphraseEnv: flags.passphraseEnv,
      ask,
      env,
    },
    identityKey,
    (asking) => (asking ? deadline.pause() : deadline.start()),
  );
  const check = knownHostsCheck(url, flags);
  // Our own connect timer (ssh2's readyTimeout cannot wait while a password is typed).
  const cancel = new AbortController();
  const timeoutMs = flags.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const timedOut = new Error(`could not connect to ${target} within ${timeoutMs / 1000} s (no SSH or SFTP handshake)`);
  const deadline = new PausableTimer(timeoutMs, () => cancel.abort(timedOut));
  const config: ConnectConfig = {
    host: url.host,
    port: url.port,
    username,
    authHandler: auth.handler,
    readyTimeout: 0,
    ...check.config,
  };
  let client: SftpClient;
  try {
    client = await SftpClient.connect({ ...config, sftp: { requests: flags.requests, chunkSize: flags.chunkSize, signal: cancel.signal, handshakeTimeoutMs: 0 } });
  } catch (err) {
    const e = err as Error & { level?: string };
    if (cancel.signal.aborted) throw timedOut;
    if (e.level === 'client-authentication') throw auth.failure();
    throw check.refusal() ?? err;
  } finally {
    deadline.pause();
  }
  const notice = check.commit();
  if (notice) (flags.notice ?? ((m: string) => void process.stderr.write(`${m}\n`)))(notice);
  return client;
}
