/**
 * A TCP relay on 127.0.0.1 between a client and a server, for socket faults: each accepted
 * connection is joined either to a fresh OpenSSH sftp-server (spawned in `cwd`, speaking on its
 * stdio) or to a TCP port (e.g. sshd). It can
 *  - cut: reset the client's socket (RST) after `cutAfter` bytes in both directions together, or
 *    (sftp-server only) right after forwarding a client packet `cutAfterPacket` picks;
 *  - hold: stop forwarding the client's bytes after `holdAfter` bytes until release().
 * After a cut the server side gets a clean end of input after what was forwarded (sftp-server
 * finishes those requests and exits); `idle()` waits until every spawned server has exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Writable, Readable } from 'node:stream';
import { PacketFramer } from '../../src/protocol/index.js';
import { SFTP_SERVER_PATH, requireOpenSsh } from '../../bench/lib/peers/openssh.js';

export interface RelayOptions {
  /** Where each connection goes: OpenSSH's sftp-server working in `cwd`, or a port on 127.0.0.1. */
  upstream: { sftpServerIn: string } | { port: number };
  cutAfter?: number;
  /** sftp-server upstream only: cut right after forwarding the client packet (payload) this returns true for. */
  cutAfterPacket?(payload: Buffer): boolean;
  holdAfter?: number;
}

export class TcpRelay {
  port = 0;
  private server: Server;
  private readonly exits: Promise<void>[] = [];
  private readonly held: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();
  cuts = 0;

  constructor(private readonly opts: RelayOptions) {
    this.server = createServer((sock) => this.accept(sock));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private accept(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => {});
    let toServer: Writable;
    let fromServer: Readable;
    let endServer: () => void;
    let child: ChildProcess | undefined;
    const up = this.opts.upstream;
    if ('sftpServerIn' in up) {
      requireOpenSsh(SFTP_SERVER_PATH);
      child = spawn(SFTP_SERVER_PATH, [], { cwd: up.sftpServerIn, stdio: ['pipe', 'pipe', 'ignore'] });
      const c = child;
      this.exits.push(new Promise((resolve) => c.once('exit', () => resolve())));
      toServer = c.stdin!;
      fromServer = c.stdout!;
      c.stdin!.on('error', () => {});
      endServer = () => {
        if (!c.stdin!.writableEnded) c.stdin!.end();
        c.stdout!.resume(); // drained and discarded
      };
    } else {
      const u = connect(up.port, '127.0.0.1');
      u.on('error', () => {});
      toServer = u;
      fromServer = u;
      endServer = () => u.destroy();
    }
    let bytes = 0;
    let cut = false;
    const doCut = () => {
      if (cut) return;
      cut = true;
      this.cuts++;
      sock.resetAndDestroy();
      endServer();
    };
    const cutAfter = this.opts.cutAfter ?? Infinity;
    let upBytes = 0;
    const framer = this.opts.cutAfterPacket
      ? new PacketFramer(
          {
            onPacket: (p) => {
              if (cut) return;
              const head = Buffer.alloc(4);
              head.writeUInt32BE(p.length);
              toServer.write(Buffer.concat([head, p]));
              if (this.opts.cutAfterPacket!(p)) doCut();
            },
          },
          1 << 30,
        )
      : undefined;
    const forwardUp = (chunk: Buffer) => {
      if (cut) return;
      const room = cutAfter - bytes;
      const part = room < chunk.length ? chunk.subarray(0, Math.max(0, room)) : chunk;
      bytes += part.length;
      if (framer) framer.push(part);
      else toServer.write(part);
      if (part.length < chunk.length) doCut();
    };
    sock.on('data', (chunk: Buffer) => {
      if (cut) return;
      if (upBytes + chunk.length > (this.opts.holdAfter ?? Infinity)) {
        // Hold everything from here on until release().
        sock.pause();
        this.held.push(() => {
          forwardUp(chunk);
          sock.resume();
        });
        return;
      }
      upBytes += chunk.length;
      forwardUp(chunk);
    });
    sock.on('close', () => {
      if (!cut) endServer();
    });
    fromServer.on('data', (chunk: Buffer) => {
      if (cut) return;
      const room = cutAfter - bytes;
      const part = room < chunk.length ? chunk.subarray(0, Math.max(0, room)) : chunk;
      bytes += part.length;
      if (part.length > 0) sock.write(part);
      if (part.length < chunk.length) doCut();
    });
    fromServer.on('end', () => {
      if (!cut) sock.end();
    });
  }

  /** Forward what was held (holdAfter) and everything after it. */
  release(): void {
    (this.opts as { holdAfter?: number }).holdAfter = Infinity;
    for (const f of this.held.splice(0)) f();
  }

  /** Wait until every sftp-server this relay spawned has exited. */
  async idle(): Promise<void> {
    await Promise.all(this.exits);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.idle();
  }
}
