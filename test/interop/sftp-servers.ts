/**
 * Real SFTP servers for the client's interop battery, each a child process on a loopback port with a
 * throwaway config in a temporary folder: OpenSSH's sshd, ProFTPD's mod_sftp (plain or with
 * HiddenStores), AsyncSSH's and paramiko's servers (Debian's python3) and `rclone serve sftp` on its
 * local backend. A missing server is an error naming the Debian package, never a skip.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import type { ConnectConfig } from 'ssh2';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';
import { freePort, startSshd } from '../../bench/lib/peers/openssh.js';
import { startPythonPeer } from './python-peer.js';

export type ServerName = 'openssh' | 'proftpd' | 'proftpd-hidden-stores' | 'asyncssh' | 'paramiko' | 'rclone';

export interface ServerUnderTest {
  name: ServerName;
  /** What SftpClient.connect takes (host, port, user, credentials). */
  connect: ConnectConfig;
  /** The local folder the client's `base` is. */
  root: string;
  /** `root` as the client names it. */
  base: string;
  stop(): Promise<void>;
}

const PROFTPD = '/usr/sbin/proftpd';
const RCLONE = '/usr/bin/rclone';

function requireProgram(file: string, debianPackage: string): void {
  if (!existsSync(file)) throw new Error(`${file} is not installed: install ${debianPackage} (.ci/run does)`);
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Run `file args` until it listens on `port` (10 s at most); stop() ends it (SIGTERM, then SIGKILL). */
async function runListening(
  file: string,
  args: string[],
  port: number,
  dir: string,
): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await listening(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${path.basename(file)} did not listen on 127.0.0.1:${port}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, stop };
}

/** An OpenSSH public key line as RFC 4716 text (what ProFTPD's SFTPAuthorizedUserKeys reads). */
function rfc4716(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1]!;
  const lines = blob.match(/.{1,70}/g)!;
  return [
    '---- BEGIN SSH2 PUBLIC KEY ----',
    'Comment: "sftp-wire test"',
    ...lines,
    '---- END SSH2 PUBLIC KEY ----',
    '',
  ].join('\n');
}

/** A PEM EC host key (the form ProFTPD and rclone both read). */
function writeHostKey(file: string): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  writeFileSync(file, privateKey.export({ type: 'sec1', format: 'pem' }), { mode: 0o600 });
  return file;
}

export async function startOpenSshServer(): Promise<ServerUnderTest> {
  const sshd = await startSshd();
  const root = path.join(sshd.dir, 'files');
  mkdirSync(root);
  return {
    name: 'openssh',
    connect: { host: sshd.host, port: sshd.port, username: sshd.username, privateKey: sshd.privateKey },
    root,
    base: root,
    stop: () => sshd.stop(),
  };
}

/**
 * ProFTPD with mod_sftp only: public-key login of a user of its own passwd file (the uid and gid of
 * this process; RootLogin for CI, which runs as root), jailed in its home (DefaultRoot ~).
 */
