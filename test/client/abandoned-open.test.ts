// An OPEN whose caller gave up (AbortSignal) still opens a file on the server when its HANDLE reply
// arrives later: the session closes that handle itself, so nothing stays open until the session ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SftpClient } from '../../src/client/client.js';
import {
  PacketFramer,
  PacketType as T,
  decodePacket,
  encodePacketToBuffer,
  type Packet,
} from '../../src/protocol/index.js';
import { memoryPair, within } from '../../bench/lib/peers/streams.js';

test('a HANDLE that answers an aborted OPEN is closed by the session', async () => {
  const [clientEnd, serverEnd] = memoryPair();
  const received: Packet[] = [];
  let onRequest: (p: Packet) => void = () => {};
  const framer = new PacketFramer({
    onPacket(payload) {
      const p = decodePacket(Buffer.from(payload));
      received.push(p);
      if (p.type === T.INIT) serverEnd.write(encodePacketToBuffer({ type: T.VERSION, version: 3, extensions: [] }));
      else onRequest(p);
    },
  });
  serverEnd.on('data', (c: Buffer) => framer.push(c));
  const client = await SftpClient.fromStream(clientEnd);
  try {
    const opened = new Promise<number>((resolve) => {
      onRequest = (p) => {
        if (p.type === T.OPEN) resolve(p.id);
      };
    });
    const ac = new AbortController();
    const open = client.open('/f', 'r', {}, { signal: ac.signal }).then(
      () => 'opened',
      (e: Error) => e.name,
    );
    const openId = await opened;
    ac.abort();
    assert.equal(await open, 'AbortError');
    const closed = new Promise<Buffer>((resolve) => {
      onRequest = (p) => {
        if (p.type === T.CLOSE) {
          serverEnd.write(encodePacketToBuffer({ type: T.STATUS, id: p.id, code: 0, message: '', lang: '' }));
          resolve(p.handle);
        }
      };
    });
    // the server answers the OPEN late
    serverEnd.write(encodePacketToBuffer({ type: T.HANDLE, id: openId, handle: Buffer.from('h-7') }));
    const handle = await within(closed, 2000, 'CLOSE of the abandoned handle');
    assert.equal(handle.toString(), 'h-7');
  } finally {
    clientEnd.destroy();
    serverEnd.destroy();
  }
});
