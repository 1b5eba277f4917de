// Keys come from ssh2, not ssh-keygen; ssh2 1.17 makes a malformed ed25519 pair about once in 256
// (leading zero bytes of the public key dropped), which must never reach a server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import {
  generateEd25519KeyPair as ed25519KeyPair,
  isWellFormedPair,
  writeEd25519KeyPair as writeKeyPair,
} from '../../src/transport/keys.js';

test('every pair generateEd25519KeyPair hands out parses back, both halves the same key (2,000 pairs)', () => {
  // Raw ssh2 pairs fail this about 8 times in 2,000; a run of 2,000 good ones by luck is a 0.04% chance.
  for (let i = 0; i < 2000; i++) {
    const pair = ed25519KeyPair('k');
    const pub = ssh2.utils.parseKey(pair.public);
    assert.ok(!(pub instanceof Error), `pair ${i}: ${pair.public}`);
    assert.equal((Array.isArray(pub) ? pub[0]! : pub).getPublicSSH().length, 51, 'string "ssh-ed25519" + 32-byte key');
  }
});

test('a pair whose public key lost its leading zero byte is recognised as malformed', () => {
  const good = ed25519KeyPair();
  const blob = Buffer.from(good.public.split(' ')[1]!, 'base64');
  // ssh2's slip: the 32-byte key field shortened to 31 bytes
  const short = Buffer.concat([blob.subarray(0, 15), Buffer.from([0, 0, 0, 31]), blob.subarray(20)]);
  assert.equal(isWellFormedPair({ private: good.private, public: `ssh-ed25519 ${short.toString('base64')}` }), false);
  assert.equal(
    isWellFormedPair({ private: good.private, public: ed25519KeyPair().public }),
    false,
    'halves of two pairs',
  );
  assert.equal(isWellFormedPair(good), true);
});

test('writeEd25519KeyPair writes an OpenSSH private key (0600) and its public line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sftp-wire-test-keys-'));
  try {
    const path = writeKeyPair(join(dir, 'id'), 'bench');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.match(readFileSync(path, 'utf8'), /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    assert.match(readFileSync(`${path}.pub`, 'utf8'), /^ssh-ed25519 [A-Za-z0-9+/=]+ bench\n$/);
    assert.ok(isWellFormedPair({ private: readFileSync(path, 'utf8'), public: readFileSync(`${path}.pub`, 'utf8') }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
