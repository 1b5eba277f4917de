/**
 * Temporary files of atomic transfers after a lost connection or a dead uploader, with real sockets
 * (a TCP relay on loopback that resets the client's connection) and real child processes (the CLI):
 *  - an atomic download's local `.NAME.TAG.part` is gone when get rejects, and gone when the process
 *    dies of the lost connection;
 *  - an atomic upload's remote `.NAME.TAG.part` left by a cut (even one cut before the OPEN's reply
 *    came back) or by a killed uploader is removed by the next atomic upload to that destination,
 *    made by a new connection or a new process; one whose uploader still runs is left alone.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PacketType as T, decodePacket } from '../../src/protocol/index.js';
import { SftpClient } from '../../src/client/index.js';
import { startSshd, type Sshd } from '../../bench/lib/peers/openssh.js';
import { CLI_MAIN } from '../support/cli.js';
import { leftovers, randomBytesSeeded } from './fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { TcpRelay } from './tcp-relay.js';

const SIZE = 8 * 1024 * 1024;
const data = randomBytesSeeded(SIZE, 77);
const old = Buffer.from('the old file, which a failed transfer must leave as it is\n');

async function clientOver(port: number): Promise<SftpClient> {
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return SftpClient.fromStream(sock);
}

/** Run `fn` on a client connected through `relay`; returns its error (undefined if it succeeded). */
async function through<T>(relay: TcpRelay, fn: (c: SftpClient) => Promise<T>): Promise<unknown> {
  const c = await clientOver(relay.port);
  let error: unknown;
  try {
    await fn(c);
  } catch (err) {
    error = err;
  }
  await c.end({ stallMs: 2000 }).catch(() => {});
  await relay.idle();
  return error;
}

function isOpenOfPart(p: Buffer): boolean {
  if (p[0] !== T.OPEN) return false;
  const pkt = decodePacket(p);
  return pkt.type === T.OPEN && pkt.path.endsWith('.part');
}

