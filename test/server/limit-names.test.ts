// The server's limits carry the client's names (those of limits@openssh.com): what a server is given
// under a name is what a client reads back under the same name. The older names still work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SftpServer } from '../../src/server/sftp-server.js';
import { MemoryFs } from '../../src/server/fs/memory-fs.js';
import { resolveLimits, type ServerLimits } from '../../src/server/options.js';
import { SftpClient } from '../../src/client/client.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

const GIVEN = { maxPacketLength: 100_000, maxReadLength: 50_000, maxWriteLength: 40_000, maxOpenHandles: 77 };

test('a client reads the server limits back under the names they were given', async () => {
  const server = new SftpServer({ fs: new MemoryFs(), limits: GIVEN });
  const [a, b] = memoryPair();
  const served = server.serve(b);
  const client = await SftpClient.fromStream(a);
  const seen = client.limits as unknown as Record<string, number>;
  for (const [name, value] of Object.entries(GIVEN)) assert.equal(seen[name], value, name);
  await client.end();
  await served;
});

test('the older names give the same limits; the two names disagreeing is an error', () => {
  const old: ServerLimits = { maxPacket: 100_000, maxRead: 50_000, maxWrite: 40_000, maxHandles: 77 };
  assert.deepEqual(resolveLimits(old), resolveLimits(GIVEN));
  assert.throws(() => resolveLimits({ maxOpenHandles: 5, maxHandles: 6 }), /maxOpenHandles and limits\.maxHandles/);
  assert.equal(resolveLimits({ maxServerHandles: 9 }).maxServerHandles, 9);
});
