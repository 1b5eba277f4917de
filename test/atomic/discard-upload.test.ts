import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OpenFlags, PacketType as T, StatusCode } from '../../src/protocol/constants.js';
import { Extensions, encodeExtensionRequest } from '../../src/protocol/extensions.js';
import { SftpServer } from '../../src/server/sftp-server.js';
import type { AtomicUploadMode } from '../../src/server/options.js';
import { PARTIAL_SUFFIX, UPLOAD_SUFFIX } from '../../src/server/atomic/hidden-names.js';
import { SftpClient } from '../../src/client/index.js';
import { connect } from '../support/raw-client.js';
import { socketPair } from '../../bench/lib/peers/streams.js';
import { tempDir } from '../support/temp-dir.js';

const NEW = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC;
const DISCARD = Extensions.discardHandle.name;
const discardBody = (handle: Buffer): Buffer => encodeExtensionRequest('discardHandle', { handle });

/** A real SftpClient on a socket pair to a server over `root`. */
async function clientOn(root: string, mode: AtomicUploadMode) {
  const [c, s] = await socketPair();
  const served = new SftpServer({ root, atomicUploads: mode }).serve(s);
  const client = await SftpClient.fromStream(c);
  return {
    client,
    async close() {
      await client.end().catch(() => undefined);
      c.destroy();
      await served;
    },
  };
}

function hidden(dir: string, suffix: string): string[] {
  return readdirSync(dir).filter((n) => n.endsWith(suffix));
}

describe('discard-handle@sftp-wire', () => {
  it('is advertised in VERSION with version "1"', async () => {
    const t = tempDir();
    const { client, served, version } = await connect(new SftpServer({ root: t.dir, atomicUploads: 'atomic' }));
    const ext = version.extensions.find((e) => e.name === DISCARD);
    assert.equal(ext?.data.toString(), '1');
    client.end();
    await served;
    t.cleanup();
  });

  for (const mode of ['off', 'atomic', 'atomic-resume'] as const) {
    it(`${mode}: a discarded upload handle answers OK and CLOSE does ${mode === 'off' ? 'nothing more (written in place)' : 'not commit'}`, async () => {
      const t = tempDir();
      writeFileSync(path.join(t.dir, 'good.bin'), 'the good file');
      const { client: c, served } = await connect(new SftpServer({ root: t.dir, atomicUploads: mode }));
      const h = await c.open('/good.bin', NEW);
      const part = randomBytes(5000);
      await c.ok({ type: T.WRITE, handle: h, offset: 0, data: part });
      const r = await c.request({ type: T.EXTENDED, request: DISCARD, data: discardBody(h) });
      assert.equal(r.type === T.STATUS && r.code, StatusCode.OK);
      await c.ok({ type: T.CLOSE, handle: h });
      const final = readFileSync(path.join(t.dir, 'good.bin'));
      if (mode === 'off') assert.deepEqual(final, part, 'plain mode wrote in place');
      else assert.equal(final.toString(), 'the good file', 'the final name is untouched');
      assert.deepEqual(hidden(t.dir, UPLOAD_SUFFIX), [], 'no temporary file is left');
      const partials = hidden(t.dir, PARTIAL_SUFFIX);
      if (mode === 'atomic-resume') {
        assert.equal(partials.length, 1, 'the upload is kept as the partial');
        assert.deepEqual(readFileSync(path.join(t.dir, partials[0]!)), part);
      } else assert.deepEqual(partials, []);
      c.end();
      await served;
      t.cleanup();
    });
  }

  it('a bad or unknown handle is a FAILURE, the session carries on', async () => {
    const t = tempDir();
    const { client: c, served } = await connect(new SftpServer({ root: t.dir, atomicUploads: 'atomic' }));
    const r = await c.request({ type: T.EXTENDED, request: DISCARD, data: discardBody(Buffer.from([9, 9, 9, 9])) });
    assert.equal(r.type === T.STATUS && r.code, StatusCode.FAILURE);
    const bad = await c.request({ type: T.EXTENDED, request: DISCARD, data: Buffer.from([0, 0]) });
    assert.equal(bad.type === T.STATUS && bad.code, StatusCode.BAD_MESSAGE);
    const h = await c.open('/x', NEW);
    await c.ok({ type: T.CLOSE, handle: h });
    assert.deepEqual(readdirSync(t.dir), ['x']);
    c.end();
    await served;
    t.cleanup();
  });
});

describe('an aborted put() of sftp-wire never commits what it wrote', () => {
  const data = randomBytes(24 * 1024 * 1024);

  async function abortedPut(mode: AtomicUploadMode): Promise<{ root: string; cleanup(): void }> {
    const t = tempDir();
    const root = path.join(t.dir, 'root');
    const local = path.join(t.dir, 'local.bin');
    (await import('node:fs')).mkdirSync(root);
    writeFileSync(local, data);
    writeFileSync(path.join(root, 'dest.bin'), 'the good file');
    const peer = await clientOn(root, mode);
    const ac = new AbortController();
    const err = await peer.client
      .put(local, '/dest.bin', {
        signal: ac.signal,
        chunkSize: 32 * 1024,
        requests: 4,
        onProgress: (p: { bytes: number }) => {
          if (p.bytes >= 1024 * 1024) ac.abort();
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(
      err instanceof Error && /abort/i.test(`${err.name} ${err.message}`),
      `the put was aborted: ${String(err)}`,
    );
    await peer.close();
    return { root, cleanup: t.cleanup };
  }

  it('atomic: the final file is unchanged and no temporary file is left', async () => {
    const { root, cleanup } = await abortedPut('atomic');
    assert.equal(readFileSync(path.join(root, 'dest.bin')).toString(), 'the good file');
    assert.deepEqual(readdirSync(root), ['dest.bin']);
    cleanup();
  });

  it('atomic-resume: the final file is unchanged and what was written is kept as a true prefix', async () => {
    const { root, cleanup } = await abortedPut('atomic-resume');
    assert.equal(readFileSync(path.join(root, 'dest.bin')).toString(), 'the good file');
    const partials = hidden(root, PARTIAL_SUFFIX);
    assert.equal(partials.length, 1);
    const kept = readFileSync(path.join(root, partials[0]!));
    assert.ok(kept.length >= 1024 * 1024 && kept.length < data.length, `kept ${kept.length} bytes`);
    assert.ok(kept.equals(data.subarray(0, kept.length)), 'the partial is a prefix of the source');
    assert.deepEqual(hidden(root, UPLOAD_SUFFIX), []);
    cleanup();
  });
});

describe('a write stream destroyed with an error never commits what it wrote', () => {
  for (const mode of ['atomic', 'atomic-resume'] as const) {
    it(`${mode}: the final file is unchanged`, async () => {
      const t = tempDir();
      writeFileSync(path.join(t.dir, 'dest.bin'), 'the good file');
      const peer = await clientOn(t.dir, mode);
      const ws = peer.client.createWriteStream('/dest.bin', { chunkSize: 8192 });
      const closed = new Promise<void>((r) => ws.on('close', () => r()));
      ws.on('error', () => undefined);
      const part = randomBytes(100_000);
      await new Promise<void>((r) => ws.write(part, () => r()));
      ws.destroy(new Error('the source failed'));
      await closed;
      await peer.close();
      assert.equal(readFileSync(path.join(t.dir, 'dest.bin')).toString(), 'the good file');
      assert.deepEqual(hidden(t.dir, UPLOAD_SUFFIX), []);
      assert.equal(hidden(t.dir, PARTIAL_SUFFIX).length, mode === 'atomic-resume' ? 1 : 0);
      t.cleanup();
    });
  }
});
