// Ctrl-C during `put --resume` keeps the partial and says that the same command resumes it; running
// it again does. And an atomic upload's error names the destination, not only its temporary file.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_MAIN } from '../support/cli.js';
import { failureText } from '../../src/cli/transfer.js';
import { cli, scratch, startServe, type ServeChild } from './serve-child.js';

const t = scratch('sftp-wire-resume-int-');
const PASSWORD = 'resume-pw';
let served: ServeChild;

before(async () => {
  served = await startServe({ root: t.root, dir: t.dir, user: 'carol', password: PASSWORD });
});
after(async () => {
  await served?.stop();
  rmSync(t.dir, { recursive: true, force: true });
});

test('SIGINT during put --resume: exit 130, the partial is kept and the message says the same command resumes; it then does', async () => {
  const src = join(t.dir, 'big.bin');
  const data = randomBytes(24 * 1024 * 1024);
  writeFileSync(src, data);
  const url = `${served.base}/big.bin`;
  // One 4 KiB request at a time: slow enough that the upload is still running when the signal comes.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI_MAIN, 'put', '--resume', '-R', '1', '-B', '4k', src, url],
    {
      env: { ...process.env, SSH_AUTH_SOCK: '', HOME: t.home, SFTP_WIRE_PASSWORD: PASSWORD },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const partial = (): string | undefined => readdirSync(t.root).find((n) => n.endsWith('.resume'));
  const deadline = Date.now() + 30_000;
  while (!partial()) {
    assert.ok(Date.now() < deadline, `the upload never started: ${stderr}`);
    assert.equal(child.exitCode, null, `the CLI ended before the signal: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 300)); // some bytes on the way
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /SIGINT: cancelling/);
  assert.match(stderr, /sftp-wire put: the partial copy was kept; run the same command again to resume it\n/);
  assert.ok(partial(), 'the partial is still there');
  assert.deepEqual(
    readdirSync(t.root).filter((n) => n === 'big.bin'),
    [],
    'nothing under the final name yet',
  );

  const again = await cli(t.home, ['put', '--resume', src, url], { SFTP_WIRE_PASSWORD: PASSWORD });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /resumed at byte [1-9]\d*/);
  assert.ok(readFileSync(join(t.root, 'big.bin')).equals(data), 'the resumed copy is whole');
  assert.equal(partial(), undefined);
});

test('an atomic upload that fails on its temporary file names the destination too', async () => {
  const src = join(t.dir, 'small.txt');
  writeFileSync(src, 'small\n');
  const r = await cli(t.home, ['put', '--atomic', src, `${served.base}/no-such-dir/small.txt`], {
    SFTP_WIRE_PASSWORD: PASSWORD,
  });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^sftp-wire put: ENOENT: no such file or directory \(open "\/no-such-dir\/\.small\.txt\.[0-9a-f]{8}\.part"\), writing \/no-such-dir\/small\.txt\n$/,
  );
});

test('failureText adds the destination only when the error is about another file', () => {
  const e = Object.assign(new Error('EIO: x'), { path: '/d/.f.1234abcd.part' });
  assert.equal(failureText(e, '/d/f'), 'EIO: x, writing /d/f');
  assert.equal(failureText(Object.assign(new Error('EIO: y'), { path: '/d/f' }), '/d/f'), 'EIO: y');
  assert.equal(failureText(new Error('no path'), '/d/f'), 'no path');
  assert.equal(failureText(e, undefined), 'EIO: x');
});
