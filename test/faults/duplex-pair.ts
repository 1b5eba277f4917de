import { Duplex } from 'node:stream';

/**
 * Two connected in-memory Duplex ends (what one end writes, the other reads), like a socket pair.
 * Ending one end's writable side ends the other's readable side; destroying one end destroys the other.
 */
export function duplexPair(): [Duplex, Duplex] {
  let a!: Duplex;
  let b!: Duplex;
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {
        // data is pushed by the peer's write
      },
      write(chunk: Buffer, _enc, cb) {
        const p = peer();
        if (p.destroyed) cb(new Error('peer destroyed'));
        else {
          p.push(chunk);
          cb();
        }
      },
      final(cb) {
        const p = peer();
        if (!p.destroyed) p.push(null);
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) p.destroy();
        cb(err);
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}
