// An explicit chunkSize is honoured on a server that does not advertise limits@openssh.com (READ and
// WRITE lengths seen on the wire), capped by the server's limits when it gives them, and reported.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Extensions, PacketType as T, type Packet } from '../../src/protocol/index.js';
import { SftpClient, type ClientOptions } from '../../src/client/index.js';
import { FakeServer, type Request } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

function u64s(...v: number[]): Buffer {
  const b = Buffer.alloc(8 * v.length);
  v.forEach((x, i) => b.writeBigUInt64BE(BigInt(x), 8 * i));
  return b;
}

/** One in-memory file behind a fake server that answers what readFile/writeFile send. */
async function fileServer(opts: ClientOptions, limits?: { read: number; write: number }) {
  const [a, b] = memoryPair();
  const server = new FakeServer(b);
  let file = Buffer.alloc(0);
  if (limits) server.extensions = [{ name: Extensions.limits.name, data: Buffer.from('1') }];
  server.onRequest = (r: Request) => {
    const reply = (p: Packet) => server.send(p);
    switch (r.type) {
      case T.OPEN:
        if (r.pflags & 0x10) file = Buffer.alloc(0); // TRUNC
        return reply({ type: T.HANDLE, id: r.id, handle: Buffer.from('h') });
      case T.STAT:
      case T.LSTAT:
      case T.FSTAT:
        return reply({ type: T.ATTRS, id: r.id, attrs: { size: file.length, permissions: 0o100644 } });
      case T.READ:
        if (r.offset >= file.length) return reply({ type: T.STATUS, id: r.id, code: 1, message: 'EOF', lang: '' });
        return reply({ type: T.DATA, id: r.id, data: file.subarray(Number(r.offset), Number(r.offset) + r.length) });
      case T.WRITE: {
        const end = Number(r.offset) + r.data.length;
        if (end > file.length) file = Buffer.concat([file, Buffer.alloc(end - file.length)]);
        Buffer.from(r.data).copy(file, Number(r.offset));
        return server.ok(r.id);
      }
      case T.REALPATH:
        return reply({ type: T.NAME, id: r.id, entries: [{ filename: r.path, longname: '', attrs: {} }] });
      case T.EXTENDED:
        if (r.request === Extensions.limits.name && limits) {
          return reply({
            type: T.EXTENDED_REPLY,
            id: r.id,
            data: u64s(1 << 20, limits.read, limits.write, 0),
          });
        }
        return reply({ type: T.STATUS, id: r.id, code: 8, message: 'unsupported', lang: '' });
      default:
        return server.ok(r.id);
    }
  };
  const client = await SftpClient.fromStream(a, opts);
  const lengths = (type: number) =>
    server.received
      .filter((r) => r.type === type)
      .map((r) => (r.type === T.WRITE ? r.data.length : r.type === T.READ ? r.length : 0));
  return { client, server, lengths };
}

const KiB = 1024;
const data = Buffer.from(Array.from({ length: 600 * KiB }, (_, i) => (i * 7) & 0xff));

describe('chunkSize', () => {
  test('an explicit 256 KiB per transfer is used on a server without limits@openssh.com, and reported', async () => {
    const { client, lengths } = await fileServer({});
    assert.equal(client.limitsFromServer, false);
    const w = await client.writeFile('/f', data, { chunkSize: 256 * KiB });
    assert.equal(w.chunkSize, 256 * KiB);
    assert.deepEqual(lengths(T.WRITE), [256 * KiB, 256 * KiB, 88 * KiB]);
    const back = await client.readFile('/f', { chunkSize: 256 * KiB });
    assert.ok(back.equals(data));
    assert.equal(Math.max(...lengths(T.READ)), 256 * KiB);
    await client.end();
  });

  test('a client-wide chunkSize is honoured too; nothing asked keeps the 32 KiB default', async () => {
    const asked = await fileServer({ chunkSize: 128 * KiB });
    assert.equal((await asked.client.writeFile('/f', data)).chunkSize, 128 * KiB);
    assert.equal(Math.max(...asked.lengths(T.WRITE)), 128 * KiB);
    await asked.client.end();
    const plain = await fileServer({});
    assert.equal((await plain.client.writeFile('/f', data)).chunkSize, 32 * KiB);
    assert.equal(Math.max(...plain.lengths(T.WRITE)), 32 * KiB);
    await plain.client.end();
  });

  test("the server's limits cap an explicit chunkSize when it gives them", async () => {
    const { client, lengths } = await fileServer({}, { read: 64 * KiB, write: 100 * KiB });
    assert.equal(client.limitsFromServer, true);
    const w = await client.writeFile('/f', data, { chunkSize: 256 * KiB });
    assert.equal(w.chunkSize, 100 * KiB);
    assert.equal(Math.max(...lengths(T.WRITE)), 100 * KiB);
    assert.ok((await client.readFile('/f', { chunkSize: 256 * KiB })).equals(data));
    assert.equal(Math.max(...lengths(T.READ)), 64 * KiB);
    await client.end();
  });

  test("a READ chunk never asks for more than the client's own framer accepts in one DATA", async () => {
    const { client, lengths } = await fileServer({ maxPacket: 100 * KiB } as ClientOptions);
    await client.writeFile('/f', data, { chunkSize: 256 * KiB });
    assert.ok((await client.readFile('/f', { chunkSize: 256 * KiB })).equals(data));
    assert.ok(Math.max(...lengths(T.READ)) <= 100 * KiB - 9, String(lengths(T.READ)));
    await client.end();
  });
});
