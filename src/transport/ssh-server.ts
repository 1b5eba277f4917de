import { readFileSync } from 'node:fs';
import net from 'node:net';
import { setMaxListeners } from 'node:events';
import type { Connection, ParsedKey, ServerChannel } from 'ssh2';
import { SftpServer } from '../server/sftp-server.js';
import { OutputMeter, meterSocket } from '../server/output-meter.js';
import type { SessionSettings } from '../server/session-settings.js';
import {
  AUTH_METHODS,
  AuthDriver,
  keyMatches,
  parsePublicKeys,
  sameBytes,
  type AuthHook,
  type AuthMethod,
} from './ssh-auth.js';
import { SafeEmitter, type SshServerEventSource } from './ssh-events.js';
import type { TransferReport } from '../server/transfer-report.js';
import {
  DEFAULT_LOGIN_GRACE_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_SESSIONS,
  DEFAULT_MAX_STARTUPS,
} from './ssh-server-defaults.js';
import { ssh2Lib } from './ssh2-lib.js';

/** Kept here too for the callers that import them with the server (the CLI, tests). */
export { loadOrCreateHostKey } from './keys.js';
export { DEFAULT_LOGIN_GRACE_MS, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_STARTUPS };

export interface SshUser {
  username: string;
  password?: string;
  /** Public keys in OpenSSH format ("ssh-ed25519 AAAA... comment"). */
  publicKeys?: string[];
}

/** Who logged in, with fixed `users` or `authorizedKeysFile` (an authentication hook returns its own type). */
export interface SshIdentity {
  username: string;
}

/** What the session factory is told besides the identity. */
export interface SshSessionInfo {
  username: string;
  remoteAddress: string;
  remotePort: number;
}

/**
 * The settings of one SFTP session of an authenticated user: their tree (`root` or `fs`), start
 * directory, read-only flag, atomic mode, limits. Called for every `sftp` channel, so that each
 * session gets its own; what it leaves out is taken from `server`.
 */
export type SessionFactory<Id> = (identity: Id, info: SshSessionInfo) => SessionSettings | Promise<SessionSettings>;

export interface SftpSshServerOptions<Id = SshIdentity> {
  /**
   * The SFTP server every `sftp` subsystem channel is handed to. With `sessionFor` it gives the
   * defaults of what a session's settings leave out, and the budget of handles shared by all
   * sessions (limits.maxServerHandles); it may then be left out (each session must name its tree).
   */
  server?: SftpServer;
  /** Host private keys (PEM or OpenSSH format). */
  hostKeys: (string | Buffer)[];
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Fixed users (the simple case); not with `authenticate`. */
  users?: SshUser[];
  /** An authorized_keys file: any key in it logs in, under any user name (not with `authenticate`). */
  authorizedKeysFile?: string;
  /**
   * Decide each login attempt (password, public key, keyboard-interactive): return an identity to
   * let the user in, or undefined/null/false (or throw) to refuse. See AuthHook. Public-key
   * signatures are verified by the server. A hook that never settles holds only its connection,
   * which the login grace (loginGraceMs) closes.
   */
  authenticate?: AuthHook<Id>;
  /** The methods offered with `authenticate` (default: publickey, password, keyboard-interactive). */
  authMethods?: AuthMethod[];
  /**
   * Per-session settings from the identity (see SessionFactory). Throwing, rejecting, or invalid
   * settings refuse that session (its channel is closed, the reason logged); an answer must come
   * within the login grace.
   */
  sessionFor?: SessionFactory<Id>;
  /** Close a connection that has had no traffic for this long. */
  idleTimeoutMs?: number;
  /** Failed password or public key attempts allowed on one connection before it is closed (default 6, as OpenSSH). */
  maxAuthTries?: number;
  /**
   * TCP connections open at once, authenticated or not (default DEFAULT_MAX_CONNECTIONS, 256); one
   * more is closed at once. Infinity: no limit.
   */
  maxConnections?: number;
  /**
   * Session channels open at once on one connection (default DEFAULT_MAX_SESSIONS, 10, as OpenSSH's
   * MaxSessions); one more is refused.
   */
  maxSessions?: number;
  /**
   * From accepting a socket to the end of authentication, at most this long (default
   * DEFAULT_LOGIN_GRACE_MS, 120 s, as OpenSSH's LoginGraceTime); traffic does not extend it. 0: no limit.
   */
  loginGraceMs?: number;
  /**
   * Connections not authenticated yet, open at once (default DEFAULT_MAX_STARTUPS, 64). A new socket
   * past it closes the oldest of them, taking first those that have not sent their SSH version line,
   * then those before their key exchange: an idle or trickling crowd cannot keep a real client out
   * (refusing new ones instead would let it hold every slot until the login grace ends).
   */
  maxStartups?: number;
  log?: (message: string) => void;
}

