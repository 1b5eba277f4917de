/**
 * A fast seeded PRNG (xoshiro128**, seeded through splitmix32) that fills buffers, so every bench
 * workload is the same bytes on every run and every machine. Not for cryptography.
 */

function splitmix32(state: number): [number, number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [state, (z ^ (z >>> 16)) >>> 0];
}

/** Mix a string into a 32-bit seed (FNV-1a), e.g. to give each file of a tree its own stream. */
export function seedFrom(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** Bytes of the last word not yet handed out (so fills of any length join into one stream). */
  private spare = 0;
  private spareCount = 0;

  constructor(seed: number) {
    let s = seed | 0;
    let v: number;
    [s, v] = splitmix32(s);
    this.a = v;
    [s, v] = splitmix32(s);
    this.b = v;
    [s, v] = splitmix32(s);
    this.c = v;
    [s, v] = splitmix32(s);
    this.d = v;
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** The next 32-bit unsigned word. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /**
   * Fill `buf` with the next bytes of the stream. Consecutive fills of any lengths give the same
   * bytes as one fill of the total length.
   */
  fill(buf: Uint8Array): Uint8Array {
    let i = 0;
    const n = buf.length;
    while (i < n && this.spareCount > 0) {
      buf[i++] = this.spare & 0xff;
      this.spare >>>= 8;
      this.spareCount--;
    }
    // Whole words, little-endian, through an aligned view when the offset allows it.
    const start = buf.byteOffset + i;
    const words = (n - i) >>> 2;
    if (words > 0 && start % 4 === 0) {
      const view = new Uint32Array(buf.buffer, start, words);
      let a = this.a,
        b = this.b,
        c = this.c,
        d = this.d;
      for (let w = 0; w < words; w++) {
        view[w] = Math.imul(rotl(Math.imul(b, 5), 7), 9);
        const t = b << 9;
        c ^= a;
        d ^= b;
        b ^= c;
        a ^= d;
        c ^= t;
        d = (d << 11) | (d >>> 21);
      }
      this.a = a;
      this.b = b;
      this.c = c;
      this.d = d;
      if (!littleEndian) for (let w = 0; w < words; w++) view[w] = swap32(view[w]!);
      i += words * 4;
    }
    while (i < n) {
      let word = this.next();
      for (let k = 0; k < 4; k++) {
        if (i < n) {
          buf[i++] = word & 0xff;
          word >>>= 8;
        } else {
          this.spare = word;
          this.spareCount = 4 - k;
          break;
        }
      }
    }
    return buf;
  }

  /** A new buffer of `length` bytes from the stream. */
  bytes(length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    // allocUnsafe may hand out an unaligned slice of the pool; fill() handles both cases.
    this.fill(buf);
    return buf;
  }
}

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function swap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
}
