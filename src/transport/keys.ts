import ssh2 from 'ssh2';

/** An SSH key pair in OpenSSH format: `private` (PEM-like text) and `public` (`ssh-ed25519 AAAA...`). */
export interface SshKeyPair {
  private: string;
  public: string;
}

/**
 * A new ed25519 key pair that ssh2 itself can read back. ssh2's generator drops a leading zero byte
 * of the public key (about one key in 256), which yields a private key that it then refuses as
 * "Malformed OpenSSH private key"; such a pair is thrown away and another one made.
 */
export function generateEd25519KeyPair(): SshKeyPair {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    if (!(ssh2.utils.parseKey(pair.private) instanceof Error) && !(ssh2.utils.parseKey(pair.public) instanceof Error)) {
      return { private: pair.private, public: pair.public };
    }
  }
}
