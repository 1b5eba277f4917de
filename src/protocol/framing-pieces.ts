/**
 * Helpers for a packet given as pieces (views of the chunks it arrived in, as PacketFramer hands a
 * large packet that spans chunks to `onSplitPacket`): its first bytes, and a slice of it as views.
 */

/**
 * `length` bytes from byte `from` of a packet given as pieces: views of the pieces (none copied, none
 * empty). The caller checks that the pieces hold that many bytes.
 */
export function slicePieces(pieces: readonly Buffer[], from: number, length: number): Buffer[] {
  const out: Buffer[] = [];
  let skip = from;
  let left = length;
  for (const p of pieces) {
    if (left === 0) break;
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    const n = Math.min(p.length - skip, left);
    out.push(skip === 0 && n === p.length ? p : p.subarray(skip, skip + n));
    left -= n;
    skip = 0;
  }
  return out;
}

/** The first `n` bytes of a packet given as pieces, copied into a small buffer (for its header). */
export function piecesHead(pieces: readonly Buffer[], n: number): Buffer {
  if (pieces.length > 0 && pieces[0]!.length >= n) return pieces[0]!.subarray(0, n);
  const head = Buffer.alloc(n);
  let at = 0;
  for (const p of pieces) {
    if (at >= n) break;
    at += p.copy(head, at, 0, Math.min(p.length, n - at));
  }
  return head.subarray(0, at);
}

/** The bytes of a list of buffers. */
export function piecesLength(pieces: readonly Buffer[]): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}
