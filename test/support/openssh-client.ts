/** OpenSSH's sftp client driving a server in tests: batch runs (`sftp -b -`) over stdio (`-D`) or a loopback sshd. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { NON_INTERACTIVE_SSH, SFTP_PATH, generateKey, requireOpenSsh } from '../../bench/lib/peers/openssh.js';
import { CLI_MAIN, TSX_LOADER } from './cli.js';

/** The command line `sftp -D` runs: our server on stdio over `root`. */
export function stdioServerCommand(root: string, extra: string[] = []): string {
  for (const p of [root, TSX_LOADER, CLI_MAIN]) if (/\s/.test(p)) throw new Error(`path with spaces: ${p}`);
  return ['node', '--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio', '--root', root, ...extra].join(' ');
}

export interface SftpRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export type SftpTarget = { direct: string } | { port: number; key: string; user?: string };

export function sftpArgs(target: SftpTarget, extra: string[] = []): string[] {
  if ('direct' in target) return ['-D', target.direct, ...extra];
  return [
    ...NON_INTERACTIVE_SSH,
    '-i',
    target.key,
    '-P',
    String(target.port),
    ...extra,
    `${target.user ?? 'tester'}@127.0.0.1`,
  ];
}

/** Start OpenSSH's sftp in batch mode (commands on stdin with -b -); returns the child and its outcome. */
export function startSftp(
  target: SftpTarget,
  commands: string[],
  extra: string[] = [],
  cwd?: string,
): { child: ChildProcess; done: Promise<SftpRun> } {
  requireOpenSsh(SFTP_PATH);
  const child = spawn(SFTP_PATH, sftpArgs(target, ['-b', '-', ...extra]), { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  child.stdin!.end(commands.join('\n') + '\n');
  const done = new Promise<SftpRun>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export async function sftpBatch(
  target: SftpTarget,
  commands: string[],
  extra: string[] = [],
  cwd?: string,
): Promise<SftpRun> {
  return startSftp(target, commands, extra, cwd).done;
}

/** A fresh ed25519 key pair for the ssh tests. */
export function makeUserKey(dir: string): { key: string; pub: string } {
  const key = generateKey(path.join(dir, 'id_ed25519'));
  return { key, pub: `${key}.pub` };
}
