// Heap taken by list() per collected entry (the figure behind DEFAULT_LIST_MAX_ENTRIES), against an
// in-process fake server. Not a test: run `node --expose-gc --import tsx bench/list-heap.ts
// [ENTRIES] [tiny]` ("tiny": one-letter names, no long name, no attributes).
import { SftpClient } from '../src/index.js';
import { PacketType as T, StatusCode } from '../src/protocol/index.js';
import { FakeServer } from './lib/peers/fake-sftp-server.js';
import { memoryPair } from './lib/peers/streams.js';
const N = Number(process.argv[2] ?? 200000),
  tiny = process.argv[3] === 'tiny';
const [a, b] = memoryPair(1 << 20);
const server = new FakeServer(b);
let sent = 0;
server.onRequest = (r) => {
  if (r.type === T.OPENDIR) return server.send({ type: T.HANDLE, id: r.id, handle: Buffer.from('d') });
  if (r.type === T.READDIR) {
    const n = Math.min(100, N - sent);
    if (n <= 0) return server.send({ type: T.STATUS, id: r.id, code: StatusCode.EOF, message: '', lang: '' });
    const entries = Array.from({ length: n }, (_, i) => {
      const k = sent + i;
      return tiny
        ? { filename: `f${k}`, longname: '', attrs: {} }
        : {
            filename: `file-${k}.txt`,
            longname: `-rw-r--r--    1 user     group        ${k} Jan  1 00:00 file-${k}.txt`,
            attrs: { size: k, uid: 1000, gid: 1000, permissions: 0o100644, atime: 1700000000, mtime: 1700000000 },
          };
    });
    sent += n;
    return server.send({ type: T.NAME, id: r.id, entries });
  }
  return server.send({ type: T.STATUS, id: r.id, code: 0, message: '', lang: '' });
};
const c = await SftpClient.fromStream(a);
global.gc?.();
const h0 = process.memoryUsage().heapUsed;
const t0 = Date.now();
const l = await c.list('/d', { maxEntries: Infinity });
global.gc?.();
const h1 = process.memoryUsage().heapUsed;
console.log(N, 'entries', l.length, 'bytes/entry', Math.round((h1 - h0) / N), 'ms', Date.now() - t0);
await c.end();
