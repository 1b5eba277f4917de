// REALPATH as OpenSSH's sftp-server answers it: `..` is the parent of the directory actually reached
// (after a symlink: of its target), every name before a `..` must exist, and after the last `..` only
// the last name may be missing. Each case is asked of OpenSSH's sftp-server and of ours, run in the
// same working directory, and the answers (a path, or a status code) must be the same.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SftpClient } from '../../src/client/client.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { SftpError, StatusCode } from '../../src/protocol/index.js';
import { joinStreams, spawnSftpServer } from '../../bench/lib/peers/openssh.js';
import { CLI_MAIN, TSX_LOADER } from '../support/cli.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

type Peer = { name: string; client: SftpClient; close: () => Promise<void> };

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

async function cliChild(cwd: string): Promise<Peer> {
  const p = spawn(process.execPath, ['--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio'], {
    cwd,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  const client = await SftpClient.fromStream(joinStreams(p.stdin!, p.stdout!));
  return {
    name: 'serve --stdio',
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

/** A path with the test folder shown as "D", or the status code of the failure. */
async function outcome(
  c: SftpClient,
  p: string,
  dir: string,
  op: 'realpath' | 'expandPath' = 'realpath',
): Promise<string> {
  try {
    const r = await c[op](p);
    return r === dir ? 'D' : r.startsWith(dir + '/') ? 'D' + r.slice(dir.length) : r;
  } catch (err) {
    assert.ok(err instanceof SftpError, String(err));
    return `status ${err.status}`;
  }
}

const NO_SUCH_FILE = `status ${StatusCode.NO_SUCH_FILE}`;

/** Cases and what OpenSSH answers (checked below against the real sftp-server, so a change there shows). */
const CASES: [string, string][] = [
  ['d/missing/..', NO_SUCH_FILE],
  ['d/missing/../sub', NO_SUCH_FILE],
  ['d/missing/x', NO_SUCH_FILE],
  ['d/missing', 'D/w/d/missing'],
  ['d/file/..', 'D/w/d'],
  ['d/file/../sub', 'D/w/d/sub'],
  ['d/file/x', NO_SUCH_FILE],
  ['d/sub/../sub', 'D/w/d/sub'],
  ['link', 'D/else/deep/target'],
  ['link/..', 'D/else/deep'],
  ['link/../..', 'D/else'],
  ['rlink/..', 'D/else/deep'],
  ['link/x', 'D/else/deep/target/x'],
  ['link/x/..', NO_SUCH_FILE],
  ['flink/..', 'D/w/d'],
  ['dangling/..', NO_SUCH_FILE],
  ['dangling/x', NO_SUCH_FILE],
  ['./d/./sub/', 'D/w/d/sub'],
  ['../w/d', 'D/w/d'],
];

describe('REALPATH with .. and symlinks, as OpenSSH answers it', () => {
  let dir: string;
  let work: string;
  const peers: Peer[] = [];
  before(async () => {
    dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'sftp-wire-realpath-')));
    work = path.join(dir, 'w');
    mkdirSync(path.join(work, 'd', 'sub'), { recursive: true });
    mkdirSync(path.join(dir, 'else', 'deep', 'target'), { recursive: true });
    writeFileSync(path.join(work, 'd', 'file'), 'x');
    symlinkSync(path.join(dir, 'else', 'deep', 'target'), path.join(work, 'link'));
    symlinkSync('../else/deep/target', path.join(work, 'rlink'));
    symlinkSync('d/file', path.join(work, 'flink'));
    symlinkSync('nowhere', path.join(work, 'dangling'));
    symlinkSync(tmpdir(), path.join(work, 'out'));
    const openssh = spawnSftpServer({ cwd: work });
    peers.push({
      name: 'OpenSSH sftp-server',
      client: await SftpClient.fromStream(openssh.stream),
      close: openssh.close,
    });
    peers.push(await cliChild(work));
    peers.push(await inProcess('SftpServer root / startDir', { root: '/', startDir: work }));
  });
  after(async () => {
    for (const p of peers) await p.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each case: OpenSSH answers as listed, and ours answer the same', async () => {
    const [openssh, ...ours] = peers;
    const got = await Promise.all(CASES.map(([p]) => outcome(openssh!.client, p, dir)));
    assert.deepEqual(
      got,
      CASES.map(([, want]) => want),
      'OpenSSH answered otherwise than listed',
    );
    for (const peer of ours) {
      const answers = await Promise.all(CASES.map(([p]) => outcome(peer.client, p, dir)));
      const differ = CASES.flatMap(([p, want], i) =>
        answers[i] === want ? [] : [`${p}: OpenSSH ${want}, ${peer.name} ${answers[i]}`],
      );
      assert.deepEqual(differ, [], `${peer.name} differs from OpenSSH`);
    }
  });

  test('expand-path@openssh.com walks the same way after "~"', async () => {
    for (const peer of peers.slice(1)) {
      assert.equal(await outcome(peer.client, '~/link/..', dir, 'expandPath'), 'D/else/deep', peer.name);
      assert.equal(await outcome(peer.client, '~/d/missing/..', dir, 'expandPath'), NO_SUCH_FILE, peer.name);
    }
  });

  test('in a served root, `..` after a symlink stays inside, and a symlink out of it is refused', async () => {
    const jailed = await inProcess('jailed', { root: dir });
    try {
      assert.equal(await jailed.client.realpath('/w/link/..'), '/else/deep');
      assert.equal(await jailed.client.realpath('/w/link/../../../../..'), '/');
      assert.equal(await outcome(jailed.client, '/w/out/..', dir), `status ${StatusCode.PERMISSION_DENIED}`);
      assert.equal(await outcome(jailed.client, '/w/d/missing/..', dir), NO_SUCH_FILE);
    } finally {
      await jailed.close();
    }
  });
});
