import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { OpenFlags, PacketType as T } from '../../src/protocol/constants.js';
import { PARTIAL_SUFFIX, UPLOAD_SUFFIX } from '../../src/server/atomic/hidden-names.js';
import { RawClient } from '../support/raw-client.js';
import { tempDir } from '../support/temp-dir.js';
import { sftpBatch, stdioServerCommand } from '../support/openssh-client.js';
import { TSX_LOADER, CLI_MAIN } from '../support/cli.js';

const NEW = OpenFlags.WRITE | OpenFlags.CREAT | OpenFlags.TRUNC;

/** `sftp-wire serve --stdio` as a real child process, spoken to through its stdio. */
async function serverChild(root: string, mode: string) {
  const child = spawn(
    process.execPath,
    ['--import', TSX_LOADER, CLI_MAIN, 'serve', '--stdio', '--root', root, '--atomic-uploads', mode],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
  const client = new RawClient(Duplex.from({ readable: child.stdout!, writable: child.stdin! }));
  await client.init();
  return { child, client, exited };
}

/** Start an upload in a server child, write `written` bytes in order, then SIGKILL the server. */
async function killedMidUpload(root: string, mode: string, name: string, data: Buffer, written: number): Promise<void> {
  const s = await serverChild(root, mode);
  const h = await s.client.open(`/${name}`, NEW);
  for (let off = 0; off < written; off += 32768) {
    await s.client.ok({
      type: T.WRITE,
      handle: h,
      offset: off,
      data: data.subarray(off, Math.min(written, off + 32768)),
    });
  }
  s.child.kill('SIGKILL');
  assert.equal(await s.exited, 'SIGKILL');
}

describe('upload files left by a SIGKILLed server', () => {
  const data = randomBytes(3 * 1024 * 1024);

  it('atomic: the next server process removes them when it next touches their directory', async () => {
    const t = tempDir();
    const root = path.join(t.dir, 'root');
    mkdirSync(path.join(root, 'd'), { recursive: true });
    writeFileSync(path.join(root, 'd', 'keep.bin'), 'the good file');
    await killedMidUpload(root, 'atomic', 'd/keep.bin', data, 1024 * 1024);
    await killedMidUpload(root, 'atomic', 'a.bin', data, 512 * 1024);
    assert.equal(
      readdirSync(path.join(root, 'd')).filter((n) => n.endsWith(UPLOAD_SUFFIX)).length,
      1,
      'the kill left a temporary file',
    );
    assert.equal(readdirSync(root).filter((n) => n.endsWith(UPLOAD_SUFFIX)).length, 1);
    const s = await serverChild(root, 'atomic');
    // an upload into d/ sweeps d/ before it starts; a listing of / sweeps what it lists
    const h = await s.client.open('/d/other.bin', NEW);
    await s.client.ok({ type: T.CLOSE, handle: h });
    assert.deepEqual(readdirSync(path.join(root, 'd')).sort(), ['keep.bin', 'other.bin']);
    assert.deepEqual(await s.client.list('/'), ['.', '..', 'd']);
    for (let i = 0; i < 200 && readdirSync(root).some((n) => n.endsWith(UPLOAD_SUFFIX)); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(readdirSync(root), ['d']);
    assert.equal(readFileSync(path.join(root, 'd', 'keep.bin')).toString(), 'the good file');
    s.child.stdin!.end();
    await s.exited;
    t.cleanup();
  });

  it('atomic: a live upload of another server process is left alone', async () => {
    const t = tempDir();
    const root = path.join(t.dir, 'root');
    mkdirSync(root);
    const a = await serverChild(root, 'atomic');
    const h = await a.client.open('/live.bin', NEW);
    await a.client.ok({ type: T.WRITE, handle: h, offset: 0, data: data.subarray(0, 1000) });
    const b = await serverChild(root, 'atomic');
    const h2 = await b.client.open('/other.bin', NEW);
    await b.client.ok({ type: T.CLOSE, handle: h2 });
    await b.client.list('/');
    await new Promise((r) => setTimeout(r, 200));
    await a.client.ok({ type: T.WRITE, handle: h, offset: 1000, data: data.subarray(1000, 2000) });
    await a.client.ok({ type: T.CLOSE, handle: h });
    assert.deepEqual(readFileSync(path.join(root, 'live.bin')), data.subarray(0, 2000));
    for (const s of [a, b]) {
      s.child.stdin!.end();
      await s.exited;
    }
    t.cleanup();
  });

  it('atomic-resume: an upload killed while it had a hole (a write past its prefix) is removed, never offered as a partial', async () => {
    const t = tempDir();
    const root = path.join(t.dir, 'root');
    mkdirSync(root);
    const s = await serverChild(root, 'atomic-resume');
    const h = await s.client.open('/holey.bin', NEW);
    await s.client.ok({ type: T.WRITE, handle: h, offset: 0, data: data.subarray(0, 32768) });
    await s.client.ok({ type: T.WRITE, handle: h, offset: 65536, data: data.subarray(65536, 98304) });
    s.child.kill('SIGKILL');
    await s.exited;
    assert.equal(readdirSync(root).filter((n) => n.endsWith(UPLOAD_SUFFIX)).length, 1);
    const next = await serverChild(root, 'atomic-resume');
    const st = await next.client.request({ type: T.STAT, path: '/holey.bin' });
    assert.equal(st.type, T.STATUS, 'no partial is offered');
    assert.deepEqual(readdirSync(root), [], 'the file with a hole was removed');
    next.child.stdin!.end();
    await next.exited;
    t.cleanup();
  });

  it('atomic-resume: the next server offers it as the partial and OpenSSH reput completes it byte-identically', async () => {
    const t = tempDir();
    const root = path.join(t.dir, 'root');
    mkdirSync(root);
    const src = path.join(t.dir, 'src.bin');
    writeFileSync(src, data);
    await killedMidUpload(root, 'atomic-resume', 'r.bin', data, 1024 * 1024 + 12345);
    assert.equal(readdirSync(root).filter((n) => n.endsWith(UPLOAD_SUFFIX)).length, 1);
    const run = await sftpBatch({ direct: stdioServerCommand(root, ['--atomic-uploads', 'atomic-resume']) }, [
      `reput ${src} r.bin`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(readFileSync(path.join(root, 'r.bin')).equals(data), 'byte-identical');
    assert.deepEqual(readdirSync(root), ['r.bin']);
    assert.ok(!readdirSync(root).some((n) => n.endsWith(PARTIAL_SUFFIX)));
    t.cleanup();
  });
});
