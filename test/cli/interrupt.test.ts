// Ctrl-C during `sftp-wire put --atomic`: the CLI cancels, exits 130, and leaves neither a temporary
// file nor anything under the final name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../../bench/lib/peers/openssh.js';
import { CLI_MAIN } from '../support/cli.js';

let sshd: Sshd;
let dir: string;

before(async () => {
  sshd = await startSshd();
  dir = mkdtempSync(join(tmpdir(), 'sftp-wire-interrupt-'));
  mkdirSync(join(dir, 'home'));
  mkdirSync(join(dir, 'remote'));
});
after(async () => {
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('SIGINT mid-upload cancels cleanly: exit 130, no temporary file, no partial under the final name', async () => {
  const src = join(dir, 'big.bin');
  writeFileSync(src, randomBytes(64 * 1024 * 1024));
  const dst = join(dir, 'remote', 'big.bin');
  // One 4 KiB request at a time: slow enough that the upload is still running when the signal comes.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      CLI_MAIN,
      'put',
      '--atomic',
      '-R',
      '1',
      '-B',
      '4k',
      '-i',
      sshd.privateKeyPath,
      src,
      `sftp://${sshd.username}@${sshd.host}:${sshd.port}${dst}`,
    ],
    { env: { ...process.env, SSH_AUTH_SOCK: '', HOME: join(dir, 'home') }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Wait until the temporary file exists: the upload is under way.
  const deadline = Date.now() + 30_000;
  while (!readdirSync(join(dir, 'remote')).some((n) => n.endsWith('.part'))) {
    assert.ok(Date.now() < deadline, `the upload never started: ${stderr}`);
    assert.equal(child.exitCode, null, `the CLI ended before the signal: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  assert.match(stderr, /SIGINT: cancelling/);
  assert.deepEqual(readdirSync(join(dir, 'remote')), [], 'nothing left in the destination directory');
});
