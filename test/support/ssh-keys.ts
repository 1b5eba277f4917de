/**
 * ed25519 key pairs made by ssh2 (no ssh-keygen needed), checked before use. ssh2 1.17's
 * generateKeyPairSync('ed25519') drops leading zero bytes of the public key, so about one pair in 256
 * is malformed: ssh2's own parseKey (and OpenSSH) reject it. Such a pair is thrown away and another
 * made.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import ssh2 from 'ssh2';

export interface KeyPairText {
  /** OpenSSH's private key format. */
  private: string;
  /** One authorized_keys line: "ssh-ed25519 AAAA... comment". */
  public: string;
}

/** Whether ssh2 reads both halves of a pair back as the same key. */
export function isWellFormedPair(pair: KeyPairText): boolean {
  const pub = ssh2.utils.parseKey(pair.public);
  const priv = ssh2.utils.parseKey(pair.private);
  if (pub instanceof Error || priv instanceof Error) return false;
  const a = (Array.isArray(pub) ? pub[0] : pub)?.getPublicSSH();
  const b = (Array.isArray(priv) ? priv[0] : priv)?.getPublicSSH();
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.length > 0 && a.equals(b);
}

/** A well-formed ed25519 pair (see above); throws if 32 attempts in a row were malformed. */
export function ed25519KeyPair(comment = ''): KeyPairText {
  for (let attempt = 0; attempt < 32; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519', comment ? { comment } : {});
    if (isWellFormedPair(pair)) return pair;
  }
  throw new Error('ssh2 made 32 malformed ed25519 key pairs in a row');
}

/**
 * Write a well-formed ed25519 pair: the private key in OpenSSH's format at `path` (mode 0600, as ssh
 * and sshd insist), the public key at `${path}.pub`. Returns `path`.
 */
export function writeKeyPair(path: string, comment = 'sftp-wire-test'): string {
  const pair = ed25519KeyPair(comment);
  writeFileSync(path, pair.private, { mode: 0o600 });
  chmodSync(path, 0o600);
  writeFileSync(`${path}.pub`, `${pair.public}\n`);
  return path;
}