describe('atomic transfers over a TCP connection that is reset (OpenSSH sftp-server behind a relay)', () => {
  const t = tempDir('sftp-wire-lost-');
  const src = join(t.dir, 'src.bin');
  before(() => writeFileSync(src, data));
  after(() => t.cleanup());

  it('get: the local temporary file is gone when get rejects; the old file is untouched', async () => {
    const d = t.fresh('remote', 'local');
    writeFileSync(join(d, 'remote', 'src.bin'), data);
    const dest = join(d, 'local', 'out.bin');
    writeFileSync(dest, old);
    const relay = await new TcpRelay({ upstream: { sftpServerIn: join(d, 'remote') }, cutAfter: SIZE / 4 }).listen();
    try {
      const err = await through(relay, (c) => c.get('src.bin', dest, { atomic: true }));
      assert.ok(err, 'the reset failed the download');
      assert.equal(relay.cuts, 1);
      assert.deepEqual(readdirSync(join(d, 'local')), ['out.bin'], 'no temporary file left');
      assert.ok(readFileSync(dest).equals(old));
    } finally {
      await relay.close();
    }
  });

  it('put cut mid-transfer: the next atomic upload (new connection) removes the temporary file', async () => {
    const d = t.fresh('remote', 'state');
    const remote = join(d, 'remote');
    writeFileSync(join(remote, 'out.bin'), old);
    const cutting = await new TcpRelay({ upstream: { sftpServerIn: remote }, cutAfter: SIZE / 4 }).listen();
    const clean = await new TcpRelay({ upstream: { sftpServerIn: remote } }).listen();
    try {
      const opts = { atomic: true, stateDir: join(d, 'state') };
      const exitListeners = process.listenerCount('exit');
      assert.ok(await through(cutting, (c) => c.put(src, 'out.bin', opts)), 'the reset failed the upload');
      assert.ok(readFileSync(join(remote, 'out.bin')).equals(old));
      assert.equal(readdirSync(join(d, 'state', 'orphans')).length, 1, 'recorded');
      assert.equal(await through(clean, (c) => c.put(src, 'out.bin', opts)), undefined);
      assert.deepEqual(leftovers(remote), [], 'the orphaned temporary file was removed');
      assert.ok(readFileSync(join(remote, 'out.bin')).equals(data));
      assert.deepEqual(readdirSync(join(d, 'state', 'orphans')), [], 'no record left');
      assert.equal(process.listenerCount('exit'), exitListeners, 'no exit listener left behind');
    } finally {
      await cutting.close();
      await clean.close();
    }
  });

  it('put cut just after the OPEN of the temporary file, before its reply: the next atomic upload removes it', async () => {
    const d = t.fresh('remote', 'state');
    const remote = join(d, 'remote');
    const cutting = await new TcpRelay({ upstream: { sftpServerIn: remote }, cutAfterPacket: isOpenOfPart }).listen();
    const clean = await new TcpRelay({ upstream: { sftpServerIn: remote } }).listen();
    try {
      const opts = { atomic: true, stateDir: join(d, 'state') };
      assert.ok(await through(cutting, (c) => c.put(src, 'out.bin', opts)), 'the reset failed the upload');
      assert.equal(leftovers(remote).length, 1, 'the server created the temporary file; the client never heard of it');
      assert.equal(await through(clean, (c) => c.put(src, 'out.bin', opts)), undefined);
      assert.deepEqual(leftovers(remote), [], 'removed by the next atomic upload');
      assert.ok(readFileSync(join(remote, 'out.bin')).equals(data));
    } finally {
      await cutting.close();
      await clean.close();
    }
  });

  it('an upload in progress keeps its temporary file while another atomic upload of the same destination completes', async () => {
    const d = t.fresh('remote', 'state');
    const remote = join(d, 'remote');
    const other = randomBytesSeeded(100_000, 9);
    writeFileSync(join(d, 'other.bin'), other);
    // Holds the first upload's bytes (its temporary file exists, nothing more arrives) until released.
    const holding = await new TcpRelay({ upstream: { sftpServerIn: remote }, holdAfter: 64 * 1024 }).listen();
    const clean = await new TcpRelay({ upstream: { sftpServerIn: remote } }).listen();
    const c1 = await clientOver(holding.port);
    try {
      const opts = { atomic: true, stateDir: join(d, 'state') };
      const first = c1.put(src, 'out.bin', opts);
      first.catch(() => {});
      const deadline = Date.now() + 20_000;
      while (leftovers(remote).length === 0) {
        assert.ok(Date.now() < deadline, 'the first upload created its temporary file');
        await new Promise((r) => setTimeout(r, 10));
      }
      const temp = leftovers(remote)[0]!;
      assert.equal(await through(clean, (c) => c.put(join(d, 'other.bin'), 'out.bin', opts)), undefined);
      assert.deepEqual(leftovers(remote), [temp], "the running upload's temporary file was left alone");
      holding.release();
      await first;
      assert.ok(readFileSync(join(remote, 'out.bin')).equals(data), 'the first upload completed after all');
      assert.deepEqual(leftovers(remote), []);
    } finally {
      await c1.end().catch(() => {});
      await holding.close();
      await clean.close();
    }
  });
});