export async function startProftpd(opts: { hiddenStores: boolean }): Promise<ServerUnderTest> {
  requireProgram(PROFTPD, 'proftpd-core');
  requireProgram('/usr/lib/proftpd/mod_sftp.so', 'proftpd-mod-crypto');
  const dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-proftpd-'));
  chmodSync(dir, 0o700);
  const root = path.join(dir, 'home');
  mkdirSync(root);
  const keys = generateEd25519KeyPair();
  mkdirSync(path.join(dir, 'keys'));
  writeFileSync(path.join(dir, 'keys', 'tester'), rfc4716(keys.public));
  const uid = process.getuid!();
  const gid = process.getgid!();
  writeFileSync(path.join(dir, 'passwd'), `tester:*:${uid}:${gid}::${root}:/bin/sh\n`, { mode: 0o600 });
  writeFileSync(path.join(dir, 'group'), `tester:x:${gid}:\n`, { mode: 0o600 });
  const port = await freePort();
  const config = [
    'ServerType standalone',
    'DefaultAddress 127.0.0.1',
    'SocketBindTight on',
    `Port ${port}`,
    `User ${userInfo().username}`,
    'ModulePath /usr/lib/proftpd',
    'LoadModule mod_sftp.c',
    'WtmpLog off',
    'UseReverseDNS off',
    'DelayTable none',
    'TransferLog none',
    `ScoreboardFile ${path.join(dir, 'scoreboard')}`,
    `PidFile ${path.join(dir, 'proftpd.pid')}`,
    `SystemLog ${path.join(dir, 'system.log')}`,
    'SFTPEngine on',
    `SFTPLog ${path.join(dir, 'sftp.log')}`,
    `SFTPHostKey ${writeHostKey(path.join(dir, 'host_ecdsa'))}`,
    'SFTPAuthMethods publickey',
    `SFTPAuthorizedUserKeys file:${path.join(dir, 'keys')}/%u`,
    'AuthOrder mod_auth_file.c',
    `AuthUserFile ${path.join(dir, 'passwd')}`,
    `AuthGroupFile ${path.join(dir, 'group')}`,
    'RequireValidShell off',
    'RootLogin on',
    'DefaultRoot ~',
    'AllowOverwrite on',
    'Umask 022',
    ...(opts.hiddenStores ? ['HiddenStores on'] : []),
  ];
  writeFileSync(path.join(dir, 'proftpd.conf'), config.join('\n') + '\n');
  const run = await runListening(PROFTPD, ['-n', '-q', '-c', path.join(dir, 'proftpd.conf')], port, dir);
  return {
    name: opts.hiddenStores ? 'proftpd-hidden-stores' : 'proftpd',
    connect: { host: '127.0.0.1', port, username: 'tester', privateKey: keys.private },
    root,
    base: '/',
    stop: run.stop,
  };
}

/** `rclone serve sftp` on its local backend: one user with a password, a host key of our own, no config file. */
export async function startRclone(): Promise<ServerUnderTest> {
  requireProgram(RCLONE, 'rclone');
  const dir = mkdtempSync(path.join(tmpdir(), 'sftp-wire-rclone-'));
  const root = path.join(dir, 'files');
  mkdirSync(root);
  writeFileSync(path.join(dir, 'authorized_keys'), '');
  const port = await freePort();
  const args = [
    'serve',
    'sftp',
    root,
    '--addr',
    `127.0.0.1:${port}`,
    '--user',
    'tester',
    '--pass',
    'secret',
    '--key',
    writeHostKey(path.join(dir, 'host_ecdsa')),
    '--authorized-keys',
    path.join(dir, 'authorized_keys'),
    '--config',
    path.join(dir, 'rclone.conf'),
    '--cache-dir',
    path.join(dir, 'cache'),
    '--vfs-cache-mode',
    'writes',
    '--vfs-write-back',
    '0s',
    '--log-level',
    'ERROR',
  ];
  const run = await runListening(RCLONE, args, port, dir);
  return {
    name: 'rclone',
    connect: { host: '127.0.0.1', port, username: 'tester', password: 'secret' },
    root,
    base: '/',
    stop: run.stop,
  };
}

async function pythonServer(name: 'asyncssh' | 'paramiko'): Promise<ServerUnderTest> {
  const peer =
    name === 'asyncssh'
      ? await startPythonPeer('asyncssh-sftp-server.py', 'asyncssh', 'python3-asyncssh', [String(1 << 30)], 170_000)
      : await startPythonPeer('paramiko-sftp-server.py', 'paramiko', 'python3-paramiko', [], 170_000);
  return {
    name,
    connect: { host: '127.0.0.1', port: peer.port, username: 'tester', privateKey: peer.keys.private },
    root: peer.root,
    base: '/',
    stop: () => peer.stop(),
  };
}

export const startAsyncSsh = (): Promise<ServerUnderTest> => pythonServer('asyncssh');
export const startParamiko = (): Promise<ServerUnderTest> => pythonServer('paramiko');
