import { parseArgs } from 'node:util';
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { SftpServer } from '../server/sftp-server.js';
import type { AtomicUploadMode } from '../server/options.js';
import { stdioDuplex } from '../transport/stdio.js';
import type { FileUser } from './users-file.js';
import type { RunningSftpSshServer } from '../transport/ssh-server.js';

/** Mirrors DEFAULT_MAX_CONNECTIONS of src/transport/ssh-server.ts (that module loads ssh2: imported only when needed). */
export const DEFAULT_MAX_CONNECTIONS = 256;

/** The SSH server's limits from the command line: idle timeout (undefined: none) and connection cap, or an error. */
export function networkLimits(o: {
  'idle-timeout'?: string;
  'max-connections'?: string;
}): { idleTimeoutMs: number | undefined; maxConnections: number } | { error: string } {
  const idle = o['idle-timeout'] !== undefined ? Number(o['idle-timeout']) : DEFAULT_IDLE_TIMEOUT_S;
  if (o['idle-timeout']?.trim() === '' || !Number.isFinite(idle) || idle < 0)
    return { error: `bad --idle-timeout ${o['idle-timeout']}` };
  const max = o['max-connections'] !== undefined ? Number(o['max-connections']) : DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(max) || max < 1) return { error: `bad --max-connections ${o['max-connections']} (at least 1)` };
  return { idleTimeoutMs: idle > 0 ? idle * 1000 : undefined, maxConnections: max };
}

/** Mirror the defaults of src/transport/ssh-server.ts and src/server/options.ts (loaded only when needed). */
export const DEFAULT_MAX_SESSIONS = 10;
export const DEFAULT_LOGIN_GRACE_S = 120;
export const DEFAULT_MAX_STARTUPS = 64;
export const DEFAULT_MAX_SERVER_HANDLES = 4096;

/** The bounds per connection, before authentication and on handles, from the command line, or an error. */
export function serverBounds(o: {
  'max-sessions'?: string;
  'login-grace'?: string;
  'max-startups'?: string;
  'max-server-handles'?: string;
}): { maxSessions: number; loginGraceMs: number; maxStartups: number; maxServerHandles: number } | { error: string } {
  const int = (v: string | undefined, dflt: number): number | undefined => {
    const n = v === undefined ? dflt : v.trim() === '' ? NaN : Number(v);
    return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
  };
  const maxSessions = int(o['max-sessions'], DEFAULT_MAX_SESSIONS);
  if (maxSessions === undefined) return { error: `bad --max-sessions ${o['max-sessions']} (at least 1)` };
  const maxStartups = int(o['max-startups'], DEFAULT_MAX_STARTUPS);
  if (maxStartups === undefined) return { error: `bad --max-startups ${o['max-startups']} (at least 1)` };
  const maxServerHandles = int(o['max-server-handles'], DEFAULT_MAX_SERVER_HANDLES);
  if (maxServerHandles === undefined)
    return { error: `bad --max-server-handles ${o['max-server-handles']} (at least 1)` };
  const grace =
    o['login-grace'] === undefined
      ? DEFAULT_LOGIN_GRACE_S
      : o['login-grace'].trim() === ''
        ? NaN
        : Number(o['login-grace']);
  if (!Number.isFinite(grace) || grace < 0) return { error: `bad --login-grace ${o['login-grace']}` };
  return { maxSessions, loginGraceMs: Math.round(grace * 1000), maxStartups, maxServerHandles };
}

/** LocalFs's own default (src/server/fs/sync-budget.ts), shown in the help. */
export const DEFAULT_SYNC_BUDGET_MS = 2;

/** `--idle-timeout` when not given: connections with no SFTP traffic for 10 minutes are closed. */
export const DEFAULT_IDLE_TIMEOUT_S = 600;

