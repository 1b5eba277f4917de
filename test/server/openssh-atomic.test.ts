import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PacketType as T, OpenFlags } from '../../src/protocol/constants.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import { PARTIAL_SUFFIX, UPLOAD_SUFFIX } from '../../src/server/atomic/hidden-names.js';
import { connect } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';
import { sftpBatch, startSftp, stdioServerCommand } from '../support/openssh-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  for (let waited = 0; waited < timeoutMs; waited += 5) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function hiddenWithSuffix(dir: string, suffix: string, minSize = 1): string | undefined {
  for (const n of readdirSync(dir)) {
    if (!n.endsWith(suffix)) continue;
    try {
      if (statSync(path.join(dir, n)).size >= minSize) return n;
    } catch {
      // vanished meanwhile
    }
  }
  return undefined;
}

describe('OpenSSH sftp against server-side atomic uploads', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let src: string;
  const data = randomBytes(12 * 1024 * 1024);

  before(() => {
    t = tempDir('sftp-wire-atomic-interop-');
    root = path.join(t.dir, 'root');
    mkdirSync(root);
    src = path.join(t.dir, 'upload.bin');
    writeFileSync(src, data);
  });
  after(() => t.cleanup());

  /** Start a slow put, kill sftp once some data is in the hidden upload file. */
  async function interruptedPut(mode: string, name: string): Promise<void> {
    const { child, done } = startSftp(
      { direct: stdioServerCommand(root, ['--atomic-uploads', mode]) },
      [`put ${src} ${name}`],
      ['-B', '2048', '-R', '2'],
    );
    await waitFor('upload data', () => hiddenWithSuffix(root, UPLOAD_SUFFIX, 64 * 1024));
    child.kill('SIGKILL');
    const run = await done;
    assert.equal(run.signal, 'SIGKILL', 'sftp was interrupted before it finished');
    // the server sees its stdin close and abandons the upload
    await waitFor('the temporary file to go', () =>
      hiddenWithSuffix(root, UPLOAD_SUFFIX, 0) === undefined ? true : undefined,
    );
  }

  it('atomic: sftp killed mid-put leaves no file under the final name and no temporary file', async () => {
    await interruptedPut('atomic', 'killed.bin');
    assert.deepEqual(
      readdirSync(root).filter((n) => n.includes('killed')),
      [],
    );
  });

  it('atomic-resume: sftp killed mid-put, then reput completes the file byte-identically', async () => {
    await interruptedPut('atomic-resume', 'resumed.bin');
    const partial = hiddenWithSuffix(root, PARTIAL_SUFFIX, 1);
    assert.ok(partial, 'the partial is kept');
    const kept = statSync(path.join(root, partial)).size;
    assert.ok(kept > 0 && kept < data.length, `partial of ${kept} bytes`);
    assert.deepEqual(readFileSync(path.join(root, partial)), data.subarray(0, kept), 'the partial is a true prefix');
    assert.ok(!readdirSync(root).includes('resumed.bin'), 'nothing under the final name');
    const run = await sftpBatch({ direct: stdioServerCommand(root, ['--atomic-uploads', 'atomic-resume']) }, [
      `reput ${src} resumed.bin`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(readFileSync(path.join(root, 'resumed.bin')).equals(data));
    assert.deepEqual(
      readdirSync(root).filter((n) => n.includes('resumed')),
      ['resumed.bin'],
    );
  });

  it('atomic-resume: reput continues a partial left by a session cut at a known point', async () => {
    const small = data.subarray(0, 700_000);
    const local = path.join(t.dir, 'small.bin');
    writeFileSync(local, small);
    const { client, served } = await connect(new SftpServer({ root, atomicUploads: 'atomic-resume' }));
    const h = await client.open('/cut.bin', OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC);
    await client.ok({ type: T.WRITE, handle: h, offset: 0, data: small.subarray(0, 200_000) });
    await client.ok({ type: T.WRITE, handle: h, offset: 200_000, data: small.subarray(200_000, 333_333) });
    client.stream.destroy();
    await served;
    const run = await sftpBatch({ direct: stdioServerCommand(root, ['--atomic-uploads', 'atomic-resume']) }, [
      `reput ${local} cut.bin`,
      'ls -la',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /cut\.bin/);
    assert.doesNotMatch(run.stdout, /sftp-wire-(partial|upload)/);
    assert.ok(readFileSync(path.join(root, 'cut.bin')).equals(small));
  });

  it('an oversized WRITE from sftp -B 262144 does not bring the server down', async () => {
    const run = await sftpBatch({ direct: stdioServerCommand(root) }, [`put ${src} big-b.bin`, 'ls'], ['-B', '262144']);
    // OpenSSH's own client refuses to send a packet over 256 KiB; whatever it does, the server
    // must not crash: the session either completes or ends without a server error on stderr
    assert.doesNotMatch(run.stderr, /sftp-wire serve: .*(Error|at )/);
    if (run.code === 0) assert.ok(readFileSync(path.join(root, 'big-b.bin')).equals(data));
  });
});
