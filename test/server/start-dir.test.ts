// The start directory: relative paths and REALPATH(".") start where OpenSSH's sftp-server starts
// (its working directory, or -d) when the whole file system is served, and at "/" of a jailed root.
// Each case is asked of our server and of OpenSSH's sftp-server run in the same working directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SftpClient } from '../../src/client/client.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { SftpError, StatusCode } from '../../src/protocol/index.js';
import { joinStreams, spawnSftpServer, requireOpenSsh, SFTP_PATH } from '../../bench/lib/peers/openssh.js';
import { CLI_MAIN, TSX_LOADER } from '../support/cli.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

type Peer = { name: string; client: SftpClient; close: () => Promise<void> };

/** Our server in this process, on one end of an in-memory pair. */
async function inProcess(name: string, opts: ConstructorParameters<typeof SftpServer>[0]): Promise<Peer> {
  const [a, b] = memoryPair();
  const served = new SftpServer(opts).serve(a);
  const client = await SftpClient.fromStream(b);
  return {
    name,
    client,
    close: async () => {
      await client.end();
      await served;
    },
  };
}

/** A server command (ours through the CLI, or OpenSSH's) as a child in `cwd`, on its stdio. */
async function child(name: string, cmd: string, args: string[], cwd: string): Promise<Peer> {
  const p = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  const client = await SftpClient.fromStream(joinStreams(p.stdin!, p.stdout!));
  return {
    name,
    client,
    close: async () => {
      await client.end();
      p.stdin!.end();
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

const statusOf = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SftpError, String(err));
    return err.status;
  }
  return StatusCode.OK;
};

describe('start directory (root /)', () => {
  let dir: string;
  let work: string;
  const peers: Peer[] = [];
  before(async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'sftp-wire-startdir-')));
    work = path.join(dir, 'work');
    mkdirSync(path.join(work, 'sub'), { recursive: true });
    writeFileSync(path.join(work, 'sub', 'f.txt'), 'twelve bytes');
    requireOpenSsh('/usr/lib/openssh/sftp-server');
    const openssh = spawnSftpServer({ cwd: work });
    peers.push({
      name: 'OpenSSH sftp-server',
      client: await SftpClient.fromStream(openssh.stream),
      close: openssh.close,
    });
    peers.push(
      await child(
        'serve --stdio (no --root)',
        process.execPath,
        ['--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio'],
        work,
      ),
    );
    peers.push(await inProcess('SftpServer root / startDir', { root: '/', startDir: work }));
  });
  after(async () => {
    for (const p of peers) await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('REALPATH(".") and REALPATH("") are the working directory', async () => {
    for (const p of peers) {
      assert.equal(await p.client.realpath('.'), work, p.name);
      assert.equal(await p.client.realpath(''), work, p.name);
      assert.equal(await p.client.realpath('sub/../sub'), path.join(work, 'sub'), p.name);
    }
  });

  test('a relative STAT is taken from the working directory', async () => {
    for (const p of peers) {
      assert.equal((await p.client.stat('sub/f.txt')).size, 12, p.name);
      assert.equal((await p.client.stat(path.join(work, 'sub/f.txt'))).size, 12, p.name);
    }
  });

  test('REALPATH through a missing directory fails as on OpenSSH (NO_SUCH_FILE)', async () => {
    for (const p of peers) {
      assert.equal(await statusOf(p.client.realpath('sub/missing/..')), StatusCode.NO_SUCH_FILE, p.name);
      assert.equal(await statusOf(p.client.realpath(`${work}/missing/../sub`)), StatusCode.NO_SUCH_FILE, p.name);
      // only the last component may be missing
      assert.equal(await p.client.realpath('sub/missing'), path.join(work, 'sub/missing'), p.name);
      // ...not the one before it (found by paramiko and AsyncSSH in test/interop/clients-compare.test.ts)
      assert.equal(await statusOf(p.client.realpath('sub/missing/deeper')), StatusCode.NO_SUCH_FILE, p.name);
      assert.equal(await statusOf(p.client.realpath(`${work}/missing/deeper/x`)), StatusCode.NO_SUCH_FILE, p.name);
    }
  });
});

test('expand-path@openssh.com: "~" is the start directory, a relative path starts there', async () => {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'sftp-wire-startdir-')));
  mkdirSync(path.join(dir, 'sub'));
  try {
    const p = await inProcess('root / startDir', { root: '/', startDir: dir });
    assert.equal(await p.client.expandPath('~'), dir);
    assert.equal(await p.client.expandPath('~/sub'), path.join(dir, 'sub'));
    assert.equal(await p.client.expandPath('sub'), path.join(dir, 'sub'));
    assert.equal(await p.client.expandPath('/etc'), '/etc');
    await p.close();
    const jailed = await inProcess('jailed', { root: dir });
    assert.equal(await jailed.client.expandPath('~/sub'), '/sub');
    await jailed.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('start directory options', () => {
  let dir: string;
  before(() => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'sftp-wire-startdir-')));
    mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    writeFileSync(path.join(dir, 'a', 'b', 'g'), 'g');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a jailed root starts at its top; startDir moves the start inside it', async () => {
    const jailed = await inProcess('jailed', { root: dir });
    assert.equal(await jailed.client.realpath('.'), '/');
    assert.equal((await jailed.client.stat('a/b/g')).size, 1);
    await jailed.close();
    const moved = await inProcess('jailed, startDir', { root: dir, startDir: '/a' });
    assert.equal(await moved.client.realpath('.'), '/a');
    assert.equal((await moved.client.stat('b/g')).size, 1);
    assert.equal(await statusOf(moved.client.stat('../../..')), StatusCode.OK, '.. stops at the root');
    await moved.close();
  });

  test('serve --stdio -d DIR starts there (beside sftp-server -d)', async () => {
    const ours = await child(
      'ours -d',
      process.execPath,
      ['--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio', '-d', 'a'],
      dir,
    );
    const theirs = spawnSftpServer({ cwd: dir, args: ['-d', path.join(dir, 'a')] });
    const openssh = await SftpClient.fromStream(theirs.stream);
    assert.equal(await openssh.realpath('.'), path.join(dir, 'a'));
    assert.equal(await ours.client.realpath('.'), path.join(dir, 'a'));
    assert.equal((await ours.client.stat('b/g')).size, 1);
    await openssh.end();
    await theirs.close();
    await ours.close();
  });

  test('serve -d with a missing directory is an error', () => {
    const r = spawnSync(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio', '-d', 'nope'], {
      cwd: dir,
      encoding: 'utf8',
      input: '',
      timeout: 30_000,
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--start-dir nope: does not exist/);
  });

  test('`sftp -D "node ... serve --stdio"` run in a directory shows it as pwd', () => {
    requireOpenSsh(SFTP_PATH);
    const command = ['node', '--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio'].join(' ');
    const r = spawnSync(SFTP_PATH, ['-b', '-', '-D', command], {
      cwd: path.join(dir, 'a'),
      input: 'pwd\nls\n',
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`Remote working directory: ${path.join(dir, 'a').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`),
    );
    assert.match(r.stdout, /\bb\b/);
  });
});