const HELP = `usage: sftp-wire serve [--root DIR] [--host 127.0.0.1] [--port 2222] [--host-key FILE]
                       [--user NAME --password PW | --authorized-keys FILE | --users FILE]
                       [--atomic-uploads off|atomic|atomic-resume] [--read-only]
                       [--idle-timeout SECONDS] [--max-connections N] [--max-sessions N]
                       [--login-grace SECONDS] [--max-startups N] [--max-server-handles N]
                       [-d|--start-dir DIR] [--sync-budget MS]
       sftp-wire serve --stdio [--root DIR] [-d|--start-dir DIR] [--atomic-uploads MODE] [--read-only]
                               [--max-server-handles N] [--sync-budget MS]

Serves DIR over SFTP: clients see it as "/" and cannot reach outside it. The default DIR is the
current directory, except with --stdio: there, as OpenSSH's sftp-server does, the whole file system
is served (root /). With --stdio the SFTP protocol runs on stdin/stdout, for
\`sftp -D "sftp-wire serve --stdio"\` or sshd's \`Subsystem sftp\` line.
Relative paths start in the start directory (-d, like sftp-server -d): with root / a real path (a
relative one from the current directory), else a path inside the served tree. Default: the current
directory with root /, else the top of the served tree.
Otherwise an SSH server listens on HOST:PORT; its host key is generated on first use and kept
(default FILE: ~/.config/sftp-wire/host_key) and its fingerprint printed at start (as
\`ssh-keygen -lf FILE\` shows it); with no credentials given, a user and a random password are
printed at start. Logins and failed logins are logged on stderr (user, address, method), and so
are completed uploads and downloads (user, path, bytes).

--users FILE gives each user their own credentials and tree, one stanza per user:
  user alice
    password $scrypt$ln=15,r=8,p=1$...   (make one with \`sftp-wire hash-password\`)
    key ssh-ed25519 AAAA... alice@laptop (an authorized_keys line; repeatable)
    root %u                              (%u: the name; relative to --root; default --root)
    start-dir /incoming                  (inside the root)
    read-only                            (default: --read-only)
    atomic-uploads atomic                (default: --atomic-uploads)
A user needs a password, a key or both. A mistake in the file is reported with its line number.
The options of the SSH server (--host, --port, --host-key, --user, --password, --authorized-keys
and the limits below) are errors with --stdio.

Limits of the SSH server (it may face a network):
  --idle-timeout SECONDS   close a connection with no SFTP traffic for this long, and a socket
                           that never completes its SSH handshake (default ${DEFAULT_IDLE_TIMEOUT_S}; 0: never)
  --max-connections N      TCP connections open at once, authenticated or not; more are closed
                           at once (default ${DEFAULT_MAX_CONNECTIONS})
  --max-sessions N         SFTP sessions (channels) open at once on one connection; more are
                           refused (default ${DEFAULT_MAX_SESSIONS}, as OpenSSH's MaxSessions)
  --login-grace SECONDS    from connecting to the end of authentication, at most this long;
                           traffic does not extend it (default ${DEFAULT_LOGIN_GRACE_S}; 0: no limit)
  --max-startups N         connections not authenticated yet; past it a new one closes the oldest
                           of them, those that sent nothing first (default ${DEFAULT_MAX_STARTUPS})
  --max-server-handles N   files and directories open at once in all sessions; past it OPEN fails
                           with EMFILE (default ${DEFAULT_MAX_SERVER_HANDLES}; also with --stdio)

File system calls (also with --stdio):
  --sync-budget MS         file system calls run on the event loop while each takes at most MS
                           milliseconds; a slower one sends the next ones to the thread pool
                           (default ${DEFAULT_SYNC_BUDGET_MS}). 0: every call on the thread pool — use it where a
                           client can reach a network or FUSE mount that may hang (through a
                           symlink, say): a hung call then holds one pool thread, not the server
`;

/** `--sync-budget` as milliseconds (undefined when not given), or an error. */
export function syncBudget(v: string | undefined): { ms: number | undefined } | { error: string } {
  if (v === undefined) return { ms: undefined };
  const ms = v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(ms) || ms < 0) return { error: `bad --sync-budget ${v} (milliseconds, 0 or more)` };
  return { ms };
}

const MODES: readonly string[] = ['off', 'atomic', 'atomic-resume'];

/** Options of the SSH server only: meaningless with --stdio (where sshd or sftp -D does the SSH part). */
const NETWORK_FLAGS = [
  'host',
  'port',
  'host-key',
  'user',
  'password',
  'authorized-keys',
  'users',
  'idle-timeout',
  'max-connections',
] as const;

