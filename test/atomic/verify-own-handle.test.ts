// Verification reads back through a read-only handle of its own, never through the handle the upload
// writes with: against a server whose write handles cannot be read (as rclone's), put with verify
// 'tail'/'hash' and a resumed upload work, and a verification that cannot run never shortens a partial.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { SftpClient } from '../../src/client/index.js';
import { resumePartialName } from '../../src/client/file/atomic/partial-names.js';
import { randomBytesSeeded } from './fixture.js';
import { tempDir } from '../support/temp-dir.js';
import { writeOnlyHandlesServer } from './write-only-handles.js';

const S = 150_000;

describe('verification through a handle of its own (a server whose write handles cannot be read)', () => {
  const t = tempDir('sftp-wire-verify-handle-');
  const state = tempDir('sftp-wire-verify-state-');
  after(() => {
    t.cleanup();
    state.cleanup();
  });
  const data = randomBytesSeeded(S, 5);

  async function withRelay<T>(
    dir: string,
    use: (c: SftpClient, r: ReturnType<typeof writeOnlyHandlesServer>) => Promise<T>,
    readsEnd = false,
  ): Promise<T> {
    const relay = writeOnlyHandlesServer(dir, { readsEnd });
    const client = await SftpClient.fromStream(relay.stream);
    try {
      return await use(client, relay);
    } finally {
      await client.end().catch(() => {});
      await relay.close();
    }
  }

  for (const verify of ['tail', 'hash'] as const) {
    it(`put with verify '${verify}' reads back and commits`, async () => {
      const dir = t.fresh();
      const src = join(dir, 'src.bin');
      writeFileSync(src, data);
      await withRelay(dir, async (client, relay) => {
        const r = await client.put(src, 'out.bin', { verify, chunkSize: 16 * 1024, stateDir: state.dir });
        assert.equal(r.verified, verify);
        assert.equal(relay.refused, 0, 'no READ went to a handle opened for writing');
        assert.ok(relay.reads > 0, 'the copy was read back');
      });
      assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
    });
  }

  /** A fresh folder holding the source and the resume partial of its first 100,000 bytes. */
  const withPartial = (): { dir: string; src: string; partial: string } => {
    const dir = t.fresh();
    const src = join(dir, 'src.bin');
    writeFileSync(src, data);
    const st = statSync(src);
    const partial = resumePartialName('out.bin', 'out.bin', {
      path: realpathSync(src),
      size: st.size,
      mtime: Math.floor(st.mtimeMs),
    });
    writeFileSync(join(dir, partial), data.subarray(0, 100_000));
    return { dir, src, partial };
  };

  it('a resumed upload verifies its partial through a read-only handle and continues it', async () => {
    const { dir, src } = withPartial();
    await withRelay(dir, async (client, relay) => {
      const r = await client.put(src, 'out.bin', {
        resume: true,
        chunkSize: 8192,
        stateDir: state.dir,
        tailWindow: 16 * 1024,
      });
      assert.equal(r.resumedFrom, 100_000);
      assert.equal(relay.refused, 0);
    });
    assert.ok(readFileSync(join(dir, 'out.bin')).equals(data));
  });

  it('a verification that cannot read the partial back fails the upload and never shortens the partial', async () => {
    const { dir, src, partial } = withPartial();
    await withRelay(
      dir,
      async (client) => {
        const e = (await client.put(src, 'out.bin', { resume: true, chunkSize: 8192, stateDir: state.dir }).then(
          () => undefined,
          (err: unknown) => err,
        )) as { code?: string } | undefined;
        assert.equal(e?.code, 'ERR_SFTP_VERIFY_READ', String(e));
      },
      true,
    );
    assert.ok(readFileSync(join(dir, partial)).equals(data.subarray(0, 100_000)), 'the partial is kept whole');
    assert.equal(existsSync(join(dir, 'out.bin')), false);
  });
});
