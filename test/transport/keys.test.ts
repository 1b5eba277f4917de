import { test } from 'node:test';
import assert from 'node:assert/strict';
import ssh2 from 'ssh2';
import { generateEd25519KeyPair } from '../../src/transport/keys.js';

test('generateEd25519KeyPair: 3,000 pairs all parse, and each public key is its private key\'s', () => {
  // ssh2's own generator makes an unreadable pair about once in 256: 3,000 raw draws all parsing
  // would happen about once in 10^5 runs, so this fails if the check is lost.
  for (let i = 0; i < 3000; i++) {
    const pair = generateEd25519KeyPair();
    const priv = ssh2.utils.parseKey(pair.private);
    const pub = ssh2.utils.parseKey(pair.public);
    assert.ok(!(priv instanceof Error), `private key ${i} does not parse`);
    assert.ok(!(pub instanceof Error), `public key ${i} does not parse`);
    const one = (k: ssh2.ParsedKey | ssh2.ParsedKey[]) => (Array.isArray(k) ? k[0]! : k);
    assert.deepEqual(one(priv).getPublicSSH(), one(pub).getPublicSSH());
  }
});