/** The URL of a listening address: an IPv6 host goes in brackets (sftp://[::1]:2222/). */
export function serverUrl(host: string, port: number): string {
  return `sftp://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

/**
 * The start directory `dir` names inside `root`, as a path clients see: with root "/" a real path (a
 * relative one from the current directory), else a path inside the served tree. It must be a directory.
 */
export function startDirIn(root: string, dir: string): { dir: string } | { error: string } {
  const inside = realpathSync(root) === '/' ? path.resolve(dir) : path.posix.normalize('/' + dir);
  try {
    if (statSync(path.join(root, inside)).isDirectory()) return { dir: inside };
  } catch (err) {
    return {
      error: `--start-dir ${dir}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (err as Error).message}`,
    };
  }
  return { error: `--start-dir ${dir} is not a directory` };
}

/** Why `root` cannot be served, or undefined when it is a directory. */
export function rootProblem(root: string): string | undefined {
  let st;
  try {
    st = statSync(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `--root ${root} does not exist` : `--root ${root}: ${(err as Error).message}`;
  }
  return st.isDirectory() ? undefined : `--root ${root} is not a directory`;
}

/** The one line for a listen error: a port in use or not ours to take says so and how to choose another. */
export function listenProblem(err: unknown, host: string, port: number): string {
  const code = (err as NodeJS.ErrnoException).code;
  const where = serverUrl(host, port).replace(/^sftp:\/\/|\/$/g, '');
  if (code === 'EADDRINUSE')
    return `cannot listen on ${where}: the port is in use (choose another with --port, or --port 0 for any free one)`;
  if (code === 'EACCES')
    return `cannot listen on ${where}: permission denied (ports below 1024 need privileges; choose another with --port)`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no such local address (--host)`;
  return `cannot listen on ${where}: ${(err as Error).message}`;
}

