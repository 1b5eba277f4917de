import { readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import net from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, ServerChannel } from 'ssh2';
import { generateEd25519KeyPair } from './keys.js';
import type { SftpServer } from '../server/sftp-server.js';

const { Server, utils } = ssh2;

/** Connections a server facing the network accepts at once by default. */
export const DEFAULT_MAX_CONNECTIONS = 256;

export interface SshUser {
  username: string;
  password?: string;
  /** Public keys in OpenSSH format ("ssh-ed25519 AAAA... comment"). */
  publicKeys?: string[];
}

export interface SftpSshServerOptions {
  /** The SFTP server every `sftp` subsystem channel is handed to. */
  server: SftpServer;
  /** Host private keys (PEM or OpenSSH format). */
  hostKeys: (string | Buffer)[];
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  users?: SshUser[];
  /** An authorized_keys file: any key in it logs in, under any user name. */
  authorizedKeysFile?: string;
  /** Close a connection that has had no traffic for this long. */
  idleTimeoutMs?: number;
  /** Failed password or public key attempts allowed on one connection before it is closed (default 6, as OpenSSH). */
  maxAuthTries?: number;
  /**
   * TCP connections open at once, authenticated or not (default DEFAULT_MAX_CONNECTIONS, 256); one
   * more is closed at once. Infinity: no limit.
   */
  maxConnections?: number;
  log?: (message: string) => void;
}

export interface RunningSftpSshServer {
  host: string;
  port: number;
  close(): Promise<void>;
}

function parsePublicKeys(lines: string[]): ParsedKey[] {
  const out: ParsedKey[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    // authorized_keys may start with options; find the key type field
    const at = line.search(/(ssh-|ecdsa-|sk-)/);
    const parsed = utils.parseKey(at > 0 ? line.slice(at) : line);
    if (!(parsed instanceof Error)) out.push(Array.isArray(parsed) ? parsed[0]! : parsed);
  }
  return out;
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A host key from `file`, generated (ed25519, mode 0600) when the file does not exist yet. */
export function loadOrCreateHostKey(file: string): Buffer {
  if (!existsSync(file)) {
    const pair = generateEd25519KeyPair();
    writeFileSync(file, pair.private, { mode: 0o600 });
    writeFileSync(`${file}.pub`, pair.public + '\n');
    chmodSync(file, 0o600);
  }
  return readFileSync(file);
}

/**
 * Answer one authentication attempt; false when a password or key was tried and refused. Logins and
 * refused attempts are logged, one line each (user, address, method; never the password or key).
 */
function authenticate(ctx: AuthContext, users: SshUser[], keyFileKeys: () => ParsedKey[], log: (m: string) => void, from: string): boolean {
  const methods: ('password' | 'publickey')[] = [];
  if (users.some((u) => u.password !== undefined)) methods.push('password');
  methods.push('publickey');
  const answer = (ok: boolean): boolean => {
    if (ok) ctx.accept();
    else ctx.reject(methods); // the methods that can continue (RFC 4252), not an empty list
    // an accepted key without a signature is only the client asking whether that key would do
    if (!ok || ctx.method !== 'publickey' || ctx.signature) log(`${ok ? 'login' : 'failed login'}: user ${JSON.stringify(ctx.username)} from ${from} (${ctx.method})`);
    return ok;
  };
  const user = users.find((u) => u.username === ctx.username);
  if (ctx.method === 'password') {
    return answer(user?.password !== undefined && sameBytes(Buffer.from(ctx.password), Buffer.from(user.password)));
  }
  if (ctx.method === 'publickey') {
    const keys = [...parsePublicKeys(user?.publicKeys ?? []), ...keyFileKeys()];
    const match = keys.find((k) => k.type === ctx.key.algo && sameBytes(k.getPublicSSH(), ctx.key.data));
    if (!match) return answer(false);
    if (!ctx.signature || !ctx.blob) return answer(true); // the client asks whether this key would do
    return answer(match.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true);
  }
  ctx.reject(methods);
  return true; // "none" and other methods only ask what is allowed: not counted as a failure
}

/**
 * Run an SSH server (ssh2) whose only service is SFTP: every `sftp` subsystem channel goes to
 * `server.serve` as a raw byte stream (ssh2's own SFTP implementation is never used). Shells,
 * exec, other subsystems and port forwarding are refused.
 */
export function startSftpSshServer(opts: SftpSshServerOptions): Promise<RunningSftpSshServer> {
  const maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!(maxConnections >= 1)) return Promise.reject(new RangeError(`maxConnections must be at least 1, got ${maxConnections}`));
  const log = opts.log ?? (() => undefined);
  const users = opts.users ?? [];
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

  const ssh = new Server({ hostKeys: opts.hostKeys, ident: 'sftp-wire' }, (client, info) => {
    clients.add(client);
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
    let failures = 0;
    client.on('authentication', (ctx) => {
      if (authenticate(ctx, users, keyFileKeys, log, info.ip.includes(':') ? `[${info.ip}]:${info.port}` : `${info.ip}:${info.port}`) || ++failures < (opts.maxAuthTries ?? 6)) return;
      log(`closing a connection after ${failures} failed authentication attempts`);
      client.end();
    });
    client.on('error', (err) => log(`ssh connection error: ${err.message}`));
    client.on('close', () => {
      clearTimeout(idle);
      clients.delete(client);
    });
    client.on('tcpip', (_accept, reject) => reject());
    client.on('request', (_accept, reject) => reject?.());
    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('pty', (_a, reject) => reject?.());
        session.on('env', (_a, reject) => reject?.());
        session.on('shell', (_a, reject) => reject());
        session.on('exec', (_a, reject) => reject());
        session.on('subsystem', (accept, reject, info) => {
          if (info.name !== 'sftp') return reject();
          const channel: ServerChannel = accept();
          channel.on('data', touch);
          void opts.server.serve(channel).then(() => {
            if (!channel.destroyed) channel.close();
          });
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
  const tcp = net.createServer((socket) => {
    if (sockets.size >= maxConnections) {
      // logged once per burst: a flood must not flood the log too
      if (refusedSince++ === 0) log(`refusing connections: ${maxConnections} already open (maxConnections)`);
      socket.destroy();
      return;
    }
    if (refusedSince > 0) log(`accepting connections again; refused ${refusedSince} while at maxConnections`);
    refusedSince = 0;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
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
      resolve({
        host: addr.address,
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            for (const c of clients) c.end();
            for (const sock of sockets) sock.end();
            setTimeout(() => {
              for (const sock of sockets) sock.destroy();
            }, 500).unref();
            tcp.close(() => done());
          }),
      });
    });
  });
}
