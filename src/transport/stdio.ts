import { Duplex, type Readable, type Writable } from 'node:stream';

/**
 * One Duplex over a readable and a writable (by default this process's stdin and stdout), with
 * backpressure passed through both ways: used by `sftp-wire serve --stdio`.
 */
export function stdioDuplex(input: Readable = process.stdin, output: Writable = process.stdout): Duplex {
  let reading = false;
  const duplex = new Duplex({
    read() {
      if (!reading) {
        reading = true;
        input.resume();
      }
    },
    write(chunk: Buffer, _enc, cb) {
      if (output.write(chunk)) cb();
      else output.once('drain', () => cb());
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
