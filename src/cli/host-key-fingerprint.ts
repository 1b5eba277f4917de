/** The fingerprint `serve` prints at start, as `ssh-keygen -lf` and a connecting client show it. */
import ssh2 from 'ssh2';
import { fingerprint } from './known-hosts.js';

/** `ssh-ed25519 SHA256:...` for a host private key (PEM or OpenSSH format), or undefined when it does not parse. */
export function hostKeyFingerprint(privateKey: Buffer | string): string | undefined {
  const parsed = ssh2.utils.parseKey(privateKey);
  if (parsed instanceof Error) return undefined;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return undefined;
  return `${key.type} ${fingerprint(key.getPublicSSH())}`;
}