function fail(message: string): number {
  process.stderr.write(`sftp-wire serve: ${message}\n`);
  return 2;
}

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        root: { type: 'string' },
        'start-dir': { type: 'string', short: 'd' },
        host: { type: 'string' },
        port: { type: 'string' },
        'host-key': { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        'authorized-keys': { type: 'string' },
        users: { type: 'string' },
        'atomic-uploads': { type: 'string', default: 'off' },
        'read-only': { type: 'boolean', default: false },
        'idle-timeout': { type: 'string' },
        'max-connections': { type: 'string' },
        'max-sessions': { type: 'string' },
        'login-grace': { type: 'string' },
        'max-startups': { type: 'string' },
        'max-server-handles': { type: 'string' },
        'sync-budget': { type: 'string' },
        stdio: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${HELP}`);
  }
  const o = parsed.values;
  if (o.help) {
    // with --stdio, stdout belongs to the protocol: help goes to stderr there
    (o.stdio ? process.stderr : process.stdout).write(HELP);
    return 0;
  }
  if (o.stdio) {
    const given = NETWORK_FLAGS.filter((f) => o[f] !== undefined);
    if (given.length)
      return fail(
        `--stdio serves on stdin/stdout: ${given.map((f) => `--${f}`).join(', ')} ${given.length === 1 ? 'is' : 'are'} for the SSH server only`,
      );
  }
  const mode = o['atomic-uploads']!;
  if (!MODES.includes(mode)) return fail(`--atomic-uploads must be one of ${MODES.join(', ')}`);
  // --stdio runs where OpenSSH's sftp-server runs (sshd's Subsystem line, sftp -D): the whole file system.
  const root = path.resolve(o.root ?? (o.stdio ? '/' : process.cwd()));
  const bad = rootProblem(root);
  if (bad) return fail(bad);
  const startDir = o['start-dir'] === undefined ? undefined : startDirIn(root, o['start-dir']);
  if (startDir !== undefined && 'error' in startDir) return fail(startDir.error);
  const bounds = serverBounds(o);
  if ('error' in bounds) return fail(bounds.error);
  const budget = syncBudget(o['sync-budget']);
  if ('error' in budget) return fail(budget.error);
  let listening = false;
  const log = (m: string): void => {
    // Before listening, the only server error is the listen error itself: reported once, below.
    if (!listening && m.startsWith('ssh server error')) return;
    process.stderr.write(`sftp-wire serve: ${m}\n`);
  };
  const server = new SftpServer({
    root,
    startDir: startDir?.dir,
    atomicUploads: mode as AtomicUploadMode,
    readOnly: o['read-only'],
    limits: { maxServerHandles: bounds.maxServerHandles },
    syncBudgetMs: budget.ms,
    log,
  });

  if (o.stdio) {
    await server.serve(stdioDuplex());
    return 0;
  }

  const port = Number(o.port ?? '2222');
  if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`bad --port ${o.port}`);
  const host = o.host ?? '127.0.0.1';
  const limits = networkLimits(o);
  if ('error' in limits) return fail(limits.error);
  if (
    (o.user === undefined) !== (o.password === undefined) &&
    o['authorized-keys'] === undefined &&
    o.users === undefined
  ) {
    return fail('--user and --password go together');
  }
  let fileUsers: Map<string, FileUser> | undefined;
  if (o.users !== undefined) {
    const others = (['user', 'password', 'authorized-keys'] as const).filter((f) => o[f] !== undefined);
    if (others.length)
      return fail(`--users gives every user: ${others.map((f) => `--${f}`).join(', ')} cannot go with it`);
    const { readUsersFile, UsersFileError } = await import('./users-file.js');
    try {
      fileUsers = readUsersFile(o.users, root);
    } catch (err) {
      if (err instanceof UsersFileError) return fail(err.message);
      throw err;
    }
  }
  const { startSftpSshServer, loadOrCreateHostKey } = await import('../transport/ssh-server.js');
  const hostKeyFile = o['host-key'] ?? path.join(process.env.HOME ?? process.cwd(), '.config', 'sftp-wire', 'host_key');
  mkdirSync(path.dirname(hostKeyFile), { recursive: true });
  const hostKey = loadOrCreateHostKey(hostKeyFile);
  const { hostKeyFingerprint } = await import('./host-key-fingerprint.js');
  const hostKeyId = hostKeyFingerprint(hostKey);
  let user = o.user;
  let password = o.password;
  if (user === undefined && password === undefined && o['authorized-keys'] === undefined && fileUsers === undefined) {
    const { randomBytes } = await import('node:crypto');
    user = 'sftp';
    password = randomBytes(9).toString('base64url');
  }
  let running: RunningSftpSshServer<{ username: string }>;
  try {
    const common = {
      server,
      hostKeys: [hostKey],
      host,
      port,
      idleTimeoutMs: limits.idleTimeoutMs,
      maxConnections: limits.maxConnections,
      maxSessions: bounds.maxSessions,
      loginGraceMs: bounds.loginGraceMs,
      maxStartups: bounds.maxStartups,
      log,
    };
    const started: RunningSftpSshServer<{ username: string }> = fileUsers
      ? await startSftpSshServer({
          ...common,
          ...(await import('./users-auth.js')).usersFileAuth(fileUsers, {
            readOnly: o['read-only']!,
            atomicUploads: mode as AtomicUploadMode,
          }),
        })
      : await startSftpSshServer({
          ...common,
          users: user !== undefined && password !== undefined ? [{ username: user, password }] : [],
          authorizedKeysFile: o['authorized-keys'],
        });
    running = started;
    for (const kind of ['upload', 'download'] as const) {
      started.on(kind, (e) =>
        log(`${kind}: user ${JSON.stringify(e.username)} ${JSON.stringify(e.path)} (${e.bytes} bytes)`),
      );
    }
  } catch (err) {
    process.stderr.write(`sftp-wire serve: ${listenProblem(err, host, port)}\n`);
    return 1;
  }
  listening = true;
  process.stdout.write(
    fileUsers
      ? `sftp-wire serving ${fileUsers.size} user${fileUsers.size === 1 ? '' : 's'} from ${o.users} on ${serverUrl(running.host, running.port)}\n`
      : `sftp-wire serving ${root} on ${serverUrl(running.host, running.port)} (atomic uploads: ${mode}${o['read-only'] ? ', read-only' : ''})\n`,
  );
  process.stdout.write(`host key: ${hostKeyId ?? 'unreadable'} (${hostKeyFile})\n`);
  if (o.password === undefined && password !== undefined)
    process.stdout.write(`user: ${user}  password: ${password}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      void running.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}
