import { fstatSync } from 'node:fs';
import net from 'node:net';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { markDoneAtCallback } from '../server/frame-pool.js';

/**
 * True when file descriptors 0 and 1 are one and the same socket. That is how sshd starts a
 * `Subsystem` and how OpenSSH's `sftp -D` starts its server: one end of a socketpair as both
 * stdin and stdout.
 */
export function stdioIsOneSocket(): boolean {
  try {
    const a = fstatSync(0);
    const b = fstatSync(1);
    return a.isSocket() && b.isSocket() && a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

/** A pipe or a socket (not a file or a terminal): something a net.Socket can run on. */
function isStreamFd(fd: number): boolean {
  try {
    const st = fstatSync(fd);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/**
 * One Duplex for an SFTP session on this process's stdin and stdout, used by `sftp-wire serve --stdio`.
 *
 * Called without arguments it picks the leanest stream: when stdin and stdout are one socket (sshd,
 * `sftp -D`), a net.Socket on fd 0 — itself a Duplex, read and written without blocking, with
 * backpressure both ways and no extra layer; otherwise stdin joined with stdout, where stdout is a
 * non-blocking net.Socket when it is a pipe or socket (Node's process.stdout blocks the whole process
 * on a full pipe). process.stdin/process.stdout are not touched on the first path.
 *
 * Called with a readable and a writable it joins those two, with backpressure passed through both ways.
 */
export function stdioDuplex(input?: Readable, output?: Writable): Duplex {
  if (input === undefined && output === undefined) {
    if (stdioIsOneSocket()) return new net.Socket({ fd: 0, readable: true, writable: true, allowHalfOpen: true });
    const out = isStreamFd(1) ? new net.Socket({ fd: 1, readable: false, writable: true }) : process.stdout;
    // a socket, a pipe, a file or a terminal: each has written a buffer once its write callback runs
    return markDoneAtCallback(joinReadWrite(process.stdin, out));
  }
  return joinReadWrite(input ?? process.stdin, output ?? process.stdout);
}

/**
 * A Duplex that reads from `input` and writes to `output`, passing backpressure through both ways.
 * A write's callback runs once `output`'s callback for it has run (writes meanwhile wait, then go
 * on together as one corked batch).
 */
export function joinReadWrite(input: Readable, output: Writable): Duplex {
  let reading = false;
  const duplex = new Duplex({
    read() {
      if (!reading) {
        reading = true;
        input.resume();
      }
    },
    write(chunk: Buffer, _enc, cb) {
      output.write(chunk, (err) => cb(err ?? undefined));
    },
    writev(chunks, cb) {
      const last = chunks.length - 1;
      output.cork();
      for (let i = 0; i < last; i++) output.write(chunks[i]!.chunk as Buffer);
      output.write(chunks[last]!.chunk as Buffer, (err) => cb(err ?? undefined));
      output.uncork();
    },
    final(cb) {
      output.end(() => cb());
    },
    destroy(err, cb) {
      input.pause();
      cb(err);
    },
  });
  input.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) {
      reading = false;
      input.pause();
    }
  });
  input.on('end', () => duplex.push(null));
  input.on('error', (err) => duplex.destroy(err));
  output.on('error', (err) => duplex.destroy(err));
  input.pause();
  return duplex;
}
