/**
 * The users of a users file (users-file.ts) as the SSH server's authentication hook and session
 * factory: passwords checked against their scrypt hash (a name not in the file costs the same time),
 * keys against the user's keys, and each session served from the user's own root.
 */
import type { AuthHook, AuthMethod } from '../transport/ssh-auth.js';
import { keyMatches } from '../transport/ssh-auth.js';
import { verifyNobody, verifyPassword } from '../transport/password-hash.js';
import type { SessionFactory } from '../transport/ssh-server.js';
import type { AtomicUploadMode } from '../server/options.js';
import type { FileUser } from './users-file.js';

export function usersFileAuth(
  users: ReadonlyMap<string, FileUser>,
  defaults: { readOnly: boolean; atomicUploads: AtomicUploadMode },
): { authenticate: AuthHook<FileUser>; authMethods: AuthMethod[]; sessionFor: SessionFactory<FileUser> } {
  const authenticate: AuthHook<FileUser> = async (attempt) => {
    const user = users.get(attempt.username);
    if (attempt.method === 'password') {
      if (!user?.password) return verifyNobody(attempt.password);
      return (await verifyPassword(attempt.password, user.password)) ? user : undefined;
    }
    if (attempt.method === 'publickey') return user && keyMatches(attempt.key, user.keys) ? user : undefined;
    return undefined;
  };
  const anyPassword = [...users.values()].some((u) => u.password);
  return {
    authenticate,
    authMethods: anyPassword ? ['publickey', 'password'] : ['publickey'],
    sessionFor: (user) => ({
      root: user.root,
      startDir: user.startDir,
      readOnly: user.readOnly ?? defaults.readOnly,
      atomicUploads: user.atomicUploads ?? defaults.atomicUploads,
    }),
  };
}
