/**
 * OpenSSH as a test and bench peer: its sftp-server on stdio, and a real sshd on a loopback port with
 * its own config, keys and authorized_keys in a temporary folder. Under CI=true a missing OpenSSH
 * binary is an error, never a reason to skip.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { writeEd25519KeyPair as writeKeyPair } from '../../../src/index.js';

export const SFTP_SERVER_PATH = '/usr/lib/openssh/sftp-server';
export const SSHD_PATH = '/usr/sbin/sshd';
/** OpenSSH client options for a throwaway loopback server: no host-key prompt or record, no password prompt, quiet, only the key given. */
export const NON_INTERACTIVE_SSH = [
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'BatchMode=yes',
  '-o',
  'LogLevel=ERROR',
  '-o',
  'IdentitiesOnly=yes',
] as const;

export const SFTP_PATH = '/usr/bin/sftp';

/** Throws a clear error when an OpenSSH program the tests need is not installed. */
export function requireOpenSsh(path: string): string {
  if (!existsSync(path)) {
    throw new Error(
      `${path} is not installed: install openssh-client, openssh-sftp-server and openssh-server (.ci/run does)`,
    );
  }
  return path;
}

export interface SpawnedSftpServer {
  child: ChildProcess;
  /** One Duplex: writes go to the server's stdin, reads come from its stdout. */
  stream: Duplex;
  close(): Promise<void>;
}

/** Join a writable and a readable into one Duplex (e.g. a child's stdin and stdout). */
export function joinStreams(writable: NodeJS.WritableStream, readable: NodeJS.ReadableStream): Duplex {
  return Duplex.from({ writable, readable } as { writable: NodeJS.WritableStream; readable: NodeJS.ReadableStream });
}

/** OpenSSH's sftp-server speaking on its stdin/stdout. `args` e.g. ['-R'] for read-only. */
export function spawnSftpServer(opts: { cwd?: string; args?: string[] } = {}): SpawnedSftpServer {
  requireOpenSsh(SFTP_SERVER_PATH);
  const child = spawn(SFTP_SERVER_PATH, opts.args ?? [], { cwd: opts.cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  const stream = joinStreams(child.stdin!, child.stdout!);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    child,
    stream,
    async close() {
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface Sshd {
  host: string;
  port: number;
  username: string;
  /** The client's private key (OpenSSH format), accepted by ssh2 and by ssh -i. */
  privateKey: Buffer;
  privateKeyPath: string;
  dir: string;
  /** Options for OpenSSH's ssh/sftp/scp to reach this sshd non-interactively (port flag not included). */
  sshOptions: string[];
  stop(): Promise<void>;
}

/** Generate an ed25519 key pair without a passphrase; returns the private key's path. */
export function generateKey(path: string, type: 'ed25519' | 'rsa' = 'ed25519'): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'sftp-wire-test', '-f', path], { stdio: 'ignore' });
  return path;
}

/**
 * Start OpenSSH's sshd (`sshdPath`, default SSHD_PATH) on a loopback port: key-only authentication for
 * the current user with keys made by ssh2 (no ssh-keygen needed), and `Subsystem sftp` set to
 * `subsystem` (OpenSSH's sftp-server by default).
 */
export async function startSshd(
  opts: { subsystem?: string; extraConfig?: string[]; sshdPath?: string } = {},
): Promise<Sshd> {
  const sshdPath = requireOpenSsh(opts.sshdPath ?? SSHD_PATH);
  if (opts.subsystem === undefined) requireOpenSsh(SFTP_SERVER_PATH);
  mkdirSync('/run/sshd', { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-sshd-'));
  chmodSync(dir, 0o700);
  const hostKey = writeKeyPair(join(dir, 'host_ed25519'));
  const privateKeyPath = writeKeyPair(join(dir, 'client_ed25519'));
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${privateKeyPath}.pub`));
  chmodSync(join(dir, 'authorized_keys'), 0o600);
  const port = await freePort();
  const username = userInfo().username;
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'UseDNS no',
    'PrintMotd no',
    'X11Forwarding no',
    'LogLevel ERROR',
    `Subsystem sftp ${opts.subsystem ?? SFTP_SERVER_PATH}`,
    ...(opts.extraConfig ?? []),
  ];
  const configPath = join(dir, 'sshd_config');
  writeFileSync(configPath, config.join('\n') + '\n');
  const child = spawn(sshdPath, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${stderr.trim()}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sshd did not listen on port ${port} within 10 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host: '127.0.0.1',
    port,
    username,
    privateKey: readFileSync(privateKeyPath),
    privateKeyPath,
    dir,
    sshOptions: ['-i', privateKeyPath, ...NON_INTERACTIVE_SSH],
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