export interface SshServerStats {
  /** TCP connections open. */
  connections: number;
  /** Connections not authenticated yet. */
  unauthenticated: number;
  /** Session channels open, on all connections. */
  sessions: number;
  /** Counted against maxOutputBuffer on all connections: socket queues (bytes plus a per-write overhead), channel queues, READs running. */
  queuedBytes: number;
  /** Bytes in the sockets' own write queues. */
  socketBytes: number;
}

/**
 * A listening server. Its events ('login', 'loginFailed', 'upload', 'download'; see SshServerEvents)
 * are for the embedding code; a listener that throws is logged and ignored.
 */
export interface RunningSftpSshServer<Id = SshIdentity> extends SshServerEventSource<Id> {
  host: string;
  port: number;
  stats(): SshServerStats;
  close(): Promise<void>;
}

/** One TCP connection: its socket, what it has queued, whether it has authenticated, its sessions. */
interface Conn {
  socket: net.Socket;
  output: OutputMeter;
  /** Aborted when the socket closes: every session on it ends at once. */
  gone: AbortController;
  authenticated: boolean;
  /**
   * How far the handshake got: 0 accepted, 1 SSH version line received, 2 key exchange done. Past
   * maxStartups the oldest connection of the lowest stage is closed.
   */
  stage: 0 | 1 | 2;
  sessions: number;
  grace?: NodeJS.Timeout;
}

/** ssh2's receive window per channel (its Channel.js MAX_WINDOW); a peer may have this much in flight. */
const SSH2_CHANNEL_WINDOW = 2 * 1024 * 1024;

/**
 * ssh2 takes channel data past the window it granted (it only checks for a window of exactly 0), so a
 * peer that ignores the window could fill the channel's buffer while the session is paused. Data
 * buffered past twice the window is a peer breaking the protocol: `onOverrun` closes its connection.
 */
function holdToWindow(channel: ServerChannel, onOverrun: () => void): void {
  const push = channel.push.bind(channel);
  let overrun = false;
  channel.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
    const more = push(chunk, encoding);
    if (!overrun && channel.readableLength > 2 * SSH2_CHANNEL_WINDOW) {
      overrun = true;
      onOverrun();
    }
    return more;
  };
}

/** An AbortController whose signal takes a listener or two per session without a leak warning. */
function abortController(maxSessions: number): AbortController {
  const c = new AbortController();
  setMaxListeners(2 * maxSessions + 8, c.signal);
  return c;
}

function limit(name: string, v: number | undefined, dflt: number, min: number): number {
  const n = v ?? dflt;
  if (!(n >= min)) throw new RangeError(`${name} must be at least ${min}, got ${v}`);
  return n;
}

/** The fixed users (and authorized_keys file) of the simple case, as an authentication hook. */
function fixedUsersHook(users: SshUser[], keyFileKeys: () => ParsedKey[]): AuthHook<SshIdentity> {
  return (attempt) => {
    const user = users.find((u) => u.username === attempt.username);
    if (attempt.method === 'password') {
      return user?.password !== undefined && sameBytes(Buffer.from(attempt.password), Buffer.from(user.password))
        ? { username: attempt.username }
        : undefined;
    }
    if (attempt.method === 'publickey') {
      const keys = [...parsePublicKeys(user?.publicKeys ?? []), ...keyFileKeys()];
      return keyMatches(attempt.key, keys) ? { username: attempt.username } : undefined;
    }
    return undefined;
  };
}

/**
 * What `p` settles to, or `gone` when `signal` aborts first, or an error when `ms` (if above 0) passes
 * first. Never rejects.
 */
