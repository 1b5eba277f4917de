// A server that caps each READ below the chunk size (OpenSSH's sftp-server caps at 255 KiB, older ones
// at 64 KiB; neither always says so) answers every READ short. The rest of each chunk must be asked
// again within the same round trip as every other chunk's rest, never one chunk at a time behind a
// full window of waiting pieces. The fake server answers READs in rounds — a whole window at once, or
// whatever is outstanding once the client has gone quiet — and the test counts the rounds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketType as T, type Packet } from '../../src/protocol/index.js';
import { SftpClient } from '../../src/client/index.js';
import { FakeServer, type Request } from '../../bench/lib/peers/fake-sftp-server.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

/** The client has gone quiet once no request came for this long (liveness only: nothing is timed). */
const QUIET_MS = 15;

function cappedServer(file: Buffer, cap: number, requests: number) {
  const [a, b] = memoryPair();
  const server = new FakeServer(b);
  const stats = { rounds: 0, reads: 0, shortReads: 0, mostOutstanding: 0 };
  let outstanding: Array<Extract<Request, { type: typeof T.READ }>> = [];
  let quiet: NodeJS.Timeout | undefined;
  const answerRound = () => {
    clearTimeout(quiet);
    quiet = undefined;
    const round = outstanding;
    outstanding = [];
    if (round.length === 0) return;
    stats.rounds++;
    for (const r of round) {
      const at = Number(r.offset);
      if (at >= file.length) server.send({ type: T.STATUS, id: r.id, code: 1, message: 'EOF', lang: '' });
      else {
        const data = file.subarray(at, at + Math.min(r.length, cap));
        if (data.length < r.length && at + data.length < file.length) stats.shortReads++;
        server.send({ type: T.DATA, id: r.id, data });
      }
    }
  };
  server.onRequest = (r: Request) => {
    const reply = (p: Packet) => server.send(p);
    switch (r.type) {
      case T.OPEN:
        return reply({ type: T.HANDLE, id: r.id, handle: Buffer.from('h') });
      case T.STAT:
      case T.FSTAT:
        return reply({ type: T.ATTRS, id: r.id, attrs: { size: file.length, permissions: 0o100644 } });
      case T.READ:
        stats.reads++;
        outstanding.push(r);
        stats.mostOutstanding = Math.max(stats.mostOutstanding, outstanding.length);
        if (outstanding.length >= requests) answerRound();
        else {
          clearTimeout(quiet);
          quiet = setTimeout(answerRound, QUIET_MS);
        }
        return;
      default:
        return server.ok(r.id);
    }
  };
  return { stream: a, server, stats };
}

for (const { cap, chunk, requests } of [
  { cap: 16 * 1024, chunk: 64 * 1024, requests: 8 }, // 4 replies per chunk
  { cap: 64 * 1024 - 1000, chunk: 64 * 1024, requests: 16 }, // OpenSSH's case: 255 KiB asked as 256 KiB, scaled down
]) {
  test(`readFile from a server capping READs at ${cap} (chunk ${chunk}, ${requests} in flight): a full window every round`, async () => {
    const size = 1024 * 1024 + 777;
    const file = Buffer.alloc(size);
    for (let i = 0; i < size; i++) file[i] = (i * 31 + (i >> 9)) & 0xff;
    const { stream, stats } = cappedServer(file, cap, requests);
    // No limits@openssh.com: the client cannot know the cap and asks whole chunks.
    const client = await SftpClient.fromStream(stream, { chunkSize: chunk, requests });
    try {
      const got = await client.readFile('/f');
      assert.ok(got.equals(file), 'the bytes arrive whole and in order');
      assert.ok(stats.shortReads > 0, 'the server did answer short');
      assert.ok(
        stats.mostOutstanding <= requests,
        `at most ${requests} READs in flight (saw ${stats.mostOutstanding})`,
      );
      // Every byte costs a READ answered with at most `cap` bytes; with `requests` of them per round the
      // transfer needs this many rounds, plus the rounds of the last chunk's chain of short replies.
      const perChunk = Math.ceil(chunk / cap);
      const ideal = Math.ceil(Math.ceil(size / cap) / requests);
      assert.ok(
        stats.rounds <= ideal + perChunk + 1,
        `${stats.rounds} rounds for ${stats.reads} READs; a pipelined client needs about ${ideal}`,
      );
    } finally {
      await client.end().catch(() => {});
    }
  });
}
