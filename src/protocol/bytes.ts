import { SftpProtocolError } from './errors.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A growable big-endian writer for packet headers and small bodies. */
export class Writer {
  private buf: Buffer;
  pos: number;
  constructor(initial = 64, start = 0) {
    this.buf = Buffer.allocUnsafe(initial);
    this.pos = start;
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v;
    return this;
  }
  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uint32 out of range: ${v}`);
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }
  /** uint64 from a safe non-negative integer or a bigint. */
  u64(v: number | bigint): this {
    this.room(8);
    if (typeof v === 'bigint') {
      if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`uint64 out of range: ${v}`);
      this.buf.writeBigUInt64BE(v, this.pos);
    } else {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uint64 must be a safe non-negative integer: ${v}`);
      this.buf.writeUInt32BE(Math.floor(v / 0x100000000), this.pos);
      this.buf.writeUInt32BE(v % 0x100000000, this.pos + 4);
    }
    this.pos += 8;
    return this;
  }
  /** A length-prefixed string (UTF-8 when given a JS string). */
  string(v: string | Uint8Array): this {
    if (typeof v === 'string') {
      const n = Buffer.byteLength(v);
      this.u32(n);
      this.room(n);
      this.buf.write(v, this.pos, n, 'utf8');
      this.pos += n;
    } else {
      this.u32(v.length);
      this.raw(v);
    }
    return this;
  }
  raw(v: Uint8Array): this {
    this.room(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }
  /** The bytes written so far (a view, not a copy). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
  /** Write a uint32 at an absolute position already reserved. */
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32BE(v, at);
  }
}

/** A bounds-checked big-endian reader; every overrun is an SftpProtocolError naming the field. */
export class Reader {
  pos = 0;
  packetType?: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
  ) {
    this.pos = start;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  fail(message: string, at = this.pos): never {
    throw new SftpProtocolError(message, at, this.packetType);
  }
  private need(n: number, what: string): void {
    if (this.buf.length - this.pos < n) {
      this.fail(`truncated ${what}: need ${n} bytes, ${this.buf.length - this.pos} left`);
    }
  }
  u8(what = 'byte'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  /** uint64 as a number; a value above 2^53-1 is a protocol error, never a silent rounding. */
  u64(what = 'uint64'): number {
    const at = this.pos;
    const v = this.u64big(what);
    if (v > MAX_SAFE) this.fail(`${what} ${v} exceeds the largest exact number (2^53-1)`, at);
    return Number(v);
  }
  u64big(what = 'uint64'): bigint {
    this.need(8, what);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  /** A length-prefixed byte string, as a view into the packet (no copy). */
  bytes(what = 'string'): Buffer {
    const at = this.pos;
    const n = this.u32(`${what} length`);
    if (n > this.buf.length - this.pos) {
      this.fail(`${what} length ${n} points past the end of the packet (${this.buf.length - this.pos} bytes left)`, at);
    }
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  string(what = 'string'): string {
    return this.bytes(what).toString('utf8');
  }
  /** Everything left (a view). */
  rest(): Buffer {
    const v = this.buf.subarray(this.pos);
    this.pos = this.buf.length;
    return v;
  }
  /** A count of items each at least `minItemSize` bytes long, checked against what is left. */
  count(what: string, minItemSize: number): number {
    const at = this.pos;
    const n = this.u32(`${what} count`);
    if (n * minItemSize > this.remaining) {
      this.fail(`${what} count ${n} cannot fit in the ${this.remaining} bytes left`, at);
    }
    return n;
  }
  /** Decoding must consume the whole packet. */
  end(): void {
    if (this.pos !== this.buf.length) this.fail(`${this.buf.length - this.pos} trailing bytes`);
  }
}
