// The put/get/ls commands end to end: a child process running the CLI against a real sshd.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../../bench/lib/peers/openssh.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

/** HOME of the CLI's child processes: a temporary one, so accept-new records host keys there and not in the user's ~/.ssh. */
let home = '';

const cli = (args: string[]) => runCli(home, args);

describe('sftp-wire put/get/ls against sshd', () => {
  let sshd: Sshd;
  let tmp: ReturnType<typeof tempDir>;
  let base: string;
  before(async () => {
    sshd = await startSshd();
    tmp = tempDir();
    home = join(tmp.dir, 'home');
    mkdirSync(home);
    base = `sftp://${sshd.username}@${sshd.host}:${sshd.port}`;
  });
  after(async () => {
    await sshd?.stop();
    tmp?.cleanup();
  });

  test('put then get round-trips a file; -R and -B are honoured; ls lists it', async () => {
    const data = randomBytes(700_000);
    const src = join(tmp.dir, 'src.bin');
    writeFileSync(src, data);
    mkdirSync(join(tmp.dir, 'remote'));
    const up = await cli(['put', '-i', sshd.privateKeyPath, '-R', '4', '-B', '64k', src, `${base}${tmp.dir}/remote/`]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /700000 bytes/);
    assert.ok(readFileSync(join(tmp.dir, 'remote', 'src.bin')).equals(data));
    const down = await cli([
      'get',
      '-q',
      '-i',
      sshd.privateKeyPath,
      `${base}${tmp.dir}/remote/src.bin`,
      join(tmp.dir, 'back.bin'),
    ]);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(down.stderr, '');
    assert.ok(readFileSync(join(tmp.dir, 'back.bin')).equals(data));
    const ls = await cli(['ls', '-i', sshd.privateKeyPath, `${base}${tmp.dir}/remote`]);
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout, 'src.bin\n');
    const lsl = await cli(['ls', '-l', '-a', '-i', sshd.privateKeyPath, `${base}${tmp.dir}/remote`]);
    assert.match(lsl.stdout, /^-rw.* src\.bin$/m);
    assert.match(lsl.stdout, / \.\.$/m);
  });

  test('errors: a missing remote file exits 1 with the reason; bad usage exits 2', async () => {
    const miss = await cli(['get', '-i', sshd.privateKeyPath, `${base}${tmp.dir}/nope`, join(tmp.dir, 'x')]);
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /ENOENT/);
    assert.equal((await cli(['put', 'only-one-arg'])).code, 2);
    const badVerify = await cli(['put', '--verify', 'crc', 'a', `${base}/b`]);
    assert.equal(badVerify.code, 2);
    assert.match(badVerify.stderr, /--verify must be size, tail or hash/);
    assert.equal((await cli(['get', '/local', '/local2'])).code, 2);
  });

  test('--atomic --verify hash replaces a file whole; --resume continues a partial and says where', async () => {
    mkdirSync(join(tmp.dir, 'atomic'));
    const dst = join(tmp.dir, 'atomic', 'f.bin');
    writeFileSync(dst, 'old contents');
    const data = randomBytes(300_000);
    const src = join(tmp.dir, 'atomic-src.bin');
    writeFileSync(src, data);
    const up = await cli(['put', '--atomic', '--verify', 'hash', '-i', sshd.privateKeyPath, src, `${base}${dst}`]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /verified \(hash\)/);
    assert.ok(readFileSync(dst).equals(data));
    // a resumable download with no partial yet starts fresh and ends whole
    const back = join(tmp.dir, 'atomic', 'back.bin');
    const first = await cli(['get', '--resume', '-i', sshd.privateKeyPath, `${base}${dst}`, back]);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(readFileSync(back).equals(data));
  });
});
