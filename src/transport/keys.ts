import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ParsedKey } from 'ssh2';
import { fingerprint } from './known-hosts.js';
import { ssh2Lib } from './ssh2-lib.js';

/** An SSH key pair as text: `private` in OpenSSH's format, `public` one authorized_keys line. */
export type { ParsedKey };

export interface SshKeyPair {
  private: string;
  public: string;
}

/** Whether ssh2 reads both halves of a pair back, as one and the same key. */
export function isWellFormedPair(pair: SshKeyPair): boolean {
  const pub = ssh2Lib().utils.parseKey(pair.public);
  const priv = ssh2Lib().utils.parseKey(pair.private);
  if (pub instanceof Error || priv instanceof Error) return false;
  const a = (Array.isArray(pub) ? pub[0] : pub)?.getPublicSSH();
  const b = (Array.isArray(priv) ? priv[0] : priv)?.getPublicSSH();
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.length > 0 && a.equals(b);
}

/**
 * A new ed25519 key pair that ssh2 (and OpenSSH) can read back. ssh2's generator drops leading zero
 * bytes of the public key (about one pair in 256), which makes a private key that ssh2 itself then
 * refuses as "Malformed OpenSSH private key"; such a pair is thrown away and another one made.
 */
export function generateEd25519KeyPair(comment = ''): SshKeyPair {
  for (let attempt = 0; attempt < 32; attempt++) {
    const pair = ssh2Lib().utils.generateKeyPairSync('ed25519', comment ? { comment } : {});
    if (isWellFormedPair(pair)) return { private: pair.private, public: pair.public };
  }
  throw new Error('ssh2 made 32 malformed ed25519 key pairs in a row');
}

/**
 * Write a new ed25519 pair: the private key at `path` (mode 0600, as ssh and sshd insist), the public
 * key at `${path}.pub`. Returns `path`.
 */
export function writeEd25519KeyPair(path: string, comment = ''): string {
  const pair = generateEd25519KeyPair(comment);
  writeFileSync(path, pair.private, { mode: 0o600 });
  chmodSync(path, 0o600);
  writeFileSync(`${path}.pub`, `${pair.public}\n`);
  return path;
}

/** A key (private or public, PEM or OpenSSH format) as ssh2 reads it: the key(s), or the Error saying why not (an encrypted key without its passphrase, a wrong one). */
export function parseKey(data: Buffer | string, passphrase?: string): ParsedKey | ParsedKey[] | Error {
  return ssh2Lib().utils.parseKey(data, passphrase);
}

/** `ssh-ed25519 SHA256:...` for a host private key (PEM or OpenSSH format), as `ssh-keygen -lf` and a connecting client show it; undefined when it does not parse. */
export function hostKeyFingerprint(privateKey: Buffer | string): string | undefined {
  const parsed = ssh2Lib().utils.parseKey(privateKey);
  if (parsed instanceof Error) return undefined;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return undefined;
  return `${key.type} ${fingerprint(key.getPublicSSH())}`;
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
