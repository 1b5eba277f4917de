import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  mkdirSync,
  writeFileSync,
  readFileSync,
  readdirSync,
  existsSync,
  lstatSync,
  readlinkSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { tempDir } from '../../support/temp-dir.js';
import { sftpBatch, type SftpTarget } from '../../support/openssh-client.js';

/**
 * OpenSSH's sftp client against our server, in batch mode: shared by the stdio test
 * (`sftp -D "sftp-wire serve --stdio"`) and the ssh test (our ssh2-based server on loopback).
 */
export function opensshInteropSuite(
  name: string,
  makeTarget: (root: string) => Promise<{ target: SftpTarget; close(): Promise<void> }>,
  matrix: [number, number][],
): void {
  describe(name, () => {
    let t: ReturnType<typeof tempDir>;
    let root: string;
    let local: string;
    let target: SftpTarget;
    let close: () => Promise<void>;
    const big = randomBytes(200_000);
    const small = randomBytes(20_000);

    before(async () => {
      t = tempDir('sftp-wire-interop-');
      root = path.join(t.dir, 'root');
      local = path.join(t.dir, 'local');
      mkdirSync(root);
      mkdirSync(local);
      writeFileSync(path.join(local, 'big.bin'), big);
      writeFileSync(path.join(local, 'small.bin'), small);
      ({ target, close } = await makeTarget(root));
    });
    after(async () => {
      await close();
      t.cleanup();
    });

    for (const [B, R] of matrix) {
      it(`put and get with -B ${B} -R ${R} are byte-identical`, async () => {
        const src = B < 100 ? 'small.bin' : 'big.bin';
        const up = `up-${B}-${R}.bin`;
        const down = path.join(local, `down-${B}-${R}.bin`);
        const run = await sftpBatch(
          target,
          [`put ${path.join(local, src)} ${up}`, `get ${up} ${down}`],
          ['-B', String(B), '-R', String(R)],
        );
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(readFileSync(path.join(root, up)), readFileSync(path.join(local, src)));
        assert.deepEqual(readFileSync(down), readFileSync(path.join(local, src)));
      });
    }

    it('reput and reget resume from 0, 1, 1k, 1M, size-1 and same', async () => {
      const data = randomBytes(1_200_000);
      const sizes: Record<string, number> = {
        '0': 0,
        '1': 1,
        '1k': 1024,
        '1m': 1024 * 1024,
        'size-1': data.length - 1,
        same: data.length,
      };
      const commands: string[] = [];
      for (const [label, n] of Object.entries(sizes)) {
        writeFileSync(path.join(local, `src-${label}`), data);
        writeFileSync(path.join(root, `rsrc-${label}`), data);
        writeFileSync(path.join(root, `put-${label}`), data.subarray(0, n));
        writeFileSync(path.join(local, `get-${label}`), data.subarray(0, n));
        // "same" is refused by OpenSSH's reput (nothing to send): '-' lets the batch go on
        commands.push(`-reput ${path.join(local, `src-${label}`)} put-${label}`);
        commands.push(`-reget rsrc-${label} ${path.join(local, `get-${label}`)}`);
      }
      const run = await sftpBatch(target, commands);
      assert.equal(run.code, 0, run.stderr);
      for (const label of Object.keys(sizes)) {
        assert.ok(readFileSync(path.join(root, `put-${label}`)).equals(data), `reput from ${label}`);
        assert.ok(readFileSync(path.join(local, `get-${label}`)).equals(data), `reget from ${label}`);
      }
    });

    it('ls, ls -l, mkdir, rmdir, rename, rm, ln -s, ln, chmod, df', async () => {
      writeFileSync(path.join(root, 'cmd-a.txt'), 'alpha');
      const run = await sftpBatch(target, [
        'mkdir cmd-dir',
        'mkdir cmd-gone',
        'rmdir cmd-gone',
        'rename cmd-a.txt cmd-dir/b.txt',
        'ln -s b.txt cmd-dir/sym',
        'ln cmd-dir/b.txt cmd-dir/hard',
        'chmod 600 cmd-dir/b.txt',
        'put ' + path.join(local, 'small.bin') + ' cmd-dir/rm-me',
        'rm cmd-dir/rm-me',
        'ls cmd-dir',
        'ls -l cmd-dir',
        'df -h',
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.ok(!existsSync(path.join(root, 'cmd-gone')) && !existsSync(path.join(root, 'cmd-a.txt')));
      assert.equal(readFileSync(path.join(root, 'cmd-dir/b.txt'), 'utf8'), 'alpha');
      assert.equal(readlinkSync(path.join(root, 'cmd-dir/sym')), 'b.txt');
      assert.equal(statSync(path.join(root, 'cmd-dir/hard')).ino, statSync(path.join(root, 'cmd-dir/b.txt')).ino);
      assert.equal(statSync(path.join(root, 'cmd-dir/b.txt')).mode & 0o777, 0o600);
      assert.ok(!existsSync(path.join(root, 'cmd-dir/rm-me')));
      assert.ok(lstatSync(path.join(root, 'cmd-dir/sym')).isSymbolicLink());
      const out = run.stdout;
      assert.match(out, /^-rw------- .*b\.txt$/m, out);
      assert.match(out, /^l\S+ .*sym$/m);
      assert.match(out, /Size\s+Used\s+Avail/);
    });

    it('put -r and get -r of a small tree', async () => {
      const tree = path.join(local, 'tree');
      const files: Record<string, Buffer> = {};
      for (const d of ['', 'a', 'a/b', 'c']) {
        mkdirSync(path.join(tree, d), { recursive: true });
        for (let i = 0; i < 3; i++) {
          const rel = path.join(d, `f${i}.dat`);
          files[rel] = randomBytes(1000 + i * 3000);
          writeFileSync(path.join(tree, rel), files[rel]!);
        }
      }
      const back = path.join(local, 'tree-back');
      const run = await sftpBatch(target, [`put -r ${tree} tree-up`, `get -r tree-up ${back}`]);
      assert.equal(run.code, 0, run.stderr);
      for (const [rel, data] of Object.entries(files)) {
        assert.deepEqual(readFileSync(path.join(root, 'tree-up', rel)), data, rel);
        assert.deepEqual(readFileSync(path.join(back, rel)), data, rel);
      }
      assert.deepEqual(readdirSync(path.join(root, 'tree-up')).sort(), ['a', 'c', 'f0.dat', 'f1.dat', 'f2.dat']);
    });
  });
}
