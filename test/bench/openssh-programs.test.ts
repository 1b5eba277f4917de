import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTENDERS, openSshNeeds, skipReason } from '../../bench/contenders/index.js';
import { findOpenSsh, missingOpenSsh } from '../../bench/lib/openssh-programs.js';

function program(path: string, mode = 0o755): void {
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, mode);
}

test("OpenSSH is found on PATH, sshd and sftp-server under the clients' prefix; nothing off PATH is used", () => {
  const root = mkdtempSync(join(tmpdir(), 'sftp-wire-test-openssh-'));
  try {
    const prefix = join(root, 'usr');
    for (const d of ['bin', 'sbin', 'lib/openssh']) mkdirSync(join(prefix, d), { recursive: true });
    for (const p of ['bin/ssh', 'bin/sftp', 'bin/scp', 'sbin/sshd', 'lib/openssh/sftp-server'])
      program(join(prefix, p));
    const found = findOpenSsh(join(prefix, 'bin'));
    assert.deepEqual(found, {
      ssh: join(prefix, 'bin/ssh'),
      sftp: join(prefix, 'bin/sftp'),
      scp: join(prefix, 'bin/scp'),
      sshd: join(prefix, 'sbin/sshd'),
      'sftp-server': join(prefix, 'lib/openssh/sftp-server'),
    });
    assert.equal(missingOpenSsh(found, ['sshd', 'sftp-server', 'scp', 'ssh']), null);
    // An empty PATH, or one without the clients, finds nothing: no fixed paths behind the user's back.
    const empty = join(root, 'empty');
    mkdirSync(empty);
    assert.deepEqual(findOpenSsh(empty), {});
    assert.deepEqual(findOpenSsh(''), {});
    // A file that is not executable is not a program.
    program(join(empty, 'sftp'), 0o644);
    assert.deepEqual(findOpenSsh(empty), {});
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a missing program names the Debian packages to install, each once', () => {
  assert.equal(
    missingOpenSsh({}, ['sshd', 'sftp-server', 'scp', 'ssh']),
    'OpenSSH sshd, sftp-server, scp, ssh not found on PATH; on Debian/Ubuntu: apt-get install openssh-server openssh-sftp-server openssh-client',
  );
  assert.equal(
    missingOpenSsh({ sshd: '/x/sshd', 'sftp-server': '/x/s' }, ['sshd', 'sftp-server', 'sftp']),
    'OpenSSH sftp not found on PATH; on Debian/Ubuntu: apt-get install openssh-client',
  );
});

test('Node-only contenders need no OpenSSH program and are never skipped for want of one', () => {
  for (const c of CONTENDERS) {
    const needs = openSshNeeds(c);
    if (c.target === 'openssh') {
      assert.ok(needs.includes('sshd') && needs.includes('sftp-server'), c.id);
      assert.match(skipReason(c, {}, {})!, /apt-get install openssh-server openssh-sftp-server/, c.id);
    } else {
      assert.deepEqual(needs, [], c.id);
      assert.equal(skipReason(c, {}, {}), null, c.id);
    }
  }
});
