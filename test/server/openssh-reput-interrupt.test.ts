import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PARTIAL_SUFFIX, UPLOAD_SUFFIX } from '../../src/server/atomic/hidden-names.js';
import { tempDir } from '../support/temp-dir.js';
import { sftpBatch, startSftp, stdioServerCommand } from '../support/openssh-client.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  for (let waited = 0; waited < timeoutMs; waited += 5) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(5);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function sizeOfHidden(dir: string, suffix: string): number | undefined {
  for (const n of readdirSync(dir)) {
    if (!n.endsWith(suffix)) continue;
    try {
      return statSync(path.join(dir, n)).size;
    } catch {
      // vanished meanwhile
    }
  }
  return undefined;
}

/**
 * OpenSSH's sftp, on an interrupted or failed `reput`, cuts the remote file with FSETSTAT to the bytes
 * it counted as acknowledged (9.2 counts 0) and then sends CLOSE. In atomic-resume mode that must
 * neither commit a file nor lose the partial.
 */
describe('OpenSSH reput interrupted (SIGINT) against atomic-resume', () => {
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let src: string;
  const data = randomBytes(16 * 1024 * 1024);
  const server = (): { direct: string } => ({
    direct: stdioServerCommand(root, ['--atomic-uploads', 'atomic-resume']),
  });

  before(() => {
    t = tempDir('sftp-wire-reput-int-');
    root = path.join(t.dir, 'root');
    mkdirSync(root);
    src = path.join(t.dir, 'upload.bin');
    writeFileSync(src, data);
  });
  after(() => t.cleanup());

  it('keeps the partial (grown, a true prefix), commits nothing, and a later reput completes it', async () => {
    // 1. a put cut by SIGKILL of sftp leaves a partial
    const first = startSftp(server(), [`put ${src} r.bin`], ['-B', '2048', '-R', '2']);
    await waitFor('upload data', () => ((sizeOfHidden(root, UPLOAD_SUFFIX) ?? 0) >= 256 * 1024 ? true : undefined));
    first.child.kill('SIGKILL');
    await first.done;
    const kept = await waitFor('the partial', () => sizeOfHidden(root, PARTIAL_SUFFIX));
    assert.ok(kept > 0 && kept < data.length);

    // 2. reput, interrupted like Ctrl-C once it has appended some more
    const second = startSftp(server(), [`reput ${src} r.bin`], ['-B', '2048', '-R', '2']);
    await waitFor('the resumed upload to grow', () =>
      (sizeOfHidden(root, UPLOAD_SUFFIX) ?? 0) >= kept + 128 * 1024 ? true : undefined,
    );
    second.child.kill('SIGINT');
    const run = await second.done;
    assert.match(run.stderr, /Interrupt/, 'sftp saw the interrupt');
    assert.ok(
      !readdirSync(root).includes('r.bin'),
      `nothing is committed under the final name: ${readdirSync(root).join(', ')}`,
    );
    const partial = readdirSync(root).find((n) => n.endsWith(PARTIAL_SUFFIX));
    assert.ok(partial, 'the partial is still there');
    const now = readFileSync(path.join(root, partial));
    assert.ok(now.length >= kept, `the partial did not shrink (${now.length} < ${kept})`);
    assert.ok(now.equals(data.subarray(0, now.length)), 'the partial is a true prefix');

    // 3. reput continues it to a byte-identical file
    const last = await sftpBatch(server(), [`reput ${src} r.bin`]);
    assert.equal(last.code, 0, last.stderr);
    assert.ok(readFileSync(path.join(root, 'r.bin')).equals(data));
    assert.deepEqual(readdirSync(root), ['r.bin']);
  });
});
