/**
 * An ed25519 key pair for test servers, checked to be one ssh2 reads back. Some of the keys ssh2's
 * generateKeyPairSync('ed25519') writes are refused by its own parseKey (measured: 17 in 3000), and a
 * server given one cannot start: drawn until both halves parse, a bounded number of times.
 */
import ssh2 from 'ssh2';

export function readableEd25519Pair(): { private: string; public: string } {
  for (let attempt = 0; attempt < 50; attempt++) {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const parsed = [ssh2.utils.parseKey(pair.private), ssh2.utils.parseKey(pair.public)];
    if (!parsed.some((k) => k instanceof Error)) return pair;
  }
  throw new Error('ssh2 wrote no ed25519 key it could read back in 50 attempts');
}