async function settle<T>(
  p: Promise<T>,
  signal: AbortSignal,
  ms: number,
): Promise<{ gone: true } | { gone: false; value: T } | { gone: false; error: string }> {
  if (signal.aborted) return { gone: true };
  let timer: NodeJS.Timeout | undefined;
  let onAbort!: () => void;
  const stop = new Promise<{ gone: true } | { gone: false; error: string }>((resolve) => {
    onAbort = () => resolve({ gone: true });
    signal.addEventListener('abort', onAbort, { once: true });
    if (ms > 0) timer = setTimeout(() => resolve({ gone: false, error: `no answer within ${ms / 1000} s` }), ms);
  });
  try {
    return await Promise.race([
      p.then(
        (value) => ({ gone: false as const, value }),
        (err: unknown) => ({ gone: false as const, error: (err as Error)?.message ?? String(err) }),
      ),
      stop,
    ]);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** The software part of this server's SSH identification ("SSH-2.0-sftp-wire"). */
const SERVER_IDENT = 'sftp-wire';

/**
 * Run an SSH server (ssh2) whose only service is SFTP: every `sftp` subsystem channel goes to
 * `server.serve` as a raw byte stream (ssh2's own SFTP implementation is never used). Shells,
 * exec, other subsystems and port forwarding are refused.
 */
export function startSftpSshServer<Id = SshIdentity>(
  opts: SftpSshServerOptions<Id>,
): Promise<RunningSftpSshServer<Id>> {
  let maxConnections: number, maxSessions: number, loginGraceMs: number, maxStartups: number, maxAuthTries: number;
  let hook: AuthHook<Id>, offered: AuthMethod[];
  const log = opts.log ?? (() => undefined);
  try {
    maxConnections = limit('maxConnections', opts.maxConnections, DEFAULT_MAX_CONNECTIONS, 1);
    maxSessions = limit('maxSessions', opts.maxSessions, DEFAULT_MAX_SESSIONS, 1);
    loginGraceMs = limit('loginGraceMs', opts.loginGraceMs, DEFAULT_LOGIN_GRACE_MS, 0);
    maxStartups = limit('maxStartups', opts.maxStartups, DEFAULT_MAX_STARTUPS, 1);
    maxAuthTries = limit('maxAuthTries', opts.maxAuthTries, 6, 1);
    if (!opts.server && !opts.sessionFor) throw new TypeError('startSftpSshServer: give server, sessionFor, or both');
    if (opts.authenticate) {
      if (opts.users || opts.authorizedKeysFile)
        throw new TypeError('startSftpSshServer: give either authenticate or users/authorizedKeysFile, not both');
      offered = [...(opts.authMethods ?? AUTH_METHODS)];
      if (offered.length === 0 || offered.some((m) => !AUTH_METHODS.includes(m))) {
        throw new TypeError(`startSftpSshServer: authMethods must be some of ${AUTH_METHODS.join(', ')}`);
      }
      hook = opts.authenticate;
    } else {
      const users = opts.users ?? [];
      offered = users.some((u) => u.password !== undefined) ? ['password', 'publickey'] : ['publickey'];
      hook = fixedUsersHook(users, () => keyFileKeys()) as unknown as AuthHook<Id>;
    }
  } catch (err) {
    return Promise.reject(err);
  }
  const server = opts.server ?? new SftpServer({ log });
  const events = new SafeEmitter<Id>(log);
  const keyFileKeys = (): ParsedKey[] => {
    if (!opts.authorizedKeysFile) return [];
    try {
      return parsePublicKeys(readFileSync(opts.authorizedKeysFile, 'utf8').split('\n'));
    } catch (err) {
      log(`cannot read ${opts.authorizedKeysFile}: ${(err as Error).message}`);
      return [];
    }
  };
  const clients = new Set<Connection>();
  /** Every open connection by its peer's address and port (how ssh2's connection event names it). */
  const conns = new Map<string, Conn>();
  /** Connections not authenticated yet, oldest first. */
  const unauthenticated = new Set<Conn>();
  const peerKey = (address: string | undefined, port: number | undefined): string => `${address}|${port}`;

  /**
   * Serve one `sftp` channel of an authenticated user: the session's settings from the factory (if
   * any), then the SFTP session, its completed transfers reported as events. A factory that fails
   * or does not answer within the login grace closes the channel; nothing is read from it before.
   */
  const serveChannel = async (
    channel: ServerChannel,
    user: { identity: Id; username: string; remoteAddress: string; remotePort: number },
    conn: Conn,
    clientIdent: string | undefined,
    touch: () => void,
  ): Promise<void> => {
    let closed = false;
    channel.once('close', () => (closed = true));
    const refuse = (why: string): void => {
      log(`refusing an SFTP session of user ${JSON.stringify(user.username)}: ${why}`);
      if (!closed) channel.close();
    };
    let settings: SessionSettings | undefined;
    if (opts.sessionFor) {
      const factory = opts.sessionFor;
      const answer = await settle(
        Promise.resolve().then(() =>
          factory(user.identity, {
            username: user.username,
            remoteAddress: user.remoteAddress,
            remotePort: user.remotePort,
          }),
        ),
        conn.gone.signal,
        loginGraceMs,
      );
      if (answer.gone) return;
      if ('error' in answer) return refuse(answer.error);
      settings = answer.value;
      if (typeof settings !== 'object' || settings === null) return refuse('the session factory returned no settings');
      if (!opts.server && settings.root === undefined && settings.fs === undefined)
        return refuse('its settings name no tree (root or fs)');
    }
    if (closed || conn.gone.signal.aborted) return;
    channel.on('data', touch);
    const onTransfer = (r: TransferReport): void => events.emit(r.kind, { ...user, path: r.path, bytes: r.bytes });
    try {
      await server.serve(channel, {
        connection: conn.output,
        signal: conn.gone.signal,
        clientIdent,
        serverIdent: `SSH-2.0-${SERVER_IDENT}`,
        settings,
        onTransfer,
      });
    } catch (err) {
      return refuse((err as Error).message);
    }
    if (!channel.destroyed) channel.close();
  };

  const ssh = new (ssh2Lib().Server)({ hostKeys: opts.hostKeys, ident: SERVER_IDENT }, (client, info) => {
    // The client's identification line, known before any channel: it tells the order of SYMLINK's paths.
    const clientIdent = info.header?.identRaw;
    const conn = conns.get(peerKey(info.ip, info.port));
    if (!conn) {
      // its socket is already gone
      client.on('error', () => undefined);
      client.end();
      return;
    }
    clients.add(client);
    conn.stage = 1;
    client.once('handshake', () => (conn.stage = 2));
    // Connection.setNoDelay exists in ssh2 but is missing from its type declarations
    (client as unknown as { setNoDelay?(on: boolean): void }).setNoDelay?.(true);
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      if (!opts.idleTimeoutMs) return;
      clearTimeout(idle);
      idle = setTimeout(() => {
        log('closing an idle connection');
        client.end();
      }, opts.idleTimeoutMs);
      idle.unref?.();
    };
    touch();
    const peer = { remoteAddress: info.ip, remotePort: info.port };
    const from = info.ip.includes(':') ? `[${info.ip}]:${info.port}` : `${info.ip}:${info.port}`;
    const auth: AuthDriver<Id> = new AuthDriver<Id>(
      hook,
      offered,
      { address: info.ip, port: info.port },
      conn.gone.signal,
      {
        login: (method, username, identity) => {
          log(`login: user ${JSON.stringify(username)} from ${from} (${method})`);
          events.emit('login', { username, method, identity, ...peer });
        },
        failed: (method, username, reason) => {
          log(
            `failed login: user ${JSON.stringify(username)} from ${from} (${method})${reason === 'rejected' ? '' : `: ${reason}`}`,
          );
          events.emit('loginFailed', { username, method, reason, ...peer });
          if (auth.failures < maxAuthTries) return;
          log(`closing a connection after ${auth.failures} failed authentication attempts`);
          client.end();
        },
      },
      log,
    );
    client.on('authentication', (ctx) => auth.handle(ctx));
    client.on('error', (err) => log(`ssh connection error: ${err.message}`));
    client.on('close', () => {
      clearTimeout(idle);
      clients.delete(client);
    });
    client.on('tcpip', (_accept, reject) => reject());
    client.on('request', (_accept, reject) => reject?.());
    client.on('ready', () => {
      const user = { identity: auth.identity as Id, username: auth.username ?? '', ...peer };
      conn.authenticated = true;
      unauthenticated.delete(conn);
      clearTimeout(conn.grace);
      client.on('session', (acceptSession, rejectSession) => {
        if (conn.sessions >= maxSessions) {
          log(`refusing a session channel: ${maxSessions} already open on this connection (maxSessions)`);
          rejectSession();
          return;
        }
        const session = acceptSession();
        conn.sessions++;
        let counted = true;
        const uncount = (): void => {
          if (counted) conn.sessions--;
          counted = false;
        };
        session.once('close', uncount);
        session.on('pty', (_a, reject) => reject?.());
        session.on('env', (_a, reject) => reject?.());
        session.on('shell', (_a, reject) => reject());
        session.on('exec', (_a, reject) => reject());
        session.on('subsystem', (accept, reject, info) => {
          if (info.name !== 'sftp') return reject();
          const channel: ServerChannel = accept();
          holdToWindow(channel, () => {
            log('closing a connection whose peer sent past its channel window');
            conn.socket.destroy();
          });
          void serveChannel(channel, user, conn, clientIdent, touch);
        });
      });
    });
  });
  ssh.on('error', (err: Error) => log(`ssh server error: ${err.message}`));

  // Our own listener hands sockets to ssh2 (injectSocket), so that the idle timeout also covers a
  // socket that never sends its SSH version line (ssh2 reports a connection only after it) and
  // close() can end those too.
  const sockets = new Set<net.Socket>();
  let refusedSince = 0;
  let evictedSince = 0;
  const tcp = net.createServer((socket) => {
    if (sockets.size >= maxConnections) {
      // logged once per burst: a flood must not flood the log too
      if (refusedSince++ === 0) log(`refusing connections: ${maxConnections} already open (maxConnections)`);
      socket.destroy();
      return;
    }
    if (refusedSince > 0) log(`accepting connections again; refused ${refusedSince} while at maxConnections`);
    refusedSince = 0;
    if (unauthenticated.size >= maxStartups) {
      // make room by closing the oldest connection not authenticated of those least far in their handshake
      let oldest: Conn | undefined;
      for (const c of unauthenticated) {
        if (oldest === undefined || c.stage < oldest.stage) oldest = c;
        if (c.stage === 0) break;
      }
      unauthenticated.delete(oldest!);
      if (evictedSince++ === 0)
        log(`${maxStartups} connections not authenticated yet (maxStartups): closing the oldest for each new one`);
      oldest!.socket.destroy();
    } else if (evictedSince > 0) {
      log(`closed ${evictedSince} connections not authenticated yet to make room (maxStartups)`);
      evictedSince = 0;
    }
    sockets.add(socket);
    const conn: Conn = {
      socket,
      output: new OutputMeter(server.limits.maxOutputBuffer),
      gone: abortController(maxSessions),
      authenticated: false,
      stage: 0,
      sessions: 0,
    };
    const key = peerKey(socket.remoteAddress, socket.remotePort);
    conns.set(key, conn);
    unauthenticated.add(conn);
    meterSocket(socket, conn.output);
    if (loginGraceMs > 0) {
      conn.grace = setTimeout(() => {
        log(`closing a connection not authenticated within ${loginGraceMs / 1000} s (loginGraceMs)`);
        socket.destroy();
      }, loginGraceMs);
      conn.grace.unref?.();
    }
    socket.once('close', () => {
      sockets.delete(socket);
      if (conns.get(key) === conn) conns.delete(key);
      unauthenticated.delete(conn);
      clearTimeout(conn.grace);
      conn.gone.abort();
    });
    if (opts.idleTimeoutMs) {
      socket.setTimeout(opts.idleTimeoutMs, () => {
        log('closing a socket with no traffic');
        socket.destroy();
      });
    }
    ssh.injectSocket(socket);
  });
  tcp.on('error', (err: Error) => log(`ssh server error: ${err.message}`));

  return new Promise((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      tcp.off('error', reject);
      const addr = tcp.address() as net.AddressInfo;
      resolve(
        events.source({
          host: addr.address,
          port: addr.port,
          stats: () => {
            let sessions = 0;
            let queuedBytes = 0;
            let socketBytes = 0;
            for (const c of conns.values()) {
              sessions += c.sessions;
              queuedBytes += c.output.queued;
              socketBytes += c.socket.writableLength;
            }
            return {
              connections: sockets.size,
              unauthenticated: unauthenticated.size,
              sessions,
              queuedBytes,
              socketBytes,
            };
          },
          close: () =>
            new Promise<void>((done) => {
              for (const c of clients) c.end();
              for (const sock of sockets) sock.end();
              setTimeout(() => {
                for (const sock of sockets) sock.destroy();
              }, 500).unref();
              tcp.close(() => done());
            }),
        }),
      );
    });
  });
}
