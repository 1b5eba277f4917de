// Many one-file downloads at once on one session. OpenSSH's sftp-server hands out the same handle
// string again as soon as one is closed, so a finished download must never touch a handle by its bytes
// after its own CLOSE: it could be another download's file by then.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SftpClient } from '../../src/client/client.js';
import { spawnSftpServer, type SpawnedSftpServer } from '../../bench/lib/peers/openssh.js';
import { tempDir } from '../support/temp-dir.js';

let server: SpawnedSftpServer;
let client: SftpClient;
let tmp: ReturnType<typeof tempDir>;
const FILES = 120;

before(async () => {
  tmp = tempDir();
  mkdirSync(join(tmp.dir, 'src'));
  mkdirSync(join(tmp.dir, 'dst'));
  for (let i = 0; i < FILES; i++) writeFileSync(join(tmp.dir, 'src', `f${i}`), Buffer.alloc(4096 + i, i % 251));
  server = spawnSftpServer();
  client = await SftpClient.fromStream(server.stream);
});
after(async () => {
  await client?.end();
  await server?.close();
  tmp?.cleanup();
});

/** Run `job(i)` for i in [0, n) with `workers` at a time, so later OPENs follow earlier CLOSEs. */
async function pool(n: number, workers: number, job: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < n) await job(next++);
    }),
  );
}

test('concurrent get() calls against a server that reuses handles all succeed byte-identical', async () => {
  await pool(FILES, 8, (i) => client.get(join(tmp.dir, 'src', `f${i}`), join(tmp.dir, 'dst', `f${i}`)));
  for (let i = 0; i < FILES; i++) {
    assert.ok(readFileSync(join(tmp.dir, 'dst', `f${i}`)).equals(Buffer.alloc(4096 + i, i % 251)), `file ${i}`);
  }
});

test('concurrent readFile() and atomic get() calls all succeed', async () => {
  const bufs: Buffer[] = [];
  await Promise.all([
    pool(FILES, 6, async (i) => {
      bufs[i] = await client.readFile(join(tmp.dir, 'src', `f${i}`));
    }),
    pool(40, 4, (i) => client.get(join(tmp.dir, 'src', `f${i}`), join(tmp.dir, 'dst', `a${i}`), { atomic: true })),
  ]);
  bufs.forEach((b, i) => assert.ok(b.equals(Buffer.alloc(4096 + i, i % 251)), `readFile ${i}`));
  for (let i = 0; i < 40; i++)
    assert.ok(readFileSync(join(tmp.dir, 'dst', `a${i}`)).equals(Buffer.alloc(4096 + i, i % 251)));
});
