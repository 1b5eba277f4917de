/**
 * Where OpenSSH's programs are on this machine, and what to install when they are not. The clients
 * (ssh, sftp, scp) are looked up on PATH, as a user would run them; sshd on PATH or in the sbin folder
 * beside the clients' (Debian keeps it in /usr/sbin, off most users' PATH); sftp-server, which is never
 * on PATH, in lib/openssh or libexec/openssh under the same prefix. A machine without OpenSSH's
 * clients on PATH has no OpenSSH contenders: the bench never reaches for fixed paths behind the
 * user's back.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export type OpenSshProgram = 'ssh' | 'sftp' | 'scp' | 'sshd' | 'sftp-server';

/** The Debian/Ubuntu package that installs each program. */
export const DEBIAN_PACKAGE: Record<OpenSshProgram, string> = {
  ssh: 'openssh-client',
  sftp: 'openssh-client',
  scp: 'openssh-client',
  sshd: 'openssh-server',
  'sftp-server': 'openssh-sftp-server',
};

export type OpenSshPrograms = Partial<Record<OpenSshProgram, string>>;

function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, dirs: readonly string[]): string | undefined {
  for (const d of dirs) {
    const p = join(d, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

/** Find OpenSSH's programs from a PATH value (default: this process's). Missing ones are absent. */
export function findOpenSsh(pathValue = process.env.PATH ?? ''): OpenSshPrograms {
  const dirs = pathValue.split(delimiter).filter((d) => d.length > 0);
  const found: OpenSshPrograms = {};
  for (const name of ['ssh', 'sftp', 'scp'] as const) {
    const p = onPath(name, dirs);
    if (p) found[name] = p;
  }
  // The server side lives under the prefix of the clients found (/usr/bin/ssh: prefix /usr).
  const prefixes = [
    ...new Set([found.ssh, found.sftp, found.scp].filter((p): p is string => !!p).map((p) => dirname(dirname(p)))),
  ];
  const sshd =
    onPath('sshd', dirs) ??
    onPath(
      'sshd',
      prefixes.map((p) => join(p, 'sbin')),
    );
  if (sshd) found.sshd = sshd;
  const server = onPath(
    'sftp-server',
    prefixes.flatMap((p) => [join(p, 'lib', 'openssh'), join(p, 'libexec', 'openssh'), join(p, 'libexec')]),
  );
  if (server) found['sftp-server'] = server;
  return found;
}

/** Why `needed` cannot run, with the Debian packages to install, or null when all are there. */
export function missingOpenSsh(found: OpenSshPrograms, needed: readonly OpenSshProgram[]): string | null {
  const missing = needed.filter((n) => !found[n]);
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map((n) => DEBIAN_PACKAGE[n]))];
  return `OpenSSH ${missing.join(', ')} not found on PATH; on Debian/Ubuntu: apt-get install ${packages.join(' ')}`;
}

let cached: OpenSshPrograms | null = null;

/** This process's OpenSSH programs, looked up once. */
export function openSshPrograms(): OpenSshPrograms {
  cached ??= findOpenSsh();
  return cached;
}
