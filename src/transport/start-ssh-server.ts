import type { RunningSftpSshServer, SftpSshServerOptions, SshIdentity } from './ssh-server.js';

/**
 * Run an SSH server (ssh2) whose only service is SFTP: every `sftp` subsystem channel goes to
 * `server.serve` as a raw byte stream (ssh2's own SFTP implementation is never used). Shells,
 * exec, other subsystems and port forwarding are refused.
 *
 * This is the public entry's door to ssh-server.ts: the SSH server and ssh2 are loaded by the first
 * call, not by importing 'sftp-wire', so a process that is only a client never loads them. Invalid
 * options reject, as they always did (the function never throws).
 */
export function startSftpSshServer<Id = SshIdentity>(
  opts: SftpSshServerOptions<Id>,
): Promise<RunningSftpSshServer<Id>> {
  return import('./ssh-server.js').then((m) => m.startSftpSshServer(opts));
}
