/**
 * The CLI's connection to the host of an sftp:// URL: authentication (key, agent, password from the
 * environment) and verification of the server's host key against OpenSSH known_hosts files.
 */
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { SshConnectConfig as ConnectConfig } from '../transport/ssh-channel.js';
import { SftpClient, type SftpUrl } from '../index.js';
import { cliAuth, loadPrivateKey, type Ask } from './auth.js';
import { canPrompt, readHidden } from './prompt.js';
import { knownHostName } from '../transport/known-hosts.js';
import {
  HOST_KEY_CHECKS,
  knownHostsCheck,
  type HostKeyCheck,
  type KnownHostsOptions,
} from '../transport/host-key-check.js';

export {
  HOST_KEY_CHECKS,
  HostKeyError,
  decideHostKey,
  defaultKnownHostsFile,
  knownHostsCheck,
  preferredHostKeyAlgorithms,
  type HostKeyCheck,
  type HostKeyDecision,
  type HostKeyErrorCode,
  type KnownHostsCheck,
} from '../transport/host-key-check.js';

export interface ConnectFlags extends KnownHostsOptions {
  /** Private key file (-i). */
  identity?: string;
  requests?: number;
  chunkSize?: number;
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
  constructor(
    ms: number,
    private readonly fire: () => void,
  ) {
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
  const ask: Ask | undefined =
    flags.ask === null
      ? undefined
      : (flags.ask ?? (canPrompt(process.stdin, env) ? (p: string) => readHidden(p) : undefined));
  const identityKey = flags.identity
    ? await loadPrivateKey(flags.identity, { passphraseEnv: flags.passphraseEnv, ask, env })
    : undefined;
  const target = knownHostName(url.host, url.port).replace(/^\[(.*)\]:(\d+)$/, (_m, h: string, p: string) =>
    h.includes(':') ? `[${h}]:${p}` : `${h}:${p}`,
  );
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
    client = await SftpClient.connect({
      ...config,
      sftp: { requests: flags.requests, chunkSize: flags.chunkSize, signal: cancel.signal, handshakeTimeoutMs: 0 },
    });
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
