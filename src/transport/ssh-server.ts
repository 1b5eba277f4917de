import { readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, ServerChannel } from 'ssh2';
import type { SftpServer } from '../server/sftp-server.js';

const { Server, utils } = ssh2;

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
    const pair = utils.generateKeyPairSync('ed25519');
    writeFileSync(file, pair.private, { mode: 0o600 });
    writeFileSync(`${file}.pub`, pair.public + '\n');
    chmodSync(file, 0o600);
  }
  return readFileSync(file);
}

function authenticate(ctx: AuthContext, users: SshUser[], keyFileKeys: () => ParsedKey[]): void {
  const user = users.find((u) => u.username === ctx.username);
  if (ctx.method === 'password') {
    const ok = user?.password !== undefined && sameBytes(Buffer.from(ctx.password), Buffer.from(user.password));
    return ok ? ctx.accept() : ctx.reject();
  }
  if (ctx.method === 'publickey') {
    const keys = [...parsePublicKeys(user?.publicKeys ?? []), ...keyFileKeys()];
    const match = keys.find((k) => k.type === ctx.key.algo && sameBytes(k.getPublicSSH(), ctx.key.data));
    if (!match) return ctx.reject();
    if (!ctx.signature || !ctx.blob) return ctx.accept(); // the client asks whether this key would do
    return match.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject();
  }
  const methods: ('password' | 'publickey')[] = [];
  if (users.some((u) => u.password !== undefined)) methods.push('password');
  methods.push('publickey');
  ctx.reject(methods);
}

/**
 * Run an SSH server (ssh2) whose only service is SFTP: every `sftp` subsystem channel goes to
 * `server.serve` as a raw byte stream (ssh2's own SFTP implementation is never used). Shells,
 * exec, other subsystems and port forwarding are refused.
 */
export function startSftpSshServer(opts: SftpSshServerOptions): Promise<RunningSftpSshServer> {
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

  const ssh = new Server({ hostKeys: opts.hostKeys, ident: 'sftp-wire' }, (client) => {
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
    client.on('authentication', (ctx) => authenticate(ctx, users, keyFileKeys));
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

  return new Promise((resolve, reject) => {
    ssh.once('error', reject);
    ssh.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      ssh.off('error', reject);
      const addr = ssh.address() as { address: string; port: number };
      resolve({
        host: addr.address,
        port: addr.port,
        close: () =>
          new Promise<void>((done) => {
            for (const c of clients) c.end();
            ssh.close(() => done());
          }),
      });
    });
  });
}
