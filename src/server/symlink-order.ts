/**
 * Which order a client sends SYMLINK's two paths in, from its SSH identification string
 * ("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3", or only its software part). OpenSSH's sftp has always sent the
 * target first, the reverse of the draft; other clients copied it or guess the server from its own
 * identification ("SSH-2.0-sftp-wire", which names no OpenSSH):
 *
 *   client identification       sends                  why
 *   OpenSSH_*                   target, link (openssh)  always
 *   paramiko_*                  target, link (openssh)  always (SFTPClient.symlink)
 *   libssh2_*                   target, link (openssh)  always
 *   AsyncSSH_*                  link, target (draft) unless the server's identification names OpenSSH or paramiko
 *   libssh_* / libssh-*         link, target (draft) unless the server's identification names OpenSSH
 *   anything else, or unknown   target, link (openssh)  the order nearly every server reads
 *
 * `serverIdent` is this server's own identification: the clients that guess from it send OpenSSH's
 * order when it names OpenSSH (or paramiko, for AsyncSSH).
 */
export function symlinkOrderForClient(clientIdent: string | undefined, serverIdent = 'sftp-wire'): 'openssh' | 'draft' {
  if (clientIdent === undefined) return 'openssh';
  const software = clientIdent.replace(/^SSH-[^-]*-/, '');
  if (/^AsyncSSH[_-]/i.test(software)) return /OpenSSH|paramiko/.test(serverIdent) ? 'openssh' : 'draft';
  if (/^libssh[_-]/i.test(software)) return /OpenSSH/.test(serverIdent) ? 'openssh' : 'draft';
  return 'openssh';
}
