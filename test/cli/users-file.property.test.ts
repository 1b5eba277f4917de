/**
 * The users file parser on any text: it returns users or throws a UsersFileError whose line number
 * is one of the file's lines (or 0 for the whole file) — never another kind of error, never a crash.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseUsersFile, UsersFileError } from '../../src/cli/users-file.js';

const HASH = '$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGs1qoNDnl6sPeBvR4Gv4E4UOO3tmZpqzQ2Wq3j7e2o3 k';

test('parseUsersFile: users, or a UsersFileError naming a line of the file', () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'sftp-wire-usersprop-'));
  try {
    const word = fc.constantFrom(
      'user',
      'password',
      'key',
      'root',
      'start-dir',
      'read-only',
      'atomic-uploads',
      'usr',
      '#',
      '',
    );
    const value = fc.oneof(
      fc.constantFrom('alice', 'bob', HASH, KEY, '.', '%u', '%x', 'atomic', '/', '..', 'a b', ''),
      fc.string({ maxLength: 12 }),
    );
    const line = fc
      .tuple(fc.constantFrom('', '  ', '\t'), word, value)
      .map(([indent, w, v]) => `${indent}${w} ${v}`.trimEnd());
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const text = lines.join('\n');
        try {
          const users = parseUsersFile(text, 'users', base);
          for (const u of users.values()) assert.ok(u.password || u.keys.length > 0, 'every user has a credential');
        } catch (err) {
          assert.ok(err instanceof UsersFileError, `not a UsersFileError: ${(err as Error)?.stack}`);
          assert.ok(err.line >= 0 && err.line <= lines.length, `line ${err.line} of ${lines.length}`);
        }
      }),
      { numRuns: 500 },
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
