// A relay in front of OpenSSH's sftp-server that behaves like a server whose handles opened for writing
// cannot be read (rclone's answers such a READ with a FAILURE "Illegal seek"): it answers those READs
// itself and passes everything else through unchanged.
import type { Duplex } from 'node:stream';
import {
  OpenFlags as F,
  PacketFramer,
  PacketType as T,
  StatusCode,
  decodePacket,
  encodePacketToBuffer,
} from '../../src/protocol/index.js';
import { spawnSftpServer } from '../../bench/lib/peers/openssh.js';
import { memoryPair } from '../../bench/lib/peers/streams.js';

export interface WriteOnlyRelay {
  stream: Duplex;
  /** READs refused because their handle was opened for writing. */
  refused: number;
  /** READs passed to the server. */
  reads: number;
  close(): Promise<void>;
}

function frame(payload: Uint8Array): Buffer {
  const b = Buffer.alloc(4 + payload.length);
  b.writeUInt32BE(payload.length, 0);
  Buffer.from(payload.buffer, payload.byteOffset, payload.length).copy(b, 4);
  return b;
}

/** `readsEnd`: every READ, on any handle, answers EOF (a server that cuts reads short). */
export function writeOnlyHandlesServer(dir: string, opts: { readsEnd?: boolean } = {}): WriteOnlyRelay {
  const server = spawnSftpServer({ cwd: dir });
  const [clientEnd, relayEnd] = memoryPair();
  const openFor = new Map<number, boolean>(); // OPEN request id -> opened for writing
  const writeHandles = new Set<string>();
  const relay: WriteOnlyRelay = {
    stream: clientEnd,
    refused: 0,
    reads: 0,
    async close() {
      relayEnd.destroy();
      await server.close();
    },
  };
  const up = new PacketFramer(
    {
      onPacket: (payload) => {
        const p = decodePacket(payload);
        if (p.type === T.OPEN) openFor.set(p.id, (p.pflags & F.WRITE) !== 0);
        if (p.type === T.READ) {
          if (opts.readsEnd) {
            relayEnd.write(
              encodePacketToBuffer({ type: T.STATUS, id: p.id, code: StatusCode.EOF, message: 'EOF', lang: '' }),
            );
            return;
          }
          if (writeHandles.has(Buffer.from(p.handle).toString('hex'))) {
            relay.refused++;
            relayEnd.write(
              encodePacketToBuffer({
                type: T.STATUS,
                id: p.id,
                code: StatusCode.FAILURE,
                message: 'Illegal seek',
                lang: '',
              }),
            );
            return;
          }
          relay.reads++;
        }
        server.stream.write(frame(payload));
      },
    },
    1 << 24,
  );
  const down = new PacketFramer(
    {
      onPacket: (payload) => {
        const p = decodePacket(payload);
        if (p.type === T.HANDLE && openFor.get(p.id)) writeHandles.add(Buffer.from(p.handle).toString('hex'));
        if ('id' in p) openFor.delete(p.id);
        relayEnd.write(frame(payload));
      },
    },
    1 << 24,
  );
  relayEnd.on('data', (c: Buffer) => up.push(c));
  relayEnd.on('end', () => server.stream.end());
  relayEnd.on('error', () => {});
  server.stream.on('data', (c: Buffer) => down.push(c));
  server.stream.on('end', () => relayEnd.end());
  server.stream.on('error', () => {});
  return relay;
}