describe('the CLI (a real process) over SSH when the connection is reset or the process is killed', () => {
  let sshd: Sshd;
  const t = tempDir('sftp-wire-lost-cli-');
  const src = join(t.dir, 'src.bin');
  before(async () => {
    sshd = await startSshd();
    writeFileSync(src, data);
  });
  after(async () => {
    await sshd?.stop();
    t.cleanup();
  });

  /** Start the CLI; TMPDIR (hence the upload state folder) and HOME inside `d`. */
  function cli(d: string, args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], {
      env: { ...process.env, SSH_AUTH_SOCK: '', HOME: join(d, 'home'), TMPDIR: join(d, 'tmp') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, stderr: () => stderr };
  }
  const url = (port: number, path: string) => `sftp://${sshd.username}@127.0.0.1:${port}${path}`;

  it('get --atomic: after the connection is reset, no local temporary file outlives the process', async () => {
    const d = t.fresh('home', 'tmp', 'remote', 'local');
    writeFileSync(join(d, 'remote', 'src.bin'), data);
    const dest = join(d, 'local', 'out.bin');
    writeFileSync(dest, old);
    const relay = await new TcpRelay({ upstream: { port: sshd.port }, cutAfter: 2 * 1024 * 1024 }).listen();
    try {
      const run = cli(d, [
        'get',
        '--atomic',
        '-q',
        '-i',
        sshd.privateKeyPath,
        url(relay.port, join(d, 'remote', 'src.bin')),
        dest,
      ]);
      const code = await run.exited;
      assert.notEqual(code, 0, `the reset failed the download: ${run.stderr()}`);
      assert.equal(relay.cuts, 1);
      assert.deepEqual(readdirSync(join(d, 'local')), ['out.bin'], `no temporary file left: ${run.stderr()}`);
      assert.ok(readFileSync(dest).equals(old));
    } finally {
      await relay.close();
    }
  });

  it('put --atomic: the temporary file of a reset upload is removed by the next put --atomic (a new process)', async () => {
    const d = t.fresh('home', 'tmp', 'remote');
    const dest = join(d, 'remote', 'out.bin');
    const relay = await new TcpRelay({ upstream: { port: sshd.port }, cutAfter: 2 * 1024 * 1024 }).listen();
    try {
      const first = cli(d, ['put', '--atomic', '-q', '-i', sshd.privateKeyPath, src, url(relay.port, dest)]);
      assert.notEqual(await first.exited, 0, first.stderr());
      await waitFor(
        () => leftovers(join(d, 'remote')).length === 1,
        'the cut upload left its temporary file on the server',
      );
      const second = cli(d, ['put', '--atomic', '-q', '-i', sshd.privateKeyPath, src, url(sshd.port, dest)]);
      assert.equal(await second.exited, 0, second.stderr());
      assert.deepEqual(leftovers(join(d, 'remote')), [], 'removed by the next atomic upload');
      assert.ok(readFileSync(dest).equals(data));
    } finally {
      await relay.close();
    }
  });

  it('put --atomic killed (SIGKILL) mid-upload: left alone while it runs, removed by the next put --atomic once it is dead', async () => {
    const d = t.fresh('home', 'tmp', 'remote');
    const dest = join(d, 'remote', 'out.bin');
    // A relay that stops forwarding the client's bytes after 1 MiB: the upload has opened its
    // temporary file and then waits, so it is still running when it is killed, however fast the machine.
    const relay = await new TcpRelay({ upstream: { port: sshd.port }, holdAfter: 1024 * 1024 }).listen();
    const slow = cli(d, ['put', '--atomic', '-q', '-i', sshd.privateKeyPath, src, url(relay.port, dest)]);
    try {
      await waitFor(() => leftovers(join(d, 'remote')).length === 1, 'the upload started');
      const temp = leftovers(join(d, 'remote'))[0]!;
      // Another atomic upload meanwhile (this process, the same state folder): the running one's file stays.
      const small = join(d, 'small.bin');
      writeFileSync(small, 'small');
      const c = await SftpClient.connect({
        host: '127.0.0.1',
        port: sshd.port,
        username: sshd.username,
        privateKey: sshd.privateKey,
      });
      try {
        await c.put(small, dest, { atomic: true, stateDir: join(d, 'tmp', 'sftp-wire-resume') });
      } finally {
        await c.end();
      }
      assert.deepEqual(leftovers(join(d, 'remote')), [temp], 'a running upload keeps its temporary file');
      assert.equal(slow.child.exitCode, null, 'still running');
      // A long upload is recorded on disk (after RECORD_AFTER_MS): what a SIGKILL cannot take away.
      const orphans = join(d, 'tmp', 'sftp-wire-resume', 'orphans');
      await waitFor(
        () => existsSync(orphans) && readdirSync(orphans).length === 1,
        'the running upload recorded its temporary file',
      );
    } finally {
      slow.child.kill('SIGKILL');
      await slow.exited;
      await relay.close();
    }
    assert.equal(leftovers(join(d, 'remote')).length, 1, 'the killed upload left its temporary file');
    const next = cli(d, ['put', '--atomic', '-q', '-i', sshd.privateKeyPath, src, url(sshd.port, dest)]);
    assert.equal(await next.exited, 0, next.stderr());
    assert.deepEqual(leftovers(join(d, 'remote')), [], 'removed by the next atomic upload');
    assert.ok(readFileSync(dest).equals(data));
  });
});

async function waitFor(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < deadline, `timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
